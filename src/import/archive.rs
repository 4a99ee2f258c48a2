//! The archive an import run reads, as its checkpoint knows it (SPEC 8): the key the
//! checkpoint is stored under, what the archive looked like, and where the run starts, after
//! the message a stopped run stored last, or at the start, saying why.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::file_items::relative_to;
use super::item::ReaderError;
use super::reader::{self, Format, Items};
use super::report::{ImportReport, Position};
use super::resume::{self, Fingerprint, ResumePlan, SavedPoint};
use crate::domain::Source;
use crate::pipeline::RunOptions;
use crate::store::Store;

/// The archive being imported: what its checkpoint is stored under and checked against.
pub(super) struct Archive {
    path: PathBuf,
    format: Format,
    /// The checkpoint's key: the canonical path, so another spelling finds it.
    pub key: String,
    fingerprint: Fingerprint,
}

impl Archive {
    pub(super) fn new(
        path: &Path,
        format: Format,
        options: &RunOptions,
    ) -> anyhow::Result<Archive> {
        let meta = std::fs::metadata(path)
            .map_err(|e| ReaderError::io(path, e))
            .context("reading the archive")?;
        // A folder is checked by its listing when resuming, not by its own size and time.
        let (size, mtime_ns) = if meta.is_file() {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            (meta.len(), mtime)
        } else {
            (0, 0)
        };
        let key = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string();
        Ok(Archive {
            path: path.to_path_buf(),
            format,
            key,
            fingerprint: Fingerprint {
                format,
                size,
                mtime_ns,
                mailbox: options.mailbox.clone(),
                archive: options.archive,
            },
        })
    }

    /// Opens the archive where this run starts: after the message its checkpoint names, or
    /// at the start (noting in `report` why, when a checkpoint was there). A dry run always
    /// reads everything. Returns the point resumed from, with the messages stored before.
    pub(super) async fn open(
        &self,
        store: &Store,
        max_bytes: usize,
        dry_run: bool,
        report: &mut ImportReport,
    ) -> anyhow::Result<(Items, Option<(SavedPoint, u64)>)> {
        let plan = if dry_run {
            ResumePlan::Fresh
        } else {
            let saved = store.import_checkpoint(&self.key).await?;
            resume::plan(
                saved.as_ref().map(|(p, m)| (p.as_str(), *m)),
                &self.fingerprint,
            )
        };
        let reason = match plan {
            ResumePlan::Fresh => None,
            ResumePlan::StartOver(reason) => Some(reason),
            ResumePlan::Resume { point, messages } => {
                match reader::open_after(
                    &self.path,
                    self.format,
                    max_bytes,
                    point.index,
                    point.offset,
                    &point.at,
                ) {
                    Ok(items) => {
                        report.resumed = Some(Position {
                            messages,
                            at: self.shown(&point),
                        });
                        return Ok((items, Some((point, messages))));
                    }
                    Err(reason) => Some(reason),
                }
            }
        };
        report.started_over = reason;
        Ok((reader::open(&self.path, self.format, max_bytes)?, None))
    }

    /// The checkpoint of the message at `source`.
    pub(super) fn point_at(&self, source: &Source) -> SavedPoint {
        let (index, offset, at) = match source {
            Source::Mbox { offset, index, .. } => (*index, *offset, source.to_string()),
            Source::File { path, index } => (*index, 0, relative_to(&self.path, Path::new(path))),
            other => (0, 0, other.to_string()),
        };
        SavedPoint {
            fingerprint: self.fingerprint.clone(),
            index,
            offset,
            done: false,
            at,
        }
    }

    /// A saved point as the decision log names the message.
    fn shown(&self, point: &SavedPoint) -> String {
        match self.format {
            Format::Mbox => point.at.clone(),
            _ if point.at.is_empty() => self.path.display().to_string(),
            _ => self.path.join(&point.at).display().to_string(),
        }
    }
}
