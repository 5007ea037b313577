//! Opening a durable store: lock the directory, load the newest snapshot,
//! replay the journal after it through the commit step's [`Store::apply`],
//! cut a torn tail, start a new journal segment.
//!
//! Every file is read and verified, and every record decoded and applied in
//! memory, before anything on disk changes: an open that refuses leaves the
//! directory exactly as it found it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::commit::Held;
use super::{Store, StoreBuilder};
use crate::catalog::{AssocDraft, Catalog};
use crate::durable::codec::Reader;
use crate::durable::io::{FileStorage, Storage};
use crate::durable::journal::{FRAME_HEADER, Journal};
use crate::durable::record::{AssocRow, Logged, decode};
use crate::durable::recovery::{self, Loaded, corrupt, io_failure};
use crate::durable::snapshot::{Resume, Snapshot};
use crate::durable::{Durable, OpenReport};
use crate::effect::Effect;
use crate::error::{Error, OpenFailure, Result};
use crate::index::{MAX_RECORD_ID, StoredRecord};
use crate::keys::AssocKey;
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
    pub fn open(self) -> Result<Store> {
        let started = Instant::now();
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
        };
        if let Some(snap) = &found.snapshot {
            let (r, n) = store.restore(snap).map_err(fail)?;
            resume = r;
            report.snapshot = Some(snap.path.clone());
            report.snapshot_records = n;
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
        let next_seq = found.last_seq + 1;
        let journal = Journal::create(Arc::clone(&storage), &dir, next_seq, lsn)
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
struct Origin<'a> {
    path: &'a PathBuf,
    offset: u64,
}

impl Origin<'_> {
    fn corrupt(&self, what: impl Into<String>) -> OpenFailure {
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

    /// Loads a snapshot into this empty store; returns where replay resumes
    /// and how many records it held.
    fn restore(&self, snap: &Loaded) -> Result<(Resume, u64), OpenFailure> {
        let mut s = Snapshot::decode(&snap.bytes).map_err(|e| match e {
            crate::durable::snapshot::SnapshotError::Corrupt(d) => {
                corrupt(&snap.path, d.offset, d.what)
            }
            crate::durable::snapshot::SnapshotError::Version(version) => {
                OpenFailure::UnsupportedVersion {
                    file: snap.path.clone(),
                    version,
                }
            }
        })?;
        let origin = Origin {
            path: &snap.path,
            offset: 0,
        };
        let mut logged = Vec::new();
        logged.extend(s.kinds.iter().cloned().map(Logged::AddKind));
        let mut models = Vec::with_capacity(s.models.len());
        for m in &s.models {
            let model = self.models.intern(&m.name);
            model.observe(m.max_inst);
            if let Some((name, icon)) = &m.display {
                model.set_display(name, icon);
            }
            models.push(model);
        }
        for (row, deleted) in &s.assocs {
            logged.push(Logged::AddModelAssociation(row.clone()));
            if *deleted {
                logged.push(Logged::DeleteModelAssociation(row.id));
            }
        }
        for (key, ids) in s.instances.iter().enumerate() {
            let model = models
                .get(key)
                .ok_or_else(|| origin.corrupt("instances of an unknown model"))?;
            logged.extend(ids.iter().map(|&inst| Logged::Register {
                model: model.name.to_string(),
                inst,
                name: None,
            }));
        }
        let mut catalog = self.catalog.write();
        let mut all = self.write_all();
        let mut held = Held {
            catalog: Some(&mut catalog),
            shards: Some(&mut all),
        };
        self.replay_logged(&mut held, logged, &origin)?;
        for (key, inst, name) in &s.names {
            let model = models
                .get(*key as usize)
                .ok_or_else(|| origin.corrupt("a name of an unknown model"))?;
            let shard = all.get_mut(self.shard_index(*inst));
            if !shard.has_instance(model.key, *inst) {
                return Err(origin.corrupt("a name of an unregistered instance"));
            }
            shard.unregister(model.key, *inst);
            shard.register(model.key, *inst, Some(name));
        }
        let count = s.record_count;
        for _ in 0..count {
            let (id, key, src, dst) = s
                .next_record()
                .map_err(|d| corrupt(&snap.path, d.offset, d.what))?;
            let assoc = catalog
                .entry(AssocKey(key))
                .cloned()
                .ok_or_else(|| origin.corrupt(format!("record {id}: unknown model association")))?;
            let link = Logged::Link {
                assoc: assoc.id,
                id,
                src,
                dst,
            };
            let effect = self.resolve(&catalog, &all, link, &origin)?;
            let mut held = Held::shards(&mut all);
            self.apply(&mut held, &effect);
        }
        s.finish()
            .map_err(|d| corrupt(&snap.path, d.offset, d.what))?;
        self.last_id.fetch_max(s.resume.last_id, Ordering::AcqRel);
        Ok((s.resume, count as u64))
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
                let base = (frame.offset + FRAME_HEADER) as u64;
                let mut r = Reader::new(frame.payload, base);
                let logged = decode(&mut r).map_err(|d| corrupt(&seg.path, d.offset, d.what))?;
                let origin = Origin {
                    path: &seg.path,
                    offset: frame.offset as u64,
                };
                self.replay_logged(&mut held, logged, &origin)?;
            }
        }
        Ok(())
    }

    /// Resolves and applies decoded effects one by one (each sees the ones
    /// before it).
    fn replay_logged(
        &self,
        held: &mut Held<'_, '_, '_>,
        logged: Vec<Logged>,
        origin: &Origin<'_>,
    ) -> Result<(), OpenFailure> {
        for l in logged {
            let (Some(catalog), Some(set)) = (held.catalog.as_deref(), held.shards.as_deref())
            else {
                return Err(origin.corrupt("internal: locks not held"));
            };
            let effect = self.resolve(catalog, set, l, origin)?;
            self.apply(held, &effect);
        }
        Ok(())
    }

    /// Turns a decoded effect into one [`Store::apply`] takes, refusing one
    /// that the state it applies to could not have produced (so a damaged
    /// but checksum-valid record can never break an index).
    fn resolve(
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
            Logged::Unregister { model, inst } => match self.models.lookup(&model) {
                Some(entry)
                    if set
                        .get(self.shard_index(inst))
                        .has_instance(entry.key, inst) =>
                {
                    Effect::Unregister { model: entry, inst }
                }
                _ => {
                    return Err(
                        origin.corrupt(format!("instance {model}/{inst} is not registered"))
                    );
                }
            },
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
        let s = set.get(self.shard_index(src));
        let d = set.get(self.shard_index(dst));
        let ascends = s.out.get(entry.key, src).last_id().is_none_or(|l| l < id)
            && d.inn.get(entry.key, dst).last_id().is_none_or(|l| l < id);
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
