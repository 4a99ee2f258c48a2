//! `tickets assign REF ADDRESS | --none` (issue 14, SPEC 7): a ticket is assigned to one agent
//! (an address matching `notify.agents`) or technician (one of `notify.technicians`), who
//! becomes a participant with that role, is told by mail, and gets the ticket's reminders.
//! Anyone else is refused with the allowed list. `--none` unassigns, telling no one.

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::super::output::{print_json, safe};
use super::agent::{QueuedJson, info, nonces};
use crate::cli::outgoing::Outgoing;
use crate::config::{NotifySettings, Settings};
use crate::domain::{EmailAddress, ParticipantRole, TicketRef};
use crate::outbox::enqueue::{Change, Notification, enqueue};
use crate::pipeline::load_agent_ticket;
use crate::store::agent::set_assignee;
use crate::store::{SentCounts, Store, add_staff_participant};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("whom").required(true).args(["address", "none"])))]
pub struct AssignArgs {
    /// The ticket reference, e.g. SUP-42.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The agent or technician who takes the ticket (matching `notify.agents` or one of
    /// `notify.technicians`).
    #[arg(value_name = "ADDRESS")]
    pub address: Option<String>,
    /// Unassign the ticket instead.
    #[arg(long)]
    pub none: bool,
    /// A note for the assignee, quoted in the mail they get.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Print the change as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct AssignJson {
    r#ref: String,
    assignee: Option<String>,
    previous: Option<String>,
    notifications: Vec<QueuedJson>,
}

/// Why an address cannot be assigned a ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{address} is neither an agent nor a technician: a ticket is assigned to an address \
     matching notify.agents ({agents}) or one of notify.technicians ({technicians})"
)]
pub struct NotStaff {
    address: String,
    agents: String,
    technicians: String,
}

/// The role `address` takes on a ticket assigned to it: technician when it is one of
/// `notify.technicians`, else agent when it matches `notify.agents`; anyone else is refused
/// with the allowed list.
pub fn staff_role(
    address: &EmailAddress,
    notify: &NotifySettings,
) -> Result<ParticipantRole, NotStaff> {
    if notify
        .technicians
        .iter()
        .any(|t| t.as_str().eq_ignore_ascii_case(address.as_str()))
    {
        return Ok(ParticipantRole::Technician);
    }
    if notify.agents.matches(address) {
        return Ok(ParticipantRole::Agent);
    }
    let listed = |items: Vec<String>| {
        if items.is_empty() {
            "none configured".to_string()
        } else {
            items.join(", ")
        }
    };
    Err(NotStaff {
        address: address.to_string(),
        agents: listed(notify.agents.patterns().to_vec()),
        technicians: listed(notify.technicians.iter().map(|t| t.to_string()).collect()),
    })
}

pub async fn assign(args: AssignArgs, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let prefix = &settings.tickets.prefix;
    let r = TicketRef::parse(&args.reference, prefix)?;
    let assignee = match &args.address {
        Some(a) if !args.none => {
            let address =
                EmailAddress::parse(a).map_err(|e| anyhow::anyhow!("{}: {e}", safe(a)))?;
            let role = staff_role(&address, &settings.notify)?;
            Some((address, role))
        }
        _ => None,
    };
    let outgoing = Outgoing::new(settings);
    let es = outgoing.settings(settings);
    let now = crate::pipeline::now();
    let mut tx = store.begin_write().await?;
    let Some(mut t) = load_agent_ticket(&mut tx, r.number()).await? else {
        anyhow::bail!("no ticket {r}");
    };
    let previous = t.participants.assignee.clone();
    let wanted = assignee.as_ref().map(|(a, _)| a);
    if previous.as_ref() == wanted {
        match wanted {
            Some(a) => anyhow::bail!("{r} is already assigned to {a}"),
            None => anyhow::bail!("{r} is not assigned to anyone"),
        }
    }
    set_assignee(&mut tx, r.number(), wanted, now).await?;
    let rows = match &assignee {
        Some((address, role)) => {
            add_staff_participant(&mut tx, r.number(), address, *role).await?;
            t.participants.assignee = Some(address.clone());
            let n = Notification {
                ticket: info(&t, prefix),
                change: Change::Assigned {
                    note: args.note.clone(),
                },
                participants: &t.participants,
                answering: None,
                thread: &t.thread,
                now,
            };
            // Mail to staff: not counted against any customer's cap.
            enqueue(&n, &SentCounts::new(), &es, &mut nonces(now))
        }
        None => Vec::new(),
    };
    crate::store::insert_outbox(&mut tx, &rows).await?;
    tx.commit().await.context("committing the assignment")?;
    let queued: Vec<QueuedJson> = rows.iter().map(QueuedJson::of).collect();
    if args.json {
        return print_json(&AssignJson {
            r#ref: r.to_string(),
            assignee: wanted.map(ToString::to_string),
            previous: previous.map(|p| p.to_string()),
            notifications: queued,
        });
    }
    match wanted {
        Some(a) => println!("{r}: assigned to {}", safe(a.as_str())),
        None => println!("{r}: unassigned"),
    }
    for q in &queued {
        q.print();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::addr;

    fn notify() -> NotifySettings {
        Settings::from_toml(
            "[notify]\nagents = [\"*@agents.example.test\"]\ntechnicians = [\"oncall@example.test\"]\n",
            "test",
        )
        .unwrap()
        .notify
    }

    #[test]
    fn technicians_and_agents_may_be_assigned_with_their_role() {
        let n = notify();
        assert_eq!(
            staff_role(&addr("oncall@example.test"), &n),
            Ok(ParticipantRole::Technician)
        );
        assert_eq!(
            staff_role(&addr("Ann@Agents.Example.Test"), &n),
            Ok(ParticipantRole::Agent)
        );
    }

    #[test]
    fn anyone_else_is_refused_with_the_allowed_list() {
        let n = notify();
        let e = staff_role(&addr("jane@acme.test"), &n).unwrap_err();
        assert_eq!(
            e.to_string(),
            "jane@acme.test is neither an agent nor a technician: a ticket is assigned to an \
             address matching notify.agents (*@agents.example.test) or one of \
             notify.technicians (oncall@example.test)"
        );
        let none = Settings::from_toml("", "test").unwrap().notify;
        assert!(
            staff_role(&addr("jane@acme.test"), &none)
                .unwrap_err()
                .to_string()
                .ends_with(
                    "notify.agents (none configured) or one of notify.technicians (none configured)"
                )
        );
    }
}
