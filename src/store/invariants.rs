//! `check_invariants`: every index agrees with the records.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use super::Store;
use crate::index::{PostingMap, StoredRecord};
use crate::keys::AssocKey;
use crate::kind::MAINLINE;
use crate::model_association::Mapping;

impl Store {
    /// Verifies, under a consistent snapshot (every lock held in read mode),
    /// that every index agrees with the records by id:
    ///
    /// * each record is in the posting list of its source and of its target,
    ///   and each posting is a record (the counts match);
    /// * posting lists sit in the shard of their instance, are non-empty and
    ///   ascend by id;
    /// * no (model association, source, target) repeats;
    /// * `1:1` and `1:n` limits hold, per model association and role;
    /// * both endpoints are registered in their models; the model association
    ///   is live, not `bk_mainline`, and counts exactly its records;
    /// * every id is within the sequence handed out so far.
    ///
    /// ```
    /// assert_eq!(assocstore::Store::new().check_invariants(), Ok(()));
    /// ```
    ///
    /// # Errors
    /// A description of the first disagreement found.
    pub fn check_invariants(&self) -> Result<(), String> {
        let catalog = self.catalog.read();
        let shards = self.read_all();
        let last_id = self.last_id.load(Ordering::Acquire);
        let records: HashMap<i64, StoredRecord> =
            self.records.snapshot(last_id).into_iter().collect();

        let mut triples = HashSet::with_capacity(records.len());
        let mut live: HashMap<AssocKey, u64> = HashMap::new();
        for (&id, rec) in &records {
            if id < 1 || id > last_id {
                return Err(format!("record {id} outside the id sequence 1..={last_id}"));
            }
            let a = catalog
                .entry(rec.assoc)
                .ok_or_else(|| format!("record {id}: unknown model association"))?;
            if a.is_deleted() || &*a.kind == MAINLINE {
                return Err(format!(
                    "record {id}: model association {} unusable",
                    a.obj_asst_id
                ));
            }
            if !triples.insert((rec.assoc, rec.src, rec.dst)) {
                return Err(format!("record {id}: triple repeated"));
            }
            *live.entry(rec.assoc).or_default() += 1;
            let s = shards.get(self.shard_index(rec.src));
            let d = shards.get(self.shard_index(rec.dst));
            if !s.out.get(rec.assoc, rec.src).contains(id) {
                return Err(format!(
                    "record {id}: missing from its source's posting list"
                ));
            }
            if !d.inn.get(rec.assoc, rec.dst).contains(id) {
                return Err(format!(
                    "record {id}: missing from its target's posting list"
                ));
            }
            if !s.has_instance(a.src_model, rec.src) || !d.has_instance(a.dst_model, rec.dst) {
                return Err(format!("record {id}: an endpoint is not registered"));
            }
        }
        for a in catalog.live() {
            let counted = live.get(&a.key).copied().unwrap_or(0);
            if a.live() != counted {
                return Err(format!(
                    "{}: live count {} but {counted} records",
                    a.obj_asst_id,
                    a.live()
                ));
            }
        }

        let (mut outs, mut ins) = (0usize, 0usize);
        for (index, shard) in shards.all() {
            outs += self.check_postings(index, &shard.out, &records, &catalog, true)?;
            ins += self.check_postings(index, &shard.inn, &records, &catalog, false)?;
            if let Some((_, inst)) = shard
                .instances()
                .find(|&(_, inst)| self.shard_index(inst) != index || inst <= 0)
            {
                return Err(format!("instance {inst} registered in shard {index}"));
            }
            let names = shard.assoc_names().count();
            if names != catalog.live().count()
                || shard
                    .assoc_names()
                    .any(|(name, key)| catalog.by_name_ref(name).map(|a| a.key) != Some(key))
            {
                return Err(format!(
                    "shard {index}: its model association names disagree with the catalog"
                ));
            }
        }
        if outs != records.len() || ins != records.len() {
            return Err(format!(
                "{} records but {outs} source and {ins} target postings",
                records.len()
            ));
        }
        Ok(())
    }

    /// Checks one role's posting lists in shard `index`; returns how many
    /// postings it holds.
    fn check_postings(
        &self,
        index: usize,
        map: &PostingMap,
        records: &HashMap<i64, StoredRecord>,
        catalog: &crate::catalog::Catalog,
        source_role: bool,
    ) -> Result<usize, String> {
        let mut count = 0;
        for (assoc, inst, list) in map.iter() {
            if self.shard_index(inst) != index {
                return Err(format!("posting list of {inst} in shard {index}"));
            }
            if list.is_empty()
                || list
                    .iter()
                    .zip(list.iter().skip(1))
                    .any(|(a, b)| a.id >= b.id)
            {
                return Err(format!("posting list of {inst} empty or out of order"));
            }
            let limit = match catalog.entry(assoc).map(|a| a.mapping) {
                Some(Mapping::OneToOne) => 1,
                Some(Mapping::OneToMany) if !source_role => 1,
                _ => usize::MAX,
            };
            if list.len() > limit {
                return Err(format!(
                    "instance {inst} breaks its mapping ({} records)",
                    list.len()
                ));
            }
            for p in list.iter() {
                let expected = if source_role {
                    StoredRecord {
                        assoc,
                        src: inst,
                        dst: p.other,
                    }
                } else {
                    StoredRecord {
                        assoc,
                        src: p.other,
                        dst: inst,
                    }
                };
                if records.get(&p.id) != Some(&expected) {
                    return Err(format!("posting {} of {inst} has no matching record", p.id));
                }
            }
            count += list.len();
        }
        Ok(count)
    }
}
