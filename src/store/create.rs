//! Creating one instance association (SPEC §3.2), and the insert and removal
//! steps every write path shares.

use super::Store;
use super::locks::WriteSet;
use crate::catalog::AssocEntry;
use crate::error::{Error, Result};
use crate::index::{KeySlot, Posting, StoredRecord, find_triple, hash};
use crate::kind::MAINLINE;
use crate::mapping;

impl Store {
    /// Links source instance `bk_inst_id` to target instance
    /// `bk_asst_inst_id` under model association `bk_obj_asst_id`, and
    /// returns the new record id.
    ///
    /// The checks and the insert run under the same locks, so two racing
    /// creates can never both pass a check only one of them may pass.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(
    ///     &NewModelAssociation::new("bk_switch", "belong", "host", Mapping::OneToOne))?;
    /// store.register_instances("bk_switch", [11])?;
    /// store.register_instances("host", [21, 22])?;
    /// let id = store.create_instance_association("bk_switch_belong_host", 11, 21)?;
    /// let err = store.create_instance_association("bk_switch_belong_host", 11, 22).unwrap_err();
    /// assert_eq!(err.code(), 1_101_052);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// First failure wins: unknown (or empty) model association → 1101046;
    /// its kind is `bk_mainline` → 1101082; `1:1` and the source already is a
    /// source or the target already a target → 1101052; `1:n` and the target
    /// already has a source → 1101061; the triple exists → 1199014
    /// (`fields [association]`); source not registered in the source model →
    /// 1101073; target not registered in the target model → 1101074.
    pub fn create_instance_association(
        &self,
        bk_obj_asst_id: &str,
        bk_inst_id: i64,
        bk_asst_inst_id: i64,
    ) -> Result<i64> {
        let (src, dst) = (bk_inst_id, bk_asst_inst_id);
        let assoc = self
            .catalog
            .read()
            .by_name(bk_obj_asst_id)
            .ok_or(Error::ModelAssociationNotFound)?;
        if &*assoc.kind == MAINLINE {
            return Err(Error::MainlineNotAllowed);
        }
        let (s, d) = (self.shard_index(src), self.shard_index(dst));
        let mut set = self.write_shards([s, d]);
        if assoc.is_deleted() {
            return Err(Error::ModelAssociationNotFound);
        }
        let (outs, out_at) = set.get(s).out.lookup(assoc.key, src, hash(src));
        let (ins, inn_at) = set.get(d).inn.lookup(assoc.key, dst, hash(dst));
        mapping::check(assoc.mapping, !outs.is_empty(), !ins.is_empty())?;
        if find_triple(outs, ins, src, dst).is_some() {
            return Err(Error::duplicated("association"));
        }
        if !set.get(s).has_instance(assoc.src_model, src) {
            return Err(Error::SourceInstanceNotFound);
        }
        if !set.get(d).has_instance(assoc.dst_model, dst) {
            return Err(Error::TargetInstanceNotFound);
        }
        let id = self.next_ids(1)?;
        self.link(&mut set, &assoc, id, [out_at, inn_at]);
        assoc.add_live(1);
        Ok(id)
    }

    /// Publishes record `id` from its source's and its target's key slots
    /// (their lookups in `out` and `inn`, which the checks just made) and
    /// adds it to both posting lists. The caller holds the shards of both
    /// endpoints, allocated `id` under them, and counts the record.
    pub(super) fn link(
        &self,
        set: &mut WriteSet<'_>,
        a: &AssocEntry,
        id: i64,
        [out_at, inn_at]: [KeySlot; 2],
    ) {
        let (src, dst) = (out_at.inst(), inn_at.inst());
        self.records.insert(id, record(a, src, dst));
        let s = self.shard_index(src);
        set.get_mut(s)
            .out
            .push_at(a.key, src, out_at, Posting { other: dst, id });
        let d = self.shard_index(dst);
        set.get_mut(d)
            .inn
            .push_at(a.key, dst, inn_at, Posting { other: src, id });
    }

    /// Removes record `id` from both posting lists and marks it dead; the
    /// counterpart of [`Store::link`]. Returns whether it was there.
    pub(super) fn unlink(&self, set: &mut WriteSet<'_>, rec: StoredRecord, id: i64) -> bool {
        let s = self.shard_index(rec.src);
        let found = set.get_mut(s).out.remove(rec.assoc, rec.src, id);
        let d = self.shard_index(rec.dst);
        let found_in = set.get_mut(d).inn.remove(rec.assoc, rec.dst, id);
        debug_assert_eq!(found, found_in, "record {id} half indexed");
        found && found_in && self.records.kill(id)
    }
}

pub(super) fn record(a: &AssocEntry, src: i64, dst: i64) -> StoredRecord {
    StoredRecord {
        assoc: a.key,
        src,
        dst,
    }
}
