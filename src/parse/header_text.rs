//! The raw bytes of a header value and their text ([`HeaderText`]): what `fields`, `sender`,
//! `salvage` and `attachments` read header values from.
//!
//! mail-parser gives each header's offsets into the raw message; the value is read from those
//! bytes. A value in raw 8-bit bytes that are not UTF-8 is first decoded with the mail's
//! fallback charset (see `header_charset`), worked out once per mail and only when a value
//! needs it.

use std::borrow::Cow;
use std::cell::OnceCell;

use encoding_rs::Encoding;
use mail_parser::{Header, HeaderName, Message, MimeHeaders};

use super::header_charset;

/// The raw bytes of a header's value (after the colon, up to and including its line end).
pub(super) fn slice<'a>(raw: &'a [u8], header: &Header<'_>) -> &'a [u8] {
    raw.get(header.offset_start as usize..header.offset_end as usize)
        .unwrap_or_default()
}

/// The raw text of a header value, unfolded (CR and LF removed) and trimmed; 8-bit bytes that
/// are not UTF-8 become U+FFFD (see [`HeaderText::unfolded`] for the decoded text).
pub(super) fn raw_value(raw: &[u8], header: &Header<'_>) -> String {
    unfold(&String::from_utf8_lossy(slice(raw, header)))
}

fn unfold(text: &str) -> String {
    let text = text.trim();
    if text.contains(['\r', '\n']) {
        text.chars().filter(|&c| c != '\r' && c != '\n').collect()
    } else {
        text.to_string()
    }
}

/// Reads the header values of one message as UTF-8, decoding undeclared 8-bit bytes with the
/// charset the message's parts declare, else the one detected over the 8-bit bytes of its
/// headers and its parts' headers.
pub(super) struct HeaderText<'m, 'x> {
    message: &'m Message<'x>,
    fallback: OnceCell<&'static Encoding>,
}

impl<'m, 'x> HeaderText<'m, 'x> {
    pub(super) fn new(message: &'m Message<'x>) -> Self {
        Self {
            message,
            fallback: OnceCell::new(),
        }
    }

    pub(super) fn message(&self) -> &'m Message<'x> {
        self.message
    }

    fn raw(&self) -> &'m [u8] {
        self.message.raw_message.as_ref()
    }

    /// The value of `header` (of the message or one of its parts) as UTF-8 bytes, borrowed
    /// unless it had to be decoded.
    pub(super) fn value(&self, header: &Header<'_>) -> Cow<'m, [u8]> {
        header_charset::to_utf8(slice(self.raw(), header), || self.fallback())
    }

    /// [`Self::value`] unfolded and trimmed.
    pub(super) fn unfolded(&self, header: &Header<'_>) -> String {
        unfold(&String::from_utf8_lossy(&self.value(header)))
    }

    /// The charset for header bytes that are not UTF-8.
    fn fallback(&self) -> &'static Encoding {
        self.fallback.get_or_init(|| {
            let declared = self
                .message
                .parts
                .iter()
                .filter_map(|p| p.content_type()?.attribute("charset"));
            header_charset::declared_charset(declared).unwrap_or_else(|| {
                let raw = self.raw();
                let mut eight_bit = Vec::new();
                // The root part's headers are the message's.
                for header in self.message.parts.iter().flat_map(|p| p.headers.iter()) {
                    let value = slice(raw, header);
                    if !value.is_ascii() {
                        eight_bit.extend_from_slice(value);
                    }
                }
                let tld = self
                    .message
                    .headers()
                    .iter()
                    .find(|h| h.name == HeaderName::From)
                    .and_then(|h| header_charset::tld_of(slice(raw, h)));
                header_charset::detect(&eight_bit, tld)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::parse;

    /// `text` in charset `label`, unencoded.
    fn raw(text: &str, label: &str) -> Vec<u8> {
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        encoding.encode(text).0.into_owned()
    }

    /// A mail whose From display name and Subject are `name` and `subject` in `label`, with
    /// a body part declaring `declared` (none: no charset parameter).
    fn mail(label: &str, name: &str, subject: &str, declared: Option<&str>) -> Vec<u8> {
        let mut m = b"From: ".to_vec();
        m.extend(raw(name, label));
        m.extend(b" <sender@example.test>\r\nTo: support@example.test\r\nSubject: ");
        m.extend(raw(subject, label));
        m.extend(b"\r\nMessage-ID: <x@example.test>\r\nMIME-Version: 1.0\r\n");
        match declared {
            Some(charset) => {
                m.extend(format!("Content-Type: text/plain; charset={charset}\r\n").as_bytes())
            }
            None => m.extend(b"Content-Type: text/plain\r\n"),
        }
        m.extend(b"Content-Transfer-Encoding: 8bit\r\n\r\n");
        m.extend(raw("Hello", label));
        m.extend(b"\r\n");
        m
    }

    #[test]
    fn undeclared_8bit_subject_and_name_in_each_charset() {
        let cases = [
            ("gbk", "张伟", "打印机无法连接网络，请帮忙处理"),
            ("gb2312", "李娜", "关于发票的问题，请尽快回复"),
            (
                "shift_jis",
                "山田太郎",
                "プリンターが動きません。至急対応をお願いします",
            ),
            ("euc-kr", "김민준", "프린터가 작동하지 않습니다 도와주세요"),
            (
                "windows-1251",
                "Иван Петров",
                "Не работает принтер, помогите пожалуйста",
            ),
            (
                "iso-8859-1",
                "Jörg Müller",
                "Drucker geht nicht, bitte um Rückmeldung",
            ),
            (
                "iso-8859-2",
                "Paweł Łukasz",
                "Drukarka nie działa, proszę o pomoc",
            ),
        ];
        for (label, name, subject) in cases {
            for declared in [Some(label), None] {
                let m = parse(&mail(label, name, subject, declared)).unwrap();
                assert_eq!(m.subject, subject, "{label} declared {declared:?}");
                assert_eq!(m.from.name.as_deref(), Some(name), "{label} {declared:?}");
                assert_eq!(m.from.address.as_str(), "sender@example.test");
            }
        }
    }

    #[test]
    fn raw_utf8_is_read_as_utf8_whatever_the_body_declares() {
        let m = parse(&mail("utf-8", "Jörg", "Grüße aus Köln", Some("iso-8859-1"))).unwrap();
        assert_eq!(m.subject, "Grüße aus Köln");
        assert_eq!(m.from.name.as_deref(), Some("Jörg"));
    }

    #[test]
    fn an_encoded_word_next_to_raw_8bit_bytes() {
        let mut m = b"From: =?utf-8?q?Zh=C3=A1ng?= ".to_vec();
        m.extend(raw("张伟", "gbk"));
        m.extend(b" <zw@example.cn>\r\nSubject: =?utf-8?b?UsO8Y2tmcmFnZQ==?= ");
        m.extend(raw("关于发票的问题", "gbk"));
        m.extend(b"\r\nContent-Type: text/plain; charset=gbk\r\n\r\nHi\r\n");
        let m = parse(&m).unwrap();
        assert_eq!(m.subject, "Rückfrage 关于发票的问题");
        assert_eq!(m.from.name.as_deref(), Some("Zháng 张伟"));
    }

    #[test]
    fn an_undeclared_8bit_attachment_name() {
        let mut m = b"From: a@example.ru\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: text/plain; charset=windows-1251\r\n\r\nHi\r\n--b\r\n\
            Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\""
            .to_vec();
        m.extend(raw("Счёт за март.pdf", "windows-1251"));
        m.extend(b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n");
        let m = parse(&m).unwrap();
        let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["Счёт за март.pdf"]);
    }
}
