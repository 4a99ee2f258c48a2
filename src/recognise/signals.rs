//! Machine signals (pure): what shows that software, not a person, wrote a mail. A phrase such
//! as "returned undelivered" is only a bounce together with one of these, so that a customer
//! who writes "my mail was returned undelivered, can you check?" stays a customer.
//!
//! - **Strong** (nobody writes mail like this by hand): a null Return-Path, no sender address
//!   at all, a mailer daemon's address or name, `Auto-Submitted`, Exchange's NDR header, a
//!   list manager's robot address.
//! - **Weak** (people write from these too): `postmaster@`, `noreply@`, a content filter's
//!   name. A phrase must match and the mail must not read like a person's ([`reads_like_a_person`]).
//! - **In the body**: an SMTP reply with an enhanced status code (`550 5.1.1`), DSN-style
//!   fields (`Diagnostic-Code:`), or a returned original (a header block that is not quoted).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::domain::{InboundEmail, SenderOrigin};

use super::header_scan::RawHeaders;

/// Local parts only mail software sends from.
const MAILER_LOCALS: &[&str] = &[
    "mailer-daemon",
    "mailer_daemon",
    "mailerdaemon",
    "mail-daemon",
    "maildaemon",
    "mdaemon",
    "mail-delivery-system",
    "listserv",
    "majordomo",
    "mailman",
    "mailman-owner",
    "mailman-bounces",
    "ezmlm",
];

/// Local parts that start like Exchange's system mailbox (`MicrosoftExchange329e71ec…`).
const MAILER_LOCAL_PREFIXES: &[&str] = &["microsoftexchange", "mailer-daemon"];

/// Display names only mail software uses (lower case, whole name).
const MAILER_NAMES: &[&str] = &[
    "mail delivery system",
    "mail delivery subsystem",
    "mail delivery service",
    "mailer-daemon",
    "mailer daemon",
    "microsoft outlook",
    "microsoft exchange",
    "mail administrator",
    "mail system",
    "mail system error",
    "delivery status notification",
    "delivery notification",
    "aws notifications",
];

/// Local parts people also write from.
const WEAK_LOCALS: &[&str] = &[
    "postmaster",
    "root",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "notify",
    "notification",
    "notifications",
    "quarantine",
    "antispam",
    "antivirus",
    "virus",
    "spam",
    "mailadmin",
    "mail-admin",
    "administrator",
    "admin",
    "system",
    "smtp",
    "mail",
    "staff",
    "scomp",
    "abuse",
    "fbl",
    "feedbackloop",
];

/// Words in a local part that name software, anywhere in it (`E500_SMTP_Mail_Service@`,
/// `Symantec_AntiVirus_for_SMTP_Gateways@`); people also write from such addresses.
const WEAK_LOCAL_WORDS: &[&str] = &[
    "daemon",
    "postmaster",
    "mailer",
    "smtp",
    "antivirus",
    "anti-virus",
    "virus",
    "imss",
    "scanmail",
    "mailscan",
    "mailsweeper",
    "gateway",
    "noreply",
    "no-reply",
    "bounce",
];

/// Words in a display name of a filter or server people also write as (lower case, anywhere).
const WEAK_NAME_WORDS: &[&str] = &[
    "postmaster",
    "system administrator",
    "interscan",
    "trend micro",
    "mcafee",
    "barracuda",
    "surfcontrol",
    "mdaemon",
    "groupwise",
    "lotus",
    "domino",
    "listserv",
    "mailman",
    "james",
    "spam",
    "virus",
    "quarantine",
    "postmeister",
];

/// [`WEAK_LOCAL_WORDS`] and [`WEAK_NAME_WORDS`] as automatons: one pass over a name however
/// many words there are.
struct WeakWords {
    local: Option<AhoCorasick>,
    name: Option<AhoCorasick>,
}

static WEAK_WORDS: LazyLock<WeakWords> = LazyLock::new(|| WeakWords {
    local: AhoCorasick::new(WEAK_LOCAL_WORDS).ok(),
    name: AhoCorasick::new(WEAK_NAME_WORDS).ok(),
});

fn has_word(words: &Option<AhoCorasick>, text: &str) -> bool {
    words.as_ref().is_some_and(|w| w.is_match(text))
}

/// What the headers say about who wrote the mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderSignals {
    /// A strong machine signal, named for the reason.
    pub strong: Option<String>,
    /// Whether the strong signal is a mailer daemon itself (a bounce even without a phrase).
    pub mailer_daemon: bool,
    /// A weak machine signal, named for the reason.
    pub weak: Option<String>,
}

/// The header signals of `email` (and the raw header fields `raw`).
pub fn header_signals(email: &InboundEmail, raw: &RawHeaders) -> HeaderSignals {
    let mut out = HeaderSignals::default();
    // Addresses are stored in lower case.
    let local = email.from.address.local_part();
    let name = match email.from.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_lowercase(),
        _ => String::new(),
    };
    let is_mailer_local = MAILER_LOCALS.contains(&local)
        || MAILER_LOCAL_PREFIXES.iter().any(|p| local.starts_with(p))
        || local.ends_with("-owner")
        || local.ends_with("-request");
    let has_sender = email.sender_origin != SenderOrigin::Missing;
    if !has_sender {
        let said = raw.from.as_deref().unwrap_or_default().to_ascii_lowercase();
        out.mailer_daemon = said.contains("mailer-daemon") || said.contains("mail delivery");
        out.strong = Some(match raw.from.as_deref() {
            Some(from) if !from.trim().is_empty() => {
                format!("no sender address (From: {})", shorten(from))
            }
            _ => "no sender address".to_string(),
        });
    } else if is_mailer_local {
        out.mailer_daemon = local.contains("daemon") || local.starts_with("microsoftexchange");
        out.strong = Some(format!("sent by {}", email.from.address));
    } else if MAILER_NAMES.contains(&name.as_str()) {
        out.mailer_daemon = name.contains("mail delivery") || name.contains("mailer");
        out.strong = Some(format!("sent by \"{name}\""));
    } else if let Some(rp) = email.headers.return_path.as_deref()
        && matches!(rp.trim(), "<>" | "")
    {
        out.strong = Some("null Return-Path".into());
    } else if let Some(rp) = email.headers.return_path.as_deref()
        && is_mailer_return_path(rp)
    {
        out.strong = Some(format!("Return-Path {}", shorten(rp)));
    } else if let Some(v) = email.headers.auto_submitted.as_deref()
        && !v.trim().to_ascii_lowercase().starts_with("no")
    {
        out.strong = Some(format!("Auto-Submitted: {}", shorten(v)));
    } else if raw.exchange_ndr {
        out.strong = Some("X-MS-Exchange-Message-Is-Ndr".into());
    }
    if has_sender
        && (WEAK_LOCALS.contains(&local)
            || has_word(&WEAK_WORDS.local, local)
            || has_word(&WEAK_WORDS.name, &name))
    {
        out.weak = Some(format!("sent by {}", email.from.address));
    }
    out
}

/// A Return-Path naming a mailer daemon (`<MAILER-DAEMON@mx.example>`): the envelope sender
/// of a notice that a filter wrote under its own From.
fn is_mailer_return_path(return_path: &str) -> bool {
    let address = return_path
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    address.rsplit_once('@').is_some_and(|(local, _)| {
        let local = local.to_ascii_lowercase();
        local.contains("daemon")
    })
}

/// At most 60 characters of a header value, for reasons.
fn shorten(value: &str) -> String {
    let value = value.trim();
    match value.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

/// A machine signal in (lower-cased) body text: an SMTP reply with an enhanced status code,
/// DSN fields, or a returned original's header lines that are not quoted with `>`.
pub fn body_signal(text: &str) -> Option<&'static str> {
    if has_smtp_status(text) {
        return Some("an SMTP status code");
    }
    for line in text.lines() {
        let line = line.trim_start();
        if [
            "diagnostic-code:",
            "remote-mta:",
            "reporting-mta:",
            "final-recipient:",
        ]
        .iter()
        .any(|f| line.starts_with(f))
        {
            return Some("delivery-status fields");
        }
        if ["received: from ", "message-id: <", "return-path: <"]
            .iter()
            .any(|f| line.starts_with(f))
        {
            return Some("a returned original");
        }
    }
    None
}

/// Whether `text` holds an SMTP reply code with an enhanced status code: `550 5.1.1`,
/// `550-5.7.1`, `#550 5.1.1`, `554 5.0.0`, `421 4.4.2`.
pub fn has_smtp_status(text: &str) -> bool {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let class = |i: usize| matches!(b.get(i), Some(b'4' | b'5'));
    (0..b.len().saturating_sub(8)).any(|i| {
        let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        starts_word
            && class(i)
            && digit(i + 1)
            && digit(i + 2)
            && matches!(b.get(i + 3), Some(b' ' | b'-'))
            && class(i + 4)
            && b.get(i + 5) == Some(&b'.')
            && digit(i + 6)
    })
}

/// Greetings a person opens a mail with (lower case, at the start of the first line).
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "dear",
    "hey",
    "good morning",
    "good afternoon",
    "hallo",
    "guten tag",
    "sehr geehrte",
    "liebe",
    "moin",
    "bonjour",
    "salut",
    "madame",
    "monsieur",
    "hola",
    "buenos días",
    "buenas",
    "estimado",
    "estimada",
    "ciao",
    "buongiorno",
    "gentile",
    "salve",
    "olá",
    "ola",
    "bom dia",
    "boa tarde",
    "prezado",
    "prezada",
    "caro",
    "beste",
    "goedemorgen",
    "goedendag",
    "geachte",
    "здравствуйте",
    "добрый день",
    "привет",
    "уважаемый",
    "уважаемые",
    "您好",
    "你好",
    "尊敬的",
    "お世話になっております",
    "お世話になります",
    "こんにちは",
];

/// First-person words that software's notices do not open with (lower case, as words).
const FIRST_PERSON: &[&str] = &[
    "i", "i'm", "i've", "my", "we", "we're", "our", "me", "ich", "mein", "meine", "wir", "unsere",
    "je", "j'ai", "mon", "ma", "mes", "nous", "yo", "mi", "mis", "nosotros", "io", "il mio", "noi",
    "eu", "meu", "minha", "nós", "ik", "mijn", "wij", "я", "мой", "моё", "моя", "мы", "наш",
];

/// Whether the top of a (lower-cased) text reads like a person writing: it opens with a
/// greeting, asks a question, or speaks in the first person, in its first three lines.
pub fn reads_like_a_person(text: &str) -> bool {
    let mut lines = super::text::first_lines(text, 3).peekable();
    if let Some(first) = lines.peek()
        && GREETINGS.iter().any(|g| {
            first
                .strip_prefix(g)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
        })
    {
        return true;
    }
    lines.any(|line| {
        line.contains('?')
            || line.contains('？')
            || line.contains("我")
            || line.contains("私")
            || line
                .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                .any(|w| FIRST_PERSON.contains(&w))
    })
}

/// Whether a subject answers or forwards another mail (`Re:`, `Fwd:`, `AW:`, `WG:`, `TR:`...):
/// a person passing a bounce on, not the bounce.
pub fn is_reply_or_forward(subject: &str) -> bool {
    let Some((prefix, _)) = subject.split_once([':', '：']) else {
        return false;
    };
    let prefix = prefix.trim().to_lowercase();
    [
        "re",
        "fw",
        "fwd",
        "aw",
        "wg",
        "tr",
        "rv",
        "enc",
        "res",
        "doorst",
        "antw",
        "sv",
        "vs",
        "r",
        "i",
        "rif",
        "ответ",
        "пересл",
        "回复",
        "转发",
        "答复",
        "fwd2",
    ]
    .contains(&prefix.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_status_codes() {
        for t in [
            "550 5.1.1 user unknown",
            "host said: 550-5.7.1 blocked",
            "#550 5.1.1 resolver",
            "421 4.4.2 timeout",
        ] {
            assert!(has_smtp_status(t), "{t}");
        }
        for t in [
            "version 5.1.1",
            "call 5550 5.1.1x",
            "1550 5.1.1",
            "550 users",
            "",
        ] {
            assert!(!has_smtp_status(t), "{t}");
        }
    }

    #[test]
    fn people_and_notices() {
        for t in [
            "hello,\nmy mail was returned undelivered",
            "dear support, the message could not be delivered",
            "your message was returned undelivered, can you check?",
            "ich habe eine unzustellbar-meldung bekommen",
            "здравствуйте!\nписьмо не доставлено",
            "我的邮件被退信了",
        ] {
            assert!(reads_like_a_person(t), "{t}");
        }
        for t in [
            "this is the mail system at host mx.example.test.",
            "delivery has failed to these recipients or groups:",
            "your message did not reach some or all of the intended recipients.",
        ] {
            assert!(!reads_like_a_person(t), "{t}");
        }
    }

    #[test]
    fn replies_and_forwards() {
        for s in [
            "Re: Undeliverable",
            "Fwd: failure notice",
            "WG: Unzustellbar",
            "TR: x",
        ] {
            assert!(is_reply_or_forward(s), "{s}");
        }
        for s in [
            "Undeliverable: hello",
            "DELIVERY FAILURE: User x",
            "failure notice",
        ] {
            assert!(!is_reply_or_forward(s), "{s}");
        }
    }
}
