//! `mailgate config check`: validate the configuration and name the line of each mistake.

use std::path::Path;

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration file and the secrets it names.
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
                println!(
                    "  mailbox       {} ({role}) {}",
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
            if let Ok(text) = std::fs::read_to_string(&settings.origin) {
                for section in Settings::unused_sections(&text) {
                    println!("  note: [{section}] is accepted but not used by this version yet");
                }
            }
            Ok(())
        }
    }
}
