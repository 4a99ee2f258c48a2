//! List and group mail (SPEC 2.3). Pure.
//!
//! **Our own group.** When support@ is itself a group (Google Groups as a collaborative inbox,
//! Mailman, a Microsoft 365 group), every customer's mail arrives with the group's list
//! headers: `Precedence: list`, `List-Id: <support.example.test>`, a `…-bounces+…@` or
//! `support+bnc…@` Return-Path. Such mail is a person's mail: a mail whose list headers name
//! one of mailgate's own addresses ([`OwnLists`]) is classified by its other headers, as if
//! it came straight from its From. A real auto-reply (Auto-Submitted, X-Autoreply, an
//! auto-reply subject) or bounce relayed by the group still is one.
//!
//! A group that rewrote the From to its own address (DMARC mitigation) names the author in
//! Reply-To: that author is the requester ([`OwnLists::rewritten_author`]), unverified.
//!
//! Our own group is recognised by
//! - `List-Id` naming an own address with `@` replaced by a dot (`<support.example.test>`
//!   for support@example.test, as Google Groups and Mailman write it), or a list id of
//!   `[tickets] own_lists`;
//! - `List-Post` (`<mailto:support@example.test>`), `X-BeenThere` (Mailman) or
//!   `List-Unsubscribe` (Microsoft 365: `…/owa/support@example.test/groupsubscription.ashx…`)
//!   naming an own address.
//!
//! **Other lists** stay automatic, with the reason saying which kind and which list, so an
//! admin sees which lists reach support: `list` for a discussion list (List-Post, X-BeenThere,
//! `Precedence: list`, a Microsoft 365 group, or a reply within a list's thread) and
//! `newsletter` for the rest (`Precedence: bulk`, List-Unsubscribe, no reply context).

use crate::domain::{ClassifyHeaders, EmailAddress, InboundEmail, Mailbox, list_id_of};

/// What marks our own group: mailgate's own addresses and the list ids they and
/// `[tickets] own_lists` give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnLists {
    addresses: Vec<String>,
    ids: Vec<String>,
}

impl OwnLists {
    /// `addresses`: mailgate's own addresses (support address, aliases, mailboxes');
    /// `configured`: `[tickets] own_lists`, list ids with or without angle brackets.
    pub fn new<'a>(
        addresses: impl IntoIterator<Item = &'a EmailAddress>,
        configured: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let addresses: Vec<String> = addresses
            .into_iter()
            .map(|a| a.as_str().to_string())
            .collect();
        let mut ids: Vec<String> = addresses.iter().map(|a| a.replace('@', ".")).collect();
        ids.extend(configured.into_iter().filter_map(list_id_of));
        Self { addresses, ids }
    }

    /// Why the list headers `h` say this is our own group's mail, if they do.
    pub fn own_group(&self, h: &ClassifyHeaders) -> Option<String> {
        if let Some(id) = h.list_id.as_deref().and_then(list_id_of)
            && self.ids.contains(&id)
        {
            return Some(format!("List-Id <{id}> is our own group"));
        }
        let named = [
            ("List-Post", &h.list_post),
            ("X-BeenThere", &h.x_been_there),
            ("List-Unsubscribe", &h.list_unsubscribe),
        ];
        named.into_iter().find_map(|(header, value)| {
            let value = value.as_deref()?;
            let address = self.addresses.iter().find(|a| names_address(value, a))?;
            Some(format!("{header} names our own address {address}"))
        })
    }
}

impl OwnLists {
    /// Whether `address` (or the address a plus-address extends) is one of ours.
    fn is_own(&self, address: &EmailAddress) -> bool {
        let own = |a: &EmailAddress| self.addresses.iter().any(|o| o == a.as_str());
        own(address) || address.plus_token().is_some_and(|(base, _)| own(&base))
    }

    /// The author of a mail our own group rewrote to come From the group itself (Google
    /// Groups, Mailman 2.1 and 3 do so for senders whose domain publishes a strict DMARC
    /// policy: `From: 'Jane' via Support <support@example.test>`, `Reply-To: Jane
    /// <jane@customer.test>`): the first Reply-To mailbox that is not ours. `None` for any
    /// other mail.
    pub fn rewritten_author(&self, email: &InboundEmail) -> Option<Mailbox> {
        if !email.sender_origin.is_from() || !self.is_own(&email.from.address) {
            return None;
        }
        self.own_group(&email.headers)?;
        email
            .reply_to
            .iter()
            .find(|m| !self.is_own(&m.address))
            .cloned()
    }
}

/// Whether `text` holds `address` (lower case) as a whole address, not inside a longer one.
fn names_address(text: &str, address: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let is_address_char = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    text.match_indices(address).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let mut after = text[at + address.len()..].chars();
        // `support@example.test.evil.test` goes on with a domain label.
        let continues = match after.next() {
            Some('.') => after.next().is_some_and(|c| c.is_alphanumeric()),
            Some(c) => c.is_alphanumeric() || c == '-',
            None => false,
        };
        !before.is_some_and(is_address_char) && !continues
    })
}

/// A VERP or list bounce address (`bounces-main+x=y@…`, `bounce-123@…`, `list-bounces@…`):
/// mail sent in bulk by software, whatever its From says.
pub(super) fn bulk_return_path(return_path: &str) -> bool {
    let addr = return_path
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let Some((local, _domain)) = addr.rsplit_once('@') else {
        return false;
    };
    let local = local.to_ascii_lowercase();
    local.starts_with("bounce-")
        || local.starts_with("bounces-")
        || local.starts_with("bounces+")
        || local.ends_with("-bounces")
        || local.contains("-bounces+")
}

/// Why a mail is list mail of someone else's list or a newsletter (`list: …` or
/// `newsletter: …`), if its headers say it came through one.
pub(super) fn list_reason(email: &InboundEmail) -> Option<String> {
    let h = &email.headers;
    let precedence = h
        .precedence
        .as_deref()
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| p == "list" || p == "bulk");
    let bulk_return = h.return_path.as_deref().filter(|r| bulk_return_path(r));
    let mut signals = Vec::new();
    if let Some(p) = &precedence {
        signals.push(format!("Precedence: {p}"));
    }
    for (header, value) in [
        ("List-Id", &h.list_id),
        ("List-Post", &h.list_post),
        ("X-BeenThere", &h.x_been_there),
        ("List-Unsubscribe", &h.list_unsubscribe),
    ] {
        if value.is_some() {
            signals.push(header.to_string());
        }
    }
    if let Some(rp) = bulk_return {
        signals.push(format!(
            "Return-Path {} is a list's bounce address",
            rp.trim()
        ));
    }
    if signals.is_empty() {
        return None;
    }
    let posts = h
        .list_post
        .as_deref()
        .is_some_and(|p| !p.trim().eq_ignore_ascii_case("no"));
    let microsoft_group = h
        .list_unsubscribe
        .as_deref()
        .is_some_and(|u| microsoft_group(u).is_some());
    let replying = !email.in_reply_to.is_empty() || !email.references.is_empty();
    let discussion = posts
        || h.x_been_there.is_some()
        || microsoft_group
        || precedence.as_deref() == Some("list")
        || (replying && h.list_id.is_some());
    let signals = signals.join(", ");
    Some(match (discussion, list_name(h)) {
        (true, Some(name)) => format!("list: mail of the discussion list {name} ({signals})"),
        (true, None) => format!(
            "list: discussion list mail from {} ({signals})",
            email.from.address
        ),
        (false, name) => format!(
            "newsletter: bulk mail from {} ({signals})",
            name.unwrap_or_else(|| email.from.address.to_string())
        ),
    })
}

/// The name an admin knows a list by: its List-Id, else the address it is posted to.
fn list_name(h: &ClassifyHeaders) -> Option<String> {
    if let Some(id) = h.list_id.as_deref().and_then(list_id_of) {
        return Some(format!("<{id}>"));
    }
    if let Some(group) = h.list_unsubscribe.as_deref().and_then(microsoft_group) {
        return Some(group);
    }
    let post = h.list_post.as_deref().or(h.x_been_there.as_deref())?;
    let lower = post.to_ascii_lowercase();
    let start = lower.find("mailto:").map_or(0, |at| at + "mailto:".len());
    let address: String = post[start..]
        .chars()
        .take_while(|c| !matches!(c, '>' | '?' | ',' | ' '))
        .collect();
    address.contains('@').then_some(address)
}

/// The group address in a Microsoft 365 group's List-Unsubscribe
/// (`https://outlook.office365.com/owa/<group address>/groupsubscription.ashx?…`).
fn microsoft_group(unsubscribe: &str) -> Option<String> {
    let lower = unsubscribe.to_ascii_lowercase();
    let end = lower.find("/groupsubscription.ashx")?;
    let start = lower[..end].rfind('/')? + 1;
    let group = &unsubscribe[start..end];
    group.contains('@').then(|| group.to_string())
}

#[cfg(test)]
mod tests;
