//! Graph reads: bk-cmdb's topology, neighbours, traversal, shortest path.
//!
//! Each call reads one consistent snapshot: it takes every shard's read lock
//! for its duration (writers wait; readers do not).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::Store;
use super::commit::Held;
use super::locks::ReadSet;
use super::read::render;
use crate::catalog::AssocEntry;
use crate::effect::Effect;
use crate::error::{Error, Result};
use crate::graph::{
    EdgeFilter, Neighbour, Reached, TopologyGroup, TopologyNode, Towards, Traversal,
};
use crate::keys::ModelKey;
use crate::record::InstanceAssociation;

type Node = (ModelKey, i64);

/// One step from an instance: where it leads and through which record.
struct Step {
    node: Node,
    model: Arc<str>,
    record: InstanceAssociation,
}

/// A read-locked snapshot with the allowed model associations by role.
struct View<'a> {
    store: &'a Store,
    set: ReadSet<'a>,
    as_source: HashMap<ModelKey, Vec<Arc<AssocEntry>>>,
    as_target: HashMap<ModelKey, Vec<Arc<AssocEntry>>>,
}

impl View<'_> {
    fn exists(&self, (model, inst): Node) -> bool {
        self.set
            .get(self.store.shard_index(inst))
            .has_instance(model, inst)
    }

    fn name(&self, (model, inst): Node) -> String {
        let shard = self.set.get(self.store.shard_index(inst));
        shard
            .instance_name(model, inst)
            .unwrap_or_default()
            .to_owned()
    }

    /// The steps from `node` `towards`, in record id order.
    fn steps(&self, (model, inst): Node, towards: Towards) -> Vec<Step> {
        let shard = self.set.get(self.store.shard_index(inst));
        let mut steps = Vec::new();
        if towards != Towards::Upstream {
            for a in self.as_source.get(&model).into_iter().flatten() {
                steps.extend(shard.out.get(a.key, inst).iter().map(|p| Step {
                    node: (a.dst_model, p.other),
                    model: Arc::clone(&a.dst_name),
                    record: render(a, inst, p.other, p.id),
                }));
            }
        }
        if towards != Towards::Downstream {
            for a in self.as_target.get(&model).into_iter().flatten() {
                steps.extend(shard.inn.get(a.key, inst).iter().map(|p| Step {
                    node: (a.src_model, p.other),
                    model: Arc::clone(&a.src_name),
                    record: render(a, p.other, inst, p.id),
                }));
            }
        }
        steps.sort_by_key(|s| s.record.id);
        steps
    }
}

impl Store {
    /// Sets a model's display name and icon, shown by the topology reads
    /// (by default the name is the model id and the icon is empty).
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model.
    pub fn define_model(
        &self,
        bk_obj_id: &str,
        bk_obj_name: &str,
        bk_obj_icon: &str,
    ) -> Result<()> {
        let _writing = self.writable()?;
        let model = self.model_for_write(bk_obj_id)?;
        // The catalog lock orders this change against a checkpoint's cut.
        let mut catalog = self.catalog.write();
        let effect = Effect::DefineModel {
            model,
            name: bk_obj_name.to_owned(),
            icon: bk_obj_icon.to_owned(),
        };
        self.commit(Held::catalog(&mut catalog), &[effect])?;
        drop(catalog);
        self.after_write();
        Ok(())
    }

    /// bk-cmdb's `search_inst_association_topo`: the direct targets of one
    /// instance, one group per target model (sorted by model id), children in
    /// record id order; `[]` when there are none.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("switch", "connect", "host", Mapping::OneToMany))?;
    /// store.register_instance("switch", Some(1), Some("sw-1"))?;
    /// store.register_instance("host", Some(7), Some("web-7"))?;
    /// store.create_instance_association("switch_connect_host", 1, 7)?;
    /// let groups = store.instance_topology("switch", 1)?;
    /// assert_eq!(serde_json::to_string(&groups)?,
    ///     r#"[{"bk_obj_id":"host","bk_obj_name":"host","bk_obj_icon":"","count":1,"children":[{"id":"7","bk_obj_id":"host","bk_inst_id":7,"bk_inst_name":"web-7","asso_id":1}]}]"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// 1199011 naming `bk_obj_id` (unknown model) or `bk_inst_id` (instance 0
    /// or not registered).
    pub fn instance_topology(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
    ) -> Result<Vec<TopologyGroup>> {
        self.topology(bk_obj_id, bk_inst_id, Towards::Downstream)
    }

    /// The upstream mirror of [`Store::instance_topology`]: the direct
    /// sources of one instance, grouped by source model.
    ///
    /// # Errors
    /// As [`Store::instance_topology`].
    pub fn instance_topology_upstream(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
    ) -> Result<Vec<TopologyGroup>> {
        self.topology(bk_obj_id, bk_inst_id, Towards::Upstream)
    }

    /// The instances next to one instance, `towards` one or both directions,
    /// through the associations `filter` allows, in record id order (an
    /// instance linked twice appears twice; with [`Towards::Both`] a
    /// self-link A→A appears once per direction).
    ///
    /// ```
    /// use assocstore::{EdgeFilter, Mapping, NewModelAssociation, Store, Towards};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("a", "run", "b", Mapping::ManyToMany))?;
    /// store.register_instances("a", [1])?;
    /// store.register_instances("b", [2])?;
    /// store.create_instance_association("a_run_b", 1, 2)?;
    /// let up = store.neighbours("b", 2, Towards::Upstream, &EdgeFilter::default())?;
    /// assert_eq!((&*up[0].bk_obj_id, up[0].bk_inst_id), ("a", 1));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// 1199010 `'bk_obj_id' unassigned` for an empty model; 1199011 naming
    /// `bk_obj_id` or `bk_inst_id` when the instance does not exist.
    pub fn neighbours(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
        towards: Towards,
        filter: &EdgeFilter,
    ) -> Result<Vec<Neighbour>> {
        let (view, start) = self.view_from(bk_obj_id, bk_inst_id, filter)?;
        Ok(view
            .steps(start, towards)
            .into_iter()
            .map(|s| Neighbour {
                bk_obj_id: s.model,
                bk_inst_id: s.node.1,
                association: s.record,
            })
            .collect())
    }

    /// Breadth-first traversal from one instance: every instance reached
    /// within `traversal.max_depth` hops, each once (a visited set makes
    /// cycles and self-links harmless), in the order reached, with its depth
    /// and the association that first reached it. The start is not listed.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store, Towards, Traversal};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("n", "connect", "n", Mapping::ManyToMany))?;
    /// store.register_instances("n", 1..=3)?;
    /// for (s, t) in [(1, 2), (2, 3), (3, 1)] {
    ///     store.create_instance_association("n_connect_n", s, t)?;
    /// }
    /// let reached = store.traverse("n", 1, &Traversal::new(Towards::Downstream, 10))?;
    /// assert_eq!(reached.iter().map(|r| (r.bk_inst_id, r.depth)).collect::<Vec<_>>(), [(2, 1), (3, 2)]);
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::neighbours`].
    pub fn traverse(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
        traversal: &Traversal,
    ) -> Result<Vec<Reached>> {
        let (view, start) = self.view_from(bk_obj_id, bk_inst_id, &traversal.filter)?;
        let limit = traversal.node_limit.unwrap_or(usize::MAX);
        let mut visited: HashSet<Node> = HashSet::from([start]);
        let mut queue = VecDeque::from([(start, 0)]);
        let mut reached = Vec::new();
        while let Some((node, depth)) = queue.pop_front() {
            if depth >= traversal.max_depth || reached.len() >= limit {
                continue;
            }
            for step in view.steps(node, traversal.towards) {
                if reached.len() >= limit {
                    break;
                }
                if visited.insert(step.node) {
                    queue.push_back((step.node, depth + 1));
                    reached.push(Reached {
                        bk_obj_id: step.model,
                        bk_inst_id: step.node.1,
                        depth: depth + 1,
                        via: step.record,
                    });
                }
            }
        }
        Ok(reached)
    }

    /// A shortest chain of associations from one instance to another within
    /// `traversal.max_depth` hops (`Some(vec![])` from an instance to
    /// itself, `None` when there is none). Among equally short chains, the
    /// one through lower record ids wins.
    ///
    /// ```
    /// use assocstore::{Mapping, NewModelAssociation, Store, Towards, Traversal};
    /// let store = Store::new();
    /// store.create_model_association(&NewModelAssociation::new("n", "connect", "n", Mapping::ManyToMany))?;
    /// store.register_instances("n", 1..=4)?;
    /// for (s, t) in [(1, 2), (2, 3), (3, 4), (1, 4)] {
    ///     store.create_instance_association("n_connect_n", s, t)?;
    /// }
    /// let path = store.shortest_path(("n", 1), ("n", 4), &Traversal::new(Towards::Downstream, 5))?;
    /// assert_eq!(path.map(|p| p.len()), Some(1));
    /// # Ok::<(), assocstore::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::neighbours`], for either end.
    pub fn shortest_path(
        &self,
        from: (&str, i64),
        to: (&str, i64),
        traversal: &Traversal,
    ) -> Result<Option<Vec<InstanceAssociation>>> {
        let (view, start) = self.view_from(from.0, from.1, &traversal.filter)?;
        let goal = self.node_in(&view, to.0, to.1)?;
        if start == goal {
            return Ok(Some(Vec::new()));
        }
        let mut came_from: HashMap<Node, (Node, InstanceAssociation)> = HashMap::new();
        let mut queue = VecDeque::from([(start, 0)]);
        while let Some((node, depth)) = queue.pop_front() {
            if depth >= traversal.max_depth {
                continue;
            }
            for step in view.steps(node, traversal.towards) {
                if step.node == start || came_from.contains_key(&step.node) {
                    continue;
                }
                came_from.insert(step.node, (node, step.record));
                if step.node == goal {
                    let mut path = Vec::new();
                    let mut at = goal;
                    while let Some((prev, record)) = came_from.remove(&at) {
                        path.push(record);
                        at = prev;
                    }
                    path.reverse();
                    return Ok(Some(path));
                }
                queue.push_back((step.node, depth + 1));
            }
        }
        Ok(None)
    }

    fn topology(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
        towards: Towards,
    ) -> Result<Vec<TopologyGroup>> {
        let Some(model) = self.models.lookup(bk_obj_id) else {
            return Err(Error::not_found("bk_obj_id"));
        };
        let view = self.view(&EdgeFilter::default());
        if bk_inst_id == 0 || !view.exists((model.key, bk_inst_id)) {
            return Err(Error::not_found("bk_inst_id"));
        }
        let mut groups: BTreeMap<Arc<str>, Vec<TopologyNode>> = BTreeMap::new();
        for step in view.steps((model.key, bk_inst_id), towards) {
            groups
                .entry(Arc::clone(&step.model))
                .or_default()
                .push(TopologyNode {
                    id: step.node.1.to_string(),
                    bk_obj_id: step.model.to_string(),
                    bk_inst_id: step.node.1,
                    bk_inst_name: view.name(step.node),
                    asso_id: step.record.id,
                });
        }
        drop(view);
        Ok(groups
            .into_iter()
            .map(|(model, children)| {
                let (name, icon) = self
                    .models
                    .lookup(&model)
                    .map_or_else(|| (model.to_string(), String::new()), |m| m.display());
                TopologyGroup {
                    bk_obj_id: model.to_string(),
                    bk_obj_name: name,
                    bk_obj_icon: icon,
                    count: children.len(),
                    children,
                }
            })
            .collect())
    }

    /// A snapshot of the whole store, following only what `filter` allows.
    fn view(&self, filter: &EdgeFilter) -> View<'_> {
        let mut as_source: HashMap<ModelKey, Vec<Arc<AssocEntry>>> = HashMap::new();
        let mut as_target: HashMap<ModelKey, Vec<Arc<AssocEntry>>> = HashMap::new();
        for a in self.catalog.read().live() {
            if filter.allows(&a.kind, &a.obj_asst_id) {
                as_source
                    .entry(a.src_model)
                    .or_default()
                    .push(Arc::clone(a));
                as_target
                    .entry(a.dst_model)
                    .or_default()
                    .push(Arc::clone(a));
            }
        }
        View {
            store: self,
            set: self.read_all(),
            as_source,
            as_target,
        }
    }

    /// A snapshot and the start node, which must exist.
    fn view_from(
        &self,
        bk_obj_id: &str,
        bk_inst_id: i64,
        filter: &EdgeFilter,
    ) -> Result<(View<'_>, Node)> {
        let view = self.view(filter);
        let start = self.node_in(&view, bk_obj_id, bk_inst_id)?;
        Ok((view, start))
    }

    fn node_in(&self, view: &View<'_>, bk_obj_id: &str, bk_inst_id: i64) -> Result<Node> {
        if bk_obj_id.is_empty() {
            return Err(Error::unassigned("bk_obj_id"));
        }
        let model = self
            .models
            .lookup(bk_obj_id)
            .ok_or_else(|| Error::not_found("bk_obj_id"))?;
        let node = (model.key, bk_inst_id);
        if view.exists(node) {
            Ok(node)
        } else {
            Err(Error::not_found("bk_inst_id"))
        }
    }
}
