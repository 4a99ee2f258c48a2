//! A shortcut for [`super::peek_message_id`] on the common mail: a header block with exactly
//! one plain `Message-ID: <id>` line. It scans lines instead of parsing every header, which
//! made hashing and peeking the slowest part of re-importing an archive. Anything unusual
//! (no such header, two of them, a folded or commented value, an encoded word, no end of
//! the header block) answers `None` and the full look decides, so the shortcut only ever
//! returns what the full look would.

use crate::domain::MessageId;

const NAME: &[u8] = b"message-id:";

pub(super) fn quick_message_id(raw: &[u8]) -> Option<MessageId> {
    let mut found: Option<&[u8]> = None;
    let mut previous_was_id = false;
    let mut rest = raw;
    loop {
        let end = memchr::memchr(b'\n', rest)?;
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if previous_was_id {
                return None;
            }
        } else if line.len() >= NAME.len() && line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            if found.is_some() {
                return None;
            }
            found = Some(&line[NAME.len()..]);
            previous_was_id = true;
            rest = &rest[end + 1..];
            continue;
        } else if !line.contains(&b':') {
            // Not a header line: leave odd header blocks to the parser.
            return None;
        }
        previous_was_id = false;
        rest = &rest[end + 1..];
    }
    let value = std::str::from_utf8(found?).ok()?.trim();
    let inner = value.strip_prefix('<')?.strip_suffix('>')?;
    if inner.is_empty()
        || !inner.contains('@')
        || inner.contains(|c: char| {
            c.is_whitespace() || c.is_control() || "<>()\"\\,;=?".contains(c) || !c.is_ascii()
        })
    {
        return None;
    }
    MessageId::parse(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::peek_message_id_parsed;

    fn mail(headers: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\nBody with Message-ID: <not@this.one>\r\n").into_bytes()
    }

    #[test]
    fn agrees_with_the_full_look_whenever_it_answers() {
        let cases = [
            "From: a@example.test\r\nMessage-ID: <abc@example.test>\r\nSubject: hi",
            "message-id:<abc@example.test>\r\nFrom: a@example.test",
            "From: a@example.test\r\nMESSAGE-ID:   <x.y+z@host.example>  ",
            "Subject: no id here\r\nFrom: a@example.test",
            "Message-ID: <a@x>\r\nMessage-ID: <b@x>",
            "Message-ID:\r\n <folded@example.test>",
            "Message-ID:\r\n <folded@example.test>\r\nMessage-ID: <second@example.test>",
            "Message-ID:\r\nMessage-ID: <second@example.test>",
            "Message-ID: <a@x> (comment)",
            "Message-ID: <=?utf-8?q?x?=@x>",
            "Message-ID: plain@example.test",
            "Message-ID: <>",
            "Subject: =?utf-8?q?caf=C3=A9?=\r\nMessage-ID: <caf@example.test>",
            "Received: from x\r\n\tby y\r\nMessage-ID: <after-fold@example.test>",
        ];
        for headers in cases {
            let raw = mail(headers);
            if let Some(quick) = quick_message_id(&raw) {
                assert_eq!(quick, peek_message_id_parsed(&raw), "{headers:?}");
            }
        }
    }

    #[test]
    fn answers_for_the_common_mail_and_leaves_the_rest() {
        let id = |h: &str| quick_message_id(&mail(h)).map(|m| m.to_string());
        assert_eq!(
            id("From: a@example.test\r\nMessage-ID: <abc@example.test>").as_deref(),
            Some("abc@example.test")
        );
        assert_eq!(
            id("Received: from x\r\n\tby y\r\nMessage-Id: <f@example.test>").as_deref(),
            Some("f@example.test")
        );
        assert_eq!(id("Subject: none"), None);
        assert_eq!(id("Message-ID: <a@x>\r\nMessage-ID: <b@x>"), None);
        assert_eq!(id("Message-ID:\r\n <folded@example.test>"), None);
        // An empty Message-ID line is the first one: the full look decides, not the second.
        assert_eq!(
            id("Message-ID:\r\n <f@x.test>\r\nMessage-ID: <second@x.test>"),
            None
        );
        assert_eq!(id("Message-ID: <a@x> (comment)"), None);
        // The body's Message-ID: line is never read.
        assert_eq!(quick_message_id(b"Subject: x\n\nMessage-ID: <a@x>\n"), None);
        // No end of the header block: the parser decides.
        assert_eq!(quick_message_id(b"Message-ID: <a@x>"), None);
    }
}
