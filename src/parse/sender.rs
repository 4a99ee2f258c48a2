//! The requester of a mail and the header it was found in (SPEC 2, Trust).
//!
//! In this order, the first that holds a usable address:
//!
//! 1. From (a well-formed address): the author, the only one a receiving server's DMARC check
//!    looks at;
//! 2. a mangled From, salvaged (see `salvage`): the author, even badly written, is a better
//!    requester than any other header;
//! 3. Sender: who sent it on the author's behalf;
//! 4. Reply-To: where the author wants answers to go;
//! 5. Return-Path: the envelope sender, often a bounce-handling address;
//! 6. an address salvaged from a mangled Sender, Reply-To or Return-Path.
//!
//! Every step after the first is unverified and never authorises anything (see
//! [`SenderOrigin`]).

use mail_parser::{Address, HeaderName};

use super::fields::{addresses, first, mailbox};
use super::header_text::{HeaderText, raw_value};
use super::salvage;
use crate::domain::{EmailAddress, Mailbox, SenderOrigin};

/// The requester and where it was found (see the module documentation).
pub(super) fn sender(text: &HeaderText<'_, '_>) -> Option<(Mailbox, SenderOrigin)> {
    let message = text.message();
    let raw = message.raw_message.as_ref();
    let from_header = |name: HeaderName<'static>| {
        addresses(text, &name)
            .iter()
            .flat_map(Address::iter)
            .find_map(mailbox)
    };
    let with = |origin: SenderOrigin| move |m: Mailbox| (m, origin);
    from_header(HeaderName::From)
        .map(with(SenderOrigin::From))
        .or_else(|| {
            salvage::salvage_header(text, &HeaderName::From).map(with(SenderOrigin::MangledFrom))
        })
        .or_else(|| from_header(HeaderName::Sender).map(with(SenderOrigin::Sender)))
        .or_else(|| from_header(HeaderName::ReplyTo).map(with(SenderOrigin::ReplyTo)))
        .or_else(|| {
            let header = first(message.headers(), &HeaderName::ReturnPath)?;
            let address = EmailAddress::parse(&raw_value(raw, header)).ok()?;
            Some((
                Mailbox {
                    name: None,
                    address,
                },
                SenderOrigin::ReturnPath,
            ))
        })
        .or_else(|| salvage::salvage_sender(text).map(with(SenderOrigin::OtherHeader)))
}

#[cfg(test)]
mod tests {
    use crate::domain::SenderOrigin;
    use crate::parse::{ParseError, parse};

    /// The requester of a mail with `headers` above a plain body: address, name, origin.
    fn requester(headers: &str) -> Result<(String, Option<String>, SenderOrigin), ParseError> {
        let raw = format!("{headers}To: support@example.test\nSubject: Hi\n\nHello\n");
        parse(raw.as_bytes()).map(|m| (m.from.address.to_string(), m.from.name, m.sender_origin))
    }

    fn found(
        address: &str,
        name: Option<&str>,
        origin: SenderOrigin,
    ) -> Result<(String, Option<String>, SenderOrigin), ParseError> {
        Ok((address.to_string(), name.map(str::to_string), origin))
    }

    /// Every header of the order, each naming a different address.
    const ALL: &str = "Return-Path: <bounces+x@mailer.example>\n\
                       Reply-To: Replies <replies@acme.test>\n\
                       Sender: Secretary <secretary@acme.test>\n\
                       From: Jane Doe <jane@acme.test>\n";

    #[test]
    fn step_1_from_wins_over_every_other_header() {
        assert_eq!(
            requester(ALL),
            found("jane@acme.test", Some("Jane Doe"), SenderOrigin::From)
        );
    }

    #[test]
    fn step_2_a_mangled_from_wins_over_sender_reply_to_and_return_path() {
        let headers = ALL.replace("Jane Doe <jane@acme.test>", "Jane Doe jane@acme.test");
        assert_eq!(
            requester(&headers),
            found(
                "jane@acme.test",
                Some("Jane Doe"),
                SenderOrigin::MangledFrom
            )
        );
    }

    #[test]
    fn step_3_sender_when_from_has_no_address() {
        let headers = ALL.replace("Jane Doe <jane@acme.test>", "Jane Doe");
        assert_eq!(
            requester(&headers),
            found(
                "secretary@acme.test",
                Some("Secretary"),
                SenderOrigin::Sender
            )
        );
    }

    #[test]
    fn step_4_reply_to_before_return_path() {
        let headers = "Return-Path: <bounces+x@mailer.example>\n\
                       Reply-To: Replies <replies@acme.test>\n";
        assert_eq!(
            requester(headers),
            found("replies@acme.test", Some("Replies"), SenderOrigin::ReplyTo)
        );
        // With an empty From and Sender too.
        let headers = ALL
            .replace("Jane Doe <jane@acme.test>", "undisclosed-recipients:;")
            .replace("Secretary <secretary@acme.test>", "<>");
        assert_eq!(
            requester(&headers),
            found("replies@acme.test", Some("Replies"), SenderOrigin::ReplyTo)
        );
    }

    #[test]
    fn step_5_return_path_when_nothing_else_has_an_address() {
        assert_eq!(
            requester("Return-Path: <bounces+x@mailer.example>\n"),
            found("bounces+x@mailer.example", None, SenderOrigin::ReturnPath)
        );
        assert_eq!(
            requester("Return-Path: <bounces+x@mailer.example>\nFrom: Mystery Person\n"),
            found("bounces+x@mailer.example", None, SenderOrigin::ReturnPath)
        );
    }

    #[test]
    fn step_6_salvaged_from_another_mangled_header() {
        assert_eq!(
            requester("From: Support Team\nReply-To: Help help@vendor.example\n"),
            found(
                "help@vendor.example",
                Some("Help"),
                SenderOrigin::OtherHeader
            )
        );
    }

    #[test]
    fn no_address_anywhere_is_no_sender() {
        assert_eq!(
            requester("Return-Path: <>\nFrom: Mystery Person\n"),
            Err(ParseError::NoSender)
        );
        assert_eq!(requester(""), Err(ParseError::NoSender));
    }

    #[test]
    fn only_from_is_the_claimed_author() {
        let origins = [
            SenderOrigin::From,
            SenderOrigin::MangledFrom,
            SenderOrigin::Sender,
            SenderOrigin::ReplyTo,
            SenderOrigin::ReturnPath,
            SenderOrigin::OtherHeader,
        ];
        let from: Vec<bool> = origins.iter().map(|o| o.is_from()).collect();
        assert_eq!(from, [true, false, false, false, false, false]);
        assert_eq!(SenderOrigin::ReplyTo.header(), "Reply-To");
    }
}
