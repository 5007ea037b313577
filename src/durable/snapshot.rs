//! Checkpoint snapshots: the whole state in one file.
//!
//! # Format
//!
//! A 32-byte header — the magic `ASSNAPSH`, the format version (u32 LE),
//! 4 zero bytes, the body length (u64 LE), the body's CRC-32 (u32 LE), a
//! CRC-32 of the 28 header bytes before it — then the body, every integer
//! a varint (signed ones zigzag), every string length-prefixed:
//!
//! 1. where replay resumes: the first journal segment and lsn after the
//!    snapshot, and the last instance association id handed out;
//! 2. the association kinds beyond the six built-ins;
//! 3. the models in key order: name, whether a committed write named it,
//!    highest instance id seen, display name and icon if defined;
//! 4. the model associations in id order (deleted ones too, flagged, so ids
//!    are never reused);
//! 5. per model, its registered instance ids ascending, as deltas; then the
//!    instance names;
//! 6. the instance associations in id order: id delta, model association
//!    key, source, target;
//! 7. the change feed's retained events (`src/durable/events.rs`).
//!
//! Why hand-written rows of varints rather than a serde binary format: an
//! association is (id, model association, source, target), 28 bytes in a
//! fixed-width encoding such as bincode's; as varints with the id as a
//! delta it is 1 + 1 + 2 × (bytes of an instance id), 8–10 bytes for ids
//! below 2²⁸. Measured on the peer workload (1,000,000 associations):
//! see the README's "Durability" section.

use super::codec::{DecodeError, Decoded, Reader, Writer};
use super::journal::{u32_at, u64_at};
use super::record::{AssocRow, decode_assoc, decode_kind, encode_assoc, encode_kind};
use crate::feed::Retained;
use crate::kind::AssociationKind;

const MAGIC: &[u8; 8] = b"ASSNAPSH";
/// The snapshot format this build writes and reads.
pub(crate) const SNAPSHOT_VERSION: u32 = 2;
/// Bytes in the header.
pub(crate) const HEADER: usize = 32;

/// The file name of the snapshot taken when segment `seq` began.
pub(crate) fn snapshot_name(seq: u64) -> String {
    format!("snapshot-{seq:016}.snap")
}

/// The sequence number in a snapshot's file name.
pub(crate) fn parse_snapshot_name(name: &str) -> Option<u64> {
    name.strip_prefix("snapshot-")?
        .strip_suffix(".snap")?
        .parse()
        .ok()
}

/// Where replay resumes after a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resume {
    /// The first journal segment not covered.
    pub(crate) segment: u64,
    /// The lsn of the first record not covered.
    pub(crate) lsn: u64,
    /// The last instance association id handed out.
    pub(crate) last_id: i64,
    /// The store's identity in its change-feed cursors.
    pub(crate) feed_id: u32,
    /// The change-feed position the next event gets.
    pub(crate) feed_next: u64,
    /// The last commit time handed out (unix ms).
    pub(crate) feed_time: u64,
}

/// One model as kept in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelRow {
    pub(crate) name: String,
    /// Named by a committed write (else interned by a call that failed).
    pub(crate) announced: bool,
    pub(crate) max_inst: i64,
    pub(crate) display: Option<(String, String)>,
}

/// Builds a snapshot body section by section, in the order above.
pub(crate) struct SnapshotWriter {
    w: Writer,
}

impl SnapshotWriter {
    pub(crate) fn new(resume: Resume) -> SnapshotWriter {
        let mut w = Writer {
            buf: vec![0; HEADER],
        };
        w.u64(resume.segment);
        w.u64(resume.lsn);
        w.i64(resume.last_id);
        w.u64(u64::from(resume.feed_id));
        w.u64(resume.feed_next);
        w.u64(resume.feed_time);
        SnapshotWriter { w }
    }

    pub(crate) fn kinds(&mut self, kinds: &[AssociationKind]) {
        self.w.u64(kinds.len() as u64);
        for k in kinds {
            encode_kind(k, &mut self.w);
        }
    }

    pub(crate) fn models(&mut self, models: &[ModelRow]) {
        self.w.u64(models.len() as u64);
        for m in models {
            self.w.str(&m.name);
            self.w.bool(m.announced);
            self.w.i64(m.max_inst);
            match &m.display {
                Some((name, icon)) => {
                    self.w.bool(true);
                    self.w.str(name);
                    self.w.str(icon);
                }
                None => self.w.bool(false),
            }
        }
    }

    pub(crate) fn assocs(&mut self, assocs: &[(AssocRow, bool)]) {
        self.w.u64(assocs.len() as u64);
        for (a, deleted) in assocs {
            encode_assoc(a, &mut self.w);
            self.w.bool(*deleted);
        }
    }

    /// Per model (in key order) its instance ids, ascending; then the names.
    pub(crate) fn instances(&mut self, per_model: &[Vec<i64>], names: &[(u32, i64, String)]) {
        self.w.u64(per_model.len() as u64);
        for ids in per_model {
            self.w.u64(ids.len() as u64);
            let mut prev = 0i64;
            for &id in ids {
                self.w.i64(id.wrapping_sub(prev));
                prev = id;
            }
        }
        self.w.u64(names.len() as u64);
        for (model, inst, name) in names {
            self.w.u64(u64::from(*model));
            self.w.i64(*inst);
            self.w.str(name);
        }
    }

    /// The record count, then each record in ascending id order.
    pub(crate) fn records(&mut self, count: usize, fill: impl FnOnce(&mut RecordWriter<'_>)) {
        self.w.u64(count as u64);
        let mut rw = RecordWriter {
            w: &mut self.w,
            prev: 0,
            written: 0,
        };
        fill(&mut rw);
        debug_assert_eq!(rw.written, count);
    }

    /// The change feed's retained events, the first at position `base`
    /// (after the records: the last section).
    pub(crate) fn events(&mut self, base: u64, events: &[Retained]) {
        super::events::encode(base, events, &mut self.w);
    }

    /// The finished file: header and body.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut buf = self.w.buf;
        let body_len = (buf.len() - HEADER) as u64;
        let body_crc = crc32fast::hash(&buf[HEADER..]);
        buf[..8].copy_from_slice(MAGIC);
        buf[8..12].copy_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        buf[16..24].copy_from_slice(&body_len.to_le_bytes());
        buf[24..28].copy_from_slice(&body_crc.to_le_bytes());
        let header_crc = crc32fast::hash(&buf[..28]);
        buf[28..32].copy_from_slice(&header_crc.to_le_bytes());
        buf
    }
}

/// Writes records one by one, ids ascending.
pub(crate) struct RecordWriter<'a> {
    w: &'a mut Writer,
    prev: i64,
    written: usize,
}

impl RecordWriter<'_> {
    pub(crate) fn push(&mut self, id: i64, assoc_key: u32, src: i64, dst: i64) {
        self.w.i64(id - self.prev);
        self.w.u64(u64::from(assoc_key));
        self.w.i64(src);
        self.w.i64(dst);
        self.prev = id;
        self.written += 1;
    }
}

/// Why a snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SnapshotError {
    /// Damaged: what and where.
    Corrupt(DecodeError),
    /// Written by another format version.
    Version(u32),
}

/// A decoded snapshot; the records are read on demand.
pub(crate) struct Snapshot<'a> {
    pub(crate) resume: Resume,
    pub(crate) kinds: Vec<AssociationKind>,
    pub(crate) models: Vec<ModelRow>,
    pub(crate) assocs: Vec<(AssocRow, bool)>,
    pub(crate) instances: Vec<Vec<i64>>,
    pub(crate) names: Vec<(u32, i64, String)>,
    pub(crate) record_count: usize,
    records: Reader<'a>,
    prev: i64,
}

fn corrupt<T>(offset: u64, what: &str) -> Result<T, SnapshotError> {
    Err(SnapshotError::Corrupt(DecodeError {
        offset,
        what: what.to_owned(),
    }))
}

impl<'a> Snapshot<'a> {
    /// Verifies the header and checksum and decodes everything but the
    /// records.
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<Snapshot<'a>, SnapshotError> {
        let Some(h) = bytes.get(..HEADER) else {
            return corrupt(0, "snapshot shorter than its header");
        };
        if &h[..8] != MAGIC {
            return corrupt(0, "not a snapshot (bad magic)");
        }
        if crc32fast::hash(&h[..28]) != u32_at(h, 28) {
            return corrupt(28, "snapshot header checksum mismatch");
        }
        let version = u32_at(h, 8);
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version(version));
        }
        let body = &bytes[HEADER..];
        if u64_at(h, 16) != body.len() as u64 {
            return corrupt(16, "snapshot length does not match its header");
        }
        if crc32fast::hash(body) != u32_at(h, 24) {
            return corrupt(HEADER as u64, "snapshot body checksum mismatch");
        }
        let mut r = Reader::new(body, HEADER as u64);
        Snapshot::sections(&mut r)
            .map(|mut s| {
                s.records = r;
                s
            })
            .map_err(SnapshotError::Corrupt)
    }

    fn sections(r: &mut Reader<'a>) -> Decoded<Snapshot<'a>> {
        let resume = Resume {
            segment: r.u64()?,
            lsn: r.u64()?,
            last_id: r.i64()?,
            feed_id: u32::try_from(r.u64()?).unwrap_or(0),
            feed_next: r.u64()?,
            feed_time: r.u64()?,
        };
        let n = r.count(6)?;
        let kinds = (0..n).map(|_| decode_kind(r)).collect::<Decoded<_>>()?;
        let n = r.count(3)?;
        let mut models = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.str()?;
            let announced = r.bool()?;
            let max_inst = r.i64()?;
            let display = if r.bool()? {
                Some((r.str()?, r.str()?))
            } else {
                None
            };
            models.push(ModelRow {
                name,
                announced,
                max_inst,
                display,
            });
        }
        let n = r.count(9)?;
        let mut assocs = Vec::with_capacity(n);
        for _ in 0..n {
            let row = decode_assoc(r)?;
            assocs.push((row, r.bool()?));
        }
        let n = r.count(1)?;
        let mut instances = Vec::with_capacity(n);
        for _ in 0..n {
            let count = r.count(1)?;
            let mut ids = Vec::with_capacity(count);
            let mut prev = 0i64;
            for _ in 0..count {
                prev = prev.wrapping_add(r.i64()?);
                ids.push(prev);
            }
            instances.push(ids);
        }
        let n = r.count(3)?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            let model = r.u64()?;
            let Ok(model) = u32::try_from(model) else {
                return r.fail("model key out of range");
            };
            names.push((model, r.i64()?, r.str()?));
        }
        let record_count = r.count(4)?;
        Ok(Snapshot {
            resume,
            kinds,
            models,
            assocs,
            instances,
            names,
            record_count,
            records: Reader::new(&[], 0),
            prev: 0,
        })
    }

    /// The next record: (id, model association key, source, target).
    pub(crate) fn next_record(&mut self) -> Decoded<(i64, u32, i64, i64)> {
        let id = self.prev.wrapping_add(self.records.i64()?);
        if id <= self.prev {
            return self.records.fail("record ids do not ascend");
        }
        let key = self.records.u64()?;
        let Ok(key) = u32::try_from(key) else {
            return self.records.fail("model association key out of range");
        };
        let rec = (id, key, self.records.i64()?, self.records.i64()?);
        self.prev = id;
        Ok(rec)
    }

    /// The change feed's retained events, read after the last record.
    pub(crate) fn events(&mut self) -> Decoded<(u64, Vec<Retained>)> {
        super::events::decode(&mut self.records)
    }

    /// Checks that the events are followed by nothing.
    pub(crate) fn finish(&self) -> Decoded<()> {
        if self.records.is_empty() {
            Ok(())
        } else {
            self.records.fail("bytes after the last event")
        }
    }
}
