//! Files in outgoing mail (issue 18 item 11), the pure part: which of an agent's attachments are
//! relayed to the customer, the size limit, and the `multipart/mixed` rendering.
//!
//! An agent's mail is relayed with its files, never with the images shown inside its text (a
//! signature logo: referenced by `cid:` from the HTML, or a small inline image, see
//! `Attachment::embedded`), and never with more than `limits.max_message_bytes` of files in
//! total (files are taken in order while they fit; the others are left out and logged).
//! `tickets reply --attach` refuses files over that total instead.
//!
//! A mail with files is `multipart/mixed`: the text (or the `multipart/alternative` text and
//! HTML) first, then each file in base64 with its name in `Content-Type: …; name=` (RFC 2047
//! encoded-words when not ASCII) and `Content-Disposition: attachment; filename=` (RFC 2231,
//! with continuations when long), so every client finds the name.

use crate::domain::{Attachment, OutgoingAttachment};

/// A file of an agent's mail that is not relayed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub filename: String,
    pub reason: String,
}

/// The files of an agent's mail that go to the customer (in order) and those left out: embedded
/// images, and whatever would take the total over `max_total` bytes.
pub fn relayed(
    attachments: &[Attachment],
    max_total: usize,
) -> (Vec<OutgoingAttachment>, Vec<LeftOut>) {
    let mut sent = Vec::new();
    let mut left_out = Vec::new();
    let mut total = 0usize;
    for a in attachments {
        if a.embedded {
            left_out.push(LeftOut {
                filename: a.filename.clone(),
                reason: "an image shown in the text (signature), not a file".into(),
            });
            continue;
        }
        if total.saturating_add(a.content.len()) > max_total {
            left_out.push(LeftOut {
                filename: a.filename.clone(),
                reason: format!(
                    "the files would exceed limits.max_message_bytes ({max_total} bytes)"
                ),
            });
            continue;
        }
        total += a.content.len();
        sent.push(OutgoingAttachment {
            filename: a.filename.clone(),
            content_type: content_type_or_default(&a.content_type),
            content: a.content.clone(),
        });
    }
    (sent, left_out)
}

/// Files that together exceed the limit (`tickets reply --attach`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the attached files are {total} bytes in total, over limits.max_message_bytes ({limit} bytes)"
)]
pub struct TooBig {
    pub total: usize,
    pub limit: usize,
}

/// Refuses files that together exceed `limit` bytes.
pub fn check_total(files: &[OutgoingAttachment], limit: usize) -> Result<(), TooBig> {
    let total = files.iter().fold(0usize, |t, f| t.saturating_add(f.size()));
    if total > limit {
        return Err(TooBig { total, limit });
    }
    Ok(())
}

/// The content type of a file sent by name (`tickets reply --attach`), from its extension.
pub fn content_type_for(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "eml" => "message/rfc822",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

/// `type/subtype` made of token characters, else `application/octet-stream` (a stored type is
/// never trusted into a header as it is).
fn content_type_or_default(content_type: &str) -> String {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match content_type.trim().split_once('/') {
        Some((t, s)) if token(t) && token(s) => content_type.trim().to_ascii_lowercase(),
        _ => "application/octet-stream".into(),
    }
}

/// The body of a mail with files: `Content-Type: multipart/mixed` and the parts, `text` (a
/// complete MIME entity, headers included) first. Appended after `MIME-Version`.
pub fn mixed_body(text: &[u8], files: &[OutgoingAttachment], boundary: &str) -> Vec<u8> {
    let mut out =
        format!("Content-Type: multipart/mixed;\r\n boundary=\"{boundary}\"\r\n\r\n").into_bytes();
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    out.extend_from_slice(text);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    for file in files {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(part_headers(file).as_bytes());
        out.extend_from_slice(b"\r\n");
        for line in super::headers::base64(&file.content).as_bytes().chunks(76) {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// Content-Type with `name`, Content-Disposition with `filename`, Content-Transfer-Encoding.
fn part_headers(file: &OutgoingAttachment) -> String {
    let content_type = content_type_or_default(&file.content_type);
    format!(
        "Content-Type: {content_type};\r\n name={}\r\nContent-Disposition: attachment;\r\n{}\r\n\
         Content-Transfer-Encoding: base64\r\n",
        name_parameter(&file.filename),
        filename_parameter(&file.filename),
    )
}

/// A quoted-string holding `name` as it is (printable ASCII), else RFC 2047 encoded-words.
fn name_parameter(name: &str) -> String {
    if is_plain(name) {
        return quoted(name);
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in name.chars() {
        if chunk.len() + c.len_utf8() > NAME_WORD_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    let words: Vec<String> = words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", super::headers::base64(w.as_bytes())))
        .collect();
    format!("\"{}\"", words.join("\r\n "))
}

/// Bytes of the name per encoded-word: 56 base64 characters, a folded line under 78.
const NAME_WORD_BYTES: usize = 42;

/// Characters of an RFC 2231 value per continuation line.
const FILENAME_SEGMENT: usize = 50;

/// ` filename="…"` when it is short printable ASCII, else RFC 2231 `filename*0*=utf-8''…;`
/// continuations (percent-encoded UTF-8, never splitting an escape).
fn filename_parameter(name: &str) -> String {
    if is_plain(name) && name.len() <= FILENAME_SEGMENT {
        return format!(" filename={}", quoted(name));
    }
    let mut encoded = Vec::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push((b as char).to_string());
        } else {
            encoded.push(format!("%{b:02X}"));
        }
    }
    let mut segments = vec![String::from("utf-8''")];
    for e in encoded {
        let last = segments.last().map(String::len).unwrap_or(0);
        if last + e.len() > FILENAME_SEGMENT {
            segments.push(String::new());
        }
        if let Some(s) = segments.last_mut() {
            s.push_str(&e);
        }
    }
    segments
        .iter()
        .enumerate()
        .map(|(i, s)| format!(" filename*{i}*={s}"))
        .collect::<Vec<_>>()
        .join(";\r\n")
}

fn is_plain(name: &str) -> bool {
    name.bytes().all(|b| (0x20..0x7f).contains(&b)) && !name.contains("=?")
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;

    fn file(name: &str, content_type: &str, content: &[u8]) -> OutgoingAttachment {
        OutgoingAttachment {
            filename: name.into(),
            content_type: content_type.into(),
            content: content.to_vec(),
        }
    }

    fn received(name: &str, size: usize, embedded: bool) -> Attachment {
        Attachment {
            filename: name.into(),
            content_type: "application/pdf".into(),
            size,
            sha256: String::new(),
            content: vec![7; size],
            embedded,
        }
    }

    #[test]
    fn embedded_images_and_files_over_the_limit_are_left_out() {
        let all = [
            received("logo.png", 10, true),
            received("a.pdf", 60, false),
            received("b.pdf", 50, false),
            received("c.pdf", 40, false),
        ];
        let (sent, left_out) = relayed(&all, 100);
        let names: Vec<&str> = sent.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["a.pdf", "c.pdf"]);
        let names: Vec<&str> = left_out.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["logo.png", "b.pdf"]);
        assert!(left_out[1].reason.contains("limits.max_message_bytes"));
        assert_eq!(check_total(&sent, 100), Ok(()));
        assert_eq!(
            check_total(&sent, 99),
            Err(TooBig {
                total: 100,
                limit: 99
            })
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_for("Report.PDF"), "application/pdf");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(content_type_or_default("Image/PNG"), "image/png");
        assert_eq!(
            content_type_or_default("text/plain\r\nX-Evil: 1"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type_or_default("garbage"),
            "application/octet-stream"
        );
    }

    #[test]
    fn files_round_trip_with_their_names() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let long = format!("{}.pdf", "Überweisungsbeleg ".repeat(8).trim_end());
        let files = [
            file("report.pdf", "application/pdf", b"%PDF-1.4\n..."),
            file("Résumé «final».pdf", "application/pdf", &binary),
            file("見積書.xlsx", "application/vnd.ms-excel", b"x"),
            file(&long, "application/pdf", b""),
            file("say \"hi\".txt", "text/plain", b"hi\r\n"),
        ];
        let text = b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n";
        let mut mail = b"From: a@b.test\r\nMIME-Version: 1.0\r\n".to_vec();
        mail.extend(mixed_body(text, &files, "mailgate-mix-1"));
        assert!(mail.is_ascii());
        let printed = String::from_utf8(mail.clone()).unwrap();
        assert!(
            printed.lines().all(|l| l.len() <= 78),
            "long line in {printed}"
        );
        let m = MessageParser::default().parse(&mail).unwrap();
        assert_eq!(
            m.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("multipart", Some("mixed")))
        );
        assert_eq!(m.body_text(0).unwrap().trim_end(), "See the files.");
        let got: Vec<_> = m.attachments().collect();
        assert_eq!(got.len(), files.len());
        for (part, f) in got.iter().zip(&files) {
            assert_eq!(part.attachment_name(), Some(f.filename.as_str()));
            assert_eq!(part.contents(), f.content.as_slice(), "{}", f.filename);
            let ct = part.content_type().unwrap();
            assert_eq!(
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap()),
                f.content_type
            );
            assert!(part.content_disposition().unwrap().is_attachment());
        }
        // The Content-Type name is readable on its own, for clients that look only there.
        let second = got[1].content_type().unwrap().attribute("name");
        assert_eq!(second, Some("Résumé «final».pdf"));
    }
}
