//! Loading a snapshot into an empty store, on every core.
//!
//! Definitions (kinds, model associations) go through the replay path and
//! its checks; they are few. Instances and records are many, and a snapshot
//! whose checksum verified holds them as a checkpoint wrote them: instance
//! ids ascending per model, records ascending by id. So:
//!
//! 1. one pass in id order validates each record (a live model association,
//!    an id in range, positive endpoints) and publishes it in the record
//!    table, which posting lists read their keys from;
//! 2. then one thread per core takes a disjoint set of shards (shard index
//!    modulo the thread count) and, for every instance and record, does the
//!    part that lands in its shards: the registry entry, the source's
//!    posting, the target's posting, checking that each endpoint is
//!    registered in its model, that the mapping holds, and (at the end,
//!    sorting each source's targets) that no triple repeats. Records arrive in ascending id order, so
//!    every posting list ascends, as the indexes require.
//!
//! No lock is contended: the opening thread holds every shard's write lock
//! and lends each worker `&mut` access to its own shards only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Store;
use super::commit::Held;
use super::open::Origin;
use crate::catalog::AssocEntry;
use crate::durable::record::Logged;
use crate::durable::recovery::{Loaded, corrupt};
use crate::durable::snapshot::{Resume, Snapshot, SnapshotError};
use crate::error::OpenFailure;
use crate::feed::{Feed, Retained, Stored};
use crate::index::{MAX_RECORD_ID, Posting, Shard, StoredRecord, hash};
use crate::keys::ModelKey;
use crate::model_association::Mapping;
use crate::models::ModelEntry;

/// Rows whose table slots are read ahead of the work on them.
const PREFETCH: usize = 128;

/// One record as a snapshot holds it, resolved.
struct Row {
    id: i64,
    rec: StoredRecord,
    src_model: ModelKey,
    dst_model: ModelKey,
    mapping: Mapping,
}

impl Store {
    /// Loads a snapshot into this empty store, its change feed included;
    /// returns where replay resumes and how many records it held.
    pub(super) fn restore(&mut self, snap: &Loaded) -> Result<(Resume, u64), OpenFailure> {
        let mut s = Snapshot::decode(&snap.bytes).map_err(|e| match e {
            SnapshotError::Corrupt(d) => corrupt(&snap.path, d.offset, d.what),
            SnapshotError::Version(version) => OpenFailure::UnsupportedVersion {
                file: snap.path.clone(),
                version,
            },
        })?;
        let origin = Origin {
            path: &snap.path,
            offset: 0,
        };
        let models = self.restore_models(&s);
        let mut logged: Vec<Logged> = s.kinds.iter().cloned().map(Logged::AddKind).collect();
        for (row, deleted) in &s.assocs {
            logged.push(Logged::AddModelAssociation(row.clone()));
            if *deleted {
                logged.push(Logged::DeleteModelAssociation(row.id));
            }
        }
        let mut catalog = self.catalog.write();
        let mut all = self.write_all();
        let mut held = Held {
            catalog: Some(&mut catalog),
            shards: Some(&mut all),
        };
        self.replay_logged(&mut held, logged, &origin)?;
        if s.instances.len() > models.len() {
            return Err(origin.corrupt("instances of an unknown model"));
        }
        for ids in &s.instances {
            if ids.first().is_some_and(|&id| id <= 0) || ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(origin.corrupt("instance ids out of order"));
            }
        }
        let entries: Vec<Arc<AssocEntry>> = catalog.entries().to_vec();
        let mut rows = Vec::with_capacity(s.record_count);
        let mut live: HashMap<usize, u64> = HashMap::new();
        for _ in 0..s.record_count {
            let (id, key, src, dst) = s
                .next_record()
                .map_err(|d| corrupt(&snap.path, d.offset, d.what))?;
            let entry = entries
                .get(key as usize)
                .filter(|a| !a.is_deleted())
                .ok_or_else(|| origin.corrupt(format!("record {id}: no such model association")))?;
            if id > MAX_RECORD_ID || id > s.resume.last_id || src <= 0 || dst <= 0 {
                return Err(origin.corrupt(format!("record {id} out of range")));
            }
            let rec = StoredRecord {
                assoc: entry.key,
                src,
                dst,
            };
            self.records.insert(id, rec);
            *live.entry(key as usize).or_default() += 1;
            rows.push(Row {
                id,
                rec,
                src_model: entry.src_model,
                dst_model: entry.dst_model,
                mapping: entry.mapping,
            });
        }
        let (base, events) = s
            .events()
            .map_err(|d| corrupt(&snap.path, d.offset, d.what))?;
        s.finish()
            .map_err(|d| corrupt(&snap.path, d.offset, d.what))?;
        let per_model: Vec<(ModelKey, &[i64])> = models
            .iter()
            .zip(&s.instances)
            .map(|(m, ids)| (m.key, ids.as_slice()))
            .collect();
        let shards: Vec<&mut Shard> = all.each_mut().collect();
        if let Some(id) = self.fill_shards(shards, &per_model, &rows) {
            return Err(origin.corrupt(format!(
                "record {id}: an endpoint is not registered, a mapping is broken or a triple repeats"
            )));
        }
        for (key, inst, name) in &s.names {
            let model = models
                .get(*key as usize)
                .ok_or_else(|| origin.corrupt("a name of an unknown model"))?;
            let shard = all.get_mut(self.shard_index(*inst));
            if !shard.unregister(model.key, *inst) {
                return Err(origin.corrupt("a name of an unregistered instance"));
            }
            shard.register(model.key, *inst, Some(name));
        }
        for (key, n) in live {
            entries[key].add_live(n);
        }
        self.last_id.fetch_max(s.resume.last_id, Ordering::AcqRel);
        drop((all, catalog));
        self.feed = self.restore_feed(&s.resume, base, events, &entries, &models, &origin)?;
        Ok((s.resume, rows.len() as u64))
    }

    /// The change feed a snapshot kept: its events must end where the
    /// snapshot's feed position says and name only known keys.
    fn restore_feed(
        &self,
        resume: &Resume,
        base: u64,
        events: Vec<Retained>,
        entries: &[Arc<AssocEntry>],
        models: &[Arc<ModelEntry>],
        origin: &Origin<'_>,
    ) -> Result<Feed, OpenFailure> {
        if base == 0 || base.checked_add(events.len() as u64) != Some(resume.feed_next) {
            return Err(origin.corrupt("change-feed events do not end at the feed position"));
        }
        let known = |e: &Retained| match &e.stored {
            Stored::Link { assoc, .. } | Stored::Unlink { assoc, .. } => {
                (assoc.0 as usize) < entries.len()
            }
            Stored::AddAssoc(key) | Stored::DeleteAssoc(key) => (key.0 as usize) < entries.len(),
            Stored::Register { model, .. }
            | Stored::Unregister { model, .. }
            | Stored::UseModel(model)
            | Stored::DefineModel { model, .. } => (model.0 as usize) < models.len(),
            Stored::AddKind(_) | Stored::Void => true,
        };
        if !events.iter().all(known) {
            return Err(origin.corrupt("a change-feed event names an unknown key"));
        }
        if events.last().is_some_and(|e| e.time_ms > resume.feed_time) {
            return Err(origin.corrupt("a change-feed event after the feed's last time"));
        }
        Ok(Feed::restored(
            resume.feed_id,
            self.feed.retention(),
            base,
            events,
            resume.feed_time,
            entries.to_vec(),
            models.to_vec(),
        ))
    }

    /// Interns the snapshot's models in key order, with their id counters
    /// and display names.
    fn restore_models(&self, s: &Snapshot<'_>) -> Vec<Arc<ModelEntry>> {
        s.models
            .iter()
            .map(|m| {
                let model = self.models.intern(&m.name);
                if m.announced {
                    model.announce();
                }
                model.observe(m.max_inst);
                if let Some((name, icon)) = &m.display {
                    model.set_display(name, icon);
                }
                model
            })
            .collect()
    }

    /// Registers the instances and adds every record's postings, one thread
    /// per core over disjoint shards. Returns the id of a record that no
    /// create could have made (an unregistered endpoint, a broken mapping,
    /// a repeated triple), if any.
    fn fill_shards(
        &self,
        shards: Vec<&mut Shard>,
        instances: &[(ModelKey, &[i64])],
        rows: &[Row],
    ) -> Option<i64> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let threads = cores.min(shards.len()).max(1);
        let mut parts: Vec<Vec<Option<&mut Shard>>> = (0..threads)
            .map(|_| (0..shards.len()).map(|_| None).collect())
            .collect();
        for (i, shard) in shards.into_iter().enumerate() {
            parts[i % threads][i] = Some(shard);
        }
        std::thread::scope(|scope| {
            let workers: Vec<_> = parts
                .into_iter()
                .map(|mut mine| scope.spawn(move || self.fill_part(&mut mine, instances, rows)))
                .collect();
            workers
                .into_iter()
                .filter_map(|w| w.join().ok().flatten())
                .min()
        })
    }

    /// [`Store::fill_shards`] for the shards in `mine` (indexed by shard,
    /// `None` where another thread owns it).
    fn fill_part(
        &self,
        mine: &mut [Option<&mut Shard>],
        instances: &[(ModelKey, &[i64])],
        rows: &[Row],
    ) -> Option<i64> {
        for &(model, ids) in instances {
            for &inst in ids {
                if let Some(shard) = mine[self.shard_index(inst)].as_deref_mut() {
                    shard.register(model, inst, None);
                }
            }
        }
        let mut bad = None;
        // In chunks: first read the table slots every row of the chunk
        // will probe (plain loads, no branch on what they read, so the
        // processor keeps many cache misses in flight), then do the work,
        // which finds those lines in cache.
        for chunk in rows.chunks(PREFETCH) {
            let mut read = 0u64;
            for row in chunk {
                let StoredRecord { assoc, src, dst } = row.rec;
                if let Some(shard) = mine[self.shard_index(src)].as_deref() {
                    let h = hash(src);
                    read ^= shard.out.touch(assoc, h) ^ shard.touch_instance(row.src_model, h);
                }
                if let Some(shard) = mine[self.shard_index(dst)].as_deref() {
                    let h = hash(dst);
                    read ^= shard.inn.touch(assoc, h) ^ shard.touch_instance(row.dst_model, h);
                }
            }
            std::hint::black_box(read);
            for row in chunk {
                let StoredRecord { assoc, src, dst } = row.rec;
                // A 1:1 source, or a 1:1 / 1:n target, must not have a
                // record yet.
                let (one_source, one_target) = match row.mapping {
                    Mapping::OneToOne => (true, true),
                    Mapping::OneToMany => (false, true),
                    Mapping::ManyToMany => (false, false),
                };
                if let Some(shard) = mine[self.shard_index(src)].as_deref_mut() {
                    let (list, at) = shard.out.lookup(assoc, src, hash(src));
                    let taken = one_source && !list.is_empty();
                    if taken || !shard.has_instance(row.src_model, src) {
                        bad.get_or_insert(row.id);
                    }
                    let posting = Posting {
                        other: dst,
                        id: row.id,
                    };
                    shard.out.push_at(assoc, src, at, posting);
                }
                if let Some(shard) = mine[self.shard_index(dst)].as_deref_mut() {
                    let (list, at) = shard.inn.lookup(assoc, dst, hash(dst));
                    let taken = one_target && !list.is_empty();
                    if taken || !shard.has_instance(row.dst_model, dst) {
                        bad.get_or_insert(row.id);
                    }
                    let posting = Posting {
                        other: src,
                        id: row.id,
                    };
                    shard.inn.push_at(assoc, dst, at, posting);
                }
            }
        }
        // No (model association, source, target) twice: within each
        // source's list, no target twice.
        let mut others = Vec::new();
        for shard in mine.iter().flatten() {
            for (_, _, list) in shard.out.iter() {
                if list.len() < 2 {
                    continue;
                }
                others.clear();
                others.extend(list.iter().map(|p| (p.other, p.id)));
                others.sort_unstable();
                if let Some(w) = others.windows(2).find(|w| w[0].0 == w[1].0) {
                    bad = Some(bad.map_or(w[1].1, |b: i64| b.min(w[1].1)));
                }
            }
        }
        bad
    }
}
