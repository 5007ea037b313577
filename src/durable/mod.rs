//! Durability: the journal, snapshots, recovery, and the file seam they
//! share. The store reaches this module only through [`Durable::log`]
//! (called by its one commit step), checkpoints, and opening.
//!
//! # Files
//!
//! A store's directory holds `LOCK` (held with an OS lock while a store has
//! the directory open), journal segments `journal-<seq>.wal`, and at most a
//! few snapshots `snapshot-<seq>.snap`; `snapshot-N` holds the state at the
//! moment segment `N` began, so recovery loads the newest snapshot that
//! verifies and replays segments `N, N+1, …` in order. Formats are in
//! `journal.rs` and `snapshot.rs`; the README's "Durability" section and
//! `docs/durability.md` describe them for users.
//!
//! # What each level promises
//!
//! * [`Durability::Immediate`] (the default): a call returns only once its
//!   journal record is synced; an acknowledged write survives a power cut.
//!   Concurrent writers share syncs (group commit, see `journal.rs`).
//! * [`Durability::Eventual`]: the record is written to the OS (`write`)
//!   before the call returns, so it survives the process being killed; it is
//!   synced at the next checkpoint, at [`crate::Store::close`] and on drop.
//!   A power cut may lose the writes since the last sync, never part of one.
//!
//! # Failure
//!
//! If a journal write or sync fails, the call that saw it returns 1199061,
//! its effects are not applied, and the store turns read-only: every later
//! write returns 1199061 until the directory is opened again, while reads
//! go on. (After a failed `fsync` nothing is known about what reached the
//! disk, so no later write may be acknowledged on top of it.) A call that
//! failed this way may or may not be found after reopening; an
//! acknowledged one always is.

pub(crate) mod codec;
pub(crate) mod events;
pub(crate) mod io;
pub(crate) mod journal;
pub(crate) mod record;
pub(crate) mod recovery;
pub(crate) mod snapshot;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use self::io::Storage;
use self::journal::{FRAME_HEADER, Journal, STAMP};
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::feed::Feed;

/// When a write to a durable store counts as done.
///
/// ```
/// use assocstore::{Durability, Store};
/// let dir = std::env::temp_dir().join(format!("assocstore-doc-durability-{}", std::process::id()));
/// let store = Store::builder().path(&dir).durability(Durability::Eventual).open()?;
/// assert_eq!(store.durability(), Some(Durability::Eventual));
/// drop(store);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), assocstore::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The call returns after its journal record is synced (`fsync`):
    /// survives a power cut. Concurrent writers share syncs. The default.
    #[default]
    Immediate,
    /// The call returns after its record is handed to the OS: survives the
    /// process being killed, not a power cut; synced at checkpoints and on
    /// close.
    Eventual,
}

/// What opening a durable store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The snapshot the state was loaded from, if any.
    pub snapshot: Option<PathBuf>,
    /// Associations loaded from the snapshot.
    pub snapshot_records: u64,
    /// Journal records replayed after the snapshot.
    pub records_replayed: u64,
    /// Journal segments read.
    pub segments: u64,
    /// Bytes cut from the end of the journal: a record torn by a crash
    /// during a write that was never acknowledged.
    pub bytes_cut: u64,
    /// The file that was cut, if any.
    pub cut_file: Option<PathBuf>,
    /// Time taken to open.
    pub elapsed: Duration,
}

impl std::fmt::Display for OpenReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.snapshot {
            Some(s) => write!(
                f,
                "snapshot {} ({} associations), ",
                s.display(),
                self.snapshot_records
            )?,
            None => f.write_str("no snapshot, ")?,
        }
        write!(
            f,
            "{} journal records replayed from {} segments, {} bytes cut",
            self.records_replayed, self.segments, self.bytes_cut
        )?;
        if let Some(cut) = &self.cut_file {
            write!(f, " from {}", cut.display())?;
        }
        write!(f, ", in {:.3} s", self.elapsed.as_secs_f64())
    }
}

/// The default journal size that triggers a checkpoint: 64 MiB.
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 64 << 20;

/// A durable store's files and state.
pub(crate) struct Durable {
    pub(crate) dir: PathBuf,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) level: Durability,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) journal: Journal,
    pub(crate) report: OpenReport,
    /// The first I/O failure; set once, never cleared.
    failure: Mutex<Option<String>>,
    failed: AtomicBool,
    /// The journal passed `checkpoint_bytes`; the next write to finish
    /// checkpoints.
    checkpoint_due: AtomicBool,
    /// Held while a checkpoint runs, so only one does.
    pub(crate) checkpointing: Mutex<()>,
    /// The directory's lock; released on drop.
    _lock: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable")
            .field("dir", &self.dir)
            .field("level", &self.level)
            .field("failed", &self.failed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Durable {
    pub(crate) fn new(
        dir: PathBuf,
        storage: Arc<dyn Storage>,
        level: Durability,
        checkpoint_bytes: u64,
        journal: Journal,
        report: OpenReport,
        lock: Box<dyn std::any::Any + Send + Sync>,
    ) -> Durable {
        Durable {
            dir,
            storage,
            level,
            checkpoint_bytes,
            journal,
            report,
            failure: Mutex::new(None),
            failed: AtomicBool::new(false),
            checkpoint_due: AtomicBool::new(false),
            checkpointing: Mutex::new(()),
            _lock: lock,
        }
    }

    /// Refuses once the store has turned read-only.
    ///
    /// # Errors
    /// 1199061 after an I/O failure.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if !self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        let first = self.failure.lock().clone().unwrap_or_default();
        Err(Error::CommitFailed {
            message: format!("the store is read-only after an I/O failure ({first})"),
        })
    }

    /// Refuses once the store has turned read-only; otherwise counts a write
    /// call in progress (at `Immediate`, for group commit's gathering) until
    /// the returned guard drops.
    ///
    /// # Errors
    /// 1199061 after an I/O failure.
    pub(crate) fn begin_write(&self) -> Result<Option<journal::Counted<'_>>> {
        self.check_writable()?;
        Ok(self.gather().map(journal::Gather::writer))
    }

    /// The write-call counts group commit reads, at `Immediate`.
    pub(crate) fn gather(&self) -> Option<&journal::Gather> {
        (self.level == Durability::Immediate).then(|| self.journal.gather())
    }

    /// Turns the store read-only after `err`, and returns the error the
    /// failing call reports.
    pub(crate) fn fail(&self, err: &std::io::Error) -> Error {
        let message = err.to_string();
        self.failure.lock().get_or_insert_with(|| message.clone());
        self.failed.store(true, Ordering::Release);
        Error::CommitFailed { message }
    }

    /// Whether an I/O failure turned the store read-only.
    pub(crate) fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Appends one call's effects as one journal record and, at
    /// `Immediate`, waits until it is synced. The change-feed positions of
    /// its events are reserved in journal order (see `src/feed/mod.rs`);
    /// returns the first and the commit time, for the commit to publish at.
    /// A call that fails after reserving publishes its positions as void.
    ///
    /// # Errors
    /// 1199061 when read-only, or when the write or sync fails.
    pub(crate) fn log(&self, effects: &[Effect], feed: &Feed) -> Result<(u64, u64)> {
        self.check_writable()?;
        let mut w = codec::Writer {
            buf: vec![0; FRAME_HEADER + STAMP],
        };
        record::encode(effects, &mut w);
        let mut at = (0, 0);
        let now = self.storage.now_ms();
        let appended = self.journal.append(&mut w.buf, |payload| {
            at = feed.reserve(effects.len(), now);
            payload[..8].copy_from_slice(&at.1.to_le_bytes());
            payload[8..STAMP].copy_from_slice(&at.0.to_le_bytes());
        });
        let synced = appended.and_then(|(lsn, since)| {
            if self.level == Durability::Immediate {
                self.journal.sync_to(lsn)?;
            }
            Ok(since)
        });
        match synced {
            Ok(since) => {
                if since >= self.checkpoint_bytes {
                    self.checkpoint_due.store(true, Ordering::Release);
                }
                Ok(at)
            }
            Err(e) => {
                feed.publish_void(at, effects.len());
                Err(self.fail(&e))
            }
        }
    }

    /// Takes the "checkpoint due" flag.
    pub(crate) fn take_checkpoint_due(&self) -> bool {
        self.checkpoint_due.swap(false, Ordering::AcqRel)
    }
}
