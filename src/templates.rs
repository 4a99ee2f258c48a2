//! The bodies of notifications: minijinja templates, one plain-text template per kind with an
//! optional HTML sibling, named by the kind (`domain::NotificationKind::as_str`).
//!
//! This module knows nothing of the outbox: `config` loads and checks the templates when the
//! configuration is read (so a mistake is a config issue with its line), and `outbox` renders
//! them; both import this module, neither imports the other for it.
//!
//! The defaults are the files under `templates/` in the repository, compiled into the binary.
//! An admin overrides any of them by putting a file of the same name (`acknowledgement.txt`,
//! `agent_reply.html`, …) in the directory named by `[notify] templates_dir`; kinds without a
//! file there keep the default. Undefined variables are errors (strict mode), and every template
//! is rendered with a sample context when the configuration is loaded, so a typo is reported by
//! `mailgate config check` (and refused at start) instead of at the first notification.
//!
//! Every template sees the same context ([`TemplateContext`]); values that do not apply to a
//! kind are empty strings, so `{% if note %}` works everywhere.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// Each kind's template file stem and its compiled-in default text.
const DEFAULTS: &[(&str, &str)] = &[
    (
        "acknowledgement",
        include_str!("../templates/acknowledgement.txt"),
    ),
    ("agent_reply", include_str!("../templates/agent_reply.txt")),
    (
        "status_change",
        include_str!("../templates/status_change.txt"),
    ),
    (
        "pending_reminder",
        include_str!("../templates/pending_reminder.txt"),
    ),
    (
        "critical_alert",
        include_str!("../templates/critical_alert.txt"),
    ),
    (
        "critical_resolution",
        include_str!("../templates/critical_resolution.txt"),
    ),
    (
        "escalation_accepted",
        include_str!("../templates/escalation_accepted.txt"),
    ),
    (
        "escalation_refused",
        include_str!("../templates/escalation_refused.txt"),
    ),
    ("assignment", include_str!("../templates/assignment.txt")),
    (
        "sla_reminder",
        include_str!("../templates/sla_reminder.txt"),
    ),
    ("auto_close", include_str!("../templates/auto_close.txt")),
];

/// Lines and characters of the customer's text quoted in an acknowledgement.
pub const SUMMARY_MAX_LINES: usize = 8;
pub const SUMMARY_MAX_CHARS: usize = 600;

/// What the ticket looks like to a template.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketContext {
    /// `SUP-12`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// `[SUP-12]`.
    pub tag: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester: String,
}

/// The variables of every template.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateContext {
    pub ticket: TicketContext,
    /// The support address (`support@example.test`).
    pub support_address: String,
    /// Its display name, or the address when it has none.
    pub support_name: String,
    /// One sentence: how the customer answers so the mail lands on the ticket.
    pub how_to_reply: String,
    /// The first lines of the customer's text (acknowledgements), else empty.
    pub summary: String,
    /// The agent's reply (agent_reply), else empty.
    pub reply_body: String,
    /// The agent's note (status changes; what was verified for a critical resolution).
    pub note: String,
    /// The status before a status change, else empty.
    pub old_status: String,
    /// The subject of the tier-1 mail an escalation answer is about, else empty.
    pub original_subject: String,
    /// A refused escalation: the numbered list of what is missing, each with the line to add.
    pub problems: String,
    /// A refused escalation: the evidence block to copy, pre-filled with what was given.
    pub evidence_block: String,
    /// An accepted escalation: ticket, customer, category, priority (and why it was lowered).
    pub escalation: String,
}

impl TemplateContext {
    /// A context with every variable filled in, for checking templates.
    pub fn sample() -> Self {
        Self {
            ticket: TicketContext {
                reference: "SUP-1".into(),
                tag: "[SUP-1]".into(),
                subject: "Printer on floor 3 prints blank pages".into(),
                status: "pending".into(),
                priority: "normal".into(),
                requester: "jane@customer.example".into(),
            },
            support_address: "support@example.test".into(),
            support_name: "Support".into(),
            how_to_reply: how_to_reply("[SUP-1]"),
            summary: "Since this morning every page comes out blank.".into(),
            reply_body: "Please send us a photo of the printer's status screen.".into(),
            note: "Toner replaced and a test page printed.".into(),
            old_status: "open".into(),
            original_subject: "Acme has had no mail since Monday".into(),
            problems: "1. Error is missing.\n   Add: Error: <the error the customer sees>\n".into(),
            evidence_block: "Ticket: SUP-1\nError: <the error the customer sees>\n".into(),
            escalation: "Ticket: SUP-1\nPriority: high\n".into(),
        }
    }
}

/// The sentence telling the customer how to answer.
pub fn how_to_reply(tag: &str) -> String {
    format!("To add to this ticket, reply to this mail and keep {tag} in the subject line.")
}

/// The first lines of a customer's text for an acknowledgement: blank lines collapsed, at most
/// [`SUMMARY_MAX_LINES`] lines and [`SUMMARY_MAX_CHARS`] characters, each line quoted with `> `.
pub fn summary(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut chars = 0;
    let mut cut = false;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            if lines.last().is_some_and(|l| l != ">") {
                lines.push(">".into());
            }
            continue;
        }
        if lines.iter().filter(|l| *l != ">").count() >= SUMMARY_MAX_LINES {
            cut = true;
            break;
        }
        let room = SUMMARY_MAX_CHARS.saturating_sub(chars);
        if room == 0 {
            cut = true;
            break;
        }
        let kept: String = line.chars().take(room).collect();
        chars += kept.chars().count();
        let shortened = kept.len() < line.len();
        lines.push(format!("> {kept}"));
        if shortened {
            cut = true;
            break;
        }
    }
    while lines.last().is_some_and(|l| l == ">") {
        lines.pop();
    }
    if cut && !lines.is_empty() {
        lines.push("> …".into());
    }
    lines.join("\n")
}

/// A rendered body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub html: Option<String>,
}

/// A template that does not compile or does not render with the sample context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {origin}: {message}")]
pub struct TemplateError {
    /// The file, or `built-in <name>` for a default.
    pub origin: String,
    pub message: String,
}

#[derive(Clone)]
struct Source {
    text: String,
    origin: String,
}

/// The notification templates in use: defaults plus the admin's overrides.
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
    /// `<kind>.txt` / `<kind>.html` → source.
    sources: BTreeMap<String, Source>,
    dir: Option<PathBuf>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates")
            .field("dir", &self.dir)
            .field("files", &self.sources.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Templates {
    fn default() -> Self {
        let mut sources = BTreeMap::new();
        for (name, text) in DEFAULTS {
            sources.insert(
                format!("{name}.txt"),
                Source {
                    text: (*text).to_string(),
                    origin: format!("built-in {name}.txt"),
                },
            );
        }
        Self {
            env: environment(),
            sources,
            dir: None,
        }
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env
}

impl Templates {
    /// The defaults, overridden by the files of `dir` (when given), every template checked.
    /// Returns every problem found, not only the first.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Vec<TemplateError>> {
        let mut templates = Templates::default();
        let mut errors = Vec::new();
        if let Some(dir) = dir {
            templates.dir = Some(dir.to_path_buf());
            if !dir.is_dir() {
                return Err(vec![TemplateError {
                    origin: dir.display().to_string(),
                    message: "templates_dir is not a readable directory".into(),
                }]);
            }
            for (name, _) in DEFAULTS {
                for ext in ["txt", "html"] {
                    let file = format!("{name}.{ext}");
                    let path = dir.join(&file);
                    if !path.exists() {
                        continue;
                    }
                    match std::fs::read_to_string(&path) {
                        Ok(text) => {
                            templates.sources.insert(
                                file,
                                Source {
                                    text,
                                    origin: path.display().to_string(),
                                },
                            );
                        }
                        Err(e) => errors.push(TemplateError {
                            origin: path.display().to_string(),
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
            }
        }
        errors.extend(templates.check());
        if errors.is_empty() {
            Ok(templates)
        } else {
            Err(errors)
        }
    }

    /// Renders every template with [`TemplateContext::sample`]; the problems found.
    pub fn check(&self) -> Vec<TemplateError> {
        let sample = TemplateContext::sample();
        self.sources
            .keys()
            .filter_map(|file| self.render_file(file, &sample).err())
            .collect()
    }

    /// The directory of overrides, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The body of one notification, by its template name (`acknowledgement`, …).
    pub fn render(&self, name: &str, ctx: &TemplateContext) -> Result<Rendered, TemplateError> {
        let text = self.render_file(&format!("{name}.txt"), ctx)?;
        let html_file = format!("{name}.html");
        let html = if self.sources.contains_key(&html_file) {
            Some(self.render_file(&html_file, ctx)?)
        } else {
            None
        };
        Ok(Rendered { text, html })
    }

    fn render_file(&self, file: &str, ctx: &TemplateContext) -> Result<String, TemplateError> {
        let Some(source) = self.sources.get(file) else {
            return Err(TemplateError {
                origin: file.to_string(),
                message: "no such template".into(),
            });
        };
        let error = |e: minijinja::Error| TemplateError {
            origin: source.origin.clone(),
            message: match e.line() {
                Some(line) => format!("line {line}: {e}"),
                None => e.to_string(),
            },
        };
        // The file name decides auto-escaping: HTML templates escape every value.
        let template = self
            .env
            .template_from_named_str(file, &source.text)
            .map_err(error)?;
        template.render(ctx).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_with_the_sample() {
        let t = Templates::default();
        assert!(t.check().is_empty(), "{:?}", t.check());
        let ctx = TemplateContext::sample();
        for kind in [
            "acknowledgement",
            "agent_reply",
            "status_change",
            "pending_reminder",
            "critical_alert",
            "critical_resolution",
        ] {
            let r = t.render(kind, &ctx).unwrap();
            assert!(r.text.contains("SUP-1"), "{kind:?}: {}", r.text);
            assert!(r.html.is_none());
        }
        let ack = t.render("acknowledgement", &ctx).unwrap();
        assert!(
            ack.text.contains("keep [SUP-1] in the subject"),
            "{}",
            ack.text
        );
        assert!(ack.text.contains("every page comes out blank"));
        let reply = t.render("agent_reply", &ctx).unwrap();
        assert!(reply.text.starts_with("Please send us a photo"));
    }

    #[test]
    fn empty_values_leave_out_their_paragraph() {
        let t = Templates::default();
        let ctx = TemplateContext {
            summary: String::new(),
            ..TemplateContext::sample()
        };
        let ack = t.render("acknowledgement", &ctx).unwrap();
        assert!(!ack.text.contains("You wrote"), "{}", ack.text);
    }

    #[test]
    fn overrides_replace_defaults_and_html_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("acknowledgement.txt"),
            "Ticket {{ ticket.ref }} for {{ ticket.requester }}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("acknowledgement.html"),
            "<p>{{ ticket.subject }}</p>",
        )
        .unwrap();
        std::fs::write(dir.path().join("unrelated.txt"), "{{ nope }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let ctx = TemplateContext {
            ticket: TicketContext {
                subject: "a <b> & c".into(),
                ..TemplateContext::sample().ticket
            },
            ..TemplateContext::sample()
        };
        let r = t.render("acknowledgement", &ctx).unwrap();
        assert_eq!(r.text, "Ticket SUP-1 for jane@customer.example\n");
        assert_eq!(r.html.as_deref(), Some("<p>a &lt;b&gt; &amp; c</p>"));
        // Other kinds keep their default.
        let s = t.render("status_change", &ctx).unwrap();
        assert!(s.text.contains("is now: pending"), "{}", s.text);
    }

    #[test]
    fn undefined_variables_and_syntax_errors_are_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("status_change.txt"),
            "Hello\n{{ ticket.reff }}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("agent_reply.txt"), "{{ custmer }}").unwrap();
        std::fs::write(dir.path().join("critical_alert.txt"), "{% if %}").unwrap();
        let errors = Templates::load(Some(dir.path())).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("status_change.txt") && e.contains("line 2")),
            "{text:?}"
        );
        assert!(text.iter().any(|e| e.contains("agent_reply.txt")));
        assert!(text.iter().any(|e| e.contains("critical_alert.txt")));

        let missing = Templates::load(Some(&dir.path().join("nope"))).unwrap_err();
        assert!(missing[0].message.contains("not a readable directory"));
    }

    #[test]
    fn summary_table() {
        let long = "x".repeat(700);
        let cases: Vec<(&str, String)> = vec![
            ("", String::new()),
            ("one line", "> one line".into()),
            ("a\n\n\n\nb\n\n", "> a\n>\n> b".into()),
            (
                "1\n2\n3\n4\n5\n6\n7\n8\n9\n10",
                "> 1\n> 2\n> 3\n> 4\n> 5\n> 6\n> 7\n> 8\n> …".into(),
            ),
            (&long, format!("> {}\n> …", "x".repeat(600))),
        ];
        for (input, expected) in cases {
            assert_eq!(summary(input), expected, "{input:?}");
        }
    }
}
