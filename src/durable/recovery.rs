//! Recovery, file by file: which snapshot to load, which journal segments
//! follow it, and which records in them are valid.
//!
//! The rules:
//!
//! * the newest snapshot that verifies is used; an older one only if the
//!   newer ones are damaged and every segment from the older one's on is
//!   present; no snapshot at all means the journal starts at segment 1;
//! * segments must follow the snapshot without a gap, and their records
//!   must number on without a gap;
//! * a record that does not verify (short, or checksum mismatch) is a *torn
//!   tail* only if it is in the last segment and no valid record follows it
//!   anywhere in that segment: the trace of a crash during a write that was
//!   never acknowledged. It is cut and reported. Any other damage, and any
//!   unknown format version, refuses the open with the file and byte offset,
//!   and no file is changed.

use std::path::{Path, PathBuf};

use super::io::Storage;
use super::journal::{
    FRAME_HEADER, Frame, Header, SEGMENT_HEADER, frame_at, parse_segment_name, read_header,
    valid_frame_after,
};
use super::snapshot::{Snapshot, SnapshotError, parse_snapshot_name};
use crate::error::OpenFailure;

/// A file read whole.
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) seq: u64,
    pub(crate) bytes: Vec<u8>,
}

/// What the directory holds, chosen and read.
pub(crate) struct Found {
    /// The snapshot to load, if any.
    pub(crate) snapshot: Option<Loaded>,
    /// The segments to replay, in order.
    pub(crate) segments: Vec<Loaded>,
    /// Files a successful open may delete: leftover temporary files,
    /// snapshots and segments older than the chosen snapshot.
    pub(crate) stale: Vec<PathBuf>,
    /// The highest segment number present (the next one starts above it).
    pub(crate) last_seq: u64,
}

pub(crate) fn io_failure(op: &str, path: &Path, err: &std::io::Error) -> OpenFailure {
    OpenFailure::Io {
        op: format!("{op} {}", path.display()),
        message: err.to_string(),
    }
}

pub(crate) fn corrupt(path: &Path, offset: u64, what: impl Into<String>) -> OpenFailure {
    OpenFailure::Corrupt {
        file: path.to_path_buf(),
        offset,
        what: what.into(),
    }
}

fn snapshot_failure(path: &Path, err: SnapshotError) -> OpenFailure {
    match err {
        SnapshotError::Corrupt(e) => corrupt(path, e.offset, e.what),
        SnapshotError::Version(version) => OpenFailure::UnsupportedVersion {
            file: path.to_path_buf(),
            version,
        },
    }
}

/// Lists `dir` and reads the snapshot and segments recovery needs.
pub(crate) fn find(storage: &dyn Storage, dir: &Path) -> Result<Found, OpenFailure> {
    let names = storage.list(dir).map_err(|e| io_failure("list", dir, &e))?;
    let mut snapshots: Vec<u64> = names
        .iter()
        .filter_map(|n| parse_snapshot_name(n))
        .collect();
    let mut segments: Vec<u64> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    snapshots.sort_unstable();
    segments.sort_unstable();
    let read = |name: String, seq: u64| -> Result<Loaded, OpenFailure> {
        let path = dir.join(name);
        let bytes = storage
            .read(&path)
            .map_err(|e| io_failure("read", &path, &e))?;
        Ok(Loaded { path, seq, bytes })
    };
    // Segments from `from` on, if none is missing.
    let chain = |from: u64| -> Option<Vec<u64>> {
        let tail: Vec<u64> = segments.iter().copied().filter(|&s| s >= from).collect();
        let contiguous = tail.iter().zip(from..).all(|(&s, want)| s == want);
        (contiguous && tail.first() == Some(&from)).then_some(tail)
    };

    let mut chosen: Option<Loaded> = None;
    let mut newest_failure: Option<OpenFailure> = None;
    for &seq in snapshots.iter().rev() {
        let loaded = read(super::snapshot::snapshot_name(seq), seq)?;
        match Snapshot::decode(&loaded.bytes) {
            Ok(_) if newest_failure.is_none() || chain(seq).is_some() => {
                chosen = Some(loaded);
                break;
            }
            Ok(_) => {}
            Err(e) => {
                let failure = snapshot_failure(&loaded.path, e);
                newest_failure.get_or_insert(failure);
            }
        }
    }
    if let (None, Some(failure)) = (&chosen, newest_failure) {
        return Err(failure);
    }
    let from = chosen.as_ref().map_or(1, |s| s.seq);
    let to_replay = match chain(from) {
        Some(chain) => chain,
        None if segments.iter().all(|&s| s < from) && chosen.is_none() => Vec::new(),
        None => {
            let missing = (from..=from + segments.len() as u64)
                .find(|s| !segments.contains(s))
                .unwrap_or(from);
            return Err(corrupt(
                &dir.join(super::journal::segment_name(missing)),
                0,
                "journal segment missing",
            ));
        }
    };
    let mut stale: Vec<PathBuf> = names
        .iter()
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tmp"))
        })
        .map(|n| dir.join(n))
        .collect();
    stale.extend(
        snapshots
            .iter()
            .filter(|&&s| s < from)
            .map(|&s| dir.join(super::snapshot::snapshot_name(s))),
    );
    stale.extend(
        segments
            .iter()
            .filter(|&&s| s < from)
            .map(|&s| dir.join(super::journal::segment_name(s))),
    );
    let loaded = to_replay
        .iter()
        .map(|&seq| read(super::journal::segment_name(seq), seq))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Found {
        snapshot: chosen,
        segments: loaded,
        stale,
        last_seq: segments.last().copied().unwrap_or(0).max(from - 1),
    })
}

/// The valid records of one segment, and where its torn tail starts.
pub(crate) struct Scanned<'a> {
    pub(crate) frames: Vec<Frame<'a>>,
    /// Bytes from here to the end are a torn tail, to be cut (`None`: the
    /// segment is whole). `Some(0)`: the header itself is torn.
    pub(crate) torn_at: Option<usize>,
}

/// Reads segment `seg`, whose first record must be `first_lsn`. Only the
/// last segment may end in a torn tail.
pub(crate) fn scan(seg: &Loaded, last: bool, first_lsn: u64) -> Result<Scanned<'_>, OpenFailure> {
    let bytes = &seg.bytes;
    let path = &seg.path;
    // Any record that could follow damage at `at`.
    let later = |at: usize, lsn: u64| {
        let most = (bytes.len() / FRAME_HEADER) as u64;
        valid_frame_after(bytes, at, lsn..=lsn.saturating_add(most))
    };
    match read_header(bytes) {
        Header::Valid(seq, _) if seq == seg.seq => {}
        Header::Valid(seq, _) => {
            return Err(corrupt(
                path,
                16,
                format!("segment header says segment {seq}"),
            ));
        }
        Header::Version(version) => {
            return Err(OpenFailure::UnsupportedVersion {
                file: path.clone(),
                version,
            });
        }
        Header::Bad if last && later(1, first_lsn).is_none() => {
            return Ok(Scanned {
                frames: Vec::new(),
                torn_at: Some(0),
            });
        }
        Header::Bad => return Err(corrupt(path, 0, "segment header does not verify")),
    }
    let mut frames = Vec::new();
    let mut at = SEGMENT_HEADER;
    let mut lsn = first_lsn;
    while at < bytes.len() {
        match frame_at(bytes, at) {
            Some(frame) if frame.lsn == lsn => {
                at += FRAME_HEADER + frame.payload.len();
                lsn += 1;
                frames.push(frame);
            }
            Some(frame) => {
                return Err(corrupt(
                    path,
                    at as u64,
                    format!("record {} where record {lsn} was due", frame.lsn),
                ));
            }
            None if last && later(at + 1, lsn).is_none() => {
                return Ok(Scanned {
                    frames,
                    torn_at: Some(at),
                });
            }
            None => {
                let what = if last {
                    "record does not verify, and valid records follow it"
                } else {
                    "record does not verify in a segment that is not the last"
                };
                return Err(corrupt(path, at as u64, what));
            }
        }
    }
    Ok(Scanned {
        frames,
        torn_at: None,
    })
}
