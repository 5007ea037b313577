//! Opening a durable store: lock the directory, load the newest snapshot,
//! replay the journal after it through the commit step's [`Store::apply_effect`],
//! cut a torn tail, start a new journal segment.
//!
//! Every file is read and verified, and every record decoded and applied in
//! memory, before anything on disk changes: an open that refuses leaves the
//! directory exactly as it found it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::commit::Held;
use super::{Store, StoreBuilder};
use crate::catalog::{AssocDraft, Catalog};
use crate::durable::codec::Reader;
use crate::durable::io::{FileStorage, Storage};
use crate::durable::journal::{FRAME_HEADER, Header, Journal, STAMP, read_header, u64_at};
use crate::durable::record::{AssocRow, Logged, decode};
use crate::durable::recovery::{self, Loaded, corrupt, io_failure};
use crate::durable::snapshot::Resume;
use crate::durable::{Durable, OpenReport};
use crate::effect::Effect;
use crate::error::{Error, OpenFailure, Result};
use crate::feed::Feed;
use crate::index::{MAX_RECORD_ID, Shard, StoredRecord};
use crate::keys::ModelKey;
use crate::mapping;

impl StoreBuilder {
    /// Opens (or creates) the durable store in the directory set with
    /// [`StoreBuilder::path`], recovering its state: the newest snapshot,
    /// then the journal after it. A torn record at the very end of the
    /// journal (a crash during a write that was never acknowledged) is cut
    /// and reported in [`Store::open_report`].
    ///
    /// ```
    /// use assocstore::{Durability, Store};
    /// let dir = std::env::temp_dir().join(format!("assocstore-doc-open-{}", std::process::id()));
    /// let store = Store::builder().path(&dir).durability(Durability::Immediate).open()?;
    /// store.register_instance("host", Some(1), None)?;
    /// drop(store);
    /// let store = Store::open(&dir)?;
    /// assert!(store.instance_exists("host", 1));
    /// # drop(store); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199006 naming `path` when no directory was set (and the
    /// [`StoreBuilder::build`] errors); 1199031 `'<dir>' initialization
    /// failed` when the directory is locked by another store, a file does
    /// not verify (the [`OpenFailure`] from `source()` names the file and
    /// byte offset), a file has an unknown format version, or the OS refuses
    /// an operation.
    pub fn open(mut self) -> Result<Store> {
        let started = Instant::now();
        // A writer at `Immediate` holds its shards through its sync, so
        // writers that share a shard cannot share a sync: more shards let
        // more concurrent writers commit together (8 threads of single
        // creates on 2 cores: 1.2x one thread's rate with 8 shards, 2.5-3.3x
        // with 64, 3.3-3.5x with 512; a batch locks more shards the more
        // there are: Eventual bulk load 0.96x the in-memory rate with 8,
        // about 0.8x with 64).
        self.shards = Some(
            self.shards
                .unwrap_or_else(|| super::default_shards().max(DURABLE_MIN_SHARDS)),
        );
        let Some(dir) = self.path.clone() else {
            return Err(Error::invalid("path"));
        };
        let storage = self
            .storage
            .clone()
            .unwrap_or_else(|| Arc::new(FileStorage));
        let (level, checkpoint_bytes) = (self.durability, self.checkpoint_bytes);
        let mut store = self.build()?;
        let fail = |cause: OpenFailure| Error::OpenFailed {
            dir: dir.display().to_string(),
            cause,
        };
        storage
            .create_dir_all(&dir)
            .map_err(|e| fail(io_failure("create", &dir, &e)))?;
        let lock = storage.lock(&dir).map_err(|e| {
            fail(if e.kind() == std::io::ErrorKind::WouldBlock {
                OpenFailure::Locked
            } else {
                io_failure("lock", &dir, &e)
            })
        })?;
        let found = recovery::find(&*storage, &dir).map_err(fail)?;
        let mut report = OpenReport::default();
        let mut resume = Resume {
            segment: 1,
            lsn: 1,
            last_id: 0,
            feed_id: found
                .segments
                .iter()
                .find_map(|seg| match read_header(&seg.bytes) {
                    Header::Valid(_, id) => Some(id),
                    _ => None,
                })
                .unwrap_or_else(|| storage.new_store_id()),
            feed_next: 1,
            feed_time: 0,
        };
        match &found.snapshot {
            Some(snap) => {
                let (r, n) = store.restore(snap).map_err(fail)?;
                resume = r;
                report.snapshot = Some(snap.path.clone());
                report.snapshot_records = n;
            }
            None => store.feed = Feed::new(resume.feed_id, store.feed.retention(), 1, 0),
        }
        let mut scans = Vec::with_capacity(found.segments.len());
        let mut lsn = resume.lsn;
        for (i, seg) in found.segments.iter().enumerate() {
            let last = i + 1 == found.segments.len();
            let scanned = recovery::scan(seg, last, lsn).map_err(fail)?;
            lsn += scanned.frames.len() as u64;
            report.records_replayed += scanned.frames.len() as u64;
            scans.push(scanned);
        }
        store.replay(&found.segments, &scans).map_err(fail)?;
        report.segments = found.segments.len() as u64;
        // Everything verified: now the directory may change.
        if let Some((seg, scanned)) = found.segments.last().zip(scans.last())
            && let Some(at) = scanned.torn_at
        {
            cut(&*storage, &seg.path, at).map_err(fail)?;
            report.bytes_cut = (seg.bytes.len() - at) as u64;
            report.cut_file = Some(seg.path.clone());
        }
        for path in &found.stale {
            storage
                .remove(path)
                .map_err(|e| fail(io_failure("remove", path, &e)))?;
        }
        // A segment whose header was torn is removed, and its number reused:
        // segments must follow each other without a gap.
        let header_torn = scans.last().is_some_and(|s| s.torn_at == Some(0));
        let next_seq = found.last_seq + u64::from(!header_torn);
        let journal = Journal::create(Arc::clone(&storage), &dir, next_seq, lsn, resume.feed_id)
            .map_err(|e| fail(io_failure("create journal segment in", &dir, &e)))?;
        report.elapsed = started.elapsed();
        store.durable = Some(Durable::new(
            dir,
            storage,
            level,
            checkpoint_bytes,
            journal,
            report,
            lock,
        ));
        Ok(store)
    }
}

/// Whether instance `inst` of `model` is an endpoint of any record (whose
/// postings all live in its shard).
fn linked(catalog: &Catalog, shard: &Shard, model: ModelKey, inst: i64) -> bool {
    catalog.live().any(|a| {
        (a.src_model == model && !shard.out.get(a.key, inst).is_empty())
            || (a.dst_model == model && !shard.inn.get(a.key, inst).is_empty())
    })
}

/// The fewest shards a durable store gets by default.
const DURABLE_MIN_SHARDS: usize = 64;

/// Cuts a torn tail: the whole file when its header is torn.
fn cut(storage: &dyn Storage, path: &Path, at: usize) -> Result<(), OpenFailure> {
    let done = if at == 0 {
        storage.remove(path)
    } else {
        storage.truncate(path, at as u64)
    };
    done.map_err(|e| io_failure("cut the torn tail of", path, &e))
}

/// Where a replayed record came from, for error messages.
pub(super) struct Origin<'a> {
    pub(super) path: &'a PathBuf,
    pub(super) offset: u64,
}

impl Origin<'_> {
    pub(super) fn corrupt(&self, what: impl Into<String>) -> OpenFailure {
        corrupt(self.path, self.offset, what)
    }
}

impl Store {
    /// Opens the durable store in `dir` with the default settings
    /// ([`Durability::Immediate`](crate::Durability::Immediate), a checkpoint
    /// every 64 MiB of journal); see [`StoreBuilder::open`].
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("assocstore-doc-store-open-{}", std::process::id()));
    /// let store = assocstore::Store::open(&dir)?;
    /// let second = assocstore::Store::open(&dir).unwrap_err();
    /// assert_eq!(second.code(), 1_199_031);
    /// # drop(store); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`StoreBuilder::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::builder().path(dir.as_ref()).open()
    }

    /// Replays the valid records of every segment, in order.
    fn replay(
        &self,
        segments: &[Loaded],
        scans: &[recovery::Scanned<'_>],
    ) -> Result<(), OpenFailure> {
        let mut catalog = self.catalog.write();
        let mut all = self.write_all();
        let mut held = Held {
            catalog: Some(&mut catalog),
            shards: Some(&mut all),
        };
        for (seg, scanned) in segments.iter().zip(scans) {
            for frame in &scanned.frames {
                let origin = Origin {
                    path: &seg.path,
                    offset: frame.offset as u64,
                };
                let Some((stamp, payload)) = frame.payload.split_at_checked(STAMP) else {
                    return Err(origin.corrupt("a record shorter than its stamp"));
                };
                let time = u64_at(stamp, 0);
                let position = u64_at(stamp, 8);
                let base = (frame.offset + FRAME_HEADER + STAMP) as u64;
                let mut r = Reader::new(payload, base);
                let logged = decode(&mut r).map_err(|d| corrupt(&seg.path, d.offset, d.what))?;
                // Positions ascend and commit times never decrease along
                // the journal, as the append mutex hands them out.
                let (next, last_time) = self.feed.position();
                if position < next {
                    return Err(origin.corrupt(format!(
                        "change-feed position {position} after {next} was handed out"
                    )));
                }
                if time < last_time {
                    return Err(origin.corrupt(format!(
                        "commit time {time} before the previous record's {last_time}"
                    )));
                }
                let effects = self.replay_logged(&mut held, logged, &origin)?;
                // Positions a failed commit reserved left no record: void.
                self.feed.advance_to(position);
                self.feed.publish(Some((position, time)), &effects);
            }
        }
        Ok(())
    }

    /// Resolves and applies decoded effects one by one (each sees the ones
    /// before it).
    pub(super) fn replay_logged(
        &self,
        held: &mut Held<'_, '_, '_>,
        logged: Vec<Logged>,
        origin: &Origin<'_>,
    ) -> Result<Vec<Effect>, OpenFailure> {
        let mut effects = Vec::with_capacity(logged.len());
        for l in logged {
            let (Some(catalog), Some(set)) = (held.catalog.as_deref(), held.shards.as_deref())
            else {
                return Err(origin.corrupt("internal: locks not held"));
            };
            let effect = self.resolve(catalog, set, l, origin)?;
            self.apply_effect(held, &effect);
            effects.push(effect);
        }
        Ok(effects)
    }

    /// Turns a decoded effect into one [`Store::apply_effect`] takes, refusing one
    /// that the state it applies to could not have produced (so a damaged
    /// but checksum-valid record can never break an index).
    pub(super) fn resolve(
        &self,
        catalog: &Catalog,
        set: &super::locks::WriteSet<'_>,
        l: Logged,
        origin: &Origin<'_>,
    ) -> Result<Effect, OpenFailure> {
        Ok(match l {
            Logged::AddKind(kind) => {
                let want = kind.id;
                match catalog.check_kind(kind) {
                    Ok(k) if k.id == want => Effect::AddKind(k),
                    _ => {
                        return Err(origin.corrupt(format!("association kind {want} out of order")));
                    }
                }
            }
            Logged::AddModelAssociation(row) => self.resolve_assoc(catalog, &row, origin)?,
            Logged::DeleteModelAssociation(id) => match catalog.by_id(id) {
                Some(entry) if entry.live() == 0 => Effect::DeleteModelAssociation(entry),
                _ => {
                    return Err(origin.corrupt(format!("model association {id} cannot be deleted")));
                }
            },
            Logged::UseModel(model) => {
                if model.is_empty() {
                    return Err(origin.corrupt("empty model id"));
                }
                Effect::UseModel(self.models.intern(&model))
            }
            Logged::DefineModel { model, name, icon } => {
                if model.is_empty() {
                    return Err(origin.corrupt("empty model id"));
                }
                Effect::DefineModel {
                    model: self.models.intern(&model),
                    name,
                    icon,
                }
            }
            Logged::Register { model, inst, name } => {
                let entry = self.models.intern(&model);
                if model.is_empty()
                    || inst <= 0
                    || set
                        .get(self.shard_index(inst))
                        .has_instance(entry.key, inst)
                {
                    return Err(
                        origin.corrupt(format!("instance {model}/{inst} cannot be registered"))
                    );
                }
                Effect::Register {
                    model: entry,
                    inst,
                    name: name.map(Box::from),
                }
            }
            Logged::Unregister { model, inst } => {
                let shard = set.get(self.shard_index(inst));
                match self.models.lookup(&model) {
                    Some(entry)
                        if shard.has_instance(entry.key, inst)
                            && !linked(catalog, shard, entry.key, inst) =>
                    {
                        Effect::Unregister { model: entry, inst }
                    }
                    _ => {
                        return Err(origin
                            .corrupt(format!("instance {model}/{inst} cannot be unregistered")));
                    }
                }
            }
            Logged::Link {
                assoc,
                id,
                src,
                dst,
            } => self.resolve_link(catalog, set, assoc, id, (src, dst), origin)?,
            Logged::Unlink {
                assoc,
                id,
                src,
                dst,
            } => {
                let entry = catalog.by_id(assoc).ok_or_else(|| {
                    origin.corrupt(format!("record {id}: unknown model association"))
                })?;
                let rec = StoredRecord {
                    assoc: entry.key,
                    src,
                    dst,
                };
                if self.records.get(id) != Some(rec) {
                    return Err(origin.corrupt(format!("record {id} is not there to remove")));
                }
                Effect::Unlink {
                    assoc: entry,
                    id,
                    src,
                    dst,
                }
            }
        })
    }

    /// A replayed link, refused unless a create could have made it here:
    /// a fresh id above every id in its two posting lists, both endpoints
    /// registered, no such triple, the mapping respected.
    fn resolve_link(
        &self,
        catalog: &Catalog,
        set: &super::locks::WriteSet<'_>,
        assoc: i64,
        id: i64,
        (src, dst): (i64, i64),
        origin: &Origin<'_>,
    ) -> Result<Effect, OpenFailure> {
        let entry = catalog
            .by_id(assoc)
            .ok_or_else(|| origin.corrupt(format!("record {id}: unknown model association")))?;
        let facts = self.probe(set, &entry, src, dst);
        let ascends = facts.newest.is_none_or(|l| l < id);
        let fresh = (1..=MAX_RECORD_ID).contains(&id) && self.records.is_unwritten(id);
        let allowed = mapping::check(entry.mapping, facts.src_is_source, facts.dst_is_target);
        if !(fresh
            && ascends
            && facts.triple.is_none()
            && facts.src_registered
            && facts.dst_registered
            && allowed.is_ok())
        {
            return Err(origin.corrupt(format!("record {id} cannot be created here")));
        }
        // A live write advanced the id sequence when it handed `id` out.
        self.last_id
            .fetch_max(id, std::sync::atomic::Ordering::AcqRel);
        Ok(Effect::Link {
            assoc: entry,
            id,
            src,
            dst,
            slots: Some(facts.slots),
        })
    }

    /// A replayed model association, refused unless it gets the id it had.
    fn resolve_assoc(
        &self,
        catalog: &Catalog,
        row: &AssocRow,
        origin: &Origin<'_>,
    ) -> Result<Effect, OpenFailure> {
        let draft = AssocDraft {
            obj_asst_id: &row.obj_asst_id,
            name: &row.name,
            src: self.models.intern(&row.src),
            dst: self.models.intern(&row.dst),
            kind: &row.kind,
            mapping: row.mapping,
            on_delete: row.on_delete,
        };
        match catalog.check_assoc(&draft) {
            Ok(entry) if entry.id == row.id => Ok(Effect::AddModelAssociation(entry)),
            _ => Err(origin.corrupt(format!(
                "model association {} cannot be created here",
                row.id
            ))),
        }
    }
}
