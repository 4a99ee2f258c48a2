//! The leaf parts of a parsed mail that reports are made of (pure): their MIME type and text.

use mail_parser::{Message, MimeHeaders, PartType};

/// The most text read from one part of a report (a delivery-status or feedback-report part is
/// a few hundred bytes; anything past this is not a report a server wrote).
const MAX_PART_TEXT: usize = 256 * 1024;

/// One leaf part: its lower-case `type/subtype` and its content as text (lossy, capped; empty
/// for types that are neither text nor a report, such as images).
#[derive(Debug, Clone)]
pub struct Leaf {
    pub mime_type: String,
    pub text: String,
}

/// The leaf parts of `message` (not those of attached messages), in order.
pub fn leaves(message: &Message<'_>) -> Vec<Leaf> {
    message
        .parts
        .iter()
        .filter(|p| p.sub_parts().is_none())
        .map(|part| {
            let mime_type = part
                .content_type()
                .map(|c| {
                    format!(
                        "{}/{}",
                        c.ctype().to_ascii_lowercase(),
                        c.subtype().unwrap_or("").to_ascii_lowercase()
                    )
                })
                .unwrap_or_default();
            let readable = mime_type.is_empty()
                || mime_type.starts_with("text/")
                || mime_type.starts_with("message/");
            let text = match &part.body {
                PartType::Message(_) => String::new(),
                _ if !readable => String::new(),
                _ => {
                    let bytes = part.contents();
                    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_PART_TEXT)]).into_owned()
                }
            };
            Leaf { mime_type, text }
        })
        .collect()
}

/// Whether `message` is a multipart/report at its top, whatever its parameters say.
pub fn is_multipart_report(message: &Message<'_>) -> bool {
    message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    })
}

/// Whether `message` returns an original: an attached message or its header as a part.
pub fn returns_original(message: &Message<'_>) -> bool {
    message.parts.iter().any(|p| {
        matches!(p.body, PartType::Message(_))
            || p.content_type().is_some_and(|c| {
                c.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
            })
    })
}
