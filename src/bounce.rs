//! Reading a bounce (pure): which recipients failed and which mails it talks about, so that a
//! bounce of one of our notifications can mark that recipient as bouncing on the ticket
//! (SPEC 5; the pipeline decides whether a referenced Message-ID is ours).
//!
//! - Failed recipients: the per-recipient blocks of a `message/delivery-status` part
//!   (RFC 3464) whose `Action` is `failed`, by `Original-Recipient` and `Final-Recipient`
//!   (`rfc822;` type only).
//! - Referenced Message-IDs: the bounce's own In-Reply-To and References, the Message-ID of a
//!   returned original (`message/rfc822` part, `text/rfc822-headers` part), and `Message-ID:`
//!   lines quoted in a plain-text bounce (qmail, Exim and others paste the original).

use std::collections::HashSet;

use mail_parser::{HeaderName, Message, MessageParser, MimeHeaders, PartType};

use crate::domain::{EmailAddress, MessageId};

/// What a bounce says, as far as mailgate cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BounceReport {
    /// Recipients whose delivery failed for good (DSN `Action: failed`), in order, no repeats.
    pub failed: Vec<EmailAddress>,
    /// Message-IDs the bounce refers to, in order, no repeats (never its own).
    pub referenced: Vec<MessageId>,
}

/// Reads `raw` as a bounce. Never fails: what cannot be read is left out.
pub fn read_bounce(raw: &[u8]) -> BounceReport {
    match MessageParser::default().parse(raw) {
        Some(message) => read_bounce_message(&message),
        None => BounceReport::default(),
    }
}

/// [`read_bounce`] of a message already parsed.
pub fn read_bounce_message(message: &Message<'_>) -> BounceReport {
    let mut report = BounceReport::default();
    // What is already in the report: a bounce may quote a million ids, each looked up once.
    let mut ids_seen: HashSet<MessageId> = HashSet::new();
    let mut failed_seen: HashSet<EmailAddress> = HashSet::new();
    let mut push_id = |ids: &mut Vec<MessageId>, raw: &str| {
        if let Ok(id) = MessageId::parse(raw)
            && ids_seen.insert(id.clone())
        {
            ids.push(id);
        }
    };
    let own_id = message.message_id().map(str::to_string);
    for id in message
        .in_reply_to()
        .as_text_list()
        .into_iter()
        .flatten()
        .chain(message.references().as_text_list().into_iter().flatten())
    {
        push_id(&mut report.referenced, id);
    }
    for (i, part) in message.parts.iter().enumerate() {
        if part.sub_parts().is_some() {
            continue;
        }
        let ctype = part
            .content_type()
            .map(|c| {
                format!(
                    "{}/{}",
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase()
                )
            })
            .unwrap_or_default();
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id() {
                    push_id(&mut report.referenced, id);
                }
            }
            _ if ctype.ends_with("delivery-status") => {
                let text = String::from_utf8_lossy(part.contents());
                for a in failed_recipients(&text) {
                    if failed_seen.insert(a.clone()) {
                        report.failed.push(a);
                    }
                }
            }
            PartType::Text(text) if i > 0 || ctype.is_empty() || ctype.starts_with("text/") => {
                for id in quoted_message_ids(text) {
                    push_id(&mut report.referenced, &id);
                }
            }
            _ => {}
        }
    }
    if let Some(own) = own_id {
        report.referenced.retain(|m| m.as_str() != own);
    }
    report
}

/// Header-style fields of a delivery-status body: blocks separated by blank lines, folded
/// continuation lines joined.
pub(crate) fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = block.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

/// The recipients of the blocks with `Action: failed`, in order (repeats included).
pub(crate) fn failed_recipients(text: &str) -> Vec<EmailAddress> {
    let mut out = Vec::new();
    for block in field_blocks(text) {
        let field = |name: &str| block.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let failed = field("action").is_some_and(|a| a.trim().eq_ignore_ascii_case("failed"));
        if !failed {
            continue;
        }
        for name in ["original-recipient", "final-recipient"] {
            if let Some(a) = field(name).and_then(|v| recipient_address(v)) {
                out.push(a);
            }
        }
    }
    out
}

/// `rfc822; jane@acme.test` → the address; other address types are ignored.
fn recipient_address(value: &str) -> Option<EmailAddress> {
    let (kind, address) = value.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("rfc822") {
        return None;
    }
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    EmailAddress::parse(address).ok()
}

/// `Message-ID:` header lines inside a text (a returned header block or a pasted original).
fn quoted_message_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some((name, value)) = trimmed.split_once(':') else {
            continue;
        };
        if !name.eq_ignore_ascii_case(HeaderName::MessageId.as_str()) {
            continue;
        }
        let mut value = value.trim().to_string();
        if value.is_empty()
            && let Some(next) = lines.peek()
            && next.starts_with([' ', '\t'])
        {
            value = next.trim().to_string();
        }
        if let (Some(start), Some(end)) = (value.find('<'), value.find('>'))
            && start < end
        {
            out.push(value[start + 1..end].to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/bounce")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn ids(r: &BounceReport) -> Vec<&str> {
        r.referenced.iter().map(MessageId::as_str).collect()
    }

    fn failed(r: &BounceReport) -> Vec<&str> {
        r.failed.iter().map(EmailAddress::as_str).collect()
    }

    #[test]
    fn postfix_dsn_fixture() {
        let r = read_bounce(&fixture("dsn-failed-notification.eml"));
        assert_eq!(
            failed(&r),
            ["gone@customer.test"],
            "only Action: failed, Original- and Final-Recipient deduplicated"
        );
        assert_eq!(ids(&r), ["SUP-3.n1700000000.7.1@example.test"]);
    }

    #[test]
    fn returned_message_rfc822_and_in_reply_to() {
        let raw = "From: MAILER-DAEMON@mx.test\r\nTo: support@example.test\r\n\
            Subject: failure\r\nMessage-ID: <bounce-1@mx.test>\r\nIn-Reply-To: <ours-1@example.test>\r\n\
            MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n\
            Final-Recipient: RFC822; <a@x.test>\r\nAction: Failed\r\nStatus: 5.0.0\r\n\r\n\
            Final-Recipient: x400; whatever\r\nAction: failed\r\n\r\n\
            Final-Recipient: rfc822; b@x.test\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n\
            --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@example.test\r\n\
            Message-ID: <ours-2@example.test>\r\nSubject: hi\r\n\r\nbody\r\n--b--\r\n";
        let r = read_bounce(raw.as_bytes());
        assert_eq!(failed(&r), ["a@x.test", "b@x.test"]);
        assert_eq!(ids(&r), ["ours-1@example.test", "ours-2@example.test"]);
    }

    #[test]
    fn plain_text_bounce_with_pasted_original() {
        let raw = "From: MAILER-DAEMON@mx.test\r\nTo: support@example.test\r\n\
            Subject: failure notice\r\nMessage-ID: <qmail-1@mx.test>\r\n\r\n\
            Hi. This is the qmail-send program at mx.test.\r\n\
            <gone@x.test>:\r\nSorry, no mailbox here by that name.\r\n\r\n\
            --- Below this line is a copy of the message.\r\n\r\n\
            From: support@example.test\r\nMessage-ID:\r\n <ours-3@example.test>\r\nSubject: [SUP-1] x\r\n\r\nhello\r\n";
        let r = read_bounce(raw.as_bytes());
        assert!(r.failed.is_empty(), "no DSN: the caller falls back");
        assert_eq!(ids(&r), ["ours-3@example.test"], "never its own id");
    }

    #[test]
    fn a_bounce_quoting_a_hundred_thousand_ids_takes_one_pass() {
        let mut raw = String::from(
            "From: MAILER-DAEMON@mx.test\r\nMessage-ID: <b@mx.test>\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=z\r\n\r\n\
             --z\r\nContent-Type: text/plain\r\n\r\n",
        );
        for i in 0..100_000 {
            raw.push_str(&format!("Message-ID: <q{}@x.test>\r\n", i % 50_000));
        }
        raw.push_str(
            "--z\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n",
        );
        for i in 0..50_000 {
            raw.push_str(&format!(
                "\r\nAction: failed\r\nFinal-Recipient: rfc822; r{}@x.test\r\n",
                i % 20_000
            ));
        }
        raw.push_str("--z--\r\n");
        let started = std::time::Instant::now();
        let r = read_bounce(raw.as_bytes());
        assert_eq!((r.referenced.len(), r.failed.len()), (50_000, 20_000));
        assert_eq!(r.failed[1].as_str(), "r1@x.test");
        // A linear search per id took minutes here.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn not_a_bounce_gives_nothing() {
        assert_eq!(read_bounce(b""), BounceReport::default());
        let r = read_bounce(b"From: a@x.test\r\nMessage-ID: <m@x.test>\r\n\r\nhi\r\n");
        assert_eq!(r, BounceReport::default());
    }

    /// The bounce corpora: every file reads without panicking, and most DSNs name a failed
    /// recipient or the returned mail.
    #[test]
    fn corpus_bounces_read() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut files = Vec::new();
        for dir in ["perl-bounceparser", "ruby-bounce_email"] {
            collect(&root.join(dir), &mut files);
        }
        if files.is_empty() {
            return; // corpus not checked out next to the repository
        }
        let mut useful = 0;
        for f in &files {
            let raw = std::fs::read(f).unwrap();
            let r = read_bounce(&raw);
            if !r.failed.is_empty() || !r.referenced.is_empty() {
                useful += 1;
            }
        }
        assert!(
            useful * 2 >= files.len(),
            "{useful} of {} bounces yield something",
            files.len()
        );
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else if p
                .extension()
                .is_some_and(|x| x == "eml" || x == "msg" || x == "txt")
            {
                out.push(p);
            }
        }
    }
}
