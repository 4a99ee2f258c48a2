//! Threading (SPEC 2.4): which ticket a mail belongs to, trying the rules in order and
//! recording the one that matched. Pure: the store is reached through [`ThreadLookup`].

use crate::domain::{
    AddressPatterns, EmailAddress, InboundEmail, MessageId, Rule, Status, TicketRef,
};
use crate::reply_token::ReplyTokens;
use crate::trust::SenderTrust;

/// What threading needs to know about stored tickets.
pub trait ThreadLookup {
    /// The ticket a stored or sent Message-ID belongs to.
    fn ticket_of_message(&self, id: &MessageId) -> Option<i64>;
    /// The status of ticket `number`, `None` when it does not exist.
    fn ticket_status(&self, number: i64) -> Option<Status>;
    /// Whether `address` is a participant (requester, Cc, agent) of ticket `number`.
    fn is_participant(&self, number: i64, address: &EmailAddress) -> bool;
}

pub struct ThreadContext<'a> {
    pub prefix: &'a str,
    /// Configured agents count as participants of every ticket.
    pub agents: &'a AddressPatterns,
    /// `None` when no HMAC secret is configured: rule 2 is skipped.
    pub reply_tokens: Option<&'a ReplyTokens>,
}

/// Where the sender of a mail threaded onto a ticket stands towards that ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// A participant (requester, Cc, a configured agent), or a mail to the ticket's signed
    /// reply address.
    Participant,
    /// Threaded by Message-ID (rule 1), but the sender is not a participant, or is
    /// unverified: stored on the ticket and flagged, never a status change (SPEC 2.4.1).
    NonParticipant { why: String },
    /// Sent to the agent reply address signed for this sender and this ticket: an agent,
    /// authenticated by what mailgate signed.
    AgentByToken,
}

/// The result of threading: an existing ticket, or a new one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threading {
    Existing {
        ticket: i64,
        rule: Rule,
        detail: String,
        standing: Standing,
    },
    New {
        rule: Rule,
        detail: String,
    },
}

pub fn thread(
    email: &InboundEmail,
    trust: &SenderTrust,
    lookup: &impl ThreadLookup,
    ctx: &ThreadContext,
) -> Threading {
    let sender = &email.from.address;
    // Whether the sender may count as a participant of `ticket`: a verified From address that
    // is a participant or a configured agent; else why not.
    let standing = |ticket: i64| match trust.unverified_because() {
        Some(why) => Standing::NonParticipant { why },
        None if lookup.is_participant(ticket, sender) || ctx.agents.matches(sender) => {
            Standing::Participant
        }
        None => Standing::NonParticipant {
            why: format!(
                "{sender} is not a participant of {} (requester, Cc or agent)",
                reference(ctx, ticket)
            ),
        },
    };
    // 1. In-Reply-To, then References (newest first).
    for id in &email.in_reply_to {
        if let Some(ticket) = lookup.ticket_of_message(id) {
            return Threading::Existing {
                ticket,
                rule: Rule::InReplyTo,
                detail: format!(
                    "In-Reply-To <{id}> is a message of {}",
                    reference(ctx, ticket)
                ),
                standing: standing(ticket),
            };
        }
    }
    for id in email.references.iter().rev() {
        if let Some(ticket) = lookup.ticket_of_message(id) {
            return Threading::Existing {
                ticket,
                rule: Rule::References,
                detail: format!(
                    "References names <{id}>, a message of {}",
                    reference(ctx, ticket)
                ),
                standing: standing(ticket),
            };
        }
    }
    // 2. A verified plus-address token: the ticket's, or an agent's for this sender.
    if let Some(tokens) = ctx.reply_tokens {
        for rcpt in email.recipients() {
            let Some((_, token)) = rcpt.plus_token() else {
                continue;
            };
            if let Some(ticket) = tokens.verify(token)
                && lookup.ticket_status(ticket).is_some()
            {
                return Threading::Existing {
                    ticket,
                    rule: Rule::PlusAddress,
                    detail: format!(
                        "sent to {rcpt}, a verified reply address of {}",
                        reference(ctx, ticket)
                    ),
                    standing: Standing::Participant,
                };
            }
            if trust.origin.is_from()
                && ctx.agents.matches(sender)
                && let Some(ticket) = tokens.verify_agent(token, sender)
                && lookup.ticket_status(ticket).is_some()
            {
                return Threading::Existing {
                    ticket,
                    rule: Rule::PlusAddress,
                    detail: format!(
                        "sent to {rcpt}, the reply address of {} signed for agent {sender}",
                        reference(ctx, ticket)
                    ),
                    standing: Standing::AgentByToken,
                };
            }
        }
    }
    // 3. The subject tag, only from a verified participant.
    let tags = TicketRef::find_in_subject(&email.subject, ctx.prefix);
    let mut stranger_of: Option<&TicketRef> = None;
    let mut unknown: Option<&TicketRef> = None;
    for tag in &tags {
        let n = tag.number();
        if lookup.ticket_status(n).is_none() {
            unknown.get_or_insert(tag);
            continue;
        }
        if standing(n) == Standing::Participant {
            let who = if ctx.agents.matches(sender) {
                "an agent"
            } else {
                "a participant"
            };
            return Threading::Existing {
                ticket: n,
                rule: Rule::SubjectTag,
                detail: format!(
                    "subject carries {} and {sender} is {who} of {tag}",
                    tag.tag()
                ),
                standing: Standing::Participant,
            };
        }
        stranger_of.get_or_insert(tag);
    }
    // 4. A new ticket, saying why a tag did not attach it.
    if let Some(tag) = stranger_of {
        let why = match trust.unverified_because() {
            Some(why) => format!("{sender} cannot be taken as a participant: {why}"),
            None => format!("{sender} is not a participant of {tag} (requester, Cc or agent)"),
        };
        return Threading::New {
            rule: Rule::StrangerTag,
            detail: format!(
                "subject carries {} but {why}, so the mail opens a new ticket instead of \
                 writing into that one",
                tag.tag()
            ),
        };
    }
    if let Some(tag) = unknown {
        return Threading::New {
            rule: Rule::UnknownTag,
            detail: format!(
                "subject carries {}, but no such ticket exists: new ticket",
                tag.tag()
            ),
        };
    }
    Threading::New {
        rule: Rule::NewTicket,
        detail:
            "no In-Reply-To, References, reply address or subject tag matched a ticket: new ticket"
                .into(),
    }
}

fn reference(ctx: &ThreadContext, ticket: i64) -> TicketRef {
    TicketRef::new(ctx.prefix, ticket)
}

#[cfg(test)]
mod tests;
