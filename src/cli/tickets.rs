//! `mailgate tickets list [--status S] [--json]`, `tickets show REF [--json]`, and the agent
//! commands `tickets reply`, `set-status`, `set-priority` (in [`agent`]).

mod agent;
mod assign;
mod attach;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::decisions::{DecisionJson, print_decision};
use super::output::{cut, print_json, safe, safe_lines, short_time, time};
use crate::config::Settings;
use crate::domain::{PingKind, Status, TicketRef};
use crate::store::{AttachmentRow, ParticipantRow, Store, TicketRow};

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// Tickets in number order.
    List(ListArgs),
    /// One ticket with its participants, messages, notifications and decisions.
    Show(ShowArgs),
    /// Answer the customer: stored on the ticket and mailed from the support address.
    Reply(agent::ReplyArgs),
    /// Change the status (pending, resolved, closed, open); the customer is told.
    SetStatus(agent::SetStatusArgs),
    /// Change the priority (low, normal, high, critical); critical alerts the technicians.
    SetPriority(agent::SetPriorityArgs),
    /// Assign the ticket to an agent or technician (who is told and gets its reminders), or
    /// unassign it with --none.
    Assign(assign::AssignArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the tickets with this status.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<Status>,
    /// Only the tickets assigned to this agent or technician.
    #[arg(long, value_name = "ADDRESS")]
    pub assignee: Option<String>,
    /// Print the tickets as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The ticket reference, e.g. SUP-42.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Print the ticket, its messages, notifications and decisions as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct TicketJson {
    r#ref: String,
    subject: String,
    status: String,
    priority: String,
    requester: String,
    mailbox: String,
    escalation: bool,
    created_at: String,
    updated_at: String,
    message_count: i64,
    /// The agent or technician it is assigned to; null when unassigned.
    assignee: Option<String>,
}

impl TicketJson {
    fn new(t: TicketRow, prefix: &str) -> Self {
        Self {
            r#ref: TicketRef::new(prefix, t.id).to_string(),
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            requester: t.requester,
            mailbox: t.mailbox,
            escalation: t.escalation,
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
            message_count: t.message_count,
            assignee: t.assignee,
        }
    }
}

#[derive(Serialize)]
struct TicketDetailJson {
    #[serde(flatten)]
    ticket: TicketJson,
    participants: Vec<ParticipantRow>,
    messages: Vec<MessageJson>,
    /// Mail mailgate queued or sent about the ticket (the outbox).
    notifications: Vec<NotificationJson>,
    decisions: Vec<DecisionJson>,
    /// SLA pings sent (reminders, prompts, the auto-close), oldest first.
    sla_pings: Vec<PingJson>,
}

#[derive(Serialize)]
struct PingJson {
    kind: PingKind,
    due_at: String,
    sent_at: String,
}

#[derive(Serialize)]
struct NotificationJson {
    id: i64,
    kind: String,
    recipients: Vec<String>,
    subject: String,
    message_id: String,
    status: String,
    created_at: String,
    sent_at: Option<String>,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct MessageJson {
    message_id: String,
    direction: String,
    from: String,
    from_name: Option<String>,
    subject: String,
    date: Option<String>,
    received_at: String,
    classification: String,
    source: String,
    /// `non_participant` (threaded by Message-ID from someone who is not a participant) or
    /// `unverified_agent` (an agent's address, not authenticated: a note, never relayed).
    flag: Option<String>,
    body_text: String,
    reply_text: String,
    attachments: Vec<AttachmentJson>,
}

#[derive(Serialize)]
struct AttachmentJson {
    filename: String,
    content_type: String,
    size: i64,
    sha256: String,
}

pub async fn run(cmd: TicketsCommand, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let prefix = &settings.tickets.prefix;
    match cmd {
        TicketsCommand::List(args) => {
            let assignee = args
                .assignee
                .as_deref()
                .map(|a| {
                    crate::domain::EmailAddress::parse(a)
                        .map_err(|e| anyhow::anyhow!("--assignee {}: {e}", safe(a)))
                })
                .transpose()?;
            let rows = store
                .list_tickets(args.status.map(Status::as_str), assignee.as_ref())
                .await?;
            let rows: Vec<TicketJson> = rows
                .into_iter()
                .map(|t| TicketJson::new(t, prefix))
                .collect();
            if args.json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("No tickets.");
                return Ok(());
            }
            println!(
                "{:<10} {:<9} {:<8} {:<16} {:>4}  {:<28} SUBJECT",
                "REF", "STATUS", "PRIORITY", "UPDATED", "MSGS", "REQUESTER"
            );
            for t in rows {
                let updated = chrono::DateTime::parse_from_rfc3339(&t.updated_at)
                    .map(|d| short_time(d.timestamp()))
                    .unwrap_or_default();
                let esc = if t.escalation { "[esc] " } else { "" };
                println!(
                    "{:<10} {:<9} {:<8} {:<16} {:>4}  {:<28} {esc}{}",
                    t.r#ref,
                    t.status,
                    t.priority,
                    updated,
                    t.message_count,
                    cut(&safe(&t.requester), 28),
                    cut(&safe(&t.subject), 60)
                );
            }
            Ok(())
        }
        TicketsCommand::Show(args) => {
            let r = TicketRef::parse(&args.reference, prefix)?;
            let Some(ticket) = store.ticket(r.number()).await? else {
                anyhow::bail!("no ticket {r}");
            };
            let participants = store.participants(r.number()).await?;
            let mut attachments: Vec<AttachmentRow> = store.attachments(r.number()).await?;
            let messages = store
                .messages(r.number())
                .await?
                .into_iter()
                .map(|m| {
                    let mine: Vec<AttachmentJson> = attachments
                        .extract_if(.., |a| a.message_id == m.message_id)
                        .map(|a| AttachmentJson {
                            filename: a.filename,
                            content_type: a.content_type,
                            size: a.size,
                            sha256: a.sha256,
                        })
                        .collect();
                    let texts = crate::pipeline::message_texts(&m);
                    MessageJson {
                        message_id: m.message_id,
                        direction: m.direction,
                        from: m.from_addr,
                        from_name: m.from_name,
                        subject: m.subject,
                        date: m.sent_date.map(time),
                        received_at: time(m.received_at),
                        classification: m.classification,
                        source: m.source,
                        flag: m.flag,
                        body_text: texts.full,
                        reply_text: texts.reply,
                        attachments: mine,
                    }
                })
                .collect();
            let notifications = store
                .ticket_notifications(r.number())
                .await?
                .into_iter()
                .map(|n| NotificationJson {
                    id: n.id,
                    kind: n.kind,
                    recipients: serde_json::from_str(&n.recipients).unwrap_or_default(),
                    subject: n.subject,
                    message_id: n.message_id,
                    status: n.status,
                    created_at: time(n.created_at),
                    sent_at: n.sent_at.map(time),
                    last_error: n.last_error,
                })
                .collect();
            let decisions = store
                .ticket_decisions(r.number())
                .await?
                .into_iter()
                .map(|d| DecisionJson::new(d, prefix))
                .collect();
            let sla_pings = store
                .ticket_pings(r.number())
                .await?
                .into_iter()
                .map(|p| PingJson {
                    kind: p.kind,
                    due_at: time(p.due_at),
                    sent_at: time(p.sent_at),
                })
                .collect();
            let detail = TicketDetailJson {
                ticket: TicketJson::new(ticket, prefix),
                participants,
                messages,
                notifications,
                decisions,
                sla_pings,
            };
            if args.json {
                return print_json(&detail);
            }
            print_detail(&detail);
            Ok(())
        }
        TicketsCommand::Reply(args) => agent::reply(args, settings, store).await,
        TicketsCommand::SetStatus(args) => agent::set_status(args, settings, store).await,
        TicketsCommand::SetPriority(args) => agent::set_priority(args, settings, store).await,
        TicketsCommand::Assign(args) => assign::assign(args, settings, store).await,
    }
}

fn print_detail(d: &TicketDetailJson) {
    let t = &d.ticket;
    println!("{} {}", t.r#ref, safe(&t.subject));
    println!(
        "  status {} · priority {} · mailbox {}{}",
        t.status,
        t.priority,
        safe(&t.mailbox),
        if t.escalation { " · escalation" } else { "" }
    );
    println!("  created {} · updated {}", t.created_at, t.updated_at);
    if let Some(a) = &t.assignee {
        println!("  assigned to {}", safe(a));
    }
    println!("Participants:");
    for p in &d.participants {
        let bouncing = if p.bouncing { " (bouncing)" } else { "" };
        println!("  {:<10} {}{bouncing}", p.role, safe(&p.address));
    }
    println!("Messages ({}):", d.messages.len());
    for m in &d.messages {
        let what = match m.direction.as_str() {
            "inbound" => m.classification.clone(),
            other => other.to_string(),
        };
        let what = match m.flag.as_deref() {
            Some("non_participant") => format!("{what}, from a non-participant"),
            Some("unverified_agent") => format!("{what}, unverified agent: not relayed"),
            Some(other) => format!("{what}, {other}"),
            None => what,
        };
        println!(
            "  ── {} from {} [{what}] <{}>",
            m.date.as_deref().unwrap_or(&m.received_at),
            safe(&m.from),
            safe(&m.message_id)
        );
        println!("     Subject: {}", safe(&m.subject));
        for line in m.reply_text.lines().take(20) {
            println!("     {}", safe_lines(line));
        }
        for a in &m.attachments {
            println!(
                "     📎 {} ({}, {} bytes)",
                safe(&a.filename),
                safe(&a.content_type),
                a.size
            );
        }
    }
    if !d.notifications.is_empty() {
        println!("Notifications ({}):", d.notifications.len());
        for n in &d.notifications {
            let error = n
                .last_error
                .as_deref()
                .map(|e| format!(": {}", safe(e)))
                .unwrap_or_default();
            println!(
                "  #{} {} {} to {} ({}){error}",
                n.id,
                n.created_at,
                n.kind,
                safe(&n.recipients.join(", ")),
                n.status
            );
        }
    }
    if !d.sla_pings.is_empty() {
        println!("SLA pings ({}):", d.sla_pings.len());
        for p in &d.sla_pings {
            println!("  {} {} (due {})", p.sent_at, p.kind, p.due_at);
        }
    }
    println!("Decisions:");
    for dec in &d.decisions {
        print_decision(dec);
    }
}
