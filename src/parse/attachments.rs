//! Attachments: every part mail-parser counts as one (files, inline images, non-body text
//! parts, attached messages as `.eml`), with a sanitised file name, its content type, size,
//! SHA-256 and content.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::parsers::MessageStream;
use mail_parser::{Encoding, HeaderName, Message, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::fields;
use super::header_text::HeaderText;
use crate::domain::Attachment;

/// Longest file name kept, in bytes.
const MAX_FILENAME_BYTES: usize = 200;

/// An extension longer than this is not treated as one when shortening a name.
const MAX_EXTENSION_BYTES: usize = 16;

/// The attachments of `message`, in MIME order. Attachments of attached messages stay inside
/// their `.eml`.
pub(super) fn attachments(text: &HeaderText<'_, '_>) -> Vec<Attachment> {
    let message = text.message();
    let html: Vec<String> = message
        .parts
        .iter()
        .filter_map(|p| match &p.body {
            PartType::Html(text) => Some(text.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    message
        .attachments()
        .filter_map(|part| attachment(text, part, &html))
        .collect()
}

/// Inline images at most this large are taken for part of the text (a logo, a signature).
pub const SMALL_INLINE_IMAGE_BYTES: usize = 32 * 1024;

/// An image shown inside the text rather than a file sent: referenced by `cid:` from the HTML
/// of the mail, or a small image not marked as an attachment.
fn is_embedded(part: &MessagePart<'_>, content_type: &str, size: usize, html: &[String]) -> bool {
    if !content_type.starts_with("image/") {
        return false;
    }
    let referenced = part.content_id().is_some_and(|id| {
        let id = id.trim().trim_start_matches('<').trim_end_matches('>');
        let needle = format!("cid:{}", id.to_ascii_lowercase());
        !id.is_empty() && html.iter().any(|h| h.contains(&needle))
    });
    let marked_attachment = part
        .content_disposition()
        .is_some_and(|d| d.is_attachment());
    referenced || (!marked_attachment && size <= SMALL_INLINE_IMAGE_BYTES)
}

fn attachment(
    text: &HeaderText<'_, '_>,
    part: &MessagePart<'_>,
    html: &[String],
) -> Option<Attachment> {
    let message = text.message();
    let (content, default_type): (Cow<'_, [u8]>, &str) = match &part.body {
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
            (Cow::Borrowed(bytes.as_ref()), "application/octet-stream")
        }
        PartType::Text(text) => (original_bytes(message, part, text), "text/plain"),
        PartType::Html(text) => (original_bytes(message, part, text), "text/html"),
        PartType::Message(inner) => (Cow::Borrowed(inner.raw_message()), "message/rfc822"),
        PartType::Multipart(_) => return None,
    };
    let content_type = part
        .content_type()
        .map(fields::mime_type)
        .filter(|t| t.contains('/'))
        .unwrap_or_else(|| default_type.to_string());

    let filename = match &part.body {
        PartType::Message(inner) => {
            let subject;
            let name = match attachment_name(text, part) {
                Some(name) => name,
                None => {
                    subject = fields::subject(&HeaderText::new(inner));
                    Cow::Borrowed(subject.as_str())
                }
            };
            let mut name = sanitise_filename_for(&name, "");
            if !name.to_ascii_lowercase().ends_with(".eml") {
                name.push_str(".eml");
            }
            sanitise_filename(&name)
        }
        _ => sanitise_filename_for(
            attachment_name(text, part).as_deref().unwrap_or(""),
            &content_type,
        ),
    };

    Some(Attachment {
        embedded: is_embedded(part, &content_type, content.len(), html),
        filename,
        size: content.len(),
        sha256: hex::encode(Sha256::digest(&content)),
        content_type,
        content: content.into_owned(),
    })
}

/// The file name of an attachment as its sender wrote it. A name in undeclared 8-bit bytes
/// (which mail-parser turns into U+FFFD) is read again from the part's raw Content-Disposition
/// or Content-Type, decoded by the mail's charset.
fn attachment_name<'p>(
    text: &HeaderText<'_, '_>,
    part: &'p MessagePart<'_>,
) -> Option<Cow<'p, str>> {
    let name = part.attachment_name()?;
    if !name.contains('\u{FFFD}') {
        return Some(Cow::Borrowed(name));
    }
    let decoded = [
        (HeaderName::ContentDisposition, "filename"),
        (HeaderName::ContentType, "name"),
    ]
    .iter()
    .find_map(|(header, attribute)| {
        let header = part.headers.iter().find(|h| &h.name == header)?;
        let value = text.value(header);
        let parsed = MessageStream::new(&value).parse_content_type();
        let name = parsed.as_content_type()?.attribute(attribute)?;
        (!name.contains('\u{FFFD}')).then(|| name.to_string())
    });
    Some(decoded.map_or(Cow::Borrowed(name), Cow::Owned))
}

/// The transfer-decoded bytes of a text part as they were sent, before mail-parser converted
/// them to UTF-8 (so a latin-1 CSV or a mislabelled binary is stored unchanged). Falls back to
/// the decoded text when the raw bytes cannot be decoded again.
fn original_bytes<'a>(
    message: &'a Message<'_>,
    part: &MessagePart<'_>,
    text: &'a str,
) -> Cow<'a, [u8]> {
    let raw: &'a [u8] = message.raw_message.as_ref();
    let Some(body) = raw.get(part.offset_body as usize..part.offset_end as usize) else {
        return Cow::Borrowed(text.as_bytes());
    };
    let decoded = match part.encoding {
        Encoding::None => Some(Cow::Borrowed(body)),
        Encoding::Base64 => base64_decode(body).map(Cow::Owned),
        Encoding::QuotedPrintable => quoted_printable_decode(body).map(Cow::Owned),
    };
    decoded.unwrap_or(Cow::Borrowed(text.as_bytes()))
}

/// A file name safe to store and offer for download: no directories, control or bidi
/// characters, reserved characters `<>:"|?*`, leading dots or runs of whitespace; at most 200
/// bytes (the extension kept); never empty (`attachment`).
pub fn sanitise_filename(name: &str) -> String {
    sanitise_filename_for(name, "")
}

/// [`sanitise_filename`], falling back to `attachment.<ext>` with the extension guessed from
/// `content_type` (e.g. `attachment.pdf`) when nothing usable is left of `name`.
pub fn sanitise_filename_for(name: &str, content_type: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut cleaned = String::with_capacity(base.len());
    let mut pending_space = false;
    for c in base.chars() {
        if c.is_whitespace() {
            pending_space = !cleaned.is_empty();
        } else if c.is_control() || is_bidi_control(c) || "<>:\"|?*".contains(c) {
            // dropped
        } else if c == '.' && cleaned.is_empty() {
            // leading dots (hidden files, "..") dropped
        } else {
            if pending_space {
                cleaned.push(' ');
                pending_space = false;
            }
            cleaned.push(c);
        }
    }
    let trimmed = cleaned.trim_end_matches(['.', ' ']);
    let mut out = cap_keeping_extension(trimmed, MAX_FILENAME_BYTES);
    if out.is_empty() {
        out = match extension_for(content_type) {
            Some(ext) => format!("attachment.{ext}"),
            None => "attachment".to_string(),
        };
    }
    if is_windows_device_name(&out) {
        out.insert(0, '_');
    }
    out
}

/// Directional formatting characters, which can make `exe.pdf` display as `fdp.exe`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `CON`, `NUL`, `COM1`, ... (with any extension) cannot be created on Windows.
fn is_windows_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end();
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (upper.len() == 4
            && (upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.as_bytes()[3].is_ascii_digit())
}

/// `name` cut to at most `max` bytes on a char boundary, keeping a short extension.
fn cap_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= MAX_EXTENSION_BYTES => (stem, ext),
        _ => (name, ""),
    };
    let room = if ext.is_empty() {
        max
    } else {
        max - ext.len() - 1
    };
    let stem = super::body::truncate_at_char_boundary(stem, room).trim_end_matches(['.', ' ']);
    if ext.is_empty() {
        stem.to_string()
    } else {
        format!("{stem}.{ext}")
    }
}

/// A file extension for common content types.
fn extension_for(content_type: &str) -> Option<&'static str> {
    let ext = match content_type {
        "application/pdf" => "pdf",
        "application/zip" | "application/x-zip-compressed" => "zip",
        "application/gzip" | "application/x-gzip" => "gz",
        "application/json" => "json",
        "application/xml" | "text/xml" => "xml",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/pgp-signature" => "asc",
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => "p7s",
        "application/octet-stream" => "bin",
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "image/tiff" => "tif",
        "image/bmp" => "bmp",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        "video/mp4" => "mp4",
        "text/plain"
        | "message/delivery-status"
        | "message/global-delivery-status"
        | "text/rfc822-headers"
        | "message/disposition-notification" => "txt",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/calendar" => "ics",
        "text/vcard" | "text/x-vcard" => "vcf",
        "message/rfc822" | "message/global" => "eml",
        _ => return None,
    };
    Some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitise_table() {
        let long_stem = "a".repeat(500);
        let long_name = format!("{long_stem}.pdf");
        let long_unicode = format!("{}.txt", "日".repeat(300));
        let cases: &[(&str, &str)] = &[
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\evil\\x.exe", "x.exe"),
            ("C:x.exe", "Cx.exe"),
            ("\u{0}", "attachment"),
            ("", "attachment"),
            ("   ", "attachment"),
            ("..", "attachment"),
            ("dir/", "attachment"),
            (".bashrc", "bashrc"),
            ("...hidden.txt", "hidden.txt"),
            ("a<b>c:d\"e|f?g*h.txt", "abcdefgh.txt"),
            ("tab\there  and\r\nnewline.txt", "tab here and newline.txt"),
            ("  spaced name .txt  ", "spaced name .txt"),
            ("trailing dots...", "trailing dots"),
            ("Résumé – Jürgen.pdf", "Résumé – Jürgen.pdf"),
            ("見積書.xlsx", "見積書.xlsx"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("con.txt", "_con.txt"),
            ("LPT1", "_LPT1"),
            ("console.txt", "console.txt"),
        ];
        for (input, expected) in cases {
            assert_eq!(sanitise_filename(input), *expected, "input {input:?}");
        }

        let capped = sanitise_filename(&long_name);
        assert_eq!(capped.len(), 200);
        assert!(capped.ends_with("aaa.pdf"));

        let capped = sanitise_filename(&long_unicode);
        assert!(capped.len() <= 200, "{}", capped.len());
        assert!(capped.ends_with("日.txt"));

        let no_ext = sanitise_filename(&long_stem);
        assert_eq!(no_ext.len(), 200);

        let long_ext = format!("x.{long_stem}");
        assert!(sanitise_filename(&long_ext).len() <= 200);
    }

    #[test]
    fn fallback_uses_content_type() {
        assert_eq!(
            sanitise_filename_for("", "application/pdf"),
            "attachment.pdf"
        );
        assert_eq!(sanitise_filename_for("../", "image/png"), "attachment.png");
        assert_eq!(
            sanitise_filename_for("", "application/x-unknown"),
            "attachment"
        );
        assert_eq!(sanitise_filename_for("a.bin", "application/pdf"), "a.bin");
    }

    #[test]
    fn signature_images_are_embedded_files_are_not() {
        let big = "QUJD".repeat(SMALL_INLINE_IMAGE_BYTES / 3 + 10);
        let raw = format!(
            "From: ann@agents.example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\n\
             Content-Type: multipart/related; boundary=R\r\n\r\n--R\r\n\
             Content-Type: text/html\r\n\r\n<p>Hi</p><img src=\"cid:Logo@x\">\r\n--R\r\n\
             Content-Type: image/png; name=big-logo.png\r\nContent-ID: <logo@x>\r\n\
             Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n{big}\r\n\
             --R--\r\n--M\r\n\
             Content-Type: image/gif; name=tiny.gif\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             R0lGODlhAQABAAAAACw=\r\n--M\r\n\
             Content-Type: image/png; name=screenshot.png\r\nContent-Disposition: attachment\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--M\r\n\
             Content-Type: image/jpeg; name=photo.jpg\r\nContent-Disposition: inline\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{big}\r\n--M\r\n\
             Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: inline\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--M--\r\n"
        );
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let found: Vec<(String, bool)> = attachments(&HeaderText::new(&message))
            .into_iter()
            .map(|a| (a.filename, a.embedded))
            .collect();
        assert_eq!(
            found,
            [
                ("big-logo.png".to_string(), true),
                ("tiny.gif".to_string(), true),
                ("screenshot.png".to_string(), false),
                ("photo.jpg".to_string(), false),
                ("a.pdf".to_string(), false),
            ]
        );
    }
}
