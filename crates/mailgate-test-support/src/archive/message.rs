//! Composes one synthetic message: headers, body text sized to a target, optional HTML
//! alternative and attachment, or an auto-reply or a bounce. The thread it continues is
//! updated with the new message's id and text so later replies can quote it.

use std::fmt::Write as _;

use super::corpus::{self, Rng};
use super::mime;

/// Smallest and largest size of a generated message (bounces excepted), in bytes.
pub(crate) const MIN_SIZE: usize = 2048;
pub(crate) const MAX_SIZE: usize = 20 * 1024;
const SUPPORT: &str = "support@helpdesk.example";
const QUOTE_CAP: usize = 3000;
const MAX_REFERENCES: usize = 12;

#[derive(Debug, Clone)]
pub(crate) struct Author {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) domain: String,
    pub(crate) utc_offset: i32,
}

/// A conversation later messages reply to.
pub(crate) struct Thread {
    pub(crate) ticket: usize,
    pub(crate) subject: String,
    pub(crate) utf8: bool,
    pub(crate) customer: usize,
    /// The customer's address, where agent replies go.
    pub(crate) requester: String,
    /// Message-IDs: the first and the most recent ones.
    pub(crate) ids: Vec<String>,
    pub(crate) last: Option<(Author, i64)>,
    pub(crate) last_text: String,
}

/// One generated message, before mbox framing.
pub(crate) struct Generated {
    /// Envelope sender for the mbox `From ` line.
    pub(crate) envelope: String,
    pub(crate) time: i64,
    pub(crate) text: String,
    pub(crate) attachment: bool,
}

/// Builds the message number `seq`, dated `time`.
pub(crate) struct Compose<'r> {
    pub(crate) rng: &'r mut Rng,
    seq: usize,
    time: i64,
    /// The average message size asked for (see `ArchiveSpec::message_size`).
    size: Option<usize>,
    out: String,
}

impl<'r> Compose<'r> {
    pub(crate) fn new(rng: &'r mut Rng, seq: usize, time: i64, size: Option<usize>) -> Self {
        Compose {
            rng,
            seq,
            time,
            size,
            out: String::with_capacity(size.unwrap_or(0).max(24 * 1024) * 5 / 4),
        }
    }

    /// The message opening `thread`.
    pub(crate) fn first(mut self, thread: &mut Thread, author: &Author) -> Generated {
        let subject = encode_subject("", &thread.subject, thread.utf8, self.rng);
        let id = self.headers(author, &subject, None);
        let (text, attachment) = self.body(author, thread.utf8, String::new());
        self.record(thread, author, id, &text);
        self.finish(author, attachment)
    }

    /// A reply in `thread` by `author`, quoting the previous message.
    pub(crate) fn reply(mut self, thread: &mut Thread, author: &Author, tag: bool) -> Generated {
        let mut prefix = String::from(if self.rng.chance(50) { "RE: " } else { "Re: " });
        if tag {
            let _ = write!(prefix, "[SUP-{}] ", thread.ticket);
        }
        let subject = encode_subject(&prefix, &thread.subject, thread.utf8, self.rng);
        let id = self.headers(author, &subject, Some(thread));
        let quote = quote(thread);
        let (text, attachment) = self.body(author, thread.utf8, quote);
        self.record(thread, author, id, &text);
        self.finish(author, attachment)
    }

    /// An out-of-office answer from `author` to the last message of `thread`.
    pub(crate) fn auto_reply(mut self, thread: &Thread, author: &Author) -> Generated {
        let prefix = if self.rng.chance(500) {
            "Automatic reply: "
        } else {
            "Out of Office: "
        };
        let subject = encode_subject(prefix, &thread.subject, thread.utf8, self.rng);
        self.headers(author, &subject, Some(thread));
        self.out
            .push_str("Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n");
        self.out
            .push_str("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n");
        self.out.push_str("Content-Transfer-Encoding: 8bit\n\n");
        let _ = write!(self.out, "{}\n\n{}\n", corpus::OUT_OF_OFFICE, author.name);
        while self.out.len() < MIN_SIZE {
            let _ = write!(self.out, "\n{}\n", corpus::FOOTER);
        }
        self.finish(author, false)
    }

    /// A delivery-status report from the customer's MTA about the last message of `thread`.
    pub(crate) fn bounce(mut self, thread: &Thread, customer: &Author) -> Generated {
        let mta = format!("mx{}.{}", self.rng.range(1, 3), customer.domain);
        let daemon = Author {
            name: "Mail Delivery System".into(),
            address: format!("MAILER-DAEMON@{mta}"),
            domain: mta.clone(),
            utc_offset: customer.utc_offset,
        };
        let date = rfc2822(self.time, daemon.utc_offset);
        let original = thread.ids.last().map_or("", String::as_str);
        let boundary = format!("report-{}-{:08x}", self.seq, self.rng.next_u64() as u32);
        self.headers(&daemon, "Undelivered Mail Returned to Sender", None);
        let o = &mut self.out;
        o.push_str("Auto-Submitted: auto-replied\nMIME-Version: 1.0\n");
        let _ = write!(
            o,
            "Content-Type: multipart/report; report-type=delivery-status;\n\
             \tboundary=\"{boundary}\"\n\n--{boundary}\n\
             Content-Type: text/plain; charset=us-ascii\n\n\
             This is the mail system at host {mta}.\n\n\
             I'm sorry to have to inform you that your message could not\n\
             be delivered to one or more recipients.\n\n\
             <{rcpt}>: host {mta} said: 550 5.1.1 <{rcpt}>:\n    \
             Recipient address rejected: User unknown in virtual mailbox table\n\n\
             --{boundary}\nContent-Type: message/delivery-status\n\n\
             Reporting-MTA: dns; {mta}\nArrival-Date: {date}\n\n\
             Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822;{rcpt}\n\
             Action: failed\nStatus: 5.1.1\n\
             Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected\n\n\
             --{boundary}\nContent-Type: text/rfc822-headers\n\n\
             From: Support <{SUPPORT}>\nTo: <{rcpt}>\nSubject: Re: {subject}\n\
             Message-ID: {original}\n\n--{boundary}--\n",
            rcpt = customer.address,
            subject = ascii_only(&thread.subject),
        );
        let mut generated = self.finish(&daemon, false);
        generated.envelope = "MAILER-DAEMON".into();
        generated
    }

    /// Common headers; returns the new Message-ID.
    fn headers(&mut self, author: &Author, subject: &str, reply_to: Option<&Thread>) -> String {
        let id = format!(
            "<{:x}.{}.{:08x}@{}>",
            self.time,
            self.seq,
            self.rng.next_u64() as u32,
            author.domain
        );
        let date = rfc2822(self.time, author.utc_offset);
        let to = match reply_to {
            Some(thread) if author.address == SUPPORT => thread.requester.as_str(),
            _ => SUPPORT,
        };
        let daemon = author.address.starts_with("MAILER-DAEMON");
        let (return_path, relay) = if daemon {
            ("", author.domain.clone())
        } else {
            (author.address.as_str(), format!("mail.{}", author.domain))
        };
        let o = &mut self.out;
        let _ = write!(
            o,
            "Return-Path: <{return_path}>\n\
             Received: from {relay} ({relay} [203.0.113.{ip}])\n\
             \tby mx.helpdesk.example with ESMTPS id {hex:x}\n\tfor <{to}>; {date}\n\
             From: {name} <{addr}>\nTo: <{to}>\nSubject: {subject}\nDate: {date}\n\
             Message-ID: {id}\n",
            addr = author.address,
            name = display_name(&author.name),
            ip = self.seq % 250 + 1,
            hex = self.rng.next_u64() >> 20,
        );
        if let Some(thread) = reply_to
            && let Some(parent) = thread.ids.last()
        {
            let _ = writeln!(
                o,
                "In-Reply-To: {parent}\nReferences: {}",
                thread.ids.join("\n ")
            );
        }
        id
    }

    /// The MIME body, sized towards a random target; returns the plain text and whether there
    /// is an attachment.
    fn body(&mut self, author: &Author, utf8: bool, quote: String) -> (String, bool) {
        let (target, attachment) = match self.size {
            None => self.realistic_target(),
            Some(size) => self.sized_target(size),
        };
        let html = self.rng.chance(100);
        let headers = self.out.len();
        let greetings: &[&str] = if utf8 {
            &corpus::UTF8_GREETINGS
        } else {
            &corpus::GREETINGS
        };
        let mut text = String::from(*self.rng.pick(greetings));
        text.push_str("\n\n");
        let mut signature = format!("\n{}\n{}\n", author.name, author.domain);
        if self.rng.chance(300) {
            signature.push('\n');
            wrap_into(&mut signature, corpus::DISCLAIMER, &mut 0);
            signature.push('\n');
        }
        let fixed = headers + signature.len() + quote.len() + 700;
        let fixed = fixed + attachment.as_ref().map_or(0, |a| a.data.len() + 300);
        loop {
            paragraph(self.rng, &mut text);
            let body = text.len() + signature.len() + quote.len();
            let estimate = fixed + text.len() + if html { body * 11 / 10 } else { 0 };
            if estimate >= target {
                break;
            }
        }
        text.push_str(&signature);
        text.push_str(&quote);
        loop {
            self.out.truncate(headers);
            mime::write_body(
                &mut self.out,
                &text,
                html,
                utf8,
                attachment.as_ref(),
                self.seq,
            );
            if self.out.len() >= MIN_SIZE {
                break;
            }
            paragraph(self.rng, &mut text);
        }
        (text, attachment.is_some())
    }

    /// A target size of the realistic mix (2–20 KB, biased small), and maybe an attachment.
    fn realistic_target(&mut self) -> (usize, Option<mime::Attachment>) {
        let u = self.rng.unit();
        let mut target = 2300 + (16_500.0 * u * u * u) as usize;
        let attachment = self
            .rng
            .chance(100)
            .then(|| mime::attachment(self.rng, self.seq, 1024..=8192));
        if let Some(a) = &attachment {
            target = target.max(a.data.len() + 2600);
        }
        (target.min(MAX_SIZE - 1500), attachment)
    }

    /// A target within ±25% of `size`, and maybe an attachment of a third to half of it.
    fn sized_target(&mut self, size: usize) -> (usize, Option<mime::Attachment>) {
        let target = (size * self.rng.range(75, 125) / 100).max(MIN_SIZE);
        let raw = target * 3 / 4;
        let attachment = self
            .rng
            .chance(100)
            .then(|| mime::attachment(self.rng, self.seq, raw / 3..=raw / 2));
        (target, attachment)
    }

    fn record(&mut self, thread: &mut Thread, author: &Author, id: String, text: &str) {
        if thread.ids.len() >= MAX_REFERENCES {
            thread.ids.remove(1);
        }
        thread.ids.push(id);
        thread.last = Some((author.clone(), self.time));
        thread.last_text = truncate_lines(text, QUOTE_CAP).to_string();
    }

    fn finish(self, author: &Author, attachment: bool) -> Generated {
        Generated {
            envelope: author.address.clone(),
            time: self.time,
            text: self.out,
            attachment,
        }
    }
}

/// `Re: ` + subject, RFC 2047-encoded (B or Q at random) when it is not ASCII.
fn encode_subject(prefix: &str, subject: &str, utf8: bool, rng: &mut Rng) -> String {
    let mut out = String::from(prefix);
    if utf8 {
        corpus::encode_words(subject, rng.chance(500), &mut out);
    } else {
        out.push_str(subject);
    }
    out
}

/// The attribution line and the previous message, `> `-quoted.
fn quote(thread: &Thread) -> String {
    let Some((author, time)) = &thread.last else {
        return String::new();
    };
    let mut out = format!(
        "\nOn {}, {} <{}> wrote:\n",
        rfc2822(*time, author.utc_offset),
        author.name,
        author.address
    );
    for line in thread.last_text.lines() {
        out.push('>');
        if !line.starts_with('>') && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// At most `cap` bytes of `text`, cut at a line end.
fn truncate_lines(text: &str, cap: usize) -> &str {
    if text.len() <= cap {
        return text;
    }
    match text[..text.floor_char_boundary(cap)].rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    }
}

/// A display name, quoted when it holds specials such as parentheses.
fn display_name(name: &str) -> String {
    if name.bytes().any(|b| b"()<>@,;:\\\".[]".contains(&b)) {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

fn ascii_only(s: &str) -> String {
    s.chars().filter(char::is_ascii).collect()
}

/// `Tue, 3 Jan 2023 14:05:09 +0100` in the given UTC offset.
pub(crate) fn rfc2822(time: i64, utc_offset: i32) -> String {
    let zone =
        chrono::FixedOffset::east_opt(utc_offset).or_else(|| chrono::FixedOffset::east_opt(0));
    match (chrono::DateTime::from_timestamp(time, 0), zone) {
        (Some(utc), Some(zone)) => utc.with_timezone(&zone).to_rfc2822(),
        _ => String::from("Thu, 1 Jan 1970 00:00:00 +0000"),
    }
}

/// `Tue Jan  3 13:05:09 2023` (UTC), as mbox `From ` lines carry it.
pub(crate) fn asctime(time: i64) -> String {
    match chrono::DateTime::from_timestamp(time, 0) {
        Some(utc) => utc.format("%a %b %e %H:%M:%S %Y").to_string(),
        None => String::from("Thu Jan  1 00:00:00 1970"),
    }
}

/// Appends a paragraph of 2–5 sentences, wrapped at 72 columns, and a blank line.
fn paragraph(rng: &mut Rng, text: &mut String) {
    let mut column = 0;
    for _ in 0..rng.range(2, 5) {
        let sentence = *rng.pick(&corpus::SENTENCES);
        wrap_into(text, sentence, &mut column);
    }
    text.push_str("\n\n");
}

/// Appends the words of `sentence`, breaking lines before column 72.
fn wrap_into(text: &mut String, sentence: &str, column: &mut usize) {
    for word in sentence.split(' ') {
        if *column > 0 && *column + 1 + word.len() > 72 {
            text.push('\n');
            *column = 0;
        } else if *column > 0 {
            text.push(' ');
            *column += 1;
        }
        text.push_str(word);
        *column += word.len();
    }
}
