//! Instance deletion that honours `on_delete` (beyond bk-cmdb, which stores
//! the rule and never acts on it).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Store;
use super::commit::Held;
use super::instance_delete::{AssocMap, Link, unlinks};
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::keys::ModelKey;
use crate::model_association::OnDelete;
use crate::record::InstanceAssociation;

/// What a cascade delete removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CascadeOutcome {
    /// The deleted instances as (`bk_obj_id`, `bk_inst_id`), the requested
    /// one first, then in the order the cascade reached them.
    pub instances: Vec<(Arc<str>, i64)>,
    /// The deleted associations, in id order.
    pub associations: Vec<InstanceAssociation>,
}

impl Store {
    /// Deletes an instance and, following `on_delete`, the instances that
    /// depend on it: through a model association with `delete_src`,
    /// deleting a target deletes its sources; with `delete_dest`, deleting a
    /// source deletes its targets; and so on from each deleted instance.
    /// Every association of a deleted instance goes with it. A link that
    /// does not cascade (under `none`, or a rule pointing the other way:
    /// deleting the *target* of a `delete_dest` link) to an instance outside
    /// the cascade refuses the whole call (1101075), as a plain delete would. An instance that is not
    /// registered gives an empty outcome.
    ///
    /// All or nothing, atomic with respect to concurrent writers: it holds
    /// every shard lock while it works.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, OnDelete, Store};
    /// let store = Store::new();
    /// store.create_model_association(
    ///     &NewModelAssociation::new("host", "belong", "disk", Mapping::OneToMany)
    ///         .with_on_delete(OnDelete::DeleteDest))?;
    /// store.register_instances("host", [1])?;
    /// store.register_instances("disk", [10, 11])?;
    /// store.create_instance_association("host_belong_disk", 1, 10)?;
    /// store.create_instance_association("host_belong_disk", 1, 11)?;
    /// let out = store.delete_instance_cascade("host", 1)?;
    /// assert_eq!(out.instances.len(), 3);
    /// assert!(!store.instance_exists("disk", 11));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model; 1101075 `the inst
    /// has association` when a link without a delete rule holds; 1199061
    /// when a durable store cannot write its journal.
    pub fn delete_instance_cascade(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
    ) -> Result<CascadeOutcome> {
        let _writing = self.writable()?;
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Ok(CascadeOutcome::default());
        };
        loop {
            let generation = self.catalog_generation.load(Ordering::Acquire);
            let assocs: AssocMap = self
                .catalog
                .read()
                .live()
                .map(|a| (a.key, Arc::clone(a)))
                .collect();
            let mut set = self.write_all();
            if generation != self.catalog_generation.load(Ordering::Acquire) {
                continue;
            }
            if !set
                .get(self.shard_index(bk_inst_id))
                .has_instance(model.key, bk_inst_id)
            {
                return Ok(CascadeOutcome::default());
            }
            let start = (model.key, Arc::clone(&model.name), bk_inst_id);
            let mut doomed: HashSet<(ModelKey, i64)> = HashSet::from([(model.key, bk_inst_id)]);
            // Breadth first: `instances[next..]` is the queue.
            let mut instances = vec![start];
            let mut next = 0;
            let mut links: Vec<Link> = Vec::new();
            while let Some(&(m, _, inst)) = instances.get(next) {
                next += 1;
                let mut reached = self.links_of(&set, &assocs, m, &[inst]);
                // Follow links in record id order, so the outcome lists
                // instances in one order, run after run.
                reached.sort_unstable_by_key(|l| l.id);
                for link in reached {
                    let a = &assocs[&link.rec.assoc];
                    let follow = match a.on_delete {
                        OnDelete::DeleteSrc => !link.as_source,
                        OnDelete::DeleteDest => link.as_source,
                        OnDelete::None => false,
                    };
                    let partner = (link.partner_model, link.partner);
                    let exists = set
                        .get(self.shard_index(link.partner))
                        .has_instance(partner.0, partner.1);
                    if follow && exists && doomed.insert(partner) {
                        let name = if link.as_source {
                            &a.dst_name
                        } else {
                            &a.src_name
                        };
                        instances.push((partner.0, Arc::clone(name), partner.1));
                    }
                    links.push(link);
                }
            }
            for link in &links {
                let partner = (link.partner_model, link.partner);
                let exists = set
                    .get(self.shard_index(link.partner))
                    .has_instance(partner.0, partner.1);
                if exists && !doomed.contains(&partner) {
                    return Err(Error::InstanceHasAssociation);
                }
            }
            let (mut effects, associations) = unlinks(&assocs, links);
            for &(m, _, inst) in &instances {
                if let Some(model) = self.models.get(m) {
                    effects.push(Effect::Unregister { model, inst });
                }
            }
            self.commit(Held::shards(&mut set), &effects)?;
            drop(set);
            self.after_write();
            let instances = instances
                .into_iter()
                .map(|(_, name, inst)| (name, inst))
                .collect();
            return Ok(CascadeOutcome {
                instances,
                associations,
            });
        }
    }
}
