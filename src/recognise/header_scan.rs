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

/// The header block of `raw`: everything before the first empty line.
pub fn header_block(raw: &[u8]) -> &[u8] {
    let crlf = memchr::memmem::find(raw, b"\r\n\r\n").map(|i| i + 2);
    let lf = memchr::memmem::find(raw, b"\n\n").map(|i| i + 1);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    };
    &raw[..end]
}

/// Reads the fields of [`RawHeaders`] from the header block of `raw`.
pub fn scan(raw: &[u8]) -> RawHeaders {
    let mut out = RawHeaders::default();
    for (name, value) in fields(header_block(raw)) {
        match name.to_ascii_lowercase().as_str() {
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

/// The header fields of a header block, continuation lines joined with a space.
fn fields(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_string(), value.trim().to_string()));
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

    #[test]
    fn header_block_stops_at_the_first_empty_line() {
        assert_eq!(header_block(b"A: 1\nB: 2\n\nbody"), b"A: 1\nB: 2\n");
        assert_eq!(header_block(b"A: 1\r\n\r\nbody\n\n"), b"A: 1\r\n");
        assert_eq!(header_block(b"A: 1"), b"A: 1");
    }
}
