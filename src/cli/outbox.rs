//! `mailgate outbox list [--status S] [--json]` and `mailgate outbox retry ID` (SPEC 9): what
//! the sender did with each notification, and a second chance for failed or held ones.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{cut, print_json, safe, short_time, time};
use crate::config::Settings;
use crate::domain::TicketRef;
use crate::store::{OutboxRow, Refusal, RetryOutcome, Store};

const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "held"];

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Outgoing notifications, oldest first.
    List(ListArgs),
    /// Put a failed or held notification back in the queue, due now.
    Retry(RetryArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only rows in this status.
    #[arg(long, value_parser = STATUSES)]
    pub status: Option<String>,
    /// Print the rows as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The row's number, as `outbox list` shows it (#12 is 12).
    pub id: i64,
}

#[derive(Serialize)]
struct RowJson {
    id: i64,
    ticket: Option<String>,
    kind: String,
    status: String,
    recipients: Vec<String>,
    delivered_to: Vec<String>,
    refused: Vec<Refusal>,
    subject: String,
    message_id: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: String,
    next_attempt_at: Option<String>,
    sent_at: Option<String>,
}

impl RowJson {
    fn new(r: OutboxRow, prefix: &str) -> RowJson {
        RowJson {
            ticket: r.ticket_id.map(|n| TicketRef::new(prefix, n).to_string()),
            recipients: r.recipient_list(),
            delivered_to: r.delivered_list(),
            refused: r.refused_list(),
            next_attempt_at: (r.status == "pending").then(|| time(r.next_attempt_at)),
            created_at: time(r.created_at),
            sent_at: r.sent_at.map(time),
            id: r.id,
            kind: r.kind,
            status: r.status,
            subject: r.subject,
            message_id: r.message_id,
            attempts: r.attempts,
            last_error: r.last_error,
        }
    }
}

pub async fn run(cmd: OutboxCommand, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    match cmd {
        OutboxCommand::List(args) => {
            let rows = store.outbox_list(args.status.as_deref()).await?;
            let prefix = settings.tickets.prefix.as_str();
            let rows: Vec<RowJson> = rows.into_iter().map(|r| RowJson::new(r, prefix)).collect();
            if args.json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("The outbox is empty.");
            }
            for r in rows {
                println!(
                    "#{} {} {:<8} {:<20} {:<8} to {} (attempts {})",
                    r.id,
                    short_time_of(&r),
                    r.status,
                    r.kind,
                    r.ticket.as_deref().unwrap_or("-"),
                    cut(&safe(&r.recipients.join(", ")), 60),
                    r.attempts
                );
                println!("    {}", cut(&safe(&r.subject), 90));
                if let Some(at) = &r.next_attempt_at
                    && r.attempts > 0
                {
                    println!("    next attempt {at}");
                }
                if let Some(e) = &r.last_error {
                    println!("    {}", cut(&safe(e), 200));
                }
            }
            Ok(())
        }
        OutboxCommand::Retry(args) => {
            let now = chrono::Utc::now().timestamp();
            match store.outbox_retry(args.id, now).await? {
                RetryOutcome::Requeued => {
                    println!(
                        "outbox #{} is pending again; `mailgate run` sends it",
                        args.id
                    );
                    Ok(())
                }
                RetryOutcome::NotFound => anyhow::bail!("no outbox row #{}", args.id),
                RetryOutcome::NotRetryable(status) => anyhow::bail!(
                    "outbox #{} is {status}: only failed or held rows can be retried",
                    args.id
                ),
            }
        }
    }
}

fn short_time_of(r: &RowJson) -> String {
    chrono::DateTime::parse_from_rfc3339(r.sent_at.as_deref().unwrap_or(&r.created_at))
        .map(|t| short_time(t.timestamp()))
        .unwrap_or_default()
}
