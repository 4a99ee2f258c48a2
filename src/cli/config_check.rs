//! `mailgate config check`: validate the configuration and name the line of each mistake,
//! all of them in one run.

use std::path::Path;

use clap::Subcommand;

use crate::config::{HttpSettings, SecretSource, Settings, SlaSettings, show_duration};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration file, the secrets it names and MAILGATE_DATABASE_URL,
    /// reporting every mistake with its line.
    Check,
}

pub fn run(cmd: &ConfigCommand, path: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Check => {
            let settings = Settings::load(path)?;
            println!("{}: OK", settings.origin);
            println!(
                "  database      {}",
                crate::config::redact_url(&settings.database_url)
            );
            println!("  ticket prefix {}", settings.tickets.prefix);
            println!("  support from  {}", settings.tickets.support_address);
            println!(
                "  reply tokens  {}",
                if settings.tickets.secret.is_some() {
                    "on (secret configured)"
                } else {
                    "off: set tickets.secret_file or tickets.secret_env to thread by plus-address"
                }
            );
            for mb in &settings.mailboxes {
                let role = match mb.role {
                    crate::config::Role::Support => "support",
                    crate::config::Role::Escalation => "escalation",
                };
                let sign_in = match &mb.oauth2 {
                    Some(oauth2) => format!(", signs in with {}", oauth2.describe()),
                    None => String::new(),
                };
                println!(
                    "  mailbox       {} ({role}) {}{sign_in}",
                    mb.name,
                    mb.host
                        .as_deref()
                        .unwrap_or("(no IMAP host: import/ingest only)")
                );
            }
            match &settings.smtp {
                Some(smtp) => println!("  smtp          {}", smtp.describe()),
                None => println!("  smtp          (none: notifications wait in the outbox)"),
            }
            println!("  escalations   {}", settings.escalation.describe());
            println!(
                "  critical gate {}",
                settings.escalation.describe_critical_gate()
            );
            for warning in crate::config::MailboxSettings::address_warnings(&settings.mailboxes) {
                println!("  warning: {warning}");
            }
            let oauth2_accounts = settings
                .mailboxes
                .iter()
                .filter_map(|m| Some((format!("mailbox {}", m.name), m.oauth2.as_ref()?)))
                .chain(
                    settings
                        .smtp
                        .iter()
                        .filter_map(|s| Some(("smtp".to_string(), s.oauth2.as_ref()?))),
                );
            for (account, oauth2) in oauth2_accounts {
                if let Some(warning) = oauth2.token_file_warning(&account) {
                    println!("  warning: {warning}");
                }
            }
            match settings.notify.templates.dir() {
                Some(dir) => println!(
                    "  templates     {} (overrides checked with a sample ticket)",
                    dir.display()
                ),
                None => println!("  templates     built-in"),
            }
            println!(
                "  rate cap      {} automatic mails per recipient per hour",
                settings.notify.rate_cap.max
            );
            println!("  sla           {}", describe_sla(&settings.sla));
            if settings.alerts.is_empty() {
                println!("  alerts        (none: monitoring mail is ignored as automatic)");
            }
            for source in settings.alerts.iter() {
                println!(
                    "  alerts        {} ({}, on recovery {}) from {}",
                    source.name,
                    source.format.name(),
                    source.on_recovery.as_str(),
                    source.senders.patterns().join(", ")
                );
                if !source.require_authentication {
                    println!(
                        "  warning: alerts entry {:?} has require_authentication = false: anybody \
                         who writes its From address ({}) can open critical tickets and page \
                         every technician; authenticate the monitoring system's mail (DKIM, \
                         DMARC) and remove it (SECURITY.md)",
                        source.name,
                        source.senders.patterns().join(", ")
                    );
                }
            }
            if let Some(http) = &settings.http {
                println!("  http          {}", describe_http(http));
            }
            if let Ok(text) = std::fs::read_to_string(&settings.origin) {
                for section in Settings::unused_sections(&text) {
                    println!("  note: [{section}] is accepted but not used by this version yet");
                }
            }
            Ok(())
        }
    }
}

fn describe_sla(sla: &SlaSettings) -> String {
    let parts: Vec<String> = [
        ("open update every", sla.open_update_every),
        ("critical update every", sla.critical_update_every),
        ("pending reminder after", sla.pending_reminder_after),
        ("auto-close pending after", sla.auto_close_pending_after),
    ]
    .into_iter()
    .filter_map(|(what, duration)| Some(format!("{what} {}", show_duration(duration?))))
    .collect();
    if parts.is_empty() {
        "off (no pings configured)".to_string()
    } else {
        let clock = match &sla.clock {
            crate::sla::Clock::Always => "all hours".to_string(),
            crate::sla::Clock::Working(c) => format!("working time in {}", c.zone),
        };
        format!("{} ({clock})", parts.join(", "))
    }
}

fn describe_http(http: &HttpSettings) -> String {
    let listen = http
        .listen
        .map(|a| format!("listen {a}"))
        .unwrap_or_else(|| "no listen address".to_string());
    match &http.token {
        Some(SecretSource::Env(name)) => format!("{listen}, token from ${name}"),
        Some(SecretSource::File(path)) => format!("{listen}, token from {path}"),
        None => listen,
    }
}
