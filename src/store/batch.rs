//! Batch create (`batch_create_instance_association`): whole-request checks, then items in order under
//! one set of shard locks, each seeing the items planned before it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Store;
use super::commit::Held;
use super::locks::WriteSet;
use crate::batch::{BatchCreate, BatchOutcome, ItemOutcome};
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::index::{KeySlot, hash};
use crate::mapping;
use crate::model_association::Mapping;

/// The decision for one item before anything is inserted.
enum Plan {
    /// Insert, from the item's source and target key slots.
    Insert([KeySlot; 2]),
    Existing(i64),
    /// Idempotent repeat of the earlier item at this index.
    SameAs(usize),
    Failed(Error),
}

/// What the per-item checks say of one item, first failure winning.
enum Check {
    /// The triple exists in the store, with this id.
    Exists(i64),
    /// The triple was planned by the earlier item at this index.
    InBatch(usize),
    /// Another check failed.
    Refused(Error),
    /// Every check passed; the source's and target's key slots.
    Insert([KeySlot; 2]),
}

/// The items planned so far in a batch, which later items must see: their
/// triples, and the sources and targets the mapping limits (a `1:1`
/// model association limits both, `1:n` only targets, `n:n` neither, so
/// only those are kept).
struct Overlay {
    triples: HashMap<(i64, i64), usize, ahash::RandomState>,
    sources: Option<HashSet<i64, ahash::RandomState>>,
    targets: Option<HashSet<i64, ahash::RandomState>>,
}

impl Overlay {
    fn new(mapping: Mapping, items: usize) -> Overlay {
        let set = |on: bool| {
            on.then(|| HashSet::with_capacity_and_hasher(items, ahash::RandomState::default()))
        };
        Overlay {
            triples: HashMap::with_capacity_and_hasher(items, ahash::RandomState::default()),
            sources: set(mapping == Mapping::OneToOne),
            targets: set(mapping != Mapping::ManyToMany),
        }
    }

    fn plan(&mut self, i: usize, src: i64, dst: i64) {
        self.triples.insert((src, dst), i);
        if let Some(sources) = &mut self.sources {
            sources.insert(src);
        }
        if let Some(targets) = &mut self.targets {
            targets.insert(dst);
        }
    }

    fn has_source(&self, src: i64) -> bool {
        self.sources.as_ref().is_some_and(|s| s.contains(&src))
    }

    fn has_target(&self, dst: i64) -> bool {
        self.targets.as_ref().is_some_and(|t| t.contains(&dst))
    }
}

impl Store {
    /// Creates many instance associations of one model association, bk-cmdb
    /// style: whole-request checks first, then each item in `details` order,
    /// each seeing the items inserted before it. One item's failure never
    /// stops the others (unless [`BatchCreate::atomic`]).
    ///
    /// ```
    /// use assocstore::{BatchCreate, ItemOutcome, Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(
    ///     &NewModelAssociation::new("bk_switch", "belong", "host", Mapping::OneToOne))?;
    /// store.register_instances("bk_switch", [11, 12])?;
    /// store.register_instances("host", [21])?;
    /// let out = store.batch_create_instance_associations(
    ///     &BatchCreate::new("bk_switch", "host", "bk_switch_belong_host", [(11, 21), (12, 22)]))?;
    /// assert!(matches!(out.items[0], ItemOutcome::Created(_)));
    /// assert_eq!(out.error_msg()[&1], "the  inst to asst  is not exist");
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// Whole-request failures, first wins: empty `bk_obj_asst_id`,
    /// `bk_obj_id`, `bk_asst_obj_id` → 1199011 naming it; no details →
    /// 1199038; more than the batch limit → 1199035; `bk_obj_asst_id` does not
    /// start with `bk_obj_id` / end with `bk_asst_obj_id` → 1199006 naming it;
    /// unknown model association → 1101046; kind `bk_mainline` → 1101082;
    /// `bk_obj_id` / `bk_asst_obj_id` differ from the model association's →
    /// 1199006 naming it. Per-item failures are in the outcome: the triple
    /// exists → 1101038; source missing → 1101073; target missing → 1101074;
    /// mapping → 1101052 / 1101061. A durable store that cannot write its
    /// journal → 1199061, and nothing is inserted.
    pub fn batch_create_instance_associations(&self, req: &BatchCreate) -> Result<BatchOutcome> {
        let _writing = self.writable()?;
        let assoc = self.check_batch(req)?;
        let insts = req.details.iter().flat_map(|&(s, d)| [s, d]);
        let mut set = self.write_insts(insts);
        if assoc.is_deleted() {
            return Err(Error::ModelAssociationNotFound);
        }
        self.touch_batch(&set, &assoc, &req.details);
        let repeat = || Error::AssociationAlreadyExists {
            src_model: assoc.src_name.to_string(),
            dst_model: assoc.dst_name.to_string(),
        };
        // Plan every item against the store plus the items planned before
        // it (in either mode each item sees the earlier ones), then commit
        // the inserts as one call: all of them, or in atomic mode none if
        // any item failed.
        let mut overlay = Overlay::new(assoc.mapping, req.details.len());
        let mut plans = Vec::with_capacity(req.details.len());
        for (i, &(src, dst)) in req.details.iter().enumerate() {
            let plan = match self.check_item(&set, &assoc, src, dst, &overlay) {
                Check::Exists(id) if req.idempotent => Plan::Existing(id),
                Check::InBatch(j) if req.idempotent => Plan::SameAs(j),
                Check::Exists(_) | Check::InBatch(_) => Plan::Failed(repeat()),
                Check::Refused(e) => Plan::Failed(e),
                Check::Insert(keys) => {
                    overlay.plan(i, src, dst);
                    Plan::Insert(keys)
                }
            };
            plans.push(plan);
        }
        let commit = !(req.atomic && plans.iter().any(|p| matches!(p, Plan::Failed(_))));
        let inserts = plans
            .iter()
            .filter(|p| matches!(p, Plan::Insert(_)))
            .count();
        let mut next = if commit && inserts > 0 {
            self.next_ids(inserts)?
        } else {
            0
        };
        let mut links = Vec::with_capacity(if commit { inserts } else { 0 });
        let mut items: Vec<ItemOutcome> = Vec::with_capacity(plans.len());
        for (plan, &(src, dst)) in plans.into_iter().zip(&req.details) {
            items.push(match plan {
                // The key slots are stale after earlier inserts into the
                // same table; linking then probes again.
                Plan::Insert(keys) if commit => {
                    let id = next;
                    next += 1;
                    links.push(Effect::Link {
                        assoc: Arc::clone(&assoc),
                        id,
                        src,
                        dst,
                        slots: Some(keys),
                    });
                    ItemOutcome::Created(id)
                }
                // The first occurrence is earlier, so its outcome is known.
                Plan::SameAs(j) => match items[j] {
                    ItemOutcome::Created(id) => ItemOutcome::Existing(id),
                    _ => ItemOutcome::RolledBack,
                },
                Plan::Insert(_) => ItemOutcome::RolledBack,
                Plan::Existing(id) => ItemOutcome::Existing(id),
                Plan::Failed(e) => ItemOutcome::Failed(e),
            });
        }
        self.commit(Held::shards(&mut set), &links)?;
        drop(set);
        self.after_write();
        Ok(BatchOutcome { items })
    }

    /// Reads, for every item, the first slot of each of the four tables its
    /// checks will probe (source and target registry, source and target
    /// posting table), before the checks run.
    ///
    /// The checks must run one item after another (each sees the inserts
    /// before it), and each probe branches on what it reads, so the
    /// processor takes their cache misses one at a time. These reads are
    /// plain loads with no branch on their result: a loop of them keeps
    /// many misses in flight, and the checks then find those lines in cache.
    /// Nothing read here is used.
    fn touch_batch(&self, set: &WriteSet<'_>, assoc: &AssocEntry, details: &[(i64, i64)]) {
        // A table of the held shards by index saves a search per lookup;
        // past a few thousand shards building it would cost more.
        let dense = (self.shards.len() <= 4096).then(|| set.dense(self.shards.len()));
        let shard_of = |inst: i64| {
            let i = self.shard_index(inst);
            dense.as_ref().map_or_else(|| Some(set.get(i)), |d| d[i])
        };
        let mut read = 0;
        for &(src, dst) in details {
            if let (Some(s), Some(d)) = (shard_of(src), shard_of(dst)) {
                // One hash per endpoint serves its registry and its postings.
                let (src_hash, dst_hash) = (hash(src), hash(dst));
                read ^= s.out.touch(assoc.key, src_hash)
                    ^ d.inn.touch(assoc.key, dst_hash)
                    ^ s.touch_instance(assoc.src_model, src_hash)
                    ^ d.touch_instance(assoc.dst_model, dst_hash);
            }
        }
        std::hint::black_box(read);
    }

    /// Runs the per-item checks in bk-cmdb's batch order (the triple exists,
    /// in the store or earlier in the batch; source missing; target
    /// missing; mapping) against the store plus the items planned before
    /// this one.
    fn check_item(
        &self,
        set: &WriteSet<'_>,
        assoc: &AssocEntry,
        src: i64,
        dst: i64,
        overlay: &Overlay,
    ) -> Check {
        let facts = self.probe(set, assoc, src, dst);
        if let Some(id) = facts.triple {
            return Check::Exists(id);
        }
        if let Some(&j) = overlay.triples.get(&(src, dst)) {
            return Check::InBatch(j);
        }
        if !facts.src_registered {
            return Check::Refused(Error::SourceInstanceNotFound);
        }
        if !facts.dst_registered {
            return Check::Refused(Error::TargetInstanceNotFound);
        }
        match mapping::check(
            assoc.mapping,
            facts.src_is_source || overlay.has_source(src),
            facts.dst_is_target || overlay.has_target(dst),
        ) {
            Ok(()) => Check::Insert(facts.slots),
            Err(e) => Check::Refused(e),
        }
    }

    /// The whole-request checks, in bk-cmdb's order; returns the model association.
    fn check_batch(&self, req: &BatchCreate) -> Result<std::sync::Arc<AssocEntry>> {
        for (field, value) in [
            ("bk_obj_asst_id", &req.bk_obj_asst_id),
            ("bk_obj_id", &req.bk_obj_id),
            ("bk_asst_obj_id", &req.bk_asst_obj_id),
        ] {
            if value.is_empty() {
                return Err(Error::not_found(field));
            }
        }
        if req.details.is_empty() {
            return Err(Error::DataNull {
                what: "details".into(),
            });
        }
        if req.details.len() > self.batch_limit {
            return Err(Error::ExceedLimit {
                what: "details".into(),
                limit: self.batch_limit,
            });
        }
        if !req.bk_obj_asst_id.starts_with(&req.bk_obj_id) {
            return Err(Error::invalid("bk_obj_id"));
        }
        if !req.bk_obj_asst_id.ends_with(&req.bk_asst_obj_id) {
            return Err(Error::invalid("bk_asst_obj_id"));
        }
        let assoc = self.assoc_for_create(&req.bk_obj_asst_id)?;
        if *assoc.src_name != *req.bk_obj_id {
            return Err(Error::invalid("bk_obj_id"));
        }
        if *assoc.dst_name != *req.bk_asst_obj_id {
            return Err(Error::invalid("bk_asst_obj_id"));
        }
        Ok(assoc)
    }
}
