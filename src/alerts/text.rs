//! The part of a mail an alert is read from: its subject (at most 1 KB) and the first 64 KB of
//! its text (HTML converted to text when it has no text part, as `parse` does). Every format
//! reads only this, so reading an alert costs time linear in at most 65 KB, whatever the mail.

use crate::domain::InboundEmail;

/// Bytes of the text body an alert is read from.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Bytes of the subject an alert is read from.
pub const MAX_SUBJECT_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertText<'a> {
    pub subject: &'a str,
    pub body: &'a str,
}

impl<'a> AlertText<'a> {
    pub fn of(email: &'a InboundEmail) -> AlertText<'a> {
        AlertText::new(&email.subject, &email.body_text)
    }

    /// `subject` and `body`, each cut (at a character boundary) to its cap.
    pub fn new(subject: &'a str, body: &'a str) -> AlertText<'a> {
        AlertText {
            subject: prefix(subject, MAX_SUBJECT_BYTES).trim(),
            body: prefix(body, MAX_BODY_BYTES),
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let body = "é".repeat(MAX_BODY_BYTES);
        let t = AlertText::new("  subject  ", &body);
        assert_eq!(t.subject, "subject");
        assert!(t.body.len() <= MAX_BODY_BYTES);
        assert!(t.body.len() >= MAX_BODY_BYTES - 1);
        let subject = "x".repeat(10 * MAX_SUBJECT_BYTES);
        assert_eq!(
            AlertText::new(&subject, "").subject.len(),
            MAX_SUBJECT_BYTES
        );
    }
}
