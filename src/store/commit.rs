//! The one commit step every write ends in.
//!
//! Each write path (create, batch in every mode, deletes, cascade,
//! definitions, instance register and delete) takes its locks, runs its rule
//! checks, and describes everything it decided as a list of
//! [`Effect`]s. It then calls [`Store::commit`] *while still holding those
//! locks*, which
//!
//! 1. refuses if the store has turned read-only after an I/O failure;
//! 2. for a durable store, appends the effects to the journal as one record
//!    (and, at [`crate::Durability::Immediate`], waits until it is synced);
//! 3. applies the effects to the indexes ([`Store::apply_effect`]);
//! 4. publishes them as change-feed events (`src/feed/mod.rs`: where their
//!    positions come from, and why readers see them in order).
//!
//! Why this order holds the store's promises:
//!
//! * **Nothing half-applied.** A call that fails a rule returns before step
//!   1 with no effect recorded; a call whose journal write fails returns
//!   before step 3, so readers never see a change the journal lacks.
//! * **Journal order agrees with the state.** Two writes that touch a common
//!   fact hold a common lock (see "Why check-then-insert is atomic" in
//!   [`crate::store`]); the second cannot run its checks, let alone append,
//!   before the first has appended and applied. Writes with disjoint lock
//!   sets may append in either order, and their effects commute (each names
//!   the ids it assigned). So replaying the journal in order rebuilds the
//!   same state with the same ids.
//! * **Replay is this code.** Recovery decodes each record into the same
//!   effects and calls [`Store::apply_effect`]; no rule runs twice.

use std::sync::atomic::Ordering;

use super::Store;
use super::locks::WriteSet;
use crate::catalog::{AssocEntry, Catalog};
use crate::effect::Effect;
use crate::error::Result;
use crate::index::{KeySlot, Posting, StoredRecord, hash};

/// The locks a commit holds: the catalog (for definitions) and the shards
/// its effects touch.
pub(super) struct Held<'c, 'g, 's> {
    pub(super) catalog: Option<&'c mut Catalog>,
    pub(super) shards: Option<&'g mut WriteSet<'s>>,
}

impl<'c, 'g, 's> Held<'c, 'g, 's> {
    /// Only shard locks.
    pub(super) fn shards(set: &'g mut WriteSet<'s>) -> Held<'c, 'g, 's> {
        Held {
            catalog: None,
            shards: Some(set),
        }
    }

    /// Only the catalog lock.
    pub(super) fn catalog(catalog: &'c mut Catalog) -> Held<'c, 'g, 's> {
        Held {
            catalog: Some(catalog),
            shards: None,
        }
    }
}

impl Store {
    /// Journals (for a durable store) and applies one call's effects, under
    /// the locks in `held`. An empty list is a no-op.
    ///
    /// # Errors
    /// 1199061 when the store is read-only after an I/O failure, or when
    /// writing or syncing the journal fails (the store then turns
    /// read-only); nothing is applied.
    pub(super) fn commit(&self, mut held: Held<'_, '_, '_>, effects: &[Effect]) -> Result<()> {
        if effects.is_empty() {
            return Ok(());
        }
        let at = match &self.durable {
            Some(durable) => Some(durable.log(effects, &self.feed)?),
            None => None,
        };
        for effect in effects {
            self.apply_effect(&mut held, effect);
        }
        self.feed.publish(at, effects);
        Ok(())
    }

    /// Applies one effect to the indexes. The caller holds the catalog for
    /// definitions and the shards of every instance the effect names.
    pub(super) fn apply_effect(&self, held: &mut Held<'_, '_, '_>, effect: &Effect) {
        match effect {
            Effect::AddKind(kind) => {
                if let Some(catalog) = held.catalog.as_deref_mut() {
                    catalog.insert_kind(kind.clone());
                }
            }
            Effect::AddModelAssociation(entry) => {
                for key in [entry.src_model, entry.dst_model] {
                    if let Some(model) = self.models.get(key) {
                        model.announce();
                    }
                }
                if let Some(catalog) = held.catalog.as_deref_mut() {
                    catalog.insert_assoc(entry);
                }
                if let Some(set) = held.shards.as_deref_mut() {
                    for shard in set.each_mut() {
                        shard.name_assoc(&entry.obj_asst_id, entry.key);
                    }
                }
                self.catalog_generation.fetch_add(1, Ordering::AcqRel);
            }
            Effect::DeleteModelAssociation(entry) => {
                if let Some(catalog) = held.catalog.as_deref_mut() {
                    catalog.remove_assoc(entry);
                }
                if let Some(set) = held.shards.as_deref_mut() {
                    for shard in set.each_mut() {
                        shard.forget_assoc(&entry.obj_asst_id);
                    }
                }
            }
            Effect::UseModel(model) => model.announce(),
            Effect::DefineModel { model, name, icon } => {
                model.announce();
                model.set_display(name, icon);
            }
            Effect::Register { model, inst, name } => {
                if let Some(set) = held.shards.as_deref_mut() {
                    let shard = set.get_mut(self.shard_index(*inst));
                    shard.register(model.key, *inst, name.as_deref());
                    model.observe(*inst);
                    model.announce();
                }
            }
            Effect::Unregister { model, inst } => {
                if let Some(set) = held.shards.as_deref_mut() {
                    set.get_mut(self.shard_index(*inst))
                        .unregister(model.key, *inst);
                }
            }
            Effect::Link {
                assoc,
                id,
                src,
                dst,
                slots,
            } => {
                if let Some(set) = held.shards.as_deref_mut() {
                    self.link(set, assoc, *id, (*src, *dst), *slots);
                }
            }
            Effect::Unlink {
                assoc,
                id,
                src,
                dst,
            } => {
                if let Some(set) = held.shards.as_deref_mut() {
                    self.unlink(set, assoc, *id, (*src, *dst));
                }
            }
        }
    }

    /// Publishes record `id` in the record table and both posting lists,
    /// from the key slots its checks probed when they are given.
    fn link(
        &self,
        set: &mut WriteSet<'_>,
        assoc: &AssocEntry,
        id: i64,
        ends: (i64, i64),
        slots: Option<[KeySlot; 2]>,
    ) {
        self.records.insert(id, stored(assoc, ends));
        self.index_link(set, assoc, id, ends, slots);
        assoc.add_live(1);
    }

    /// As [`Store::link`], but the record stays pending (invisible to
    /// readers by id and to the counts) until [`Store::confirm_link`].
    pub(super) fn link_pending(
        &self,
        set: &mut WriteSet<'_>,
        assoc: &AssocEntry,
        id: i64,
        ends: (i64, i64),
        slots: Option<[KeySlot; 2]>,
    ) {
        self.records.insert_pending(id, stored(assoc, ends));
        self.index_link(set, assoc, id, ends, slots);
    }

    /// Makes a pending record live.
    pub(super) fn confirm_link(&self, assoc: &AssocEntry, id: i64) {
        self.records.confirm(id);
        assoc.add_live(1);
    }

    /// Takes a pending record back: out of both posting lists, its slot
    /// empty again.
    pub(super) fn unlink_pending(
        &self,
        set: &mut WriteSet<'_>,
        assoc: &AssocEntry,
        id: i64,
        ends: (i64, i64),
    ) {
        self.unindex_link(set, assoc, id, ends);
        self.records.unwrite(id);
    }

    fn index_link(
        &self,
        set: &mut WriteSet<'_>,
        assoc: &AssocEntry,
        id: i64,
        (src, dst): (i64, i64),
        slots: Option<[KeySlot; 2]>,
    ) {
        let (s, d) = (self.shard_index(src), self.shard_index(dst));
        let [out_at, inn_at] = slots.unwrap_or_else(|| {
            [
                set.get(s).out.lookup(assoc.key, src, hash(src)).1,
                set.get(d).inn.lookup(assoc.key, dst, hash(dst)).1,
            ]
        });
        let out = Posting { other: dst, id };
        set.get_mut(s).out.push_at(assoc.key, src, out_at, out);
        let inn = Posting { other: src, id };
        set.get_mut(d).inn.push_at(assoc.key, dst, inn_at, inn);
    }

    /// Removes record `id` from both posting lists and marks it dead.
    fn unlink(&self, set: &mut WriteSet<'_>, assoc: &AssocEntry, id: i64, ends: (i64, i64)) {
        self.unindex_link(set, assoc, id, ends);
        if self.records.kill(id) {
            assoc.sub_live(1);
        }
    }

    /// Removes record `id` from both posting lists only.
    fn unindex_link(
        &self,
        set: &mut WriteSet<'_>,
        assoc: &AssocEntry,
        id: i64,
        (src, dst): (i64, i64),
    ) {
        let found = set
            .get_mut(self.shard_index(src))
            .out
            .remove(assoc.key, src, id);
        let found_in = set
            .get_mut(self.shard_index(dst))
            .inn
            .remove(assoc.key, dst, id);
        debug_assert!(found && found_in, "record {id} was not indexed");
    }
}

/// A record of `assoc` as the record table stores it.
fn stored(assoc: &AssocEntry, (src, dst): (i64, i64)) -> StoredRecord {
    StoredRecord {
        assoc: assoc.key,
        src,
        dst,
    }
}
