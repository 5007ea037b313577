//! The reads of SPEC §3.4 on the reference model: find, search, count,
//! related, topology, and the graph reads beyond bk-cmdb (neighbours,
//! traversal, shortest path), each a scan of the record list.

use serde_json::Value;

use super::reference::{Fail, Model, Out, Rec, fail};
use super::{find, rules};

/// One step from an instance: the instance reached (model, id) and the
/// record it goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) model: String,
    pub(crate) id: i64,
    pub(crate) record: Rec,
}

/// Which records a graph read may follow (empty lists allow everything).
#[derive(Debug, Clone, Default)]
pub(crate) struct Edges {
    pub(crate) kinds: Vec<String>,
    pub(crate) assocs: Vec<String>,
}

impl Edges {
    fn allows(&self, r: &Rec) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&r.bk_asst_id))
            && (self.assocs.is_empty() || self.assocs.contains(&r.bk_obj_asst_id))
    }
}

/// One group of `search_inst_association_topo`: (model, name, icon, count,
/// children as (instance id as a string, instance id, model, name, record
/// id)).
pub(crate) type TopoGroup = (
    String,
    String,
    String,
    usize,
    Vec<(String, i64, String, String, i64)>,
);

/// A reached instance: (model, id, depth, record it was reached through).
pub(crate) type ReachedRow = (String, i64, usize, Rec);

impl Model {
    /// `instance_association`.
    pub(crate) fn get(&self, id: i64) -> Option<Rec> {
        self.record(id).cloned()
    }

    /// `Condition::from_json` and `find_instance_associations`: every
    /// matching record touching the model, in id order.
    pub(crate) fn find(&self, model: &str, condition: &Value) -> Out<Vec<Rec>> {
        find::validate(condition).map_err(|f| vec![f])?;
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        Ok(self
            .records
            .iter()
            .filter(|r| Model::touches(r, model) && find::matches(condition, r))
            .cloned()
            .collect())
    }

    /// `Search::from_json` and `search_instance_associations`: the page
    /// first, then conditions and fields (in either order), then the model.
    pub(crate) fn search(&self, model: &str, body: &Value) -> Out<Vec<Rec>> {
        let page = rules::page(body)?;
        let conditions = body.get("conditions").filter(|c| !c.is_null());
        let mut errors = conditions.map(rules::validate).unwrap_or_default();
        let fields = rules::fields(body);
        if let Err(f) = &fields {
            errors.push(f.clone());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let fields = fields.unwrap_or_default();
        if model.is_empty() {
            return fail(Fail::invalid("bk_obj_id"));
        }
        let found: Vec<Rec> = self
            .records
            .iter()
            .filter(|r| Model::touches(r, model))
            .filter(|r| conditions.is_none_or(|c| rules::matches(c, r)))
            .cloned()
            .collect();
        Ok(rules::apply_page(found, &page)
            .into_iter()
            .map(|r| rules::project(r, &fields))
            .collect())
    }

    /// `QueryFilter::from_json` and `count_instance_associations`: records
    /// whose *source* model is the model (SPEC: bk-cmdb's asymmetry).
    pub(crate) fn count(&self, model: &str, conditions: Option<&Value>) -> Out<u64> {
        if let Some(c) = conditions {
            let errors = rules::validate(c);
            if !errors.is_empty() {
                return Err(errors);
            }
        }
        if model.is_empty() {
            return fail(Fail::invalid("bk_obj_id"));
        }
        let n = self
            .records
            .iter()
            .filter(|r| r.bk_obj_id == model)
            .filter(|r| conditions.is_none_or(|c| rules::matches(c, r)))
            .count();
        Ok(n as u64)
    }

    /// `search_related_instance_associations`.
    pub(crate) fn related(
        &self,
        model: &str,
        id: i64,
        fields: &[String],
        start: u64,
        limit: u64,
    ) -> Out<Vec<Rec>> {
        // SPEC names `fields` before the instance / model check, bk-cmdb
        // checks the condition first; with both missing, either is right.
        let mut errors = Vec::new();
        if id == 0 || model.is_empty() {
            errors.push(Fail::unassigned("'bk_inst_id' & 'bk_obj_id'"));
        }
        if fields.is_empty() {
            errors.push(Fail::unassigned("fields"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if limit > 500 {
            return fail(Fail::page_limit());
        }
        let limit = if limit == 0 {
            usize::MAX
        } else {
            limit as usize
        };
        Ok(self
            .records
            .iter()
            .filter(|r| Model::names(r, model, id))
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(limit)
            .map(|r| rules::project(r.clone(), fields))
            .collect())
    }

    /// The steps from an instance, in record id order; a self-link counts
    /// once per direction followed.
    pub(crate) fn steps(
        &self,
        model: &str,
        id: i64,
        down: bool,
        up: bool,
        edges: &Edges,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        for r in &self.records {
            if !edges.allows(r) {
                continue;
            }
            if down && r.bk_obj_id == model && r.bk_inst_id == id {
                steps.push(Step {
                    model: r.bk_asst_obj_id.clone(),
                    id: r.bk_asst_inst_id,
                    record: r.clone(),
                });
            }
            if up && r.bk_asst_obj_id == model && r.bk_asst_inst_id == id {
                steps.push(Step {
                    model: r.bk_obj_id.clone(),
                    id: r.bk_inst_id,
                    record: r.clone(),
                });
            }
        }
        steps
    }

    /// The start of a graph read must exist. A model no successful write
    /// has named is unknown (1199011 `bk_obj_id`); SPEC does not say when a
    /// model that only failed writes named becomes known, so then either
    /// error is accepted.
    fn graph_start(&self, model: &str, id: i64) -> Result<(), Vec<Fail>> {
        if model.is_empty() {
            return fail(Fail::unassigned("bk_obj_id"));
        }
        self.graph_instance(model, id)
    }

    fn graph_instance(&self, model: &str, id: i64) -> Result<(), Vec<Fail>> {
        if !self.is_known(model) {
            return Err(vec![
                Fail::not_found("bk_obj_id"),
                Fail::not_found("bk_inst_id"),
            ]);
        }
        if !self.exists(model, id) {
            return fail(Fail::not_found("bk_inst_id"));
        }
        Ok(())
    }

    /// `instance_topology` / `instance_topology_upstream`.
    pub(crate) fn topology(&self, model: &str, id: i64, upstream: bool) -> Out<Vec<TopoGroup>> {
        if model.is_empty() {
            return fail(Fail::not_found("bk_obj_id"));
        }
        self.graph_instance(model, id)?;
        let steps = self.steps(model, id, !upstream, upstream, &Edges::default());
        let mut models: Vec<String> = steps.iter().map(|s| s.model.clone()).collect();
        models.sort();
        models.dedup();
        Ok(models
            .into_iter()
            .map(|m| {
                let children: Vec<_> = steps
                    .iter()
                    .filter(|s| s.model == m)
                    .map(|s| {
                        let name = self.inst_name(&s.model, s.id).unwrap_or_default();
                        (s.id.to_string(), s.id, s.model.clone(), name, s.record.id)
                    })
                    .collect();
                let (name, icon) = self.display(&m);
                (m, name, icon, children.len(), children)
            })
            .collect())
    }

    /// `neighbours`.
    pub(crate) fn neighbours(
        &self,
        model: &str,
        id: i64,
        (down, up): (bool, bool),
        edges: &Edges,
    ) -> Out<Vec<Step>> {
        self.graph_start(model, id)?;
        Ok(self.steps(model, id, down, up, edges))
    }

    /// `traverse`: level by level from the start; each instance once, at the
    /// depth and through the record that first reach it; stops once
    /// `node_limit` instances are reached.
    pub(crate) fn traverse(
        &self,
        model: &str,
        id: i64,
        (down, up): (bool, bool),
        max_depth: usize,
        node_limit: Option<usize>,
        edges: &Edges,
    ) -> Out<Vec<ReachedRow>> {
        self.graph_start(model, id)?;
        let limit = node_limit.unwrap_or(usize::MAX);
        let mut seen: Vec<(String, i64)> = vec![(model.to_owned(), id)];
        let mut reached: Vec<ReachedRow> = Vec::new();
        let mut level: Vec<(String, i64)> = vec![(model.to_owned(), id)];
        for depth in 1..=max_depth {
            let mut next = Vec::new();
            for (m, i) in &level {
                for s in self.steps(m, *i, down, up, edges) {
                    if reached.len() >= limit {
                        return Ok(reached);
                    }
                    if seen.iter().any(|(sm, si)| *sm == s.model && *si == s.id) {
                        continue;
                    }
                    seen.push((s.model.clone(), s.id));
                    next.push((s.model.clone(), s.id));
                    reached.push((s.model, s.id, depth, s.record));
                }
            }
            level = next;
        }
        Ok(reached)
    }

    /// `shortest_path`: the fewest records from `from` to `to` within
    /// `max_depth`; among equally short chains the one whose record ids,
    /// read from the start, are smallest (the crate's docs: "the one
    /// through lower record ids wins").
    pub(crate) fn shortest_path(
        &self,
        from: (&str, i64),
        to: (&str, i64),
        (down, up): (bool, bool),
        max_depth: usize,
        edges: &Edges,
    ) -> Out<Option<Vec<Rec>>> {
        self.graph_start(from.0, from.1)?;
        self.graph_start(to.0, to.1)?;
        if from == to {
            return Ok(Some(Vec::new()));
        }
        // Best chain to every instance reached so far.
        let mut best: Vec<((String, i64), Vec<Rec>)> =
            vec![((from.0.to_owned(), from.1), Vec::new())];
        let mut level: Vec<(String, i64)> = vec![(from.0.to_owned(), from.1)];
        for _ in 0..max_depth {
            let mut found: Vec<((String, i64), Vec<Rec>)> = Vec::new();
            for node in &level {
                let chain = best
                    .iter()
                    .find(|(n, _)| n == node)
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default();
                for s in self.steps(&node.0, node.1, down, up, edges) {
                    let target = (s.model.clone(), s.id);
                    if best.iter().any(|(n, _)| *n == target) {
                        continue;
                    }
                    let mut candidate = chain.clone();
                    candidate.push(s.record.clone());
                    let ids = |c: &Vec<Rec>| c.iter().map(|r| r.id).collect::<Vec<i64>>();
                    match found.iter_mut().find(|(n, _)| *n == target) {
                        Some((_, c)) => {
                            if ids(&candidate) < ids(c) {
                                *c = candidate;
                            }
                        }
                        None => found.push((target, candidate)),
                    }
                }
            }
            if let Some((_, chain)) = found.iter().find(|(n, _)| n.0 == to.0 && n.1 == to.1) {
                return Ok(Some(chain.clone()));
            }
            level = found.iter().map(|(n, _)| n.clone()).collect();
            best.extend(found);
            if level.is_empty() {
                break;
            }
        }
        Ok(None)
    }
}
