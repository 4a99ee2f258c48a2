//! The raw header fields the recogniser needs that the parsed mail does not carry (pure, one
//! pass over the header block, which the parser's header budget already capped):
//! `X-Failed-Recipients`, Amazon SNS's `x-amz-sns-*`, Exchange's NDR marker, the raw From
//! text of a mail whose From has no address, and a `report-type` parameter wherever the
//! Content-Type header puts it (a folded continuation line, an unusual parameter order).

/// What the header block says, as far as the recogniser cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawHeaders {
    /// Every `X-Failed-Recipients` value, unfolded.
    pub failed_recipients: Vec<String>,
    /// An `x-amz-sns-message-type` or `x-amz-sns-topic-arn` header: sent by Amazon SNS.
    pub sns: bool,
    /// `X-MS-Exchange-Message-Is-Ndr`: Exchange marks its own non-delivery reports.
    pub exchange_ndr: bool,
    /// The top-level Content-Type's `report-type`, lower case, however it is folded.
    pub report_type: Option<String>,
    /// The first From value, unfolded.
    pub from: Option<String>,
}

/// The header fields [`scan`] reads; every other field is skipped without a copy.
const WANTED: [&str; 6] = [
    "x-failed-recipients",
    "x-amz-sns-message-type",
    "x-amz-sns-topic-arn",
    "x-ms-exchange-message-is-ndr",
    "content-type",
    "from",
];

/// Reads the fields of [`RawHeaders`] from the header block of `raw`.
pub fn scan(raw: &[u8]) -> RawHeaders {
    let mut out = RawHeaders::default();
    for (name, value) in wanted_fields(raw) {
        match name {
            "x-failed-recipients" => out.failed_recipients.push(value),
            "x-amz-sns-message-type" | "x-amz-sns-topic-arn" => out.sns = true,
            "x-ms-exchange-message-is-ndr" => out.exchange_ndr = true,
            "content-type" if out.report_type.is_none() => {
                out.report_type = report_type(&value);
            }
            "from" if out.from.is_none() => out.from = Some(value),
            _ => {}
        }
    }
    out
}

/// The [`WANTED`] fields of the header block at the start of `raw` (name as in [`WANTED`]),
/// continuation lines joined with a space. One pass up to the first empty line; only the
/// wanted values are copied.
fn wanted_fields(raw: &[u8]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut in_wanted = false;
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', raw).chain(std::iter::once(raw.len()));
    for end in ends {
        let line = &raw[start.min(end)..end];
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // the end of the header block
        }
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if in_wanted && let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(String::from_utf8_lossy(line).trim());
            }
            continue;
        }
        in_wanted = false;
        // Every wanted name starts with x, c or f: most lines are skipped by their first byte.
        if !matches!(line.first(), Some(b'x' | b'X' | b'c' | b'C' | b'f' | b'F')) {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if let Some(wanted) = WANTED
            .iter()
            .find(|w| name.eq_ignore_ascii_case(w.as_bytes()))
        {
            let value = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_string();
            out.push((wanted, value));
            in_wanted = true;
        }
    }
    out
}

/// The `report-type` parameter of a Content-Type value, when the type is `multipart/report`:
/// found by name anywhere in the value (quoted or not, any case, around any folding).
pub fn report_type(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.trim_start().starts_with("multipart/report") {
        return None;
    }
    let at = lower.find("report-type")?;
    let rest = lower[at + "report-type".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start().trim_start_matches('"');
    let end = rest
        .find(|c: char| c == '"' || c == ';' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(rest[..end].to_string()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_reordered_report_type() {
        let raw = b"From: MAILER-DAEMON <>\r\nX-Failed-Recipients: a@x.test,\r\n b@x.test\r\n\
            Content-Type: multipart/report;\r\n\tboundary=\"x\"\r\n\tReport-Type=\"Delivery-Status\"\r\n\
            \r\nX-Failed-Recipients: body@x.test\r\n";
        let h = scan(raw);
        assert_eq!(h.report_type.as_deref(), Some("delivery-status"));
        assert_eq!(h.failed_recipients, ["a@x.test, b@x.test"]);
        assert_eq!(h.from.as_deref(), Some("MAILER-DAEMON <>"));
        assert!(!h.sns);
    }

    #[test]
    fn only_multipart_report_has_a_report_type() {
        assert_eq!(report_type("text/plain; report-type=x"), None);
        assert_eq!(
            report_type("multipart/report; report-type=feedback-report; boundary=b").as_deref(),
            Some("feedback-report")
        );
        assert_eq!(report_type("multipart/report; boundary=b"), None);
    }
}
