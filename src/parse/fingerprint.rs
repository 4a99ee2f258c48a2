//! The content of a mail, as opposed to its bytes: what stays the same when one mail is
//! delivered by another route (to two of our mailboxes, re-delivered by a forwarder or a backup
//! MX, an IMAP re-scan). Such copies differ only in the trace headers the transport adds.

use sha2::{Digest, Sha256};

/// Trace and transport header fields (compared case-insensitively): added or changed on the way,
/// never by the author, so they are left out of [`content_fingerprint`].
pub const TRACE_HEADERS: &[&str] = &[
    "received",
    "x-received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
    "authentication-results",
    "x-original-authentication-results",
    "received-spf",
    "dkim-signature",
    "x-google-dkim-signature",
];

/// Prefixes of trace header field names (compared case-insensitively): `ARC-Seal`,
/// `ARC-Message-Signature`, `ARC-Authentication-Results`; `X-Forwarded-To`, `X-Forwarded-For`;
/// a spam filter's `X-Spam-Status`, `X-Spam-Score`, ...
pub const TRACE_HEADER_PREFIXES: &[&str] = &["arc-", "x-forwarded-", "x-spam-"];

/// Whether the header field `name` is a trace header ([`TRACE_HEADERS`],
/// [`TRACE_HEADER_PREFIXES`]).
pub fn is_trace_header(name: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
    TRACE_HEADERS.contains(&name.as_str())
        || TRACE_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// SHA-256 (hex) of a mail's content: its header fields except the trace headers, in order and
/// unfolded, then its body with line ends normalised (CRLF → LF). Two copies of one mail that
/// differ only in trace headers (or CRLF against LF) have the same fingerprint. One pass over
/// `raw`; the header ends at the first empty line (no header at all: everything is body).
pub fn content_fingerprint(raw: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut field: Vec<u8> = Vec::new();
    let mut in_header = true;
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        let content = strip_line_end(line);
        if in_header {
            if content.is_empty() {
                hash_field(&mut hasher, &field);
                field.clear();
                hasher.update(b"\n");
                in_header = false;
            } else if matches!(content.first(), Some(b' ' | b'\t')) && !field.is_empty() {
                field.extend_from_slice(content);
            } else {
                hash_field(&mut hasher, &field);
                field.clear();
                field.extend_from_slice(content);
            }
        } else {
            hasher.update(content);
            if line.ends_with(b"\n") {
                hasher.update(b"\n");
            }
        }
    }
    if in_header {
        hash_field(&mut hasher, &field);
    }
    hex::encode(hasher.finalize())
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Adds one unfolded header field unless it is empty or a trace header.
fn hash_field(hasher: &mut Sha256, field: &[u8]) {
    if field.is_empty() {
        return;
    }
    let name = field.split(|&b| b == b':').next().unwrap_or(field);
    if is_trace_header(name) {
        return;
    }
    hasher.update(field);
    hasher.update(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: Jane <jane@acme.test>\nTo: support@example.test\n\
        Subject: Printer\n on fire\nMessage-ID: <a@acme.test>\n\nThe printer is on fire.\n";

    fn fp(s: &str) -> String {
        content_fingerprint(s.as_bytes())
    }

    #[test]
    fn trace_headers_do_not_change_the_fingerprint() {
        let routed = format!(
            "Received: from mx.example.test\n\tby backup.example.test; Mon, 4 Mar 2024\n\
             Delivered-To: support@example.test\nAuthentication-Results: mx.example.test;\n \
             dkim=pass\nReturn-Path: <jane@acme.test>\nX-Original-To: help@example.test\n\
             ARC-Seal: i=1; cv=none\nX-Forwarded-To: support@example.test\n\
             DKIM-Signature: v=1; d=list.test\nreceived-spf: pass\n{MAIL}"
        );
        assert_eq!(fp(&routed), fp(MAIL));
        let between = MAIL.replace(
            "Subject:",
            "RECEIVED: from relay.test\nX-Spam-Status: No\nSubject:",
        );
        assert_eq!(fp(&between), fp(MAIL));
    }

    #[test]
    fn body_subject_or_from_change_the_fingerprint() {
        let footer = MAIL.replace("fire.\n", "fire.\n\n-- \nacme-users mailing list\n");
        let subject = MAIL.replace("on fire", "in flames");
        let from = MAIL.replace("jane@acme.test", "mallory@evil.test");
        let other = MAIL.replace(
            "To: support@example.test\n",
            "To: support@example.test\nCc: bob@acme.test\n",
        );
        for changed in [footer, subject, from, other] {
            assert_ne!(fp(&changed), fp(MAIL), "{changed}");
        }
    }

    #[test]
    fn line_ends_and_folding_are_normalised() {
        assert_eq!(fp(&MAIL.replace('\n', "\r\n")), fp(MAIL));
        let unfolded = MAIL.replace("Printer\n on fire", "Printer on fire");
        assert_eq!(fp(&unfolded), fp(MAIL));
        // The body's line ends count, not only its text.
        assert_ne!(fp(&MAIL.replace("fire.\n", "fire.")), fp(MAIL));
        assert_ne!(fp(&format!("{MAIL}\n")), fp(MAIL));
    }

    #[test]
    fn the_header_ends_at_the_first_empty_line() {
        let moved = "From: a@b.test\n\nReceived: in the body\n";
        assert_ne!(fp(moved), fp("From: a@b.test\n\n"));
        assert_eq!(fp(""), fp(""));
        assert_ne!(fp("From: a@b.test"), fp("From: b@b.test"));
        assert!(is_trace_header(b"Arc-Message-Signature"));
        assert!(!is_trace_header(b"Subject"));
        assert!(!is_trace_header(b"Archived-At"));
    }
}
