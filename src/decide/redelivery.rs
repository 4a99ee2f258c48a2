//! What was decided before under a Message-ID ([`Seen`]), and the re-delivery rule, written
//! once: when a mail is the very same as one decided before, so that nothing at all is stored
//! for it (not even a decision row). `decide::evaluate` decides with it; import uses it to
//! count re-deliveries without parsing them (`import::run`). What the store knows is its
//! [`Seen`].

use crate::store::Seen;

/// Whether what was decided under a mail's synthetic id
/// ([`crate::domain::MessageId::synthetic_for_sha256`] of its bytes) matters: its Message-ID
/// is that of a mail received and stored on a ticket, with other bytes. Only then may it have been kept (a
/// different mail reusing the Message-ID) or logged (the same mail with other trace headers)
/// under that id; for any other mail it need not be looked up.
pub fn needs_synthetic(seen: &Seen, raw_sha256: &str) -> bool {
    seen.received && seen.ticket.is_some() && seen.raw_sha256 != raw_sha256
}

/// Whether a mail with bytes hashing to `raw_sha256`, whose Message-ID was decided on before
/// (`seen`), is a re-delivery: the same bytes were decided under its Message-ID, or (see
/// [`needs_synthetic`]) under the synthetic id of its bytes (`synthetic`, what was decided
/// under that id, if anything).
pub fn is_redelivery(raw_sha256: &str, seen: &Seen, synthetic: Option<&Seen>) -> bool {
    seen.raw_sha256 == raw_sha256
        || (needs_synthetic(seen, raw_sha256)
            && synthetic.is_some_and(|kept| kept.raw_sha256 == raw_sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ticket: Option<i64>, sha: &str, received: bool) -> Seen {
        Seen {
            ticket,
            raw_sha256: sha.to_string(),
            received,
            content: None,
        }
    }

    #[test]
    fn the_same_bytes_under_the_message_id_are_a_redelivery() {
        assert!(is_redelivery("aaa", &seen(Some(1), "aaa", true), None));
        assert!(is_redelivery("aaa", &seen(None, "aaa", false), None));
    }

    #[test]
    fn other_bytes_are_a_redelivery_only_when_kept_or_logged_under_the_synthetic_id() {
        let stored = seen(Some(1), "aaa", true);
        assert!(needs_synthetic(&stored, "bbb"));
        assert!(!is_redelivery("bbb", &stored, None));
        let kept = seen(Some(1), "bbb", true);
        assert!(is_redelivery("bbb", &stored, Some(&kept)));
        let (_, logged) = crate::store::logged_copy(Some(1), "bbb".into());
        assert!(is_redelivery("bbb", &stored, Some(&logged)));
        assert!(!is_redelivery(
            "bbb",
            &stored,
            Some(&seen(Some(1), "ccc", true))
        ));
    }

    #[test]
    fn under_a_message_id_only_logged_or_sent_the_synthetic_id_does_not_count() {
        let logged = seen(None, "aaa", false);
        assert!(!needs_synthetic(&logged, "bbb"));
        let kept = seen(Some(1), "bbb", true);
        assert!(!is_redelivery("bbb", &logged, Some(&kept)));
        let not_received = seen(Some(1), "aaa", false);
        assert!(!is_redelivery("bbb", &not_received, Some(&kept)));
    }
}
