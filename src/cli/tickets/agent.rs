//! `tickets reply`, `tickets set-status`, `tickets set-priority` (SPEC 9): each change, the
//! outbound message and the notifications it causes are stored in ONE transaction; the
//! outbox sender delivers them later.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::super::output::{print_json, safe};
use crate::cli::outgoing::Outgoing;
use crate::config::Settings;
use crate::domain::{MessageDirection, Priority, Status, TicketRef};
use crate::outbox::enqueue::{Change, Notification, TicketInfo, enqueue, message_id};
use crate::pipeline::{AgentTicket, load_agent_ticket};
use crate::store::OutboundMessage;
use crate::store::agent::{insert_outbound, touch_agent, update_priority, update_status};
use crate::store::{NewOutboxRow, SentCounts, Store};

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// The ticket reference, e.g. SUP-42.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The reply text.
    #[arg(
        long,
        conflicts_with = "body_file",
        required_unless_present = "body_file"
    )]
    pub body: Option<String>,
    /// A file with the reply text (- for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Also set the status.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<Status>,
    /// Send this file with the reply (repeatable; at most limits.max_message_bytes in total).
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Print the change as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetStatusArgs {
    /// The ticket reference, e.g. SUP-42.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The new status.
    #[arg(value_enum, ignore_case = true)]
    pub status: Status,
    /// A note for the customer; required to resolve a critical ticket (what was verified).
    #[arg(long)]
    pub note: Option<String>,
    /// Print the change as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SetPriorityArgs {
    /// The ticket reference, e.g. SUP-42.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The new priority; critical alerts every technician.
    #[arg(value_enum, ignore_case = true)]
    pub priority: Priority,
    /// Print the change as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct ChangeJson {
    r#ref: String,
    status: String,
    priority: String,
    /// The outbound message stored on the ticket (replies).
    message_id: Option<String>,
    notifications: Vec<QueuedJson>,
    /// The files sent with a reply (`tickets reply --attach`); empty otherwise.
    attachments: Vec<AttachedJson>,
}

#[derive(Serialize, Clone)]
struct AttachedJson {
    filename: String,
    content_type: String,
    size: usize,
}

#[derive(Serialize)]
pub(super) struct QueuedJson {
    kind: &'static str,
    recipients: Vec<String>,
    status: &'static str,
    message_id: String,
    reason: Option<String>,
}

impl QueuedJson {
    pub(super) fn of(row: &NewOutboxRow) -> QueuedJson {
        QueuedJson {
            kind: row.kind_name(),
            recipients: row.recipients.iter().map(|a| a.to_string()).collect(),
            status: row.status(),
            message_id: row.message_id.to_string(),
            reason: row.held.clone(),
        }
    }

    /// One line per notification, as `report` prints them.
    pub(super) fn print(&self) {
        match &self.reason {
            None => println!(
                "  queued {} to {}",
                self.kind,
                safe(&self.recipients.join(", "))
            ),
            Some(reason) => println!(
                "  held {} to {}: {}",
                self.kind,
                safe(&self.recipients.join(", ")),
                safe(reason)
            ),
        }
    }
}

pub(crate) fn nonces(now: i64) -> impl FnMut() -> String {
    let seed = fastrand::u64(..);
    let mut i = 0;
    move || {
        i += 1;
        format!("n{now}.{seed:x}.{i}")
    }
}

pub(super) fn info(t: &AgentTicket, prefix: &str) -> TicketInfo {
    TicketInfo {
        reference: TicketRef::new(prefix, t.number),
        subject: t.subject.clone(),
        status: t.status,
        priority: t.priority,
        requester: t.requester.clone(),
    }
}

/// Which statuses an agent may set, and whether resolving needs a note.
fn check_status(
    t: &AgentTicket,
    target: Status,
    note: Option<&str>,
    r: &TicketRef,
) -> anyhow::Result<()> {
    if target == Status::New {
        anyhow::bail!("{r}: status new cannot be set; use open, pending, resolved or closed");
    }
    if target == t.status {
        anyhow::bail!("{r} is already {target}");
    }
    if target == Status::Resolved
        && t.priority == Priority::Critical
        && note.is_none_or(|n| n.trim().is_empty())
    {
        anyhow::bail!(
            "{r} is critical: resolving it needs a confirmation note saying what was verified \
             (service restored, equipment tested): tickets set-status {r} resolved --note TEXT"
        );
    }
    Ok(())
}

/// The automatic mails each possible recipient got in the cap's window.
async fn counts(
    tx: &mut crate::store::Tx,
    t: &AgentTicket,
    settings: &Settings,
    now: i64,
) -> anyhow::Result<SentCounts> {
    let p = &t.participants;
    let mut addresses: Vec<&crate::domain::EmailAddress> = p
        .requester
        .iter()
        .chain(&p.cc)
        .chain(&p.agents)
        .chain(&p.technicians)
        .chain(&settings.notify.technicians)
        .collect();
    if let Some(c) = p.requester.as_ref().and_then(|r| {
        settings
            .notify
            .primary_contacts
            .get(&r.domain().to_ascii_lowercase())
    }) {
        addresses.push(c);
    }
    Ok(
        crate::store::auto_sent_counts(tx, &addresses, now - settings.notify.rate_cap.window_secs)
            .await?,
    )
}

fn read_body(args: &ReplyArgs) -> anyhow::Result<String> {
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone(),
        (None, Some(p)) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .context("reading the reply from standard input")?;
            s
        }
        (None, Some(p)) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        (None, None) => anyhow::bail!("give the reply with --body TEXT or --body-file FILE"),
    };
    let body = body.trim_end().to_string();
    if body.trim().is_empty() {
        anyhow::bail!("the reply is empty");
    }
    Ok(body)
}

pub async fn reply(args: ReplyArgs, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let prefix = &settings.tickets.prefix;
    let r = TicketRef::parse(&args.reference, prefix)?;
    let body = read_body(&args)?;
    let files = super::attach::read_files(&args.attach, settings.max_message_bytes)?;
    let outgoing = Outgoing::new(settings);
    let es = outgoing.settings(settings);
    let now = crate::pipeline::now();
    let mut tx = store.begin_write().await?;
    let Some(mut t) = load_agent_ticket(&mut tx, r.number()).await? else {
        anyhow::bail!("no ticket {r}");
    };
    if let Some(s) = args.status {
        if s == Status::Resolved && t.priority == Priority::Critical {
            anyhow::bail!(
                "{r} is critical: resolve it with tickets set-status {r} resolved --note TEXT \
                 (what was verified), not with a reply"
            );
        }
        if s != t.status {
            check_status(&t, s, None, &r)?;
            update_status(&mut tx, r.number(), s, None, now).await?;
            t.status = s;
        }
    }
    let n = Notification {
        ticket: info(&t, prefix),
        change: Change::AgentReply { body: body.clone() },
        participants: &t.participants,
        answering: t.latest_customer.as_ref(),
        thread: &t.thread,
        now,
    };
    let mut nonce = nonces(now);
    let rows = enqueue(&n, &SentCounts::new(), &es, &mut nonce);
    let stored_id = rows
        .first()
        .map(|row| row.message_id.clone())
        .unwrap_or_else(|| message_id(&r, &nonce(), &es));
    let first = rows.first();
    insert_outbound(
        &mut tx,
        &OutboundMessage {
            ticket: r.number(),
            message_id: stored_id.clone(),
            direction: MessageDirection::Outbound,
            from_addr: settings.tickets.support_address.address.to_string(),
            from_name: settings.tickets.support_address.name.clone(),
            to: rows.iter().flat_map(|row| row.recipients.clone()).collect(),
            subject: first
                .map(|row| row.subject.clone())
                .unwrap_or_else(|| t.subject.clone()),
            in_reply_to: first.and_then(|row| row.in_reply_to.clone()),
            references: first.map(|row| row.references.clone()).unwrap_or_default(),
            body,
            source: "cli:tickets reply".into(),
            at: now,
        },
    )
    .await?;
    crate::store::insert_outbox(&mut tx, &rows).await?;
    crate::store::store_outbound_files(&mut tx, &files, &rows, Some(&stored_id)).await?;
    touch_agent(&mut tx, r.number(), now).await?;
    tx.commit().await.context("committing the reply")?;
    let attached: Vec<AttachedJson> = files
        .iter()
        .map(|f| AttachedJson {
            filename: f.filename.clone(),
            content_type: f.content_type.to_string(),
            size: f.size(),
        })
        .collect();
    report(
        &t,
        &r,
        Some(stored_id.to_string()),
        &rows,
        (args.json, &attached),
        "reply stored",
    )
}

pub async fn set_status(
    args: SetStatusArgs,
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<()> {
    let prefix = &settings.tickets.prefix;
    let r = TicketRef::parse(&args.reference, prefix)?;
    let note = args
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let outgoing = Outgoing::new(settings);
    let es = outgoing.settings(settings);
    let now = crate::pipeline::now();
    let mut tx = store.begin_write().await?;
    let Some(mut t) = load_agent_ticket(&mut tx, r.number()).await? else {
        anyhow::bail!("no ticket {r}");
    };
    check_status(&t, args.status, note.as_deref(), &r)?;
    let old = t.status;
    update_status(&mut tx, r.number(), args.status, note.as_deref(), now).await?;
    t.status = args.status;
    let change = match args.status {
        Status::Resolved if t.priority == Priority::Critical => Some(Change::CriticalResolved {
            note: note.clone().unwrap_or_default(),
        }),
        Status::Pending | Status::Resolved | Status::Closed => Some(Change::StatusChanged {
            old,
            note: note.clone(),
        }),
        Status::New | Status::Open => None,
    };
    let mut nonce = nonces(now);
    let rows = match change {
        Some(change) => {
            let sent = counts(&mut tx, &t, settings, now).await?;
            let n = Notification {
                ticket: info(&t, prefix),
                change,
                participants: &t.participants,
                answering: None,
                thread: &t.thread,
                now,
            };
            enqueue(&n, &sent, &es, &mut nonce)
        }
        None => Vec::new(),
    };
    if let Some(note) = note {
        insert_outbound(
            &mut tx,
            &OutboundMessage {
                ticket: r.number(),
                message_id: message_id(&r, &nonce(), &es),
                direction: MessageDirection::Note,
                from_addr: settings.tickets.support_address.address.to_string(),
                from_name: settings.tickets.support_address.name.clone(),
                to: Vec::new(),
                subject: format!("status {old} → {}", args.status),
                in_reply_to: None,
                references: Vec::new(),
                body: note,
                source: "cli:tickets set-status".into(),
                at: now,
            },
        )
        .await?;
    }
    crate::store::insert_outbox(&mut tx, &rows).await?;
    tx.commit().await.context("committing the status change")?;
    report(
        &t,
        &r,
        None,
        &rows,
        (args.json, &[]),
        &format!("status {old} → {}", args.status),
    )
}

pub async fn set_priority(
    args: SetPriorityArgs,
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<()> {
    let prefix = &settings.tickets.prefix;
    let r = TicketRef::parse(&args.reference, prefix)?;
    let outgoing = Outgoing::new(settings);
    let es = outgoing.settings(settings);
    let now = crate::pipeline::now();
    let mut tx = store.begin_write().await?;
    let Some(mut t) = load_agent_ticket(&mut tx, r.number()).await? else {
        anyhow::bail!("no ticket {r}");
    };
    let old = t.priority;
    if old == args.priority {
        anyhow::bail!("{r} is already {old}");
    }
    update_priority(&mut tx, r.number(), args.priority, now).await?;
    t.priority = args.priority;
    // Becoming critical alerts every technician (SPEC 6).
    let rows = if args.priority == Priority::Critical && !t.status.is_finished() {
        let sent = counts(&mut tx, &t, settings, now).await?;
        let n = Notification {
            ticket: info(&t, prefix),
            change: Change::CriticalRaised { note: None },
            participants: &t.participants,
            answering: None,
            thread: &t.thread,
            now,
        };
        enqueue(&n, &sent, &es, &mut nonces(now))
    } else {
        Vec::new()
    };
    crate::store::insert_outbox(&mut tx, &rows).await?;
    tx.commit()
        .await
        .context("committing the priority change")?;
    report(
        &t,
        &r,
        None,
        &rows,
        (args.json, &[]),
        &format!("priority {old} → {}", args.priority),
    )
}

fn report(
    t: &AgentTicket,
    r: &TicketRef,
    message_id: Option<String>,
    rows: &[NewOutboxRow],
    (json, attached): (bool, &[AttachedJson]),
    what: &str,
) -> anyhow::Result<()> {
    let queued: Vec<QueuedJson> = rows.iter().map(QueuedJson::of).collect();
    if json {
        return print_json(&ChangeJson {
            r#ref: r.to_string(),
            status: t.status.as_str().to_string(),
            priority: t.priority.as_str().to_string(),
            message_id,
            notifications: queued,
            attachments: attached.to_vec(),
        });
    }
    println!("{r}: {what} (status {}, priority {})", t.status, t.priority);
    if queued.is_empty() {
        println!("  no notification");
    }
    for q in &queued {
        q.print();
    }
    for a in attached {
        println!(
            "  attached {} ({}, {} bytes)",
            safe(&a.filename),
            a.content_type,
            a.size
        );
    }
    Ok(())
}
