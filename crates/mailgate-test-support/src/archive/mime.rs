//! MIME structure of a synthetic message body: plain text, optionally with an HTML
//! alternative, optionally inside multipart/mixed with a base64 attachment.

use std::fmt::Write as _;

use base64::prelude::{BASE64_STANDARD, Engine as _};

use super::corpus::Rng;

/// A generated attachment, already base64-encoded in 76-column lines.
pub(crate) struct Attachment {
    pub(crate) filename: String,
    pub(crate) content_type: &'static str,
    pub(crate) data: String,
}

/// A PDF-ish or PNG-ish file of a size within `sizes` (bytes before encoding).
pub(crate) fn attachment(
    rng: &mut Rng,
    seq: usize,
    sizes: std::ops::RangeInclusive<usize>,
) -> Attachment {
    let size = rng.range(*sizes.start(), *sizes.end());
    let pdf = rng.chance(500);
    let (magic, trailer, content_type, stems, ext): (&[u8], &[u8], _, &[&str], _) = if pdf {
        (
            b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            b"\n%%EOF\n",
            "application/pdf",
            &["invoice", "contract", "report", "quote"],
            "pdf",
        )
    } else {
        (
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            b"\0\0\0\0IEND\xAEB`\x82",
            "image/png",
            &["screenshot", "error", "photo"],
            "png",
        )
    };
    let mut raw = vec![0u8; size.max(magic.len() + trailer.len())];
    raw[..magic.len()].copy_from_slice(magic);
    let body_end = raw.len() - trailer.len();
    rng.fill(&mut raw[magic.len()..body_end]);
    raw[body_end..].copy_from_slice(trailer);

    let mut encoded = String::with_capacity(raw.len() * 4 / 3 + 4);
    BASE64_STANDARD.encode_string(&raw, &mut encoded);
    let mut data = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for line in encoded.as_bytes().chunks(76) {
        data.push_str(std::str::from_utf8(line).unwrap_or_default());
        data.push('\n');
    }
    Attachment {
        filename: format!("{}-{seq}.{ext}", rng.pick(stems)),
        content_type,
        data,
    }
}

/// Writes `MIME-Version`, the content headers, a blank line and the body.
pub(crate) fn write_body(
    out: &mut String,
    text: &str,
    html: bool,
    utf8: bool,
    attachment: Option<&Attachment>,
    seq: usize,
) {
    out.push_str("MIME-Version: 1.0\n");
    match attachment {
        None => write_text(out, text, html, utf8, seq),
        Some(a) => {
            let boundary = format!("----=_Mixed_{seq}_mg");
            let _ = write!(
                out,
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n\
                 This is a multi-part message in MIME format.\n\n--{boundary}\n"
            );
            write_text(out, text, html, utf8, seq);
            let _ = write!(
                out,
                "\n--{boundary}\nContent-Type: {ct}; name=\"{name}\"\n\
                 Content-Disposition: attachment; filename=\"{name}\"\n\
                 Content-Transfer-Encoding: base64\n\n{data}\n--{boundary}--\n",
                ct = a.content_type,
                name = a.filename,
                data = a.data,
            );
        }
    }
}

/// The text part, or a multipart/alternative of text and HTML.
fn write_text(out: &mut String, text: &str, html: bool, utf8: bool, seq: usize) {
    let (charset, cte) = if utf8 {
        ("utf-8", "8bit")
    } else {
        ("us-ascii", "7bit")
    };
    if !html {
        let _ = write!(
            out,
            "Content-Type: text/plain; charset={charset}\n\
             Content-Transfer-Encoding: {cte}\n\n{text}"
        );
        return;
    }
    let boundary = format!("----=_Alt_{seq}_mg");
    let _ = write!(
        out,
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n--{boundary}\n\
         Content-Type: text/plain; charset={charset}\n\
         Content-Transfer-Encoding: {cte}\n\n{text}\n--{boundary}\n\
         Content-Type: text/html; charset={charset}\n\
         Content-Transfer-Encoding: {cte}\n\n"
    );
    write_html(out, text);
    let _ = write!(out, "\n--{boundary}--\n");
}

/// The HTML rendering of a plain-text body: one `<p>` per paragraph.
fn write_html(out: &mut String, text: &str) {
    out.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in block.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            for c in line.chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '&' => out.push_str("&amp;"),
                    _ => out.push(c),
                }
            }
        }
        out.push_str("</p>\n");
    }
    out.push_str("</body></html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    #[test]
    fn attachment_round_trips_through_mail_parser() {
        let mut rng = Rng::new(7);
        let a = attachment(&mut rng, 3, 1024..=8192);
        let mut out = String::from("From: a@b\nSubject: x\n");
        write_body(
            &mut out,
            "Hello <you>\n\nsecond\n",
            true,
            false,
            Some(&a),
            3,
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(out.as_bytes())
            .unwrap();
        assert_eq!(parsed.attachment_count(), 1);
        let part = parsed.attachment(0).unwrap();
        assert!((1024..=8192).contains(&part.contents().len()));
        assert_eq!(part.attachment_name(), Some(a.filename.as_str()));
        assert!(parsed.body_html(0).unwrap().contains("Hello &lt;you&gt;"));
        assert_eq!(parsed.body_text(0).unwrap().trim(), "Hello <you>\n\nsecond");
    }
}
