//! Checkpoints, closing, and what a durable store tells about itself.
//!
//! # Why a checkpoint is a consistent cut
//!
//! Every commit appends to the journal while holding the catalog's write
//! lock or at least one shard's write lock (see `commit.rs`). A checkpoint
//! takes the catalog and every shard in read mode (in the lock order), so
//! while it holds them no commit is between its checks and its apply, and
//! none can start. Under those locks it switches the journal to a new
//! segment `N` (syncing the old one) and encodes the state: the snapshot
//! holds exactly the records of segments before `N`. Writers wait only for
//! the encoding in memory; the file is written, synced, renamed into place
//! and the directory synced after the locks are released. Only then are the
//! older segments and snapshots removed, so a crash at any point leaves
//! either the old snapshot with all its segments or the new one with its.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::Store;
use super::locks::ReadSet;
use crate::catalog::Catalog;
use crate::durable::journal::{Counted, parse_segment_name};
use crate::durable::record::AssocRow;
use crate::durable::snapshot::{
    ModelRow, Resume, SnapshotWriter, parse_snapshot_name, snapshot_name,
};
use crate::durable::{Durability, Durable, OpenReport};
use crate::error::Result;

impl Store {
    /// Writes a snapshot of the whole state and removes the journal
    /// segments it covers. A durable store also does this by itself when
    /// its journal passes the checkpoint size
    /// ([`StoreBuilder::checkpoint_bytes`](crate::StoreBuilder::checkpoint_bytes)).
    /// A no-op for an in-memory store.
    ///
    /// Writers wait while the state is encoded in memory; readers never
    /// wait.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("assocstore-doc-checkpoint-{}", std::process::id()));
    /// let store = assocstore::Store::open(&dir)?;
    /// store.register_instances("host", [1, 2, 3])?;
    /// store.checkpoint()?;
    /// drop(store);
    /// let store = assocstore::Store::open(&dir)?;
    /// assert_eq!(store.open_report().map(|r| r.records_replayed), Some(0));
    /// assert_eq!(store.instances("host"), vec![1, 2, 3]);
    /// # drop(store); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199061 when the store is read-only, or when a file cannot be
    /// written, synced or renamed (the store then turns read-only; what was
    /// acknowledged stays recoverable from the files already there).
    pub fn checkpoint(&self) -> Result<()> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        d.check_writable()?;
        let _one = d.checkpointing.lock();
        let (bytes, seq) = {
            let catalog = self.catalog.read();
            let shards = self.read_all();
            let seq = d.journal.rotate().map_err(|e| d.fail(&e))?;
            // Every write holds its locks from reserving its feed positions
            // to publishing them, so with every lock held here none is in
            // between: the feed's next position matches the state.
            let (feed_next, feed_time) = self.feed.position();
            let resume = Resume {
                segment: seq,
                lsn: d.journal.position().1,
                last_id: self.last_id.load(Ordering::Acquire),
                feed_id: self.feed.id(),
                feed_next,
                feed_time,
            };
            (self.encode_snapshot(&catalog, &shards, resume), seq)
        };
        write_snapshot(d, &bytes, seq).map_err(|e| d.fail(&e))
    }

    /// The whole state, encoded; the caller holds the catalog and every
    /// shard.
    fn encode_snapshot(&self, catalog: &Catalog, shards: &ReadSet<'_>, resume: Resume) -> Vec<u8> {
        let mut w = SnapshotWriter::new(resume);
        let kinds: Vec<_> = catalog
            .kinds()
            .iter()
            .filter(|k| !k.ispre)
            .cloned()
            .collect();
        w.kinds(&kinds);
        let models = self.models.all();
        let rows: Vec<ModelRow> = models
            .iter()
            .map(|m| ModelRow {
                name: m.name.to_string(),
                announced: m.is_announced(),
                max_inst: m.max_seen(),
                display: m.defined_display(),
            })
            .collect();
        w.models(&rows);
        let assocs: Vec<(AssocRow, bool)> = catalog
            .entries()
            .iter()
            .map(|a| (AssocRow::of(a), a.is_deleted()))
            .collect();
        w.assocs(&assocs);
        let mut per_model: Vec<Vec<i64>> = vec![Vec::new(); models.len()];
        let mut names = Vec::new();
        for (_, shard) in shards.all() {
            for (model, inst) in shard.instances() {
                if let Some(ids) = per_model.get_mut(model.0 as usize) {
                    ids.push(inst);
                }
            }
            names.extend(
                shard
                    .names()
                    .map(|(model, inst, name)| (model.0, inst, name.to_owned())),
            );
        }
        for ids in &mut per_model {
            ids.sort_unstable();
        }
        names.sort_unstable();
        w.instances(&per_model, &names);
        w.records(self.records.len(), |rw| {
            self.records.scan(resume.last_id, |id, rec| {
                rw.push(id, rec.assoc.0, rec.src, rec.dst);
            });
        });
        let (base, events) = self.feed.retained();
        w.events(base, &events);
        w.finish()
    }

    /// Syncs a durable store's journal and releases its directory; dropping
    /// the store does the same, ignoring errors.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("assocstore-doc-close-{}", std::process::id()));
    /// let store = assocstore::Store::builder().path(&dir)
    ///     .durability(assocstore::Durability::Eventual).open()?;
    /// store.register_instance("host", Some(1), None)?;
    /// store.close()?;
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199061 when the final sync fails, or the store turned read-only
    /// after an I/O failure.
    pub fn close(self) -> Result<()> {
        match &self.durable {
            Some(d) => {
                d.check_writable()?;
                d.journal.sync_all().map_err(|e| d.fail(&e))
            }
            None => Ok(()),
        }
    }

    /// The durability level of a durable store; `None` in memory.
    pub fn durability(&self) -> Option<Durability> {
        self.durable.as_ref().map(|d| d.level)
    }

    /// What opening found and did; `None` for an in-memory store.
    pub fn open_report(&self) -> Option<&OpenReport> {
        self.durable.as_ref().map(|d| &d.report)
    }

    /// The directory of a durable store.
    pub fn path(&self) -> Option<&Path> {
        self.durable.as_ref().map(|d| d.dir.as_path())
    }

    /// Whether an I/O failure turned this durable store read-only (every
    /// write then fails with 1199061 until it is opened again).
    pub fn is_read_only(&self) -> bool {
        self.durable.as_ref().is_some_and(Durable::is_failed)
    }

    /// Refuses writes once the store is read-only; the guard counts the
    /// write call in progress for group commit until the call ends.
    pub(super) fn writable(&self) -> Result<Option<Counted<'_>>> {
        match &self.durable {
            Some(d) => d.begin_write(),
            None => Ok(None),
        }
    }

    /// Runs after a write released its locks: the checkpoint the journal's
    /// size asked for, if any. Its failure has already turned the store
    /// read-only, which the next write reports; the write that triggered it
    /// is durable either way.
    pub(super) fn after_write(&self) {
        if let Some(d) = &self.durable
            && d.take_checkpoint_due()
        {
            let _ = self.checkpoint();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(d) = &self.durable
            && !d.is_failed()
        {
            let _ = d.journal.sync_all();
        }
    }
}

/// Writes snapshot `seq` to a temporary file, syncs it, renames it into
/// place, syncs the directory, then removes what it supersedes.
fn write_snapshot(d: &Durable, bytes: &[u8], seq: u64) -> io::Result<()> {
    let name = snapshot_name(seq);
    let tmp = d.dir.join(format!("{name}.tmp"));
    let file = d.storage.create(&tmp)?;
    file.append(bytes)?;
    file.sync()?;
    drop(file);
    d.storage.rename(&tmp, &d.dir.join(&name))?;
    d.storage.sync_dir(&d.dir)?;
    for old in d.storage.list(&d.dir)? {
        let older = parse_snapshot_name(&old)
            .or_else(|| parse_segment_name(&old))
            .is_some_and(|s| s < seq);
        if older {
            d.storage.remove(&d.dir.join(old))?;
        }
    }
    Ok(())
}
