//! The one batch preparer every source uses (import, the IMAP poller, ingest): each message
//! of a batch hashed, parsed and classified for its mailbox on the parse pool
//! ([`crate::cpu_priority::on_parse_pool`]: every core, below the serial decide/store chain),
//! the batch kept in order.
//!
//! A panic while preparing one mail (a bug the parser hits on strange input) becomes that
//! mail's quarantine reason; the other mails of the batch are prepared as usual and nothing is
//! lost.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::classify::OwnLists;
use crate::config::{Limits, Role};
use crate::cpu_priority::on_parse_pool;
use crate::domain::Source;

use super::prepared::{
    Examined, MessageSize, Prepared, RawMessage, assemble, examine, panicked, prepare_header_only,
};

/// A message as a source hands it to the [`Preparer`].
#[derive(Debug)]
pub enum Unprepared {
    /// The whole message; `sha256`: its hex SHA-256 when the source already computed it.
    Whole {
        raw: RawMessage,
        sha256: Option<String>,
    },
    /// Only the header of a message over the size limit (never read whole), and its size.
    HeaderOnly {
        source: Source,
        header: Vec<u8>,
        size: MessageSize,
    },
}

impl Unprepared {
    pub fn whole(raw: RawMessage) -> Unprepared {
        Unprepared::Whole { raw, sha256: None }
    }
}

/// What a mail's bytes are read with ([`examine`]): the step that may panic, injectable for
/// tests.
pub(super) trait Examine:
    Fn(&[u8], Role, &OwnLists, &Limits) -> Examined + Copy + Send + Sync + 'static
{
}
impl<F: Fn(&[u8], Role, &OwnLists, &Limits) -> Examined + Copy + Send + Sync + 'static> Examine
    for F
{
}

/// Prepares the mail of one mailbox: classified for its `role` (and our own group), within
/// its `limits`.
#[derive(Debug, Clone)]
pub struct Preparer {
    role: Role,
    limits: Limits,
    own_lists: Arc<OwnLists>,
}

impl Preparer {
    /// A preparer that knows no group of our own (see [`Preparer::with_own_lists`]).
    pub fn new(role: Role, limits: impl Into<Limits>) -> Preparer {
        Preparer {
            role,
            limits: limits.into(),
            own_lists: Arc::default(),
        }
    }

    /// Mail through our own group (`own`) is classified as a person's mail.
    pub fn with_own_lists(mut self, own: Arc<OwnLists>) -> Preparer {
        self.own_lists = own;
        self
    }

    /// One message, on the calling thread; a panic while preparing it is its quarantine reason.
    pub fn prepare(&self, item: Unprepared) -> Prepared {
        self.prepare_with(item, examine)
    }

    /// A batch, on the parse pool, in the order given. Fails only when the pool itself does
    /// (a panic while preparing one mail is that mail's quarantine reason).
    pub async fn prepare_batch(&self, items: Vec<Unprepared>) -> anyhow::Result<Vec<Prepared>> {
        self.prepare_batch_with(items, examine).await
    }

    async fn prepare_batch_with(
        &self,
        items: Vec<Unprepared>,
        examine: impl Examine,
    ) -> anyhow::Result<Vec<Prepared>> {
        let preparer = self.clone();
        on_parse_pool(move || {
            items
                .into_par_iter()
                .map(|item| preparer.prepare_with(item, examine))
                .collect()
        })
        .await
    }

    fn prepare_with(&self, item: Unprepared, examine: impl Examine) -> Prepared {
        match item {
            Unprepared::HeaderOnly {
                source,
                header,
                size,
            } => prepare_header_only(source, header, size, self.limits.max_message_bytes),
            Unprepared::Whole { raw, sha256 } => {
                let sha256 = sha256.unwrap_or_else(|| hex::encode(Sha256::digest(&raw.bytes)));
                let bytes = &raw.bytes;
                let examined =
                    catch_unwind(AssertUnwindSafe(|| {
                        examine(bytes, self.role, &self.own_lists, &self.limits)
                    }))
                        .unwrap_or_else(|panic| {
                            let what = panic_message(panic.as_ref());
                            tracing::error!(source = %raw.source, panic = %what, "preparing a mail panicked; it is quarantined");
                            panicked(bytes, &what)
                        });
                assemble(raw, sha256, examined)
            }
        }
    }
}

/// What a panic said (its message when it was a string).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Classification, Rule};
    use crate::pipeline::prepared::Content;

    fn mail(uid: u32, subject: &str) -> Unprepared {
        Unprepared::whole(RawMessage {
            source: Source::Imap {
                mailbox: "support".into(),
                uid_validity: 1,
                uid,
            },
            bytes: format!(
                "From: jane@acme.test\r\nTo: support@example.test\r\nSubject: {subject}\r\n\
                 Message-ID: <m{uid}@acme.test>\r\n\r\nHello\r\n"
            )
            .into_bytes(),
        })
    }

    /// Reads mail as usual, but panics on a subject that asks for it.
    fn examine_or_panic(bytes: &[u8], role: Role, own: &OwnLists, limits: &Limits) -> Examined {
        if bytes.windows(5).any(|w| w == b"PANIC") {
            panic!("index out of bounds in a test");
        }
        examine(bytes, role, own, limits)
    }

    #[tokio::test]
    async fn a_panic_preparing_one_mail_quarantines_it_and_spares_the_batch() {
        crate::cpu_priority::init_parse_pool();
        let preparer = Preparer::new(Role::Support, 1 << 20);
        let batch = vec![mail(1, "first"), mail(2, "PANIC"), mail(3, "third")];
        let prepared = preparer
            .prepare_batch_with(batch, examine_or_panic)
            .await
            .expect("the batch survives");
        assert_eq!(prepared.len(), 3);
        for (p, uid) in prepared.iter().zip(1..) {
            assert_eq!(
                p.source.to_string(),
                format!("imap:support;uidvalidity=1;uid={uid}")
            );
            assert_eq!(p.message_id().as_str(), format!("m{uid}@acme.test"));
        }
        for good in [&prepared[0], &prepared[2]] {
            assert!(matches!(good.content, Content::Parsed(_)), "{good:?}");
        }
        let bad = &prepared[1];
        let Content::Failed { rule, reason, .. } = &bad.content else {
            panic!("not quarantined: {bad:?}");
        };
        assert_eq!(*rule, Rule::Unparseable);
        assert_eq!(
            reason,
            "cannot be used as a mail: the parser panicked: index out of bounds in a test"
        );
        assert_eq!(bad.classification, Classification::Plain);
        // Its bytes are kept, to be stored in the quarantine.
        assert!(!bad.raw.is_empty());
        assert_eq!(bad.raw_sha256, hex::encode(Sha256::digest(&bad.raw)));
    }

    #[test]
    fn a_mail_is_classified_once_for_the_mailbox_it_arrived_at() {
        let escalation = Preparer::new(Role::Escalation, 1 << 20).prepare(mail(1, "help"));
        assert_eq!(escalation.classification, Classification::Escalation);
        let support = Preparer::new(Role::Support, 1 << 20).prepare(mail(1, "help"));
        assert_eq!(support.classification, Classification::Plain);
        let bounce = Preparer::new(Role::Escalation, 1 << 20).prepare(Unprepared::whole(RawMessage {
            source: Source::Stdin,
            bytes: b"From: MAILER-DAEMON@mx.acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
                     Message-ID: <b@mx.acme.test>\r\n\r\nsorry\r\n"
                .to_vec(),
        }));
        assert!(
            matches!(bounce.classification, Classification::Bounce(_)),
            "{:?}",
            bounce.classification
        );
        assert!(bounce.bounce.is_some());
    }
}
