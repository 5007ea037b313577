//! Graph reads: SPEC §3.4 `search_related_inst_asso` and
//! `search_inst_association_topo` (with its upstream mirror), and the
//! library's neighbours, traversal and shortest paths. Ends with property
//! tests checking traversal and shortest paths against a breadth-first
//! search written here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet, VecDeque};

use assocstore::{EdgeFilter, InstanceAssociation, Store, Towards, Traversal};
use common::{
    HOST, SEED, SWITCH, all_records, assert_err, assert_invariants, define, ids, many_to_many,
    one_to_many, proptest_cases,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

const APP: &str = "app";
const RUN: &str = "host_run_app";
const PEER: &str = "host_connect_host";

/// Switches, hosts and apps, named (app 32 has no name), six records:
///
/// | id | source | target | model association |
/// |---|---|---|---|
/// | 1 | `bk_switch` 11 | host 21 | `bk_switch_belong_host` |
/// | 2 | host 21 | app 31 | `host_run_app` |
/// | 3 | `bk_switch` 12 | host 22 | `bk_switch_belong_host` |
/// | 4 | host 21 | app 32 | `host_run_app` |
/// | 5 | host 21 | host 22 | `host_connect_host` |
/// | 6 | host 22 | app 31 | `host_run_app` |
fn fixture() -> Store {
    let store = Store::new();
    define(&store, &one_to_many(SWITCH, "belong", HOST));
    define(&store, &many_to_many(HOST, "run", APP));
    define(&store, &many_to_many(HOST, "connect", HOST));
    for (model, id, name) in [
        (SWITCH, 11, Some("sw-11")),
        (SWITCH, 12, Some("sw-12")),
        (HOST, 21, Some("web-21")),
        (HOST, 22, Some("db-22")),
        (APP, 31, Some("nginx")),
        (APP, 32, None),
    ] {
        store.register_instance(model, Some(id), name).unwrap();
    }
    let created = [
        store.create_instance_association(SEED, 11, 21).unwrap(),
        store.create_instance_association(RUN, 21, 31).unwrap(),
        store.create_instance_association(SEED, 12, 22).unwrap(),
        store.create_instance_association(RUN, 21, 32).unwrap(),
        store.create_instance_association(PEER, 21, 22).unwrap(),
        store.create_instance_association(RUN, 22, 31).unwrap(),
    ];
    assert_eq!(created, [1, 2, 3, 4, 5, 6], "fixture ids");
    store
}

const NODE: &str = "n";
const CONNECT: &str = "n_connect_n";
const LINK_RUN: &str = "n_run_n";

/// One self-associated model `n`, instances 1 to 7, with a cycle, a
/// self-loop, a shortcut and a second kind:
///
/// | id | edge | kind |
/// |---|---|---|
/// | 1 | 1→2 | connect |
/// | 2 | 2→3 | connect |
/// | 3 | 3→1 | connect |
/// | 4 | 2→2 | connect |
/// | 5 | 3→4 | connect |
/// | 6 | 4→5 | connect |
/// | 7 | 1→4 | connect |
/// | 8 | 6→1 | connect |
/// | 9 | 5→6 | run |
///
/// Instance 7 is isolated.
fn cyclic() -> Store {
    let store = Store::new();
    define(&store, &many_to_many(NODE, "connect", NODE));
    define(&store, &many_to_many(NODE, "run", NODE));
    store.register_instances(NODE, 1..=7).unwrap();
    let edges = [
        (CONNECT, 1, 2),
        (CONNECT, 2, 3),
        (CONNECT, 3, 1),
        (CONNECT, 2, 2),
        (CONNECT, 3, 4),
        (CONNECT, 4, 5),
        (CONNECT, 1, 4),
        (CONNECT, 6, 1),
        (LINK_RUN, 5, 6),
    ];
    for (i, (assoc, src, dst)) in edges.into_iter().enumerate() {
        let id = store.create_instance_association(assoc, src, dst).unwrap();
        assert_eq!(id, i as i64 + 1, "cyclic fixture ids");
    }
    store
}

fn fields(names: &[&str]) -> Vec<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

/// Every field of a record.
fn all_fields() -> Vec<String> {
    fields(&[
        "id",
        "bk_inst_id",
        "bk_obj_id",
        "bk_asst_inst_id",
        "bk_asst_obj_id",
        "bk_obj_asst_id",
        "bk_asst_id",
    ])
}

/// The ids of the records related to one instance, with a page.
fn related_ids(store: &Store, model: &str, inst: i64, start: u64, limit: u64) -> Vec<i64> {
    ids(&store
        .search_related_instance_associations(model, inst, &fields(&["id"]), start, limit)
        .unwrap())
}

/// (model, instance, record id) of each neighbour.
fn neighbour_list(
    store: &Store,
    model: &str,
    inst: i64,
    towards: Towards,
    filter: &EdgeFilter,
) -> Vec<(String, i64, i64)> {
    store
        .neighbours(model, inst, towards, filter)
        .unwrap()
        .into_iter()
        .map(|n| (n.bk_obj_id.to_string(), n.bk_inst_id, n.association.id))
        .collect()
}

/// (instance, depth, via record id) of each instance a traversal of `n`
/// reaches.
fn reached(store: &Store, start: i64, traversal: &Traversal) -> Vec<(i64, usize, i64)> {
    store
        .traverse(NODE, start, traversal)
        .unwrap()
        .into_iter()
        .map(|r| {
            assert_eq!(&*r.bk_obj_id, NODE);
            (r.bk_inst_id, r.depth, r.via.id)
        })
        .collect()
}

/// The record ids of a shortest path in `n`, if any.
fn path_ids(store: &Store, from: i64, to: i64, traversal: &Traversal) -> Option<Vec<i64>> {
    store
        .shortest_path((NODE, from), (NODE, to), traversal)
        .unwrap()
        .map(|p| ids(&p))
}

fn down(depth: usize) -> Traversal {
    Traversal::new(Towards::Downstream, depth)
}

// ---------------------------------------------------------------------------
// search_related_inst_asso (SPEC §3.4)
// ---------------------------------------------------------------------------

#[test]
fn related_lists_records_where_the_instance_is_source_or_target_by_id() {
    let store = fixture();
    assert_eq!(related_ids(&store, HOST, 21, 0, 0), [1, 2, 4, 5]);
    assert_eq!(related_ids(&store, HOST, 22, 0, 0), [3, 5, 6]);
    assert_eq!(related_ids(&store, APP, 31, 0, 0), [2, 6]);
    assert_invariants(&store);
}

#[test]
fn related_returns_whole_records_for_every_field() {
    let store = fixture();
    let found = store
        .search_related_instance_associations(SWITCH, 11, &all_fields(), 0, 0)
        .unwrap();
    assert_eq!(found, [store.instance_association(1).unwrap()]);
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"id":1,"bk_inst_id":11,"bk_obj_id":"bk_switch","bk_asst_inst_id":21,"bk_asst_obj_id":"host","bk_obj_asst_id":"bk_switch_belong_host","bk_asst_id":"belong"}]"#
    );
    assert_invariants(&store);
}

#[test]
fn related_projects_to_the_listed_fields_in_record_order() {
    let store = fixture();
    let found = store
        .search_related_instance_associations(
            APP,
            31,
            &fields(&["bk_asst_inst_id", "id", "bk_obj_asst_id"]),
            0,
            0,
        )
        .unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"id":2,"bk_asst_inst_id":31,"bk_obj_asst_id":"host_run_app"},{"id":6,"bk_asst_inst_id":31,"bk_obj_asst_id":"host_run_app"}]"#
    );
    assert_invariants(&store);
}

#[test]
fn related_limit_zero_returns_everything() {
    let store = fixture();
    assert_eq!(related_ids(&store, HOST, 21, 0, 0), [1, 2, 4, 5]);
    assert_eq!(related_ids(&store, HOST, 21, 1, 0), [2, 4, 5]);
    assert_invariants(&store);
}

#[test]
fn related_start_and_limit_cut_a_window() {
    let store = fixture();
    assert_eq!(related_ids(&store, HOST, 21, 1, 2), [2, 4]);
    assert_eq!(related_ids(&store, HOST, 21, 3, 2), [5]);
    assert_invariants(&store);
}

#[test]
fn related_start_past_the_end_is_empty() {
    let store = fixture();
    assert!(related_ids(&store, HOST, 21, 4, 0).is_empty());
    assert!(related_ids(&store, HOST, 21, 1_000, 10).is_empty());
    assert_invariants(&store);
}

#[test]
fn related_accepts_a_limit_of_five_hundred() {
    let store = fixture();
    assert_eq!(related_ids(&store, HOST, 21, 0, 500), [1, 2, 4, 5]);
    assert_invariants(&store);
}

#[test]
fn related_limit_above_five_hundred_is_refused() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations(HOST, 21, &fields(&["id"]), 0, 501),
        1_199_059,
        "page limit is exceeded. suggestion 200",
    );
    assert_invariants(&store);
}

#[test]
fn related_without_fields_is_unassigned() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations(HOST, 21, &[], 0, 0),
        1_199_010,
        "'fields' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn related_with_instance_zero_is_unassigned() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations(HOST, 0, &fields(&["id"]), 0, 0),
        1_199_010,
        "''bk_inst_id' & 'bk_obj_id'' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn related_with_an_empty_model_is_unassigned() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations("", 21, &fields(&["id"]), 0, 0),
        1_199_010,
        "''bk_inst_id' & 'bk_obj_id'' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn related_checks_the_instance_before_fields_and_limit() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations("", 0, &[], 0, 501),
        1_199_010,
        "''bk_inst_id' & 'bk_obj_id'' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn related_checks_fields_before_the_limit() {
    let store = fixture();
    assert_err(
        store.search_related_instance_associations(HOST, 21, &[], 0, 501),
        1_199_010,
        "'fields' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn related_of_an_unknown_model_or_instance_is_empty() {
    let store = fixture();
    assert!(related_ids(&store, "nowhere", 21, 0, 0).is_empty());
    assert!(related_ids(&store, HOST, 99, 0, 0).is_empty());
    assert_invariants(&store);
}

#[test]
fn related_does_not_mix_instances_with_the_same_id_in_other_models() {
    let store = fixture();
    // App 21 and host 21 share an id; only host 21's records are related.
    let run_back = define(&store, &many_to_many(APP, "connect", SWITCH));
    store.register_instances(APP, [21]).unwrap();
    let id = store
        .create_instance_association(&run_back, 21, 12)
        .unwrap();
    assert_eq!(related_ids(&store, HOST, 21, 0, 0), [1, 2, 4, 5]);
    assert_eq!(related_ids(&store, APP, 21, 0, 0), [id]);
    assert_invariants(&store);
}

#[test]
fn related_lists_a_self_link_once() {
    let store = fixture();
    let id = store.create_instance_association(PEER, 22, 22).unwrap();
    assert_eq!(related_ids(&store, HOST, 22, 0, 0), [3, 5, 6, id]);
    assert_invariants(&store);
}

#[test]
fn related_omits_deleted_records() {
    let store = fixture();
    assert!(store.delete_instance_association(HOST, 2).unwrap());
    assert_eq!(related_ids(&store, HOST, 21, 0, 0), [1, 4, 5]);
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// search_inst_association_topo (SPEC §3.4) and its upstream mirror
// ---------------------------------------------------------------------------

#[test]
fn topology_groups_direct_targets_by_model_in_bk_cmdb_shape() {
    let store = fixture();
    let groups = store.instance_topology(HOST, 21).unwrap();
    assert_eq!(
        serde_json::to_string(&groups).unwrap(),
        concat!(
            r#"[{"bk_obj_id":"app","bk_obj_name":"app","bk_obj_icon":"","count":2,"children":["#,
            r#"{"id":"31","bk_obj_id":"app","bk_inst_id":31,"bk_inst_name":"nginx","asso_id":2},"#,
            r#"{"id":"32","bk_obj_id":"app","bk_inst_id":32,"bk_inst_name":"","asso_id":4}]},"#,
            r#"{"bk_obj_id":"host","bk_obj_name":"host","bk_obj_icon":"","count":1,"children":["#,
            r#"{"id":"22","bk_obj_id":"host","bk_inst_id":22,"bk_inst_name":"db-22","asso_id":5}]}]"#,
        )
    );
    assert_invariants(&store);
}

#[test]
fn topology_count_matches_the_children() {
    let store = fixture();
    for group in store.instance_topology(HOST, 21).unwrap() {
        assert_eq!(group.count, group.children.len(), "{}", group.bk_obj_id);
    }
    assert_invariants(&store);
}

#[test]
fn topology_asso_id_is_the_record_id() {
    let store = fixture();
    let groups = store.instance_topology(HOST, 22).unwrap();
    assert_eq!(groups.len(), 1);
    let child = &groups[0].children[0];
    let record = store.instance_association(child.asso_id).unwrap();
    assert_eq!(
        (
            record.bk_inst_id,
            record.bk_asst_inst_id,
            &*record.bk_obj_asst_id
        ),
        (22, 31, RUN)
    );
    assert_eq!(child.id, "31");
    assert_invariants(&store);
}

#[test]
fn topology_uses_the_defined_model_name_and_icon() {
    let store = fixture();
    store
        .define_model(APP, "Application", "icon-cc-business")
        .unwrap();
    let groups = store.instance_topology(HOST, 22).unwrap();
    assert_eq!(groups[0].bk_obj_name, "Application");
    assert_eq!(groups[0].bk_obj_icon, "icon-cc-business");
    assert_invariants(&store);
}

#[test]
fn define_model_with_an_empty_model_is_unassigned() {
    let store = fixture();
    assert_err(
        store.define_model("", "Nothing", "icon"),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn topology_leaves_out_upstream_neighbours() {
    let store = fixture();
    // Host 22 has sources switch 12 and host 21, and one target, app 31.
    let groups = store.instance_topology(HOST, 22).unwrap();
    let children: Vec<(&str, i64)> = groups
        .iter()
        .flat_map(|g| g.children.iter().map(|c| (&*c.bk_obj_id, c.bk_inst_id)))
        .collect();
    assert_eq!(children, [(APP, 31)]);
    assert_invariants(&store);
}

#[test]
fn topology_of_an_instance_without_targets_is_empty() {
    let store = fixture();
    let groups = store.instance_topology(APP, 31).unwrap();
    assert!(groups.is_empty());
    assert_eq!(serde_json::to_string(&groups).unwrap(), "[]");
    assert_invariants(&store);
}

#[test]
fn topology_lists_one_child_per_record() {
    let store = fixture();
    let also = define(&store, &many_to_many(HOST, "connect", APP));
    let extra = store.create_instance_association(&also, 21, 31).unwrap();
    let groups = store.instance_topology(HOST, 21).unwrap();
    let app = &groups[0];
    assert_eq!(app.bk_obj_id, APP);
    assert_eq!(app.count, 3);
    let children: Vec<(i64, i64)> = app
        .children
        .iter()
        .map(|c| (c.bk_inst_id, c.asso_id))
        .collect();
    assert_eq!(children, [(31, 2), (32, 4), (31, extra)]);
    assert_invariants(&store);
}

#[test]
fn topology_lists_a_self_link_as_the_instance_itself() {
    let store = fixture();
    let id = store.create_instance_association(PEER, 22, 22).unwrap();
    let groups = store.instance_topology(HOST, 22).unwrap();
    let host = groups.iter().find(|g| g.bk_obj_id == HOST).unwrap();
    assert_eq!(host.children.len(), 1);
    assert_eq!(
        (host.children[0].bk_inst_id, host.children[0].asso_id),
        (22, id)
    );
    assert_eq!(host.children[0].bk_inst_name, "db-22");
    assert_invariants(&store);
}

#[test]
fn topology_leaves_out_deleted_records() {
    let store = fixture();
    assert!(store.delete_instance_association(HOST, 5).unwrap());
    let groups = store.instance_topology(HOST, 21).unwrap();
    let models: Vec<&str> = groups.iter().map(|g| &*g.bk_obj_id).collect();
    assert_eq!(models, [APP]);
    assert_invariants(&store);
}

#[test]
fn topology_of_an_unknown_model_is_refused() {
    let store = fixture();
    assert_err(
        store.instance_topology("nowhere", 21),
        1_199_011,
        "'bk_obj_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn topology_of_an_empty_model_is_refused() {
    let store = fixture();
    assert_err(
        store.instance_topology("", 21),
        1_199_011,
        "'bk_obj_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn topology_of_instance_zero_is_refused() {
    let store = fixture();
    assert_err(
        store.instance_topology(HOST, 0),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn topology_of_an_unregistered_instance_is_refused() {
    let store = fixture();
    // 31 is an app, not a host.
    assert_err(
        store.instance_topology(HOST, 31),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn topology_of_a_deleted_instance_is_refused() {
    let store = fixture();
    store.register_instance(APP, Some(33), None).unwrap();
    assert!(store.delete_instance(APP, 33).unwrap());
    assert_err(
        store.instance_topology(APP, 33),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn upstream_topology_groups_direct_sources_by_model() {
    let store = fixture();
    let groups = store.instance_topology_upstream(HOST, 22).unwrap();
    assert_eq!(
        serde_json::to_string(&groups).unwrap(),
        concat!(
            r#"[{"bk_obj_id":"bk_switch","bk_obj_name":"bk_switch","bk_obj_icon":"","count":1,"children":["#,
            r#"{"id":"12","bk_obj_id":"bk_switch","bk_inst_id":12,"bk_inst_name":"sw-12","asso_id":3}]},"#,
            r#"{"bk_obj_id":"host","bk_obj_name":"host","bk_obj_icon":"","count":1,"children":["#,
            r#"{"id":"21","bk_obj_id":"host","bk_inst_id":21,"bk_inst_name":"web-21","asso_id":5}]}]"#,
        )
    );
    assert_invariants(&store);
}

#[test]
fn upstream_topology_lists_children_in_record_order() {
    let store = fixture();
    let groups = store.instance_topology_upstream(APP, 31).unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].bk_obj_id, HOST);
    let children: Vec<(i64, i64)> = groups[0]
        .children
        .iter()
        .map(|c| (c.bk_inst_id, c.asso_id))
        .collect();
    assert_eq!(children, [(21, 2), (22, 6)]);
    assert_invariants(&store);
}

#[test]
fn upstream_topology_of_an_instance_without_sources_is_empty() {
    let store = fixture();
    assert!(
        store
            .instance_topology_upstream(SWITCH, 11)
            .unwrap()
            .is_empty()
    );
    assert_invariants(&store);
}

#[test]
fn upstream_topology_of_an_unregistered_instance_is_refused() {
    let store = fixture();
    assert_err(
        store.instance_topology_upstream(SWITCH, 13),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Neighbours
// ---------------------------------------------------------------------------

#[test]
fn downstream_neighbours_are_the_targets_in_record_order() {
    let store = fixture();
    let all = EdgeFilter::default();
    assert_eq!(
        neighbour_list(&store, HOST, 21, Towards::Downstream, &all),
        [
            (APP.to_owned(), 31, 2),
            (APP.to_owned(), 32, 4),
            (HOST.to_owned(), 22, 5)
        ]
    );
    assert_invariants(&store);
}

#[test]
fn upstream_neighbours_are_the_sources_in_record_order() {
    let store = fixture();
    let all = EdgeFilter::default();
    assert_eq!(
        neighbour_list(&store, HOST, 22, Towards::Upstream, &all),
        [(SWITCH.to_owned(), 12, 3), (HOST.to_owned(), 21, 5)]
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_both_ways_merge_in_record_order() {
    let store = fixture();
    let all = EdgeFilter::default();
    assert_eq!(
        neighbour_list(&store, HOST, 22, Towards::Both, &all),
        [
            (SWITCH.to_owned(), 12, 3),
            (HOST.to_owned(), 21, 5),
            (APP.to_owned(), 31, 6)
        ]
    );
    assert_invariants(&store);
}

#[test]
fn neighbour_carries_the_whole_association() {
    let store = fixture();
    let up = store
        .neighbours(APP, 32, Towards::Upstream, &EdgeFilter::default())
        .unwrap();
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].association, store.instance_association(4).unwrap());
    assert_invariants(&store);
}

#[test]
fn neighbours_filtered_by_kind() {
    let store = fixture();
    let run = EdgeFilter::default().kinds(["run"]);
    assert_eq!(
        neighbour_list(&store, HOST, 21, Towards::Both, &run),
        [(APP.to_owned(), 31, 2), (APP.to_owned(), 32, 4)]
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_filtered_by_several_kinds() {
    let store = fixture();
    let kinds = EdgeFilter::default().kinds(["belong", "connect"]);
    assert_eq!(
        neighbour_list(&store, HOST, 21, Towards::Both, &kinds),
        [(SWITCH.to_owned(), 11, 1), (HOST.to_owned(), 22, 5)]
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_filtered_by_model_association() {
    let store = fixture();
    let peer = EdgeFilter::default().model_associations([PEER]);
    assert_eq!(
        neighbour_list(&store, HOST, 22, Towards::Both, &peer),
        [(HOST.to_owned(), 21, 5)]
    );
    assert_invariants(&store);
}

#[test]
fn neighbour_filters_by_kind_and_model_association_must_both_allow() {
    let store = fixture();
    let clash = EdgeFilter::default()
        .kinds(["run"])
        .model_associations([PEER]);
    assert!(neighbour_list(&store, HOST, 21, Towards::Both, &clash).is_empty());
    let agree = EdgeFilter::default()
        .kinds(["run"])
        .model_associations([RUN]);
    assert_eq!(
        neighbour_list(&store, HOST, 21, Towards::Both, &agree).len(),
        2
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_filtered_by_an_unknown_kind_are_empty() {
    let store = fixture();
    let none = EdgeFilter::default().kinds(["nothing"]);
    assert!(neighbour_list(&store, HOST, 21, Towards::Both, &none).is_empty());
    assert_invariants(&store);
}

#[test]
fn neighbour_linked_twice_appears_twice() {
    let store = fixture();
    let also = define(&store, &many_to_many(HOST, "connect", APP));
    let extra = store.create_instance_association(&also, 21, 31).unwrap();
    assert_eq!(
        neighbour_list(&store, APP, 31, Towards::Upstream, &EdgeFilter::default()),
        [
            (HOST.to_owned(), 21, 2),
            (HOST.to_owned(), 22, 6),
            (HOST.to_owned(), 21, extra)
        ]
    );
    assert_invariants(&store);
}

#[test]
fn self_link_is_its_own_neighbour_each_way() {
    let store = fixture();
    let id = store.create_instance_association(PEER, 22, 22).unwrap();
    let all = EdgeFilter::default();
    let down = neighbour_list(&store, HOST, 22, Towards::Downstream, &all);
    assert_eq!(down, [(APP.to_owned(), 31, 6), (HOST.to_owned(), 22, id)]);
    let up = neighbour_list(&store, HOST, 22, Towards::Upstream, &all);
    assert_eq!(
        up,
        [
            (SWITCH.to_owned(), 12, 3),
            (HOST.to_owned(), 21, 5),
            (HOST.to_owned(), 22, id)
        ]
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_of_an_isolated_instance_are_empty() {
    let store = fixture();
    store.register_instance(APP, Some(33), None).unwrap();
    assert!(neighbour_list(&store, APP, 33, Towards::Both, &EdgeFilter::default()).is_empty());
    assert_invariants(&store);
}

#[test]
fn neighbours_of_an_empty_model_are_unassigned() {
    let store = fixture();
    assert_err(
        store.neighbours("", 21, Towards::Both, &EdgeFilter::default()),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_of_an_unknown_model_are_refused() {
    let store = fixture();
    assert_err(
        store.neighbours("nowhere", 21, Towards::Both, &EdgeFilter::default()),
        1_199_011,
        "'bk_obj_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn neighbours_of_an_unregistered_instance_are_refused() {
    let store = fixture();
    assert_err(
        store.neighbours(HOST, 23, Towards::Both, &EdgeFilter::default()),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Traversal
// ---------------------------------------------------------------------------

#[test]
fn downstream_traversal_through_a_cycle_and_a_self_loop_terminates() {
    let store = cyclic();
    assert_eq!(
        reached(&store, 1, &down(10)),
        [(2, 1, 1), (4, 1, 7), (3, 2, 2), (5, 2, 6), (6, 3, 9)]
    );
    assert_invariants(&store);
}

#[test]
fn upstream_traversal_follows_edges_backwards() {
    let store = cyclic();
    let up = Traversal::new(Towards::Upstream, 10);
    assert_eq!(
        reached(&store, 1, &up),
        [(3, 1, 3), (6, 1, 8), (2, 2, 2), (5, 2, 9), (4, 3, 6)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_both_ways_takes_the_shortest_depth() {
    let store = cyclic();
    let both = Traversal::new(Towards::Both, 10);
    assert_eq!(
        reached(&store, 5, &both),
        [(4, 1, 6), (6, 1, 9), (3, 2, 5), (1, 2, 7), (2, 3, 2)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_never_lists_the_start_even_through_a_self_loop() {
    let store = cyclic();
    let from_two = reached(&store, 2, &down(10));
    assert_eq!(
        from_two,
        [(3, 1, 2), (1, 2, 3), (4, 2, 5), (5, 3, 6), (6, 4, 9)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_reaches_each_instance_once() {
    let store = cyclic();
    let both = reached(&store, 1, &Traversal::new(Towards::Both, 100));
    let mut seen: Vec<i64> = both.iter().map(|r| r.0).collect();
    seen.sort_unstable();
    assert_eq!(seen, [2, 3, 4, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn traversal_of_depth_zero_is_empty() {
    let store = cyclic();
    assert!(reached(&store, 1, &down(0)).is_empty());
    assert_invariants(&store);
}

#[test]
fn traversal_of_depth_one_lists_the_neighbours() {
    let store = cyclic();
    assert_eq!(reached(&store, 1, &down(1)), [(2, 1, 1), (4, 1, 7)]);
    assert_invariants(&store);
}

#[test]
fn traversal_stops_at_its_depth() {
    let store = cyclic();
    assert_eq!(
        reached(&store, 1, &down(2)),
        [(2, 1, 1), (4, 1, 7), (3, 2, 2), (5, 2, 6)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_stops_at_its_node_limit() {
    let store = cyclic();
    assert_eq!(
        reached(&store, 1, &down(10).node_limit(3)),
        [(2, 1, 1), (4, 1, 7), (3, 2, 2)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_node_limit_zero_reaches_nothing() {
    let store = cyclic();
    assert!(reached(&store, 1, &down(10).node_limit(0)).is_empty());
    assert_invariants(&store);
}

#[test]
fn traversal_follows_only_the_filtered_kind() {
    let store = cyclic();
    let connect = down(10).filter(EdgeFilter::default().kinds(["connect"]));
    assert_eq!(
        reached(&store, 1, &connect),
        [(2, 1, 1), (4, 1, 7), (3, 2, 2), (5, 2, 6)]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_follows_only_the_filtered_model_association() {
    let store = cyclic();
    let run = Traversal::new(Towards::Both, 10)
        .filter(EdgeFilter::default().model_associations([LINK_RUN]));
    assert_eq!(reached(&store, 5, &run), [(6, 1, 9)]);
    assert_invariants(&store);
}

#[test]
fn traversal_from_an_isolated_instance_is_empty() {
    let store = cyclic();
    assert!(reached(&store, 7, &Traversal::new(Towards::Both, 10)).is_empty());
    assert_invariants(&store);
}

#[test]
fn traversal_crosses_models() {
    let store = fixture();
    let found: Vec<(String, i64, usize, i64)> = store
        .traverse(SWITCH, 11, &down(5))
        .unwrap()
        .into_iter()
        .map(|r| (r.bk_obj_id.to_string(), r.bk_inst_id, r.depth, r.via.id))
        .collect();
    assert_eq!(
        found,
        [
            (HOST.to_owned(), 21, 1, 1),
            (APP.to_owned(), 31, 2, 2),
            (APP.to_owned(), 32, 2, 4),
            (HOST.to_owned(), 22, 2, 5),
        ]
    );
    assert_invariants(&store);
}

#[test]
fn traversal_keeps_instances_with_the_same_id_in_different_models_apart() {
    let store = Store::new();
    let ab = define(&store, &many_to_many("a", "run", "b"));
    store.register_instances("a", [1]).unwrap();
    store.register_instances("b", [1]).unwrap();
    let id = store.create_instance_association(&ab, 1, 1).unwrap();
    let found = store
        .traverse("a", 1, &Traversal::new(Towards::Both, 5))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (&*found[0].bk_obj_id, found[0].bk_inst_id, found[0].via.id),
        ("b", 1, id)
    );
    assert_invariants(&store);
}

#[test]
fn traversal_via_is_the_first_association_that_reached_the_instance() {
    let store = cyclic();
    let via = store
        .traverse(NODE, 1, &down(10))
        .unwrap()
        .into_iter()
        .find(|r| r.bk_inst_id == 4)
        .unwrap()
        .via;
    assert_eq!(via, store.instance_association(7).unwrap());
    assert_invariants(&store);
}

#[test]
fn traversal_from_an_empty_model_is_unassigned() {
    let store = cyclic();
    assert_err(
        store.traverse("", 1, &down(3)),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn traversal_from_an_unregistered_instance_is_refused() {
    let store = cyclic();
    assert_err(
        store.traverse(NODE, 8, &down(3)),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Shortest paths
// ---------------------------------------------------------------------------

#[test]
fn shortest_path_takes_the_shortcut() {
    let store = cyclic();
    // 1→4→5 beats 1→2→3→4→5.
    assert_eq!(path_ids(&store, 1, 5, &down(10)), Some(vec![7, 6]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_records_chain_from_start_to_goal() {
    let store = cyclic();
    let path = store
        .shortest_path((NODE, 1), (NODE, 6), &down(10))
        .unwrap()
        .unwrap();
    let hops: Vec<(i64, i64)> = path
        .iter()
        .map(|r| (r.bk_inst_id, r.bk_asst_inst_id))
        .collect();
    assert_eq!(hops, [(1, 4), (4, 5), (5, 6)]);
    assert_invariants(&store);
}

#[test]
fn shortest_path_to_itself_is_empty() {
    let store = cyclic();
    assert_eq!(path_ids(&store, 3, 3, &down(10)), Some(vec![]));
    assert_eq!(path_ids(&store, 7, 7, &down(0)), Some(vec![]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_to_an_unreachable_instance_is_none() {
    let store = cyclic();
    let both = Traversal::new(Towards::Both, 10);
    assert_eq!(path_ids(&store, 1, 7, &both), None);
    assert_invariants(&store);
}

#[test]
fn shortest_path_respects_direction() {
    let store = fixture();
    let path = |towards| {
        store
            .shortest_path((SWITCH, 11), (APP, 31), &Traversal::new(towards, 10))
            .unwrap()
            .map(|p| ids(&p))
    };
    assert_eq!(path(Towards::Downstream), Some(vec![1, 2]));
    assert_eq!(path(Towards::Upstream), None);
    assert_eq!(path(Towards::Both), Some(vec![1, 2]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_upstream_follows_edges_backwards() {
    let store = cyclic();
    let up = Traversal::new(Towards::Upstream, 10);
    // Downstream 5→6→1→4 takes three hops; upstream 5←4 one.
    assert_eq!(path_ids(&store, 5, 4, &down(10)), Some(vec![9, 8, 7]));
    assert_eq!(path_ids(&store, 5, 4, &up), Some(vec![6]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_respects_max_depth() {
    let store = cyclic();
    assert_eq!(path_ids(&store, 1, 6, &down(2)), None);
    assert_eq!(path_ids(&store, 1, 6, &down(3)), Some(vec![7, 6, 9]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_respects_the_filter() {
    let store = cyclic();
    let connect = down(10).filter(EdgeFilter::default().kinds(["connect"]));
    assert_eq!(path_ids(&store, 1, 6, &connect), None);
    assert_invariants(&store);
}

#[test]
fn equally_short_paths_prefer_lower_record_ids() {
    let store = Store::new();
    let link = define(&store, &many_to_many(NODE, "connect", NODE));
    store.register_instances(NODE, 1..=4).unwrap();
    // Diamond 1→{2,3}→4, the branch through 3 created first.
    let via3 = store.create_instance_association(&link, 1, 3).unwrap();
    store.create_instance_association(&link, 1, 2).unwrap();
    store.create_instance_association(&link, 2, 4).unwrap();
    let to4 = store.create_instance_association(&link, 3, 4).unwrap();
    assert_eq!(path_ids(&store, 1, 4, &down(5)), Some(vec![via3, to4]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_across_models() {
    let store = fixture();
    let path = store
        .shortest_path((SWITCH, 12), (APP, 32), &Traversal::new(Towards::Both, 10))
        .unwrap()
        .map(|p| ids(&p));
    // 12→22 (3), 22←21 (5), 21→32 (4).
    assert_eq!(path, Some(vec![3, 5, 4]));
    assert_invariants(&store);
}

#[test]
fn shortest_path_from_an_unregistered_instance_is_refused() {
    let store = cyclic();
    assert_err(
        store.shortest_path((NODE, 9), (NODE, 1), &down(3)),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn shortest_path_to_an_unregistered_instance_is_refused() {
    let store = cyclic();
    assert_err(
        store.shortest_path((NODE, 1), (NODE, 9), &down(3)),
        1_199_011,
        "'bk_inst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn shortest_path_to_an_unknown_model_is_refused() {
    let store = cyclic();
    assert_err(
        store.shortest_path((NODE, 1), ("nowhere", 1), &down(3)),
        1_199_011,
        "'bk_obj_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn shortest_path_from_an_empty_model_is_unassigned() {
    let store = cyclic();
    assert_err(
        store.shortest_path(("", 1), (NODE, 1), &down(3)),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

/// The docs of `shortest_path` promise the errors of `neighbours` "for
/// either end", and `neighbours` gives 1199010 for an empty model.
#[test]
fn shortest_path_to_an_empty_model_is_unassigned() {
    let store = cyclic();
    assert_err(
        store.shortest_path((NODE, 1), ("", 1), &down(3)),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Property tests: traversal and shortest paths against a reference BFS
// ---------------------------------------------------------------------------

const GRAPH_MODELS: [&str; 2] = ["p", "q"];

/// (source model, kind, target model) of the random graph's model
/// associations, all `n:n`: two self-associated models and both directions
/// between them.
const GRAPH_ASSOCS: [(usize, &str, usize); 4] = [
    (0, "connect", 0),
    (0, "run", 1),
    (1, "group", 0),
    (1, "connect", 1),
];

const GRAPH_INSTANCES: i64 = 5;

type Node = (&'static str, i64);

fn graph_assoc_id(index: usize) -> String {
    let (src, kind, dst) = GRAPH_ASSOCS[index];
    format!("{}_{kind}_{}", GRAPH_MODELS[src], GRAPH_MODELS[dst])
}

fn build_graph(edges: &[(usize, i64, i64)]) -> Store {
    let store = Store::new();
    for (src, kind, dst) in GRAPH_ASSOCS {
        define(
            &store,
            &many_to_many(GRAPH_MODELS[src], kind, GRAPH_MODELS[dst]),
        );
    }
    for model in GRAPH_MODELS {
        store
            .register_instances(model, 1..=GRAPH_INSTANCES)
            .unwrap();
    }
    for &(assoc, src, dst) in edges {
        // Repeated triples are refused; that is part of the scenario.
        let _ = store.create_instance_association(&graph_assoc_id(assoc), src, dst);
    }
    store
}

fn model_name(name: &str) -> &'static str {
    GRAPH_MODELS.into_iter().find(|m| *m == name).unwrap()
}

fn source(r: &InstanceAssociation) -> Node {
    (model_name(&r.bk_obj_id), r.bk_inst_id)
}

fn target(r: &InstanceAssociation) -> Node {
    (model_name(&r.bk_asst_obj_id), r.bk_asst_inst_id)
}

/// Where a record leads from `node` when following `towards`, if anywhere.
fn step(r: &InstanceAssociation, node: Node, towards: Towards) -> Option<Node> {
    let down = source(r) == node && towards != Towards::Upstream;
    let up = target(r) == node && towards != Towards::Downstream;
    if down {
        Some(target(r))
    } else if up {
        Some(source(r))
    } else {
        None
    }
}

/// Hop distances from `start` following `towards`, by plain BFS over every
/// record.
fn distances(
    records: &[InstanceAssociation],
    start: Node,
    towards: Towards,
) -> HashMap<Node, usize> {
    let mut dist = HashMap::from([(start, 0)]);
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let d = dist[&node];
        for r in records {
            if let Some(next) = step(r, node, towards) {
                dist.entry(next).or_insert_with(|| {
                    queue.push_back(next);
                    d + 1
                });
            }
        }
    }
    dist
}

fn edges() -> impl Strategy<Value = Vec<(usize, i64, i64)>> {
    prop::collection::vec(
        (
            0..GRAPH_ASSOCS.len(),
            1..=GRAPH_INSTANCES,
            1..=GRAPH_INSTANCES,
        ),
        0..30,
    )
}

fn towards() -> impl Strategy<Value = Towards> {
    prop::sample::select(vec![Towards::Downstream, Towards::Upstream, Towards::Both])
}

fn node() -> impl Strategy<Value = Node> {
    (
        prop::sample::select(GRAPH_MODELS.to_vec()),
        1..=GRAPH_INSTANCES,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

    #[test]
    fn traversal_agrees_with_a_reference_bfs(
        edges in edges(),
        start in node(),
        towards in towards(),
        max_depth in 0_usize..6,
        limit in 0_usize..8,
    ) {
        let store = build_graph(&edges);
        let records = all_records(&store, &GRAPH_MODELS);
        let dist = distances(&records, start, towards);
        let traversal = Traversal::new(towards, max_depth);
        let found = store.traverse(start.0, start.1, &traversal).unwrap();

        let mut want: Vec<(Node, usize)> = dist
            .iter()
            .filter(|&(_, &d)| d > 0 && d <= max_depth)
            .map(|(&n, &d)| (n, d))
            .collect();
        want.sort_unstable();
        let mut got: Vec<(Node, usize)> = found
            .iter()
            .map(|r| ((model_name(&r.bk_obj_id), r.bk_inst_id), r.depth))
            .collect();
        got.sort_unstable();
        prop_assert_eq!(&got, &want, "reached instances and depths");

        let depths: Vec<usize> = found.iter().map(|r| r.depth).collect();
        prop_assert!(depths.is_sorted(), "breadth-first order: {:?}", depths);
        for r in &found {
            let node = (model_name(&r.bk_obj_id), r.bk_inst_id);
            let came_from = step(&r.via, node, reverse(towards));
            prop_assert!(came_from.is_some(), "{:?} does not lead to {:?}", r.via, node);
            let came_from = came_from.unwrap();
            prop_assert_eq!(dist.get(&came_from), Some(&(r.depth - 1)), "via {:?}", r.via);
            prop_assert_eq!(Some(&r.via), records.iter().find(|x| x.id == r.via.id));
        }

        let limited = store
            .traverse(start.0, start.1, &traversal.clone().node_limit(limit))
            .unwrap();
        prop_assert_eq!(&limited[..], &found[..limit.min(found.len())]);
        prop_assert_eq!(store.check_invariants(), Ok(()));
    }

    #[test]
    fn shortest_paths_agree_with_a_reference_bfs(
        edges in edges(),
        from in node(),
        to in node(),
        towards in towards(),
        max_depth in 0_usize..6,
    ) {
        let store = build_graph(&edges);
        let records = all_records(&store, &GRAPH_MODELS);
        let dist = distances(&records, from, towards);
        let traversal = Traversal::new(towards, max_depth);
        let path = store.shortest_path(from, to, &traversal).unwrap();
        match dist.get(&to) {
            Some(&d) if d <= max_depth => {
                let path = path.unwrap();
                prop_assert_eq!(path.len(), d);
                let mut at = from;
                for r in &path {
                    let next = step(r, at, towards);
                    prop_assert!(next.is_some(), "{:?} does not leave {:?}", r, at);
                    at = next.unwrap();
                }
                prop_assert_eq!(at, to);
                let distinct: HashSet<i64> = path.iter().map(|r| r.id).collect();
                prop_assert_eq!(distinct.len(), path.len());
            }
            _ => prop_assert_eq!(path, None),
        }
        prop_assert_eq!(store.check_invariants(), Ok(()));
    }
}

fn reverse(towards: Towards) -> Towards {
    match towards {
        Towards::Downstream => Towards::Upstream,
        Towards::Upstream => Towards::Downstream,
        Towards::Both => Towards::Both,
    }
}
