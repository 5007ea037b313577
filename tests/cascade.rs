//! SPEC §3.5 "beyond bk-cmdb": deleting every association of an instance,
//! and the cascade delete that honours `on_delete` (`delete_src`: deleting
//! a target deletes its sources; `delete_dest`: deleting a source deletes
//! its targets), refusing like a plain delete (1101075) when a link holds an
//! instance outside the cascade.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{CascadeOutcome, InstanceAssociation, NewModelAssociation, OnDelete, Store};
use common::{
    all_records, assert_err, assert_invariants, define, ids, many_to_many, one_to_many, one_to_one,
};

const MODELS: [&str; 6] = ["rack", "host", "disk", "process", "vendor", "n"];

/// `new` with its delete rule set to `on_delete`.
fn with(new: NewModelAssociation, on_delete: OnDelete) -> NewModelAssociation {
    new.with_on_delete(on_delete)
}

/// The deleted instances of an outcome as (model, id).
fn deleted(out: &CascadeOutcome) -> Vec<(String, i64)> {
    out.instances
        .iter()
        .map(|(model, id)| (model.to_string(), *id))
        .collect()
}

fn inst(model: &str, id: i64) -> (String, i64) {
    (model.to_owned(), id)
}

/// Every record and the registration of every instance `candidates` names.
fn snapshot(store: &Store, candidates: &[(&str, i64)]) -> (Vec<InstanceAssociation>, Vec<bool>) {
    let registered = candidates
        .iter()
        .map(|&(m, id)| store.instance_exists(m, id))
        .collect();
    (all_records(store, &MODELS), registered)
}

/// Hosts 1 and 2 own disks through `host_belong_disk` (`1:n`,
/// `delete_dest`): host 1 owns disks 10 and 11, host 2 owns disk 12.
fn hosts_with_disks() -> Store {
    let store = Store::new();
    define(
        &store,
        &with(one_to_many("host", "belong", "disk"), OnDelete::DeleteDest),
    );
    store.register_instances("host", [1, 2]).unwrap();
    store.register_instances("disk", [10, 11, 12]).unwrap();
    for (host, disk) in [(1, 10), (2, 12), (1, 11)] {
        store
            .create_instance_association("host_belong_disk", host, disk)
            .unwrap();
    }
    store
}

// ---------------------------------------------------------------------------
// delete_instance_associations_of
// ---------------------------------------------------------------------------

/// Host 1 is source and target of records interleaved with others:
/// 1: rack 5 → host 1, 2: host 1 → disk 10, 3: rack 5 → host 2,
/// 4: host 2 → disk 10, 5: host 1 → disk 11.
fn linked_host() -> Store {
    let store = Store::new();
    define(&store, &many_to_many("rack", "group", "host"));
    define(&store, &many_to_many("host", "connect", "disk"));
    store.register_instances("rack", [5]).unwrap();
    store.register_instances("host", [1, 2]).unwrap();
    store.register_instances("disk", [10, 11]).unwrap();
    let created = [
        store.create_instance_association("rack_group_host", 5, 1),
        store.create_instance_association("host_connect_disk", 1, 10),
        store.create_instance_association("rack_group_host", 5, 2),
        store.create_instance_association("host_connect_disk", 2, 10),
        store.create_instance_association("host_connect_disk", 1, 11),
    ];
    assert_eq!(created.map(Result::unwrap), [1, 2, 3, 4, 5], "fixture ids");
    store
}

#[test]
fn clearing_an_instance_returns_its_records_in_id_order() {
    let store = linked_host();
    let before: Vec<InstanceAssociation> = [1, 2, 5]
        .map(|id| store.instance_association(id).unwrap())
        .into();
    let removed = store.delete_instance_associations_of("host", 1).unwrap();
    assert_eq!(removed, before);
    assert_invariants(&store);
}

#[test]
fn clearing_an_instance_leaves_other_records() {
    let store = linked_host();
    store.delete_instance_associations_of("host", 1).unwrap();
    assert_eq!(ids(&all_records(&store, &MODELS)), [3, 4]);
    assert_eq!(store.len(), 2);
    assert_invariants(&store);
}

#[test]
fn clearing_an_instance_keeps_it_and_its_partners_registered() {
    let store = linked_host();
    store.delete_instance_associations_of("host", 1).unwrap();
    assert!(store.instance_exists("host", 1));
    assert!(store.instance_exists("rack", 5));
    assert!(store.instance_exists("disk", 10));
    assert!(store.instance_exists("disk", 11));
    assert_invariants(&store);
}

#[test]
fn cleared_instance_can_be_deleted() {
    let store = linked_host();
    assert_err(
        store.delete_instance("host", 1),
        1_101_075,
        "the inst has association",
    );
    store.delete_instance_associations_of("host", 1).unwrap();
    assert!(store.delete_instance("host", 1).unwrap());
    assert_invariants(&store);
}

#[test]
fn clearing_a_target_instance_removes_records_from_every_source() {
    let store = linked_host();
    let removed = store.delete_instance_associations_of("disk", 10).unwrap();
    assert_eq!(ids(&removed), [2, 4]);
    assert_eq!(ids(&all_records(&store, &MODELS)), [1, 3, 5]);
    assert_invariants(&store);
}

#[test]
fn clearing_removes_a_self_link_once() {
    let store = Store::new();
    let peer = define(&store, &many_to_many("n", "connect", "n"));
    store.register_instances("n", [1, 2]).unwrap();
    let self_link = store.create_instance_association(&peer, 1, 1).unwrap();
    let out = store.create_instance_association(&peer, 1, 2).unwrap();
    let removed = store.delete_instance_associations_of("n", 1).unwrap();
    assert_eq!(ids(&removed), [self_link, out]);
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn clearing_frees_a_one_to_one_slot() {
    let store = Store::new();
    let pair = define(&store, &one_to_one("host", "connect", "disk"));
    store.register_instances("host", [1, 2]).unwrap();
    store.register_instances("disk", [10]).unwrap();
    store.create_instance_association(&pair, 1, 10).unwrap();
    store.delete_instance_associations_of("disk", 10).unwrap();
    assert!(store.create_instance_association(&pair, 2, 10).is_ok());
    assert_invariants(&store);
}

#[test]
fn clearing_does_not_touch_the_same_id_in_another_model() {
    let store = linked_host();
    store.register_instances("disk", [1]).unwrap();
    assert!(
        store
            .delete_instance_associations_of("disk", 1)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.len(), 5);
    assert_invariants(&store);
}

#[test]
fn clearing_an_instance_without_records_returns_nothing() {
    let store = linked_host();
    store.register_instances("host", [3]).unwrap();
    assert!(
        store
            .delete_instance_associations_of("host", 3)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.len(), 5);
    assert_invariants(&store);
}

#[test]
fn clearing_an_unknown_instance_or_model_returns_nothing() {
    let store = linked_host();
    assert!(
        store
            .delete_instance_associations_of("host", 99)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .delete_instance_associations_of("nowhere", 1)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.len(), 5);
    assert_invariants(&store);
}

#[test]
fn clearing_with_an_empty_model_is_unassigned() {
    let store = linked_host();
    assert_err(
        store.delete_instance_associations_of("", 1),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_eq!(store.len(), 5);
    assert_invariants(&store);
}

#[test]
fn clearing_twice_removes_nothing_the_second_time() {
    let store = linked_host();
    assert_eq!(
        store
            .delete_instance_associations_of("host", 1)
            .unwrap()
            .len(),
        3
    );
    assert!(
        store
            .delete_instance_associations_of("host", 1)
            .unwrap()
            .is_empty()
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// delete_instance_cascade: following on_delete
// ---------------------------------------------------------------------------

#[test]
fn delete_dest_cascades_from_the_source_to_its_targets() {
    let store = hosts_with_disks();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(
        deleted(&out),
        [inst("host", 1), inst("disk", 10), inst("disk", 11)]
    );
    assert!(!store.instance_exists("host", 1));
    assert!(!store.instance_exists("disk", 10));
    assert!(!store.instance_exists("disk", 11));
    assert_invariants(&store);
}

#[test]
fn delete_dest_cascade_returns_the_removed_records_in_id_order() {
    let store = hosts_with_disks();
    let before = [1, 3].map(|id| store.instance_association(id).unwrap());
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(out.associations, before);
    assert_eq!(ids(&all_records(&store, &MODELS)), [2]);
    assert_invariants(&store);
}

#[test]
fn delete_dest_cascade_leaves_other_sources_and_their_targets() {
    let store = hosts_with_disks();
    store.delete_instance_cascade("host", 1).unwrap();
    assert!(store.instance_exists("host", 2));
    assert!(store.instance_exists("disk", 12));
    assert_invariants(&store);
}

#[test]
fn delete_src_cascades_from_the_target_to_its_sources() {
    let store = Store::new();
    let runs_on = define(
        &store,
        &with(many_to_many("process", "run", "host"), OnDelete::DeleteSrc),
    );
    store.register_instances("host", [1, 2]).unwrap();
    store
        .register_instances("process", [100, 101, 102])
        .unwrap();
    store.create_instance_association(&runs_on, 101, 1).unwrap();
    store.create_instance_association(&runs_on, 102, 2).unwrap();
    store.create_instance_association(&runs_on, 100, 1).unwrap();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(
        deleted(&out),
        [inst("host", 1), inst("process", 101), inst("process", 100)]
    );
    assert_eq!(ids(&out.associations), [1, 3]);
    assert!(store.instance_exists("process", 102));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn delete_dest_does_not_cascade_from_a_target_whose_source_remains() {
    let store = hosts_with_disks();
    let before = snapshot(&store, &[("host", 1), ("disk", 10), ("disk", 11)]);
    assert_err(
        store.delete_instance_cascade("disk", 10),
        1_101_075,
        "the inst has association",
    );
    assert_eq!(
        snapshot(&store, &[("host", 1), ("disk", 10), ("disk", 11)]),
        before
    );
    assert_invariants(&store);
}

#[test]
fn delete_src_does_not_cascade_from_a_source_whose_target_remains() {
    let store = Store::new();
    let runs_on = define(
        &store,
        &with(one_to_many("process", "run", "host"), OnDelete::DeleteSrc),
    );
    store.register_instances("host", [1]).unwrap();
    store.register_instances("process", [100]).unwrap();
    store.create_instance_association(&runs_on, 100, 1).unwrap();
    assert_err(
        store.delete_instance_cascade("process", 100),
        1_101_075,
        "the inst has association",
    );
    assert!(store.instance_exists("process", 100));
    assert!(store.instance_exists("host", 1));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn cascade_runs_over_several_levels() {
    let store = Store::new();
    define(
        &store,
        &with(one_to_many("rack", "group", "host"), OnDelete::DeleteDest),
    );
    define(
        &store,
        &with(one_to_many("host", "belong", "disk"), OnDelete::DeleteDest),
    );
    store.register_instances("rack", [1]).unwrap();
    store.register_instances("host", [2, 3]).unwrap();
    store.register_instances("disk", [4, 5, 6]).unwrap();
    store
        .create_instance_association("rack_group_host", 1, 2)
        .unwrap();
    store
        .create_instance_association("rack_group_host", 1, 3)
        .unwrap();
    store
        .create_instance_association("host_belong_disk", 3, 4)
        .unwrap();
    store
        .create_instance_association("host_belong_disk", 2, 5)
        .unwrap();
    store
        .create_instance_association("host_belong_disk", 3, 6)
        .unwrap();
    let out = store.delete_instance_cascade("rack", 1).unwrap();
    assert_eq!(
        deleted(&out),
        [
            inst("rack", 1),
            inst("host", 2),
            inst("host", 3),
            inst("disk", 5),
            inst("disk", 4),
            inst("disk", 6),
        ]
    );
    assert_eq!(ids(&out.associations), [1, 2, 3, 4, 5]);
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn cascade_mixes_delete_dest_and_delete_src() {
    let store = Store::new();
    define(
        &store,
        &with(one_to_many("host", "belong", "disk"), OnDelete::DeleteDest),
    );
    define(
        &store,
        &with(one_to_many("process", "run", "host"), OnDelete::DeleteSrc),
    );
    store.register_instances("host", [1]).unwrap();
    store.register_instances("disk", [10]).unwrap();
    store.register_instances("process", [100]).unwrap();
    store
        .create_instance_association("process_run_host", 100, 1)
        .unwrap();
    store
        .create_instance_association("host_belong_disk", 1, 10)
        .unwrap();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    let mut gone = deleted(&out);
    assert_eq!(gone.remove(0), inst("host", 1), "the requested one first");
    gone.sort();
    assert_eq!(gone, [inst("disk", 10), inst("process", 100)]);
    assert_eq!(ids(&out.associations), [1, 2]);
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn cascade_through_a_cycle_deletes_each_instance_once() {
    let store = Store::new();
    let next = define(
        &store,
        &with(many_to_many("n", "connect", "n"), OnDelete::DeleteDest),
    );
    store.register_instances("n", 1..=4).unwrap();
    for (src, dst) in [(1, 2), (2, 3), (3, 1)] {
        store.create_instance_association(&next, src, dst).unwrap();
    }
    let out = store.delete_instance_cascade("n", 1).unwrap();
    assert_eq!(deleted(&out), [inst("n", 1), inst("n", 2), inst("n", 3)]);
    assert_eq!(ids(&out.associations), [1, 2, 3]);
    assert!(store.instance_exists("n", 4));
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn cascade_through_a_self_link_deletes_the_instance_once() {
    let store = Store::new();
    let next = define(
        &store,
        &with(many_to_many("n", "connect", "n"), OnDelete::DeleteDest),
    );
    store.register_instances("n", [1, 2]).unwrap();
    store.create_instance_association(&next, 1, 1).unwrap();
    store.create_instance_association(&next, 1, 2).unwrap();
    let out = store.delete_instance_cascade("n", 1).unwrap();
    assert_eq!(deleted(&out), [inst("n", 1), inst("n", 2)]);
    assert_eq!(ids(&out.associations), [1, 2]);
    assert_invariants(&store);
}

#[test]
fn cascade_removes_a_self_link_under_none() {
    let store = Store::new();
    let peer = define(&store, &many_to_many("n", "connect", "n"));
    store.register_instances("n", [1]).unwrap();
    store.create_instance_association(&peer, 1, 1).unwrap();
    let out = store.delete_instance_cascade("n", 1).unwrap();
    assert_eq!(deleted(&out), [inst("n", 1)]);
    assert_eq!(ids(&out.associations), [1]);
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn cascade_of_an_unlinked_instance_deletes_only_it() {
    let store = hosts_with_disks();
    store.register_instances("host", [3]).unwrap();
    let out = store.delete_instance_cascade("host", 3).unwrap();
    assert_eq!(deleted(&out), [inst("host", 3)]);
    assert!(out.associations.is_empty());
    assert_eq!(store.len(), 3);
    assert_invariants(&store);
}

#[test]
fn cascade_does_not_touch_the_same_id_in_another_model() {
    let store = hosts_with_disks();
    store.register_instances("host", [10]).unwrap();
    store.delete_instance_cascade("host", 1).unwrap();
    assert!(!store.instance_exists("disk", 10));
    assert!(store.instance_exists("host", 10));
    assert_invariants(&store);
}

#[test]
fn cascade_ids_are_not_reused() {
    let store = hosts_with_disks();
    store.delete_instance_cascade("host", 1).unwrap();
    store.register_instances("disk", [13]).unwrap();
    let id = store
        .create_instance_association("host_belong_disk", 2, 13)
        .unwrap();
    assert_eq!(id, 4);
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// delete_instance_cascade: restrict (links under `none`)
// ---------------------------------------------------------------------------

/// Hosts and disks as in [`hosts_with_disks`], plus disk 10 supplied by
/// vendor 7 through `disk_connect_vendor` under `none`.
fn disk_with_vendor() -> Store {
    let store = hosts_with_disks();
    define(&store, &many_to_many("disk", "connect", "vendor"));
    store.register_instances("vendor", [7]).unwrap();
    store
        .create_instance_association("disk_connect_vendor", 10, 7)
        .unwrap();
    store
}

const EVERYONE: [(&str, i64); 6] = [
    ("host", 1),
    ("host", 2),
    ("disk", 10),
    ("disk", 11),
    ("disk", 12),
    ("vendor", 7),
];

#[test]
fn none_link_to_an_outside_instance_refuses_the_cascade() {
    let store = disk_with_vendor();
    assert_err(
        store.delete_instance_cascade("host", 1),
        1_101_075,
        "the inst has association",
    );
    assert_invariants(&store);
}

#[test]
fn refused_cascade_changes_nothing() {
    let store = disk_with_vendor();
    let before = snapshot(&store, &EVERYONE);
    assert!(store.delete_instance_cascade("host", 1).is_err());
    assert_eq!(snapshot(&store, &EVERYONE), before);
    assert_eq!(store.len(), 4);
    assert_invariants(&store);
}

#[test]
fn refusal_deep_in_the_cascade_changes_nothing() {
    let store = Store::new();
    define(
        &store,
        &with(one_to_many("rack", "group", "host"), OnDelete::DeleteDest),
    );
    define(
        &store,
        &with(one_to_many("host", "belong", "disk"), OnDelete::DeleteDest),
    );
    define(&store, &many_to_many("disk", "connect", "vendor"));
    store.register_instances("rack", [1]).unwrap();
    store.register_instances("host", [2]).unwrap();
    store.register_instances("disk", [3]).unwrap();
    store.register_instances("vendor", [4]).unwrap();
    store
        .create_instance_association("rack_group_host", 1, 2)
        .unwrap();
    store
        .create_instance_association("host_belong_disk", 2, 3)
        .unwrap();
    store
        .create_instance_association("disk_connect_vendor", 3, 4)
        .unwrap();
    let everyone = [("rack", 1), ("host", 2), ("disk", 3), ("vendor", 4)];
    let before = snapshot(&store, &everyone);
    assert_err(
        store.delete_instance_cascade("rack", 1),
        1_101_075,
        "the inst has association",
    );
    assert_eq!(snapshot(&store, &everyone), before);
    assert_invariants(&store);
}

#[test]
fn cascade_succeeds_once_the_outside_link_is_gone() {
    let store = disk_with_vendor();
    store.delete_instance_associations_of("vendor", 7).unwrap();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(out.instances.len(), 3);
    assert!(store.instance_exists("vendor", 7));
    assert_invariants(&store);
}

#[test]
fn only_none_links_refuse_like_a_plain_delete() {
    let store = Store::new();
    let plain = define(&store, &one_to_many("host", "belong", "disk"));
    store.register_instances("host", [1]).unwrap();
    store.register_instances("disk", [10]).unwrap();
    store.create_instance_association(&plain, 1, 10).unwrap();
    assert_err(
        store.delete_instance_cascade("host", 1),
        1_101_075,
        "the inst has association",
    );
    assert_err(
        store.delete_instance_cascade("disk", 10),
        1_101_075,
        "the inst has association",
    );
    assert_eq!(store.len(), 1);
    assert!(store.instance_exists("host", 1) && store.instance_exists("disk", 10));
    assert_invariants(&store);
}

#[test]
fn none_link_inside_the_cascade_does_not_refuse() {
    let store = hosts_with_disks();
    // Host 1 also watches disk 10 under `none`; disk 10 goes anyway.
    let watch = define(&store, &many_to_many("host", "connect", "disk"));
    let extra = store.create_instance_association(&watch, 1, 10).unwrap();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(ids(&out.associations), [1, 3, extra]);
    assert!(!store.instance_exists("disk", 10));
    assert_invariants(&store);
}

#[test]
fn none_link_between_two_doomed_instances_does_not_refuse() {
    let store = hosts_with_disks();
    let mirror = define(&store, &many_to_many("disk", "connect", "disk"));
    let extra = store.create_instance_association(&mirror, 10, 11).unwrap();
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(
        deleted(&out),
        [inst("host", 1), inst("disk", 10), inst("disk", 11)]
    );
    assert_eq!(ids(&out.associations), [1, 3, extra]);
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Cascade versus plain delete, and edge inputs
// ---------------------------------------------------------------------------

#[test]
fn plain_delete_ignores_on_delete_and_refuses() {
    let store = hosts_with_disks();
    let everyone = [("host", 1), ("disk", 10), ("disk", 11)];
    let before = snapshot(&store, &everyone);
    assert_err(
        store.delete_instance("host", 1),
        1_101_075,
        "the inst has association",
    );
    assert_eq!(snapshot(&store, &everyone), before);
    assert_invariants(&store);
}

#[test]
fn cascade_deletes_what_plain_delete_refuses() {
    let store = hosts_with_disks();
    assert!(store.delete_instance("host", 1).is_err());
    let out = store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(out.instances.len(), 3);
    assert!(!store.delete_instance("host", 1).unwrap(), "already gone");
    assert_invariants(&store);
}

#[test]
fn cascade_and_plain_delete_agree_on_an_unlinked_instance() {
    let store = hosts_with_disks();
    store.register_instances("host", [3, 4]).unwrap();
    assert!(store.delete_instance("host", 3).unwrap());
    let out = store.delete_instance_cascade("host", 4).unwrap();
    assert_eq!(deleted(&out), [inst("host", 4)]);
    assert!(!store.instance_exists("host", 3));
    assert!(!store.instance_exists("host", 4));
    assert_invariants(&store);
}

#[test]
fn cascade_of_an_unknown_instance_is_an_empty_outcome() {
    let store = hosts_with_disks();
    assert_eq!(
        store.delete_instance_cascade("host", 99).unwrap(),
        CascadeOutcome::default()
    );
    assert_eq!(store.len(), 3);
    assert_invariants(&store);
}

#[test]
fn cascade_of_an_unknown_model_is_an_empty_outcome() {
    let store = hosts_with_disks();
    assert_eq!(
        store.delete_instance_cascade("nowhere", 1).unwrap(),
        CascadeOutcome::default()
    );
    assert_eq!(store.len(), 3);
    assert_invariants(&store);
}

#[test]
fn cascade_of_an_already_deleted_instance_is_an_empty_outcome() {
    let store = hosts_with_disks();
    store.delete_instance_cascade("host", 1).unwrap();
    assert_eq!(
        store.delete_instance_cascade("host", 1).unwrap(),
        CascadeOutcome::default()
    );
    assert_invariants(&store);
}

#[test]
fn cascade_with_an_empty_model_is_unassigned() {
    let store = hosts_with_disks();
    assert_err(
        store.delete_instance_cascade("", 1),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_eq!(store.len(), 3);
    assert_invariants(&store);
}

#[test]
fn model_association_is_deletable_after_its_cascade() {
    let store = hosts_with_disks();
    store.delete_instance_cascade("host", 1).unwrap();
    store.delete_instance_cascade("host", 2).unwrap();
    let id = store.model_association("host_belong_disk").unwrap().id;
    assert!(store.delete_model_association(id).is_ok());
    assert!(store.model_association("host_belong_disk").is_none());
    assert_invariants(&store);
}
