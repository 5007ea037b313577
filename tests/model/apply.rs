//! Running one [`Op`] on the store and on the reference model, and comparing
//! everything: ids, errors (code and message), per-item batch outcomes,
//! query results in order, then the whole contents and
//! `check_invariants()`.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Mutex;

use assocstore::{
    AssociationKind, BatchCreate, Condition, EdgeFilter, Error, InstanceAssociation, ItemOutcome,
    NewModelAssociation, QueryFilter, Search, Store, Towards, Traversal,
};

use super::domain::{ALL_MODELS, SLOTS, assoc_names, inst_domain};
use super::op::{BatchModels, Op, depth, inst_name, related_limit, related_start};
use super::reads::{Edges, Step};
use super::reference::{Assoc, BatchReq, Cascaded, Fail, Item, Model, Out, Rec};
use super::target::Target;

/// A store error as the model writes it: code and rendered message.
pub(crate) fn fail_of(e: &Error) -> Fail {
    Fail {
        code: e.code(),
        message: e.to_string(),
    }
}

pub(crate) fn rec_of(r: &InstanceAssociation) -> Rec {
    Rec {
        id: r.id,
        bk_inst_id: r.bk_inst_id,
        bk_obj_id: r.bk_obj_id.to_string(),
        bk_asst_inst_id: r.bk_asst_inst_id,
        bk_asst_obj_id: r.bk_asst_obj_id.to_string(),
        bk_obj_asst_id: r.bk_obj_asst_id.to_string(),
        bk_asst_id: r.bk_asst_id.to_string(),
    }
}

fn recs(rs: &[InstanceAssociation]) -> Vec<Rec> {
    rs.iter().map(rec_of).collect()
}

/// How often each operation succeeded or failed with each code, over every
/// comparison made by this process (see [`outcome_counts`]).
static OUTCOMES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// The outcome counts so far: `("create_instance_association ok", n)`,
/// `("create_instance_association 1101052", n)`, ...
pub(crate) fn outcome_counts() -> Vec<(String, u64)> {
    let counts = OUTCOMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn count_outcome<T>(what: &str, got: &Result<T, Error>) {
    let key = match got {
        Ok(_) => format!("{what} ok"),
        Err(e) => format!("{what} {}", e.code()),
    };
    let mut counts = OUTCOMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *counts.entry(key).or_default() += 1;
}

/// Compares a store result with the model's: equal values, or a store
/// error among the errors the model accepts.
pub(crate) fn same<T: PartialEq + Debug>(
    what: &str,
    got: Result<T, Error>,
    want: Out<T>,
) -> Result<(), String> {
    count_outcome(what, &got);
    match (got, want) {
        (Ok(g), Ok(w)) if g == w => Ok(()),
        (Err(e), Err(accepted)) if accepted.contains(&fail_of(&e)) => Ok(()),
        (got, want) => {
            let got = got.map_err(|e| fail_of(&e));
            Err(format!(
                "{what}: store and model disagree\n  store: {got:?}\n  model: {want:?}"
            ))
        }
    }
}

#[allow(clippy::needless_pass_by_value)] // called with temporaries
pub(crate) fn equal<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what}: store and model disagree\n  store: {got:?}\n  model: {want:?}"
        ))
    }
}

/// A cascade outcome with the instances after the first one sorted.
fn unordered(mut out: Cascaded) -> Cascaded {
    if let Some(rest) = out.instances.get_mut(1..) {
        rest.sort();
    }
    out
}

fn towards_flags(t: Towards) -> (bool, bool) {
    match t {
        Towards::Downstream => (true, false),
        Towards::Upstream => (false, true),
        Towards::Both => (true, true),
    }
}

fn steps_of(ns: Vec<assocstore::Neighbour>) -> Vec<Step> {
    ns.into_iter()
        .map(|n| Step {
            model: n.bk_obj_id.to_string(),
            id: n.bk_inst_id,
            record: rec_of(&n.association),
        })
        .collect()
}

/// Runs `op` on both, compares the results, then the whole contents.
///
/// # Errors
/// A description of the first disagreement.
pub(crate) fn apply(store: &Store, model: &mut Model, op: &Op) -> Result<(), String> {
    run(store, model, op)?;
    check_contents(store, model)
}

#[allow(clippy::too_many_lines)] // one arm per operation, each a few lines
fn run(store: &Store, model: &mut Model, op: &Op) -> Result<(), String> {
    match op {
        Op::CreateKind { kind, labelled } => {
            let name = if *labelled { "label" } else { "" };
            let mut k = AssociationKind::new(kind.name(), name);
            // The caller's id and `ispre` are ignored (the crate's docs).
            k.id = 99;
            k.ispre = true;
            let got = store.create_association_kind(k);
            same(
                "create_association_kind",
                got,
                model.create_kind(kind.name(), name),
            )
        }
        Op::CreateModelAssoc {
            slot,
            alter,
            mapping,
            on_delete,
            named,
        } => {
            let s = slot.slot().unwrap_or(super::domain::SLOTS[0]);
            let name = slot.name();
            let (src, kind, dst) = match alter {
                Some((src, kind, dst)) => (src.name(), kind.name(), dst.name()),
                None => (s.src, s.kind, s.dst),
            };
            let alias = if *named { "alias" } else { "" };
            let new = NewModelAssociation::new(src, kind, dst, mapping.mapping())
                .with_id(name)
                .with_name(alias)
                .with_on_delete(on_delete.on_delete());
            let got = store.create_model_association(&new);
            let want = model.create_assoc(Assoc {
                id: 0,
                bk_obj_asst_id: name.to_owned(),
                bk_obj_asst_name: alias.to_owned(),
                bk_obj_id: src.to_owned(),
                bk_asst_obj_id: dst.to_owned(),
                bk_asst_id: kind.to_owned(),
                mapping: mapping.mapping(),
                on_delete: on_delete.on_delete(),
            });
            same("create_model_association", got, want)
        }
        Op::DeleteModelAssoc { id } => {
            let id = i64::from(id % 16);
            same(
                "delete_model_association",
                store.delete_model_association(id),
                model.delete_assoc(id),
            )
        }
        Op::DefineModel { model: m, named } => {
            let (name, icon) = if *named {
                ("Model", "icon-x")
            } else {
                ("", "")
            };
            same(
                "define_model",
                store.define_model(m.name(), name, icon),
                model.define_model(m.name(), name, icon),
            )
        }
        Op::RegisterInstance { model: m, id, name } => {
            let mut id = id.map(super::domain::InstPick::id);
            let name = inst_name(*name);
            let got = store.register_instance(m.name(), id, name);
            if let (None, Ok(given)) = (id, &got) {
                // Either reading of SPEC's "max + 1" (see `auto_ids`).
                if !m.name().is_empty() && model.auto_ids(m.name()).contains(given) {
                    id = Some(*given);
                }
            }
            same("register_instance", got, model.register(m.name(), id, name))
        }
        Op::RegisterInstances { model: m, ids } => {
            let ids: Vec<i64> = ids.iter().map(|p| p.id()).collect();
            same(
                "register_instances",
                store.register_instances(m.name(), ids.iter().copied()),
                model.register_many(m.name(), &ids),
            )
        }
        Op::DeleteInstance { model: m, id } => same(
            "delete_instance",
            store.delete_instance(m.name(), id.id()),
            model.delete_instances(m.name(), &[id.id()]).map(|n| n == 1),
        ),
        Op::DeleteInstances { model: m, ids } => {
            let ids: Vec<i64> = ids.iter().map(|p| p.id()).collect();
            same(
                "delete_instances",
                store.delete_instances(m.name(), ids.iter().copied()),
                model.delete_instances(m.name(), &ids),
            )
        }
        Op::Create { assoc, src, dst } => {
            let name = assoc.resolve(&model.assoc_names());
            same(
                "create_instance_association",
                store.create_instance_association(&name, src.id(), dst.id()),
                model.create(&name, src.id(), dst.id()),
            )
        }
        Op::Batch {
            assoc,
            models,
            details,
            idempotent,
            atomic,
        } => {
            let name = assoc.resolve(&model.assoc_names());
            let slot = SLOTS.iter().find(|s| s.name == name);
            let (obj, asst_obj) = match (models, model.assoc(&name), slot) {
                (BatchModels::Slot, Some(a), _) => (a.bk_obj_id.clone(), a.bk_asst_obj_id.clone()),
                (BatchModels::Slot, None, Some(s)) => (s.src.to_owned(), s.dst.to_owned()),
                (BatchModels::Slot, None, None) => ("a".to_owned(), "b".to_owned()),
                (BatchModels::Given(a, b), _, _) => (a.name().to_owned(), b.name().to_owned()),
            };
            let details: Vec<(i64, i64)> = details.iter().map(|(s, d)| (s.id(), d.id())).collect();
            let req = BatchCreate::new(&obj, &asst_obj, &name, details.clone())
                .idempotent(*idempotent)
                .atomic(*atomic);
            let got = store.batch_create_instance_associations(&req);
            let want = model.batch(&BatchReq {
                bk_obj_id: obj,
                bk_asst_obj_id: asst_obj,
                bk_obj_asst_id: name,
                details,
                idempotent: *idempotent,
                atomic: *atomic,
            });
            if let (Ok(out), Ok(items)) = (&got, &want) {
                check_batch_maps(out, items)?;
                for item in &out.items {
                    let kind = match item {
                        ItemOutcome::Created(_) => "created".to_owned(),
                        ItemOutcome::Existing(_) => "existing".to_owned(),
                        ItemOutcome::Failed(e) => e.code().to_string(),
                        ItemOutcome::RolledBack => "rolled back".to_owned(),
                    };
                    count_outcome::<()>(&format!("batch item {kind}"), &Ok(()));
                }
            }
            let got = got.map(|out| {
                out.items
                    .iter()
                    .map(|o| match o {
                        ItemOutcome::Created(id) => Item::Created(*id),
                        ItemOutcome::Existing(id) => Item::Existing(*id),
                        ItemOutcome::Failed(e) => Item::Failed(fail_of(e)),
                        ItemOutcome::RolledBack => Item::RolledBack,
                    })
                    .collect::<Vec<Item>>()
            });
            same("batch_create_instance_associations", got, want)
        }
        Op::DeleteById { model: m, id } => {
            let id = id.resolve(&model.record_ids(), model.last_id);
            same(
                "delete_instance_association",
                store.delete_instance_association(m.name(), id),
                model.delete_by_id(m.name(), id),
            )
        }
        Op::DeleteByIds { model: m, ids } => {
            let ids = ids.resolve(&model.record_ids(), model.last_id);
            same(
                "delete_instance_associations",
                store.delete_instance_associations(m.name(), &ids),
                model.delete_by_ids(m.name(), &ids),
            )
        }
        Op::DeleteAssociationsOf { model: m, id } => same(
            "delete_instance_associations_of",
            store
                .delete_instance_associations_of(m.name(), id.id())
                .map(|rs| recs(&rs)),
            model.delete_associations_of(m.name(), id.id()),
        ),
        Op::Cascade { model: m, id } => {
            let got = store
                .delete_instance_cascade(m.name(), id.id())
                .map(|out| Cascaded {
                    instances: out
                        .instances
                        .iter()
                        .map(|(m, i)| (m.to_string(), *i))
                        .collect(),
                    associations: recs(&out.associations),
                });
            let want = model.cascade(m.name(), id.id());
            // SPEC says nothing of the order of the instances a cascade
            // reaches; the crate's docs say "the requested one first, then in
            // the order the cascade reached them", which the store leaves to
            // `HashMap` iteration (so it changes from call to call: see
            // `cascade_lists_reached_instances_in_a_stable_order` in
            // tests/model_regressions.rs). Here: the requested one first,
            // then the same set.
            same(
                "delete_instance_cascade",
                got.map(unordered),
                want.map(unordered),
            )
        }
        Op::Get { id } => {
            let id = id.resolve(&model.record_ids(), model.last_id);
            let record = store.instance_association(id);
            // The lock-free edge read names the same record.
            let edge = store
                .edge(id)
                .map(|e| (e.id, e.model_association, e.bk_inst_id, e.bk_asst_inst_id));
            let want = record.as_ref().map(|r| {
                let a = store.model_association(&r.bk_obj_asst_id);
                (
                    r.id,
                    a.map_or(-1, |a| a.id),
                    r.bk_inst_id,
                    r.bk_asst_inst_id,
                )
            });
            equal("edge", edge, want)?;
            equal(
                "instance_association",
                record.as_ref().map(rec_of),
                model.get(id),
            )
        }
        Op::Find {
            model: m,
            condition,
        } => {
            let json = condition.to_json();
            let got = Condition::from_json(&json)
                .and_then(|c| store.find_instance_associations(m.name(), &c))
                .map(|rs| recs(&rs));
            same(
                "find_instance_associations",
                got,
                model.find(m.name(), &json),
            )
        }
        Op::Search { model: m, body } => {
            let json = body.to_json();
            let got = Search::from_json(&json)
                .and_then(|s| store.search_instance_associations(m.name(), &s))
                .map(|rs| recs(&rs));
            same(
                "search_instance_associations",
                got,
                model.search(m.name(), &json),
            )
        }
        Op::Count {
            model: m,
            conditions,
        } => {
            let json = conditions.as_ref().map(super::op::RuleNode::to_json);
            let got = match &json {
                None => store.count_instance_associations(m.name(), None),
                Some(v) => QueryFilter::from_json(v)
                    .and_then(|f| store.count_instance_associations(m.name(), Some(&f))),
            };
            same(
                "count_instance_associations",
                got,
                model.count(m.name(), json.as_ref()),
            )
        }
        Op::Related {
            model: m,
            id,
            fields,
            start,
            limit,
        } => {
            let fields: Vec<String> = fields.iter().map(|f| f.name().to_owned()).collect();
            let (start, limit) = (related_start(*start), related_limit(*limit));
            let got = store
                .search_related_instance_associations(m.name(), id.id(), &fields, start, limit)
                .map(|rs| recs(&rs));
            let want = model.related(m.name(), id.id(), &fields, start, limit);
            same("search_related_instance_associations", got, want)
        }
        Op::Topology {
            model: m,
            id,
            upstream,
        } => {
            let got = if *upstream {
                store.instance_topology_upstream(m.name(), id.id())
            } else {
                store.instance_topology(m.name(), id.id())
            };
            let got = got.map(|groups| {
                groups
                    .into_iter()
                    .map(|g| {
                        let children = g
                            .children
                            .into_iter()
                            .map(|c| (c.id, c.bk_inst_id, c.bk_obj_id, c.bk_inst_name, c.asso_id))
                            .collect();
                        (g.bk_obj_id, g.bk_obj_name, g.bk_obj_icon, g.count, children)
                    })
                    .collect::<Vec<_>>()
            });
            same(
                "instance_topology",
                got,
                model.topology(m.name(), id.id(), *upstream),
            )
        }
        Op::Neighbours {
            model: m,
            id,
            towards,
            filter,
        } => {
            let ef = EdgeFilter::default()
                .kinds(filter.kinds())
                .model_associations(filter.assocs());
            let got = store
                .neighbours(m.name(), id.id(), towards.towards(), &ef)
                .map(steps_of);
            let edges = Edges {
                kinds: filter.kinds(),
                assocs: filter.assocs(),
            };
            let want =
                model.neighbours(m.name(), id.id(), towards_flags(towards.towards()), &edges);
            same("neighbours", got, want)
        }
        Op::Traverse {
            model: m,
            id,
            towards,
            depth: d,
            node_limit,
            filter,
        } => {
            let ef = EdgeFilter::default()
                .kinds(filter.kinds())
                .model_associations(filter.assocs());
            let mut t = Traversal::new(towards.towards(), depth(*d)).filter(ef);
            let node_limit = node_limit.map(|n| usize::from(n % 6));
            if let Some(n) = node_limit {
                t = t.node_limit(n);
            }
            let got = store.traverse(m.name(), id.id(), &t).map(|rs| {
                rs.into_iter()
                    .map(|r| {
                        (
                            r.bk_obj_id.to_string(),
                            r.bk_inst_id,
                            r.depth,
                            rec_of(&r.via),
                        )
                    })
                    .collect::<Vec<_>>()
            });
            let edges = Edges {
                kinds: filter.kinds(),
                assocs: filter.assocs(),
            };
            let want = model.traverse(
                m.name(),
                id.id(),
                towards_flags(towards.towards()),
                depth(*d),
                node_limit,
                &edges,
            );
            same("traverse", got, want)
        }
        Op::ShortestPath {
            from,
            to,
            towards,
            depth: d,
            filter,
        } => {
            let ef = EdgeFilter::default()
                .kinds(filter.kinds())
                .model_associations(filter.assocs());
            let t = Traversal::new(towards.towards(), depth(*d)).filter(ef);
            let (f, g) = ((from.0.name(), from.1.id()), (to.0.name(), to.1.id()));
            let got = store.shortest_path(f, g, &t).map(|p| p.map(|rs| recs(&rs)));
            let edges = Edges {
                kinds: filter.kinds(),
                assocs: filter.assocs(),
            };
            let want =
                model.shortest_path(f, g, towards_flags(towards.towards()), depth(*d), &edges);
            same("shortest_path", got, want)
        }
        Op::Checkpoint => {
            let got = store.checkpoint();
            count_outcome("checkpoint", &got);
            got.map_err(|e| format!("checkpoint: {}", fail_of(&e).message))
        }
        // A store alone cannot be replaced: see `step`.
        Op::Reopen | Op::Crash => Ok(()),
    }
}

/// Runs `op` on the target and the model, comparing as [`apply`] does;
/// `Reopen` and `Crash` restart a durable target (the model is unchanged:
/// nothing acknowledged may be lost), then everything is compared again.
/// On a durable target an auto id must also be the documented one.
///
/// # Errors
/// A description of the first disagreement.
pub(crate) fn step(target: &mut Target, model: &mut Model, op: &Op) -> Result<(), String> {
    let restarted = match op {
        Op::Reopen => target.reopen(),
        Op::Crash => target.crash(),
        // The model accepts either reading of SPEC's "max + 1"; the crate's
        // docs say "one above the highest id this model has seen", and a
        // restart must not change which one the store follows.
        Op::RegisterInstance {
            model: m, id: None, ..
        } if target.is_durable() => {
            let documented = model.auto_ids(m.name()).first().copied();
            let before = model.instances.len();
            apply(target.store(), model, op)?;
            if model.instances.len() > before {
                equal(
                    "register_instance: the auto id (one above the highest id seen)",
                    model.instances.last().map(|i| i.id),
                    documented,
                )?;
            }
            return Ok(());
        }
        _ => return apply(target.store(), model, op),
    };
    restarted?;
    let what = if matches!(op, Op::Reopen) {
        "reopen"
    } else {
        "crash"
    };
    let from = match target.store().open_report() {
        Some(r) if r.snapshot.is_some() => "from a snapshot",
        Some(_) => "from the journal only",
        None => "in memory",
    };
    count_outcome::<()>(&format!("{what} {from}"), &Ok(()));
    check_contents(target.store(), model)
}

/// bk-cmdb's `success_created` / `error_msg` maps, derived by the model from
/// its item outcomes (SPEC §3.3: keys are `details` indexes; idempotent
/// items count as created).
fn check_batch_maps(out: &assocstore::BatchOutcome, items: &[Item]) -> Result<(), String> {
    let mut created = Vec::new();
    let mut errors = Vec::new();
    let mut existing = Vec::new();
    let mut rolled_back = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Created(id) => created.push((i, *id)),
            Item::Existing(id) => {
                created.push((i, *id));
                existing.push((i, *id));
            }
            Item::Failed(f) => errors.push((i, f.message.clone())),
            Item::RolledBack => rolled_back.push(i),
        }
    }
    equal(
        "success_created",
        out.success_created().into_iter().collect::<Vec<_>>(),
        created,
    )?;
    equal(
        "error_msg",
        out.error_msg().into_iter().collect::<Vec<_>>(),
        errors,
    )?;
    equal(
        "existing",
        out.existing().into_iter().collect::<Vec<_>>(),
        existing,
    )?;
    equal("rolled_back", out.rolled_back(), rolled_back)?;
    equal(
        "created",
        out.created(),
        items
            .iter()
            .filter(|i| matches!(i, Item::Created(_)))
            .count(),
    )
}

/// Compares everything the store holds with the model, and runs
/// `check_invariants()`: every record (through `find` on every model, by
/// id, and the count), every instance of the domain (and every one ever
/// registered) with its name, every model association, every kind.
///
/// # Errors
/// A description of the first disagreement.
pub(crate) fn check_contents(store: &Store, model: &Model) -> Result<(), String> {
    store
        .check_invariants()
        .map_err(|e| format!("check_invariants: {e}"))?;
    // An automatic checkpoint that failed would have turned it read-only.
    equal("is_read_only", store.is_read_only(), false)?;
    let mut all: Vec<Rec> = Vec::new();
    for m in ALL_MODELS {
        let found = store
            .find_instance_associations(m, &Condition::all())
            .map_err(|e| format!("find {m}: {e}"))?;
        all.extend(recs(&found));
    }
    all.sort();
    all.dedup();
    equal("all records", &all, &model.records)?;
    equal("len", store.len(), model.records.len())?;
    for r in &model.records {
        let got = store.instance_association(r.id).as_ref().map(rec_of);
        equal("instance_association", got.as_ref(), Some(r))?;
    }
    for id in [0, model.last_id + 1] {
        equal("instance_association", store.instance_association(id), None)?;
    }
    let mut ids = inst_domain();
    ids.extend(model.ever.iter().map(|(_, i)| *i));
    for m in ALL_MODELS {
        for &id in &ids {
            let what = format!("instance {m}/{id}");
            equal(&what, store.instance_exists(m, id), model.exists(m, id))?;
            equal(&what, store.instance_name(m, id), model.inst_name(m, id))?;
        }
        let mut registered: Vec<i64> = model
            .instances
            .iter()
            .filter(|i| i.model == m)
            .map(|i| i.id)
            .collect();
        registered.sort_unstable();
        equal(&format!("instances({m})"), store.instances(m), registered)?;
    }
    let got: Vec<Assoc> = store
        .model_associations()
        .into_iter()
        .map(|a| {
            if a.ispre.is_some() {
                return Err(format!(
                    "model association {} has ispre {:?}",
                    a.id, a.ispre
                ));
            }
            Ok(Assoc {
                id: a.id,
                bk_obj_asst_id: a.bk_obj_asst_id,
                bk_obj_asst_name: a.bk_obj_asst_name,
                bk_obj_id: a.bk_obj_id,
                bk_asst_obj_id: a.bk_asst_obj_id,
                bk_asst_id: a.bk_asst_id,
                mapping: a.mapping,
                on_delete: a.on_delete,
            })
        })
        .collect::<Result<_, String>>()?;
    equal("model associations", &got, &model.assocs)?;
    for name in assoc_names() {
        equal(
            "model_association",
            store.model_association(name).map(|a| a.id),
            model.assoc(name).map(|a| a.id),
        )?;
    }
    let kinds = store.association_kinds();
    let mut builtins: Vec<&str> = kinds
        .iter()
        .filter(|k| k.ispre)
        .map(|k| k.bk_asst_id.as_str())
        .collect();
    builtins.sort_unstable();
    let mut want_builtins = super::reference::BUILTIN_KINDS.to_vec();
    want_builtins.sort_unstable();
    equal("built-in kinds", builtins, want_builtins)?;
    let user: Vec<(i64, String, String)> = kinds
        .iter()
        .filter(|k| !k.ispre)
        .map(|k| (k.id, k.bk_asst_id.clone(), k.bk_asst_name.clone()))
        .collect();
    let want: Vec<(i64, String, String)> = model
        .kinds
        .iter()
        .map(|k| (k.id, k.bk_asst_id.clone(), k.bk_asst_name.clone()))
        .collect();
    equal("user kinds", user, want)
}
