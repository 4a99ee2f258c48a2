//! Where an interrupted import goes on (SPEC 8): the import checkpoint, stored with each batch,
//! names the last message stored and what the archive looked like then. A re-run of the same
//! archive (same format, size and modification time, same mailbox and mode) reads on after
//! that message; anything else starts over, saying why (starting over is always safe: mail
//! already stored counts as duplicates).
//!
//! The checkpoint's `position` column holds one line of `key=value` fields, `at=` last (it
//! is a path and may hold spaces), readable by an admin looking at the table:
//! `mbox index=3 offset=2048 size=9000 mtime=1700000000000000000 mailbox=support archive=0
//! done=0 at=/srv/old.mbox@2048`.

use std::fmt;

use super::reader::Format;

/// What the archive and the run look like: a checkpoint is only followed when they match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub format: Format,
    /// Size in bytes and modification time (ns since the epoch) of an mbox file; folders are
    /// checked by their listing instead (0 here).
    pub size: u64,
    pub mtime_ns: i128,
    pub mailbox: String,
    pub archive: bool,
}

/// The last message a run stored, and the archive it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPoint {
    pub fingerprint: Fingerprint,
    /// 1-based position of the last message stored in the archive (mbox) or the listing.
    pub index: u64,
    /// Byte offset of its `From ` line (mbox; 0 for folders).
    pub offset: u64,
    /// The whole archive was read.
    pub done: bool,
    /// The message's source, as the decision log shows it.
    pub at: String,
}

/// What a run does with the checkpoint it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumePlan {
    /// No checkpoint: the first import of this archive.
    Fresh,
    /// Read on after the saved message; `messages` were stored before.
    Resume { point: SavedPoint, messages: u64 },
    /// A checkpoint that does not fit: read everything, for this reason.
    StartOver(String),
}

impl SavedPoint {
    /// The text stored in the checkpoint's `position` column.
    pub fn to_position(&self) -> String {
        let f = &self.fingerprint;
        format!(
            "{} index={} offset={} size={} mtime={} mailbox={} archive={} done={} at={}",
            f.format,
            self.index,
            self.offset,
            f.size,
            f.mtime_ns,
            f.mailbox,
            u8::from(f.archive),
            u8::from(self.done),
            self.at
        )
    }

    /// Reads a `position` text; `None` when it is not one (an older version's `path@offset`).
    pub fn parse(position: &str) -> Option<SavedPoint> {
        let (fields, at) = position.split_once(" at=")?;
        let mut words = fields.split(' ');
        let format: Format = words.next()?.parse().ok()?;
        let mut value =
            |key: &str| -> Option<&str> { words.next()?.strip_prefix(key)?.strip_prefix('=') };
        let index = value("index")?.parse().ok()?;
        let offset = value("offset")?.parse().ok()?;
        let size = value("size")?.parse().ok()?;
        let mtime_ns = value("mtime")?.parse().ok()?;
        let mailbox = value("mailbox")?.to_string();
        let archive = flag(value("archive")?)?;
        let done = flag(value("done")?)?;
        Some(SavedPoint {
            fingerprint: Fingerprint {
                format,
                size,
                mtime_ns,
                mailbox,
                archive,
            },
            index,
            offset,
            done,
            at: at.to_string(),
        })
    }
}

fn flag(text: &str) -> Option<bool> {
    match text {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// Decides from the stored checkpoint (its `position` and `messages`) and the archive as it
/// is now.
pub fn plan(saved: Option<(&str, i64)>, now: &Fingerprint) -> ResumePlan {
    let Some((position, messages)) = saved else {
        return ResumePlan::Fresh;
    };
    let Some(point) = SavedPoint::parse(position) else {
        return ResumePlan::StartOver(
            "its checkpoint was written by an older version of mailgate".to_string(),
        );
    };
    match mismatch(&point, now) {
        Some(reason) => ResumePlan::StartOver(reason),
        None => ResumePlan::Resume {
            point,
            messages: u64::try_from(messages).unwrap_or(0),
        },
    }
}

/// Why the saved point does not fit the archive and run as they are now, if it does not.
fn mismatch(point: &SavedPoint, now: &Fingerprint) -> Option<String> {
    let then = &point.fingerprint;
    if point.done {
        return Some("its last import read it to the end".to_string());
    }
    if then.format != now.format {
        return Some(format!(
            "the stopped import read it as {}, this one as {}",
            then.format, now.format
        ));
    }
    if then.size != now.size {
        return Some(format!(
            "it changed since the import stopped ({} bytes then, {} now)",
            then.size, now.size
        ));
    }
    if then.mtime_ns != now.mtime_ns {
        return Some(
            "it was modified since the import stopped (same size, other modification time)"
                .to_string(),
        );
    }
    if then.mailbox != now.mailbox {
        return Some(format!(
            "the stopped import used --mailbox {}, this one {}",
            then.mailbox, now.mailbox
        ));
    }
    if then.archive != now.archive {
        let mode = |archive: bool| {
            if archive {
                "with --archive"
            } else {
                "without --archive"
            }
        };
        return Some(format!(
            "the stopped import ran {}, this one {}",
            mode(then.archive),
            mode(now.archive)
        ));
    }
    None
}

impl fmt::Display for ResumePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResumePlan::Fresh => f.write_str("first import of this archive"),
            ResumePlan::Resume { point, messages } => write!(
                f,
                "resuming after message {} ({}), {messages} messages stored before",
                point.index, point.at
            ),
            ResumePlan::StartOver(reason) => write!(f, "starting over: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint() -> Fingerprint {
        Fingerprint {
            format: Format::Mbox,
            size: 9000,
            mtime_ns: 1_700_000_000_123_456_789,
            mailbox: "support".to_string(),
            archive: false,
        }
    }

    fn point() -> SavedPoint {
        SavedPoint {
            fingerprint: fingerprint(),
            index: 3,
            offset: 2048,
            done: false,
            at: "/srv/old mail/x.mbox@2048".to_string(),
        }
    }

    #[test]
    fn a_position_reads_back_as_written() {
        let text = point().to_position();
        assert_eq!(
            text,
            "mbox index=3 offset=2048 size=9000 mtime=1700000000123456789 mailbox=support \
             archive=0 done=0 at=/srv/old mail/x.mbox@2048"
        );
        assert_eq!(SavedPoint::parse(&text), Some(point()));
    }

    #[test]
    fn the_same_archive_resumes() {
        let text = point().to_position();
        assert_eq!(
            plan(Some((&text, 3)), &fingerprint()),
            ResumePlan::Resume {
                point: point(),
                messages: 3
            }
        );
        assert_eq!(plan(None, &fingerprint()), ResumePlan::Fresh);
    }

    #[test]
    fn anything_else_starts_over_and_says_why() {
        let reason =
            |point: SavedPoint, now: Fingerprint| match plan(Some((&point.to_position(), 3)), &now)
            {
                ResumePlan::StartOver(reason) => reason,
                other => panic!("expected a start over, got {other:?}"),
            };
        let grown = Fingerprint {
            size: 9500,
            ..fingerprint()
        };
        assert!(reason(point(), grown).contains("9000 bytes then, 9500 now"));
        let touched = Fingerprint {
            mtime_ns: 1,
            ..fingerprint()
        };
        assert!(reason(point(), touched).contains("modified"));
        let finished = SavedPoint {
            done: true,
            ..point()
        };
        assert!(reason(finished, fingerprint()).contains("to the end"));
        let other_box = Fingerprint {
            mailbox: "escalations".to_string(),
            ..fingerprint()
        };
        assert!(reason(point(), other_box).contains("--mailbox support"));
        let history = Fingerprint {
            archive: true,
            ..fingerprint()
        };
        assert!(reason(point(), history).contains("with --archive"));
        let maildir = Fingerprint {
            format: Format::Maildir,
            ..fingerprint()
        };
        assert!(reason(point(), maildir).contains("as mbox"));
        assert!(matches!(
            plan(Some(("/srv/x.mbox@2048", 3)), &fingerprint()),
            ResumePlan::StartOver(reason) if reason.contains("older version")
        ));
    }
}
