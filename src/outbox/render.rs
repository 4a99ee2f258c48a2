//! One outbox row → the complete RFC 5322 message the sender hands to SMTP (pure).
//!
//! The header block is [`OutgoingHeaders::render`]: From the configured support address,
//! Reply-To the ticket's plus-address (when a secret is configured), To every recipient of the
//! row, Date the row's creation time, Message-ID / In-Reply-To / References / Subject /
//! Auto-Submitted from the row, `X-Auto-Response-Suppress: All`. Then `MIME-Version: 1.0` and
//! the body: `text/plain; charset=utf-8` in quoted-printable, or `multipart/alternative` with a
//! quoted-printable HTML part too when the row has `body_html`. The multipart boundary is
//! derived from the Message-ID, so a row renders to the same bytes on every attempt. A row
//! with files ([`render_with_files`]) is `multipart/mixed`: that body first, then the files.
//!
//! Addresses go in the form the server can take ([`super::intl`]): a non-ASCII domain as its
//! A-label; a non-ASCII local part as UTF-8 when the server offers SMTPUTF8 (the header is then
//! UTF-8, RFC 6532), and not at all otherwise (that recipient is refused, so it is left out of
//! `To:`). Without such a recipient the message is 7-bit ASCII.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use crate::domain::{EmailAddress, Mailbox, MessageId, TicketRef};
use crate::reply_token::ReplyTokens;

use super::attachments::mixed_body;
use super::headers::{OutgoingHeaders, reply_to_address};
use super::intl::{address_form, own_address_form};
use super::subject::sanitise;
use crate::domain::AutoSubmitted;
use crate::domain::OutgoingAttachment;

/// What rendering needs besides the row: the installation's identity.
#[derive(Clone, Copy)]
pub struct RenderContext<'a> {
    pub support: &'a Mailbox,
    /// `None`: Reply-To is the plain support address.
    pub reply_tokens: Option<&'a ReplyTokens>,
    /// The ticket prefix (`SUP`).
    pub prefix: &'a str,
    /// The server offers SMTPUTF8: addresses with a non-ASCII local part go into `To:` in UTF-8.
    pub smtputf8: bool,
}

/// Why a row cannot become a mail. Permanent: retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("outbox row has no recipients")]
    NoRecipients,
    #[error("recipients column is not a JSON array of addresses: {0}")]
    BadRecipientList(String),
    #[error("recipient {0:?} is not a valid address")]
    BadRecipient(String),
    #[error("{field} {value:?} is not a valid Message-ID")]
    BadMessageId { field: &'static str, value: String },
}

/// What of an outbox row becomes the message: the columns of `store::OutboxRow` that are
/// rendered, handed over by the delivery edge (`delivery::sender`), so this pure core needs
/// nothing of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub ticket_id: Option<i64>,
    /// JSON array of addresses (envelope recipients and `To`).
    pub recipients: String,
    pub subject: String,
    /// Without `<>`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Space separated, without `<>`.
    pub references_ids: String,
    pub auto_submitted: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The row's creation time: the Date header.
    pub created_at: i64,
    /// Reply-To when it is not the ticket's plus-address (mail to tier 1 about an escalation).
    pub reply_to: Option<String>,
}

/// The recipients of a row as validated addresses, in order.
pub fn recipients(row: &OutgoingMail) -> Result<Vec<EmailAddress>, RenderError> {
    let list: Vec<String> = serde_json::from_str(&row.recipients)
        .map_err(|e| RenderError::BadRecipientList(e.to_string()))?;
    if list.is_empty() {
        return Err(RenderError::NoRecipients);
    }
    list.iter()
        .map(|r| EmailAddress::parse(r).map_err(|_| RenderError::BadRecipient(r.clone())))
        .collect()
}

/// The message bytes of `row` (CRLF line ends throughout).
pub fn render(row: &OutgoingMail, ctx: RenderContext<'_>) -> Result<Vec<u8>, RenderError> {
    render_with_files(row, &[], ctx)
}

/// [`render`] with `files` attached: the text (or text and HTML) first, then each file
/// (`multipart/mixed`, see [`super::attachments`]). Without files the mail is as [`render`]'s.
pub fn render_with_files(
    row: &OutgoingMail,
    files: &[OutgoingAttachment],
    ctx: RenderContext<'_>,
) -> Result<Vec<u8>, RenderError> {
    let headers = headers(row, ctx)?;
    let mut out = headers.render().into_bytes();
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    let text = text_part(ContentType::TEXT_PLAIN, &row.body_text);
    let html = row.body_html.as_deref().filter(|h| !h.trim().is_empty());
    if !files.is_empty() {
        let entity = match html {
            None => text.formatted(),
            Some(html) => alternative(&headers.message_id, text, html).formatted(),
        };
        let boundary = boundary("mailgate-mix", &headers.message_id);
        out.extend_from_slice(&mixed_body(&entity, files, &boundary));
        return Ok(out);
    }
    match html {
        None => {
            // Not `formatted()`: that adds a line break after the body, which only a
            // multipart's boundary needs.
            out.extend_from_slice(text.headers().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(text.raw_body());
            if !out.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
        Some(html) => {
            out.extend_from_slice(&alternative(&headers.message_id, text, html).formatted());
        }
    }
    Ok(out)
}

fn alternative(message_id: &MessageId, text: SinglePart, html: &str) -> MultiPart {
    MultiPart::alternative()
        .boundary(boundary("mailgate-alt", message_id))
        .singlepart(text)
        .singlepart(text_part(ContentType::TEXT_HTML, html))
}

/// The header set of `row`.
pub fn headers(row: &OutgoingMail, ctx: RenderContext<'_>) -> Result<OutgoingHeaders, RenderError> {
    let message_id = |field: &'static str, value: &str| {
        MessageId::parse(value).map_err(|_| RenderError::BadMessageId {
            field,
            value: value.to_string(),
        })
    };
    let references = row
        .references_ids
        .split_whitespace()
        .map(|id| message_id("references_ids", id))
        .collect::<Result<Vec<_>, _>>()?;
    let in_reply_to = row
        .in_reply_to
        .as_deref()
        .filter(|id| !id.trim().is_empty())
        .map(|id| message_id("in_reply_to", id))
        .transpose()?;
    let reply_to = match (row.reply_to.as_deref(), row.ticket_id) {
        (Some(a), _) => EmailAddress::parse(a).map_err(|_| RenderError::BadRecipient(a.into()))?,
        (None, Some(n)) => {
            let ticket = TicketRef::new(ctx.prefix, n);
            reply_to_address(&ctx.support.address, ctx.reply_tokens, ticket.number())
        }
        (None, None) => ctx.support.address.clone(),
    };
    let to = recipients(row)?
        .iter()
        .filter_map(|a| address_form(a, ctx.smtputf8).wire().cloned())
        .collect();
    Ok(OutgoingHeaders {
        from: Mailbox {
            name: ctx.support.name.as_deref().map(sanitise),
            address: own_address_form(&ctx.support.address, ctx.smtputf8),
        },
        reply_to: own_address_form(&reply_to, ctx.smtputf8),
        to,
        date: row.created_at,
        message_id: message_id("message_id", &row.message_id)?,
        in_reply_to,
        references,
        subject: sanitise(&row.subject),
        auto_submitted: if row.auto_submitted == "auto-replied" {
            AutoSubmitted::AutoReplied
        } else {
            AutoSubmitted::AutoGenerated
        },
        x_auto_response_suppress: "All",
    })
}

fn text_part(content_type: ContentType, text: &str) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(text.to_string())
}

/// Unique per mail (a hash of its Message-ID, which no body quotes) and stable per row.
fn boundary(kind: &str, message_id: &MessageId) -> String {
    let digest = Sha256::digest(message_id.as_str().as_bytes());
    format!("{kind}-{}", hex::encode(&digest[..12]))
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

    use super::*;
    use crate::config::Secret;

    fn row() -> OutgoingMail {
        OutgoingMail {
            ticket_id: Some(12),
            recipients: r#"["jane@acme.test","it-lead@acme.test"]"#.into(),
            subject: "Re: [SUP-12] Drucker brennt — schon wieder".into(),
            message_id: "SUP-12.n1.abc@example.test".into(),
            in_reply_to: Some("cust-2@acme.test".into()),
            references_ids: "cust-1@acme.test cust-2@acme.test".into(),
            auto_submitted: "auto-replied".into(),
            body_text: "Hallo Jane,\n\nwir kümmern uns darum.\n.\nA line that is quite long, longer than seventy-six characters, so QP must wrap it softly.\n".into(),
            body_html: None,
            created_at: 1_700_000_000,
            reply_to: None,
        }
    }

    fn support() -> Mailbox {
        Mailbox::parse("Exämple Support <support@example.test>").unwrap()
    }

    fn render_row(row: &OutgoingMail, tokens: Option<&ReplyTokens>) -> Vec<u8> {
        let support = support();
        render(
            row,
            RenderContext {
                support: &support,
                reply_tokens: tokens,
                prefix: "SUP",
                smtputf8: false,
            },
        )
        .unwrap()
    }

    fn address(value: &HeaderValue<'_>) -> Vec<String> {
        value
            .as_address()
            .map(|a| {
                a.iter()
                    .filter_map(|a| a.address.as_deref().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn plain_text_round_trips_with_every_header() {
        let tokens = ReplyTokens::new(Secret::new("k1"));
        let bytes = render_row(&row(), Some(&tokens));
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.is_ascii(), "QP and RFC 2047 keep the message 7-bit");
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "bare LF in {text}"
        );
        assert!(text.lines().all(|l| l.len() <= 78), "{text}");
        let m = MessageParser::default().parse(&bytes).unwrap();
        let from = m.from().unwrap().first().unwrap();
        assert_eq!(from.address.as_deref(), Some("support@example.test"));
        assert_eq!(from.name.as_deref(), Some("Exämple Support"));
        let reply_to = address(m.header("Reply-To").unwrap());
        let expected = format!("support+{}@example.test", tokens.token_for(12));
        assert_eq!(reply_to, vec![expected]);
        assert_eq!(
            address(m.header("To").unwrap()),
            vec!["jane@acme.test", "it-lead@acme.test"]
        );
        assert_eq!(m.message_id(), Some("SUP-12.n1.abc@example.test"));
        assert_eq!(
            m.in_reply_to().as_text_list().unwrap(),
            vec!["cust-2@acme.test"]
        );
        assert_eq!(
            m.references().as_text_list().unwrap(),
            vec!["cust-1@acme.test", "cust-2@acme.test"]
        );
        assert_eq!(
            m.subject(),
            Some("Re: [SUP-12] Drucker brennt — schon wieder")
        );
        assert_eq!(m.date().unwrap().to_timestamp(), 1_700_000_000);
        assert_eq!(
            m.header("Auto-Submitted").unwrap().as_text(),
            Some("auto-replied")
        );
        assert_eq!(
            m.header("X-Auto-Response-Suppress").unwrap().as_text(),
            Some("All")
        );
        assert_eq!(m.text_body_count(), 1);
        assert_eq!(
            m.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("text", Some("plain")))
        );
        let part = m.text_part(0).unwrap();
        assert_eq!(part.content_transfer_encoding(), Some("quoted-printable"));
        assert_eq!(
            part.content_type().unwrap().attribute("charset"),
            Some("utf-8")
        );
        assert_eq!(
            m.body_text(0).unwrap().replace("\r\n", "\n"),
            row().body_text
        );
        assert_eq!(bytes, render_row(&row(), Some(&tokens)), "stable per row");
    }

    #[test]
    fn html_makes_multipart_alternative() {
        let mut r = row();
        r.body_html = Some("<p>Hallo <b>Jane</b> — grüße</p>".into());
        r.in_reply_to = None;
        r.references_ids = String::new();
        r.auto_submitted = "auto-generated".into();
        let bytes = render_row(&r, None);
        let m = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(
            m.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("multipart", Some("alternative")))
        );
        assert_eq!(m.body_html(0).unwrap(), "<p>Hallo <b>Jane</b> — grüße</p>");
        assert!(m.body_text(0).unwrap().contains("wir kümmern uns darum."));
        assert!(m.header("In-Reply-To").is_none());
        assert!(m.header("References").is_none());
        assert_eq!(
            address(m.header("Reply-To").unwrap()),
            vec!["support@example.test"],
            "no secret: plain support address"
        );
        assert_eq!(
            m.header("Auto-Submitted").unwrap().as_text(),
            Some("auto-generated")
        );
    }

    #[test]
    fn files_make_multipart_mixed_with_the_text_first() {
        let pdf = b"%PDF-1.4\n\x00\xff binary \r\n end".to_vec();
        let files = [OutgoingAttachment {
            filename: "Lösung.pdf".into(),
            content_type: "application/pdf".into(),
            content: pdf.clone(),
        }];
        let support = support();
        let ctx = RenderContext {
            support: &support,
            reply_tokens: None,
            prefix: "SUP",
            smtputf8: false,
        };
        for html in [None, Some("<p>Hallo <b>Jane</b></p>".to_string())] {
            let mut r = row();
            r.body_html = html.clone();
            let bytes = render_with_files(&r, &files, ctx).unwrap();
            assert!(bytes.is_ascii());
            assert_eq!(bytes, render_with_files(&r, &files, ctx).unwrap(), "stable");
            let m = MessageParser::default().parse(&bytes).unwrap();
            assert_eq!(
                m.content_type().map(|c| (c.ctype(), c.subtype())),
                Some(("multipart", Some("mixed")))
            );
            assert_eq!(m.message_id(), Some("SUP-12.n1.abc@example.test"));
            assert!(m.body_text(0).unwrap().contains("wir kümmern uns darum."));
            if html.is_some() {
                assert!(m.body_html(0).unwrap().contains("<b>Jane</b>"));
            }
            let attachment = m.attachment(0).unwrap();
            assert_eq!(attachment.attachment_name(), Some("Lösung.pdf"));
            assert_eq!(attachment.contents(), pdf.as_slice());
            assert_eq!(m.attachment_count(), 1);
        }
        // No files: exactly the plain rendering.
        assert_eq!(
            render_with_files(&row(), &[], ctx).unwrap(),
            render(&row(), ctx).unwrap()
        );
    }

    #[test]
    fn bad_rows_are_refused() {
        let support = support();
        let ctx = RenderContext {
            support: &support,
            reply_tokens: None,
            prefix: "SUP",
            smtputf8: false,
        };
        type Case = (fn(&mut OutgoingMail), RenderError);
        let cases: [Case; 4] = [
            (|r| r.recipients = "[]".into(), RenderError::NoRecipients),
            (
                |r| r.recipients = r#"["not an address"]"#.into(),
                RenderError::BadRecipient("not an address".into()),
            ),
            (
                |r| r.recipients = "jane@acme.test".into(),
                RenderError::BadRecipientList(String::new()),
            ),
            (
                |r| r.message_id = "a b\r\nX-Evil: 1".into(),
                RenderError::BadMessageId {
                    field: "message_id",
                    value: "a b\r\nX-Evil: 1".into(),
                },
            ),
        ];
        for (change, expected) in cases {
            let mut r = row();
            change(&mut r);
            let got = render(&r, ctx).unwrap_err();
            match (&got, &expected) {
                (RenderError::BadRecipientList(_), RenderError::BadRecipientList(_)) => {}
                _ => assert_eq!(got, expected),
            }
        }
    }

    #[test]
    fn non_ascii_recipients_take_the_form_the_server_can_carry() {
        let mut r = row();
        r.recipients = r#"["jane@acme.test","josé@exämple.test","info@例子.test"]"#.into();
        let support = Mailbox::parse("Support <support@exämple.test>").unwrap();
        let render_with = |smtputf8| {
            let ctx = RenderContext {
                support: &support,
                reply_tokens: None,
                prefix: "SUP",
                smtputf8,
            };
            render(&r, ctx).unwrap()
        };

        // No SMTPUTF8: A-labels, the UTF-8 local part left out (it is refused), 7-bit.
        let bytes = render_with(false);
        assert!(bytes.is_ascii(), "{}", String::from_utf8_lossy(&bytes));
        let m = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(
            address(m.header("To").unwrap()),
            vec!["jane@acme.test", "info@xn--fsqu00a.test"]
        );
        assert_eq!(
            m.from().unwrap().first().unwrap().address.as_deref(),
            Some("support@xn--exmple-cua.test")
        );
        assert_eq!(
            address(m.header("Reply-To").unwrap()),
            vec!["support@xn--exmple-cua.test"]
        );

        // SMTPUTF8: the UTF-8 address as it is, in a UTF-8 header (RFC 6532); the body
        // stays quoted-printable.
        let bytes = render_with(true);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let (header, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(!header.is_ascii() && body.is_ascii(), "{text}");
        assert!(
            header.contains("\r\nTo: jane@acme.test, josé@exämple.test,"),
            "{header}"
        );
        let m = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(
            address(m.header("To").unwrap()),
            vec![
                "jane@acme.test",
                "josé@exämple.test",
                "info@xn--fsqu00a.test"
            ]
        );
        assert_eq!(
            m.body_text(0).unwrap().replace("\r\n", "\n"),
            row().body_text
        );
    }

    #[test]
    fn header_injection_through_the_subject_is_impossible() {
        let mut r = row();
        r.subject = "[SUP-12] hi\r\nBcc: evil@x.test".into();
        let m_bytes = render_row(&r, None);
        let m = MessageParser::default().parse(&m_bytes).unwrap();
        assert!(m.header("Bcc").is_none());
    }
}
