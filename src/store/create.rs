//! Creating instance associations: the facts every create probes, shared by
//! single and batch create, and the single create's check order.
//!
//! Single create (`add_instance_association`) and batch create
//! (`batch_create_instance_association`) read the same facts of one
//! (model association, source, target) under the same locks; only the order
//! in which bk-cmdb reports a failing fact differs, so the probe is here
//! once and each path keeps just its order.

use std::sync::Arc;

use super::Store;
use super::commit::Held;
use super::locks::WriteSet;
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::index::{KeySlot, find_triple, hash};
use crate::kind::MAINLINE;
use crate::mapping;

/// What a create of (model association, source, target) needs to know,
/// read under the shard locks of both endpoints.
#[allow(clippy::struct_excessive_bools)] // Five independent facts.
pub(super) struct Facts {
    /// The source already is a source in this model association.
    pub(super) src_is_source: bool,
    /// The target already is a target in this model association.
    pub(super) dst_is_target: bool,
    /// The id of the record with this very triple, if one exists.
    pub(super) triple: Option<i64>,
    /// The source is registered in the source model.
    pub(super) src_registered: bool,
    /// The target is registered in the target model.
    pub(super) dst_registered: bool,
    /// Where the posting lookups of source and target stopped.
    pub(super) slots: [KeySlot; 2],
    /// The highest record id in the source's or the target's list (replay
    /// checks that a record it adds comes after it).
    pub(super) newest: Option<i64>,
}

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
    /// 1101073; target not registered in the target model → 1101074. A
    /// durable store that cannot write its journal → 1199061.
    pub fn create_instance_association(
        &self,
        bk_obj_asst_id: &str,
        bk_inst_id: i64,
        bk_asst_inst_id: i64,
    ) -> Result<i64> {
        let _writing = self.writable()?;
        let (src, dst) = (bk_inst_id, bk_asst_inst_id);
        let assoc = self.assoc_for_create(bk_obj_asst_id)?;
        let mut set = self.write_insts([src, dst]);
        if assoc.is_deleted() {
            return Err(Error::ModelAssociationNotFound);
        }
        let facts = self.probe(&set, &assoc, src, dst);
        mapping::check(assoc.mapping, facts.src_is_source, facts.dst_is_target)?;
        if facts.triple.is_some() {
            return Err(Error::duplicated("association"));
        }
        if !facts.src_registered {
            return Err(Error::SourceInstanceNotFound);
        }
        if !facts.dst_registered {
            return Err(Error::TargetInstanceNotFound);
        }
        let id = self.next_ids(1)?;
        let link = Effect::Link {
            assoc,
            id,
            src,
            dst,
            slots: Some(facts.slots),
        };
        self.commit(Held::shards(&mut set), &[link])?;
        drop(set);
        self.after_write();
        Ok(id)
    }

    /// The live model association a create names, refusing `bk_mainline`:
    /// unknown (or empty) → 1101046; kind `bk_mainline` → 1101082.
    pub(super) fn assoc_for_create(&self, bk_obj_asst_id: &str) -> Result<Arc<AssocEntry>> {
        let assoc = self
            .catalog
            .read()
            .by_name(bk_obj_asst_id)
            .ok_or(Error::ModelAssociationNotFound)?;
        if &*assoc.kind == MAINLINE {
            return Err(Error::MainlineNotAllowed);
        }
        Ok(assoc)
    }

    /// Reads the facts of (assoc, src, dst). The caller holds the shards of
    /// both endpoints.
    pub(super) fn probe(
        &self,
        set: &WriteSet<'_>,
        assoc: &AssocEntry,
        src: i64,
        dst: i64,
    ) -> Facts {
        let s = set.get(self.shard_index(src));
        let d = set.get(self.shard_index(dst));
        let (src_hash, dst_hash) = (hash(src), hash(dst));
        let (outs, out_at) = s.out.lookup(assoc.key, src, src_hash);
        let (ins, inn_at) = d.inn.lookup(assoc.key, dst, dst_hash);
        Facts {
            src_is_source: !outs.is_empty(),
            dst_is_target: !ins.is_empty(),
            triple: find_triple(outs, ins, src, dst),
            src_registered: s.has_instance(assoc.src_model, src),
            dst_registered: d.has_instance(assoc.dst_model, dst),
            slots: [out_at, inn_at],
            newest: outs.last_id().max(ins.last_id()),
        }
    }
}
