//! The write-ahead journal: segment files of framed records, one record per
//! committed call, and group commit.
//!
//! # Format
//!
//! A segment `journal-<seq>.wal` starts with a 32-byte header: the magic
//! `ASJOURNL`, the format version (u32 LE), the store's identity in its
//! change-feed cursors (u32 LE), the segment's
//! sequence number (u64 LE), a CRC-32 of the 24 bytes before it, 4 zero
//! bytes. Records follow back to back, each framed as
//!
//! ```text
//! len: u32 LE | crc: u32 LE | lsn: u64 LE | payload: len bytes
//! ```
//!
//! where `crc` is the CRC-32 (IEEE) of the `lsn` bytes and the payload, and
//! `lsn` numbers records 1, 2, 3 … across segments with no gap. The payload
//! is the commit time and the change-feed position of the call's first
//! event ([`STAMP`], 16 bytes), then the call's effects
//! (`src/durable/record.rs`).
//!
//! # Ordering and group commit
//!
//! [`Journal::append`] runs inside the caller's commit, under the store
//! locks of the facts it changed (see `src/store/commit.rs`), and takes the
//! journal's own mutex only around the `write`: the journal mutex is a leaf,
//! taken after every store lock and never held while waiting for anything
//! else, so it adds no cycle to the lock order.
//!
//! [`Journal::sync_to`] (for `Immediate`) waits until the record is durable.
//! The first waiter becomes the *leader*: it notes the last lsn appended so
//! far, syncs the file with no lock held, publishes that lsn as synced and
//! wakes every waiter; a waiter whose lsn is covered returns, others elect
//! the next leader. So concurrent committers share one `fsync`. A waiter
//! holds its store locks while it waits, which blocks only writers of the
//! same facts, never the leader (which needs no store lock): the wait
//! always ends.
//!
//! # Gathering a group
//!
//! A leader that synced at once would cover only the records appended
//! while the previous sync ran: with many writers they split into two
//! cohorts taking turns, half of them in each sync. So the leader first
//! *gathers*: while some write call in progress (counted by [`Gather`]
//! from the store's writable check to the call's end) has neither reached
//! `sync_to` nor is blocked on a shard lock (which only a waiting writer
//! can hold long), it yields the processor, for at most the duration of
//! the previous sync. A lone writer never waits (it is the only call in
//! progress), and the wait is bounded, so a writer that stalls elsewhere
//! costs the group at most one sync's time, never progress. The counts are
//! hints read without a lock: a wrong read only makes a group smaller or
//! the wait longer, both within that bound.
//!
//! A segment is switched (at a checkpoint) under the journal mutex after
//! syncing the old one, so a record is durable once either the leader's
//! sync or the switch covered it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::io::{Storage, StorageFile};

/// Bytes in a segment header.
pub(crate) const SEGMENT_HEADER: usize = 32;
/// Bytes in a record frame before its payload.
pub(crate) const FRAME_HEADER: usize = 16;
/// The journal format this build writes and reads.
pub(crate) const JOURNAL_VERSION: u32 = 2;
/// Bytes at the start of every payload: the commit time (unix ms, u64 LE)
/// and the change-feed position of the record's first event (u64 LE).
pub(crate) const STAMP: usize = 16;
const MAGIC: &[u8; 8] = b"ASJOURNL";
/// The largest payload a frame may announce (a damaged length above it is
/// never believed).
pub(crate) const MAX_PAYLOAD: usize = 1 << 30;

/// The file name of segment `seq`.
pub(crate) fn segment_name(seq: u64) -> String {
    format!("journal-{seq:016}.wal")
}

/// The sequence number in a segment's file name.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("journal-")?
        .strip_suffix(".wal")?
        .parse()
        .ok()
}

/// A segment header for `seq`.
pub(crate) fn segment_header(seq: u64, store_id: u32) -> [u8; SEGMENT_HEADER] {
    let mut h = [0u8; SEGMENT_HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&JOURNAL_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&store_id.to_le_bytes());
    h[16..24].copy_from_slice(&seq.to_le_bytes());
    let crc = crc32fast::hash(&h[..24]);
    h[24..28].copy_from_slice(&crc.to_le_bytes());
    h
}

/// What a segment header says, if it verifies.
pub(crate) enum Header {
    /// Valid, this version: the sequence number and the store's identity
    /// in its change-feed cursors.
    Valid(u64, u32),
    /// Valid but written by another format version.
    Version(u32),
    /// Short, wrong magic or checksum.
    Bad,
}

pub(crate) fn read_header(bytes: &[u8]) -> Header {
    let Some(h) = bytes.get(..SEGMENT_HEADER) else {
        return Header::Bad;
    };
    let crc = u32_at(h, 24);
    if &h[..8] != MAGIC || crc32fast::hash(&h[..24]) != crc {
        return Header::Bad;
    }
    match u32_at(h, 8) {
        JOURNAL_VERSION => Header::Valid(u64_at(h, 16), u32_at(h, 12)),
        v => Header::Version(v),
    }
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Fills the frame header of `frame` (whose first [`FRAME_HEADER`] bytes are
/// reserved and the rest is the payload) for record `lsn`.
fn seal(frame: &mut [u8], lsn: u64) {
    let len = (frame.len() - FRAME_HEADER) as u32;
    frame[8..16].copy_from_slice(&lsn.to_le_bytes());
    let crc = frame_crc(&frame[8..16], &frame[FRAME_HEADER..]);
    frame[..4].copy_from_slice(&len.to_le_bytes());
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
}

fn frame_crc(lsn: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(lsn);
    h.update(payload);
    h.finalize()
}

/// A record found in a segment.
pub(crate) struct Frame<'a> {
    pub(crate) lsn: u64,
    pub(crate) payload: &'a [u8],
    /// Offset of the frame in its file.
    pub(crate) offset: usize,
}

/// The frame at `at`, if one is there whole and its checksum matches.
pub(crate) fn frame_at(bytes: &[u8], at: usize) -> Option<Frame<'_>> {
    let head = bytes.get(at..at.checked_add(FRAME_HEADER)?)?;
    let len = u32_at(head, 0) as usize;
    if len > MAX_PAYLOAD {
        return None;
    }
    let start = at + FRAME_HEADER;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    (frame_crc(&head[8..16], payload) == u32_at(head, 4)).then(|| Frame {
        lsn: u64_at(head, 8),
        payload,
        offset: at,
    })
}

/// Whether any frame that verifies, with an lsn in `lsns`, starts anywhere
/// in `bytes` at or after `from`: what tells a torn tail (nothing valid
/// after the bad spot) from damage in the middle.
pub(crate) fn valid_frame_after(
    bytes: &[u8],
    from: usize,
    lsns: std::ops::RangeInclusive<u64>,
) -> Option<usize> {
    (from..bytes.len().saturating_sub(FRAME_HEADER - 1)).find(|&at| {
        // The lsn is checked first: it rules out almost every offset
        // without hashing anything.
        let lsn = u64_at(bytes, at + 8);
        lsns.contains(&lsn) && frame_at(bytes, at).is_some()
    })
}

/// The segment being appended to.
struct Active {
    file: Arc<dyn StorageFile>,
    seq: u64,
    /// The lsn the next record gets.
    next_lsn: u64,
    /// Bytes appended since the last checkpoint.
    since_checkpoint: u64,
}

struct SyncState {
    /// Every record up to this lsn is durable.
    synced: u64,
    /// A leader is syncing now.
    syncing: bool,
    /// How long the last sync took: the most a leader gathers.
    last_sync: Duration,
}

/// The most a leader gathers, whatever the last sync took.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// Counts of the write calls in progress, which a group commit's leader
/// reads to decide whether more records are coming (see "Gathering a
/// group" above).
#[derive(Debug, Default)]
pub(crate) struct Gather {
    /// Write calls between the store's writable check and their end.
    writers: AtomicUsize,
    /// Of those, how many wait for a shard lock another writer holds.
    blocked: AtomicUsize,
    /// The lsn of the last record appended.
    appended: AtomicU64,
}

impl Gather {
    /// Counts a write call in progress until the returned guard drops.
    pub(crate) fn writer(&self) -> Counted<'_> {
        self.writers.fetch_add(1, Ordering::Relaxed);
        Counted(&self.writers)
    }

    /// Counts a writer as blocked on a lock until the returned guard drops.
    pub(crate) fn blocked(&self) -> Counted<'_> {
        self.blocked.fetch_add(1, Ordering::Relaxed);
        Counted(&self.blocked)
    }
}

/// One count in a [`Gather`], taken back on drop.
#[derive(Debug)]
pub(crate) struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The journal of a durable store.
pub(crate) struct Journal {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    /// The store's identity, written in every segment header.
    store_id: u32,
    active: Mutex<Active>,
    sync: Mutex<SyncState>,
    synced: Condvar,
    gather: Gather,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Starts segment `seq` (a new file, header synced, directory synced);
    /// its first record will be `next_lsn`.
    pub(crate) fn create(
        storage: Arc<dyn Storage>,
        dir: &Path,
        seq: u64,
        next_lsn: u64,
        store_id: u32,
    ) -> io::Result<Journal> {
        let file = new_segment(&*storage, dir, seq, store_id)?;
        Ok(Journal {
            storage,
            dir: dir.to_path_buf(),
            store_id,
            active: Mutex::new(Active {
                file,
                seq,
                next_lsn,
                since_checkpoint: 0,
            }),
            sync: Mutex::new(SyncState {
                synced: next_lsn - 1,
                syncing: false,
                last_sync: Duration::ZERO,
            }),
            synced: Condvar::new(),
            gather: Gather {
                appended: AtomicU64::new(next_lsn - 1),
                ..Gather::default()
            },
        })
    }

    /// Appends one record whose payload follows [`FRAME_HEADER`] reserved
    /// bytes in `frame`, and returns its lsn and the bytes appended since
    /// the last checkpoint. `in_order` runs first, under the journal's
    /// mutex, so whatever it numbers (the change feed's positions) follows
    /// the records' order; it may fill the payload's [`STAMP`] bytes.
    ///
    /// # Errors
    /// The OS error of the write; part of the frame may be in the file (a
    /// torn tail that recovery cuts). `in_order` has run even then.
    pub(crate) fn append(
        &self,
        frame: &mut [u8],
        in_order: impl FnOnce(&mut [u8]),
    ) -> io::Result<(u64, u64)> {
        let mut active = self.active.lock();
        in_order(&mut frame[FRAME_HEADER..]);
        let lsn = active.next_lsn;
        seal(frame, lsn);
        active.file.append(frame)?;
        active.next_lsn += 1;
        self.gather.appended.store(lsn, Ordering::Relaxed);
        active.since_checkpoint += frame.len() as u64;
        Ok((lsn, active.since_checkpoint))
    }

    /// Returns once record `lsn` is durable, syncing as the leader of a
    /// group when no sync that covers it is under way.
    ///
    /// # Errors
    /// The OS error of the sync.
    pub(crate) fn sync_to(&self, lsn: u64) -> io::Result<()> {
        let mut state = self.sync.lock();
        loop {
            if state.synced >= lsn {
                return Ok(());
            }
            if state.syncing {
                self.synced.wait(&mut state);
                continue;
            }
            state.syncing = true;
            let deadline = Instant::now() + state.last_sync.min(MAX_GATHER);
            while self.more_coming(state.synced) && Instant::now() < deadline {
                parking_lot::MutexGuard::unlocked(&mut state, std::thread::yield_now);
            }
            let (result, upto, took) = parking_lot::MutexGuard::unlocked(&mut state, || {
                let (file, upto) = {
                    let active = self.active.lock();
                    (Arc::clone(&active.file), active.next_lsn - 1)
                };
                let started = Instant::now();
                (file.sync(), upto, started.elapsed())
            });
            state.syncing = false;
            state.last_sync = took;
            if result.is_ok() {
                state.synced = state.synced.max(upto);
            }
            self.synced.notify_all();
            result?;
        }
    }

    /// Whether a write call in progress may still append before the next
    /// sync: one whose record is not among those appended since `synced`
    /// and that is not blocked on a lock.
    fn more_coming(&self, synced: u64) -> bool {
        let appended = self.gather.appended.load(Ordering::Relaxed);
        let unsynced = usize::try_from(appended.saturating_sub(synced)).unwrap_or(usize::MAX);
        let writers = self.gather.writers.load(Ordering::Relaxed);
        let blocked = self.gather.blocked.load(Ordering::Relaxed);
        unsynced.saturating_add(blocked) < writers
    }

    /// The counts of write calls in progress.
    pub(crate) fn gather(&self) -> &Gather {
        &self.gather
    }

    /// Syncs everything appended so far.
    ///
    /// # Errors
    /// The OS error of the sync.
    pub(crate) fn sync_all(&self) -> io::Result<()> {
        let last = self.active.lock().next_lsn - 1;
        self.sync_to(last)
    }

    /// Syncs the active segment and starts segment `seq + 1`; returns the
    /// new segment's number. Records appended after this go to it.
    ///
    /// # Errors
    /// The OS error; the old segment stays active.
    pub(crate) fn rotate(&self) -> io::Result<u64> {
        let mut active = self.active.lock();
        active.file.sync()?;
        let seq = active.seq + 1;
        let file = new_segment(&*self.storage, &self.dir, seq, self.store_id)?;
        active.file = file;
        active.seq = seq;
        active.since_checkpoint = 0;
        let synced = active.next_lsn - 1;
        drop(active);
        let mut state = self.sync.lock();
        state.synced = state.synced.max(synced);
        self.synced.notify_all();
        Ok(seq)
    }

    /// The active segment and the lsn of the next record.
    pub(crate) fn position(&self) -> (u64, u64) {
        let active = self.active.lock();
        (active.seq, active.next_lsn)
    }
}

fn new_segment(
    storage: &dyn Storage,
    dir: &Path,
    seq: u64,
    store_id: u32,
) -> io::Result<Arc<dyn StorageFile>> {
    let file = storage.create(&dir.join(segment_name(seq)))?;
    file.append(&segment_header(seq, store_id))?;
    file.sync()?;
    storage.sync_dir(dir)?;
    Ok(Arc::from(file))
}
