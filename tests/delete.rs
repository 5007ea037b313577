//! SPEC §3.5: deleting instance associations (one, many) and instances.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{Mapping, NewModelAssociation, Store};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, define, find_all, ids, many_to_many,
    one_to_one, seed_store, seed_store_with,
};

// --- delete by id ----------------------------------------------------------

#[test]
fn delete_by_id_through_the_source_model() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_association(SWITCH, id), Ok(true));
    assert_eq!(store.instance_association(id), None);
    assert!(find_all(&store, HOST).is_empty());
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn delete_by_id_through_the_target_model() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_association(HOST, id), Ok(true));
    assert_eq!(store.instance_association(id), None);
    assert!(find_all(&store, SWITCH).is_empty());
    assert_invariants(&store);
}

#[test]
fn delete_by_id_through_an_unrelated_model_is_a_no_op() {
    let store = seed_store();
    define(&store, &many_to_many("app", "run", HOST));
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_association("app", id), Ok(false));
    assert_eq!(
        store.delete_instance_association("never_used", id),
        Ok(false)
    );
    assert!(store.instance_association(id).is_some());
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn delete_by_missing_id_is_a_silent_success() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_association(HOST, id + 100), Ok(false));
    assert_eq!(store.delete_instance_association(HOST, 0), Ok(false));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn delete_by_id_twice_deletes_once() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_association(HOST, id), Ok(true));
    assert_eq!(store.delete_instance_association(HOST, id), Ok(false));
    assert_invariants(&store);
}

#[test]
fn delete_by_id_leaves_other_records() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(SEED, 11, 22).unwrap();
    assert_eq!(store.delete_instance_association(HOST, a), Ok(true));
    assert_eq!(ids(&find_all(&store, HOST)), [b]);
    assert_invariants(&store);
}

#[test]
fn delete_by_id_with_an_empty_model_is_unassigned() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_instance_association("", id),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert!(store.instance_association(id).is_some());
    assert_invariants(&store);
}

// --- delete many -------------------------------------------------------------

#[test]
fn delete_many_with_no_ids_is_invalid_input() {
    let store = seed_store();
    assert_err(
        store.delete_instance_associations(HOST, &[]),
        1_199_003,
        "invalid input parameter",
    );
    assert_invariants(&store);
}

#[test]
fn delete_many_with_no_ids_wins_over_an_empty_model() {
    let store = seed_store();
    assert_err(
        store.delete_instance_associations("", &[]),
        1_199_003,
        "invalid input parameter",
    );
    assert_invariants(&store);
}

#[test]
fn delete_many_with_501_ids_exceeds_the_page_limit() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let many: Vec<i64> = (1..=501).collect();
    assert_err(
        store.delete_instance_associations(HOST, &many),
        1_199_059,
        "page limit is exceeded. suggestion 200",
    );
    assert!(store.instance_association(id).is_some(), "nothing deleted");
    assert_invariants(&store);
}

#[test]
fn delete_many_page_limit_wins_over_an_empty_model() {
    let store = seed_store();
    assert_err(
        store.delete_instance_associations("", &[7; 501]),
        1_199_059,
        "page limit is exceeded. suggestion 200",
    );
    assert_invariants(&store);
}

#[test]
fn delete_many_accepts_exactly_500_ids() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let many: Vec<i64> = (1..=500).collect();
    assert_eq!(store.delete_instance_associations(HOST, &many), Ok(1));
    assert_eq!(store.instance_association(id), None);
    assert_invariants(&store);
}

#[test]
fn delete_many_with_an_empty_model_is_unassigned() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_instance_associations("", &[id]),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert!(store.instance_association(id).is_some());
    assert_invariants(&store);
}

#[test]
fn delete_many_returns_how_many_were_deleted() {
    let store = seed_store_with(Mapping::ManyToMany);
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(SEED, 12, 21).unwrap();
    let c = store.create_instance_association(SEED, 12, 22).unwrap();
    assert_eq!(
        store.delete_instance_associations(SWITCH, &[a, c, 999]),
        Ok(2)
    );
    assert_eq!(ids(&find_all(&store, HOST)), [b]);
    assert_invariants(&store);
}

#[test]
fn delete_many_counts_a_repeated_id_once() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(SEED, 11, 22).unwrap();
    assert_eq!(
        store.delete_instance_associations(HOST, &[a, b, a, a]),
        Ok(2)
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn delete_many_ignores_records_not_touching_the_model() {
    let store = seed_store();
    let run = define(&store, &many_to_many("app", "run", HOST));
    store.register_instances("app", [31]).unwrap();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(&run, 31, 21).unwrap();
    assert_eq!(store.delete_instance_associations(SWITCH, &[a, b]), Ok(1));
    assert_eq!(ids(&find_all(&store, HOST)), [b]);
    assert_invariants(&store);
}

#[test]
fn delete_many_of_unknown_ids_deletes_nothing() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance_associations(HOST, &[40, 41]), Ok(0));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

// --- ids ---------------------------------------------------------------------

#[test]
fn ids_are_not_reused_after_deleting_the_newest_record() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(HOST, a).unwrap());
    let b = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(b > a, "{a} then {b}");
    assert_invariants(&store);
}

#[test]
fn ids_are_not_reused_after_deleting_every_record() {
    let store = seed_store_with(Mapping::ManyToMany);
    let mut first = Vec::new();
    for (s, d) in [(11, 21), (11, 22), (12, 21)] {
        first.push(store.create_instance_association(SEED, s, d).unwrap());
    }
    assert_eq!(store.delete_instance_associations(HOST, &first), Ok(3));
    let next = store.create_instance_association(SEED, 12, 22).unwrap();
    assert!(first.iter().all(|&id| id < next), "{first:?} then {next}");
    assert_invariants(&store);
}

// --- instances ---------------------------------------------------------------

#[test]
fn linked_source_instance_cannot_be_deleted() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_instance(SWITCH, 11),
        1_101_075,
        "the inst has association",
    );
    assert!(store.instance_exists(SWITCH, 11));
    assert_invariants(&store);
}

#[test]
fn linked_target_instance_cannot_be_deleted() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_instance(HOST, 21),
        1_101_075,
        "the inst has association",
    );
    assert!(store.instance_exists(HOST, 21));
    assert_invariants(&store);
}

#[test]
fn neither_end_of_a_link_can_be_deleted_so_no_link_dangles() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance(HOST, 21).is_err());
    assert!(store.delete_instance(SWITCH, 11).is_err());
    let rec = store.instance_association(id).unwrap();
    assert!(store.instance_exists(&rec.bk_obj_id, rec.bk_inst_id));
    assert!(store.instance_exists(&rec.bk_asst_obj_id, rec.bk_asst_inst_id));
    assert_invariants(&store);
}

#[test]
fn instance_is_deletable_after_its_association_is_deleted() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(SWITCH, id).unwrap());
    assert_eq!(store.delete_instance(HOST, 21), Ok(true));
    assert!(!store.instance_exists(HOST, 21));
    assert_eq!(store.delete_instance(SWITCH, 11), Ok(true));
    assert!(!store.instance_exists(SWITCH, 11));
    assert_invariants(&store);
}

#[test]
fn deleted_instance_can_no_longer_be_linked() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(HOST, id).unwrap());
    assert_eq!(store.delete_instance(SWITCH, 11), Ok(true));
    assert_err(
        store.create_instance_association(SEED, 11, 21),
        1_101_073,
        "the association inst is not exist",
    );
    assert_invariants(&store);
}

#[test]
fn unlinked_instance_is_deletable_while_others_are_linked() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.delete_instance(HOST, 22), Ok(true));
    assert_eq!(store.delete_instance(SWITCH, 12), Ok(true));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn instance_linked_under_any_model_association_cannot_be_deleted() {
    let store = seed_store();
    let back = define(&store, &one_to_one(HOST, "run", SWITCH));
    store.create_instance_association(&back, 22, 12).unwrap();
    assert_err(
        store.delete_instance(SWITCH, 12),
        1_101_075,
        "the inst has association",
    );
    assert_err(
        store.delete_instance(HOST, 22),
        1_101_075,
        "the inst has association",
    );
    assert_invariants(&store);
}

#[test]
fn same_id_in_another_model_does_not_block_deletion() {
    let store = seed_store();
    store.register_instances("rack", [21]).unwrap();
    store.create_instance_association(SEED, 11, 21).unwrap();
    // rack 21 is not host 21.
    assert_eq!(store.delete_instance("rack", 21), Ok(true));
    assert!(store.instance_exists(HOST, 21));
    assert_invariants(&store);
}

#[test]
fn deleting_a_missing_instance_returns_false() {
    let store = seed_store();
    assert_eq!(store.delete_instance(HOST, 99), Ok(false));
    assert_eq!(store.delete_instance("never_used", 1), Ok(false));
    assert_invariants(&store);
}

#[test]
fn deleting_an_instance_of_an_empty_model_is_unassigned() {
    let store = seed_store();
    assert_err(
        store.delete_instance("", 21),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn batch_instance_deletion_with_one_linked_instance_deletes_none() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.delete_instances(HOST, [22, 21]),
        1_101_075,
        "the inst has association",
    );
    assert!(store.instance_exists(HOST, 21));
    assert!(store.instance_exists(HOST, 22), "all or none");
    assert_invariants(&store);
}

#[test]
fn batch_instance_deletion_of_unlinked_instances_deletes_all() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(HOST, id).unwrap());
    assert_eq!(store.delete_instances(HOST, [21, 22, 99]), Ok(2));
    assert!(!store.instance_exists(HOST, 21));
    assert!(!store.instance_exists(HOST, 22));
    assert_invariants(&store);
}

#[test]
fn batch_instance_deletion_refuses_instances_linked_to_each_other() {
    let store = seed_store();
    let name = define(&store, &many_to_many(HOST, "connect", HOST));
    store.create_instance_association(&name, 21, 22).unwrap();
    assert_err(
        store.delete_instances(HOST, [21, 22]),
        1_101_075,
        "the inst has association",
    );
    assert!(store.instance_exists(HOST, 21));
    assert!(store.instance_exists(HOST, 22));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn model_association_is_deletable_after_delete_many_clears_it() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(SEED, 12, 22).unwrap();
    assert_eq!(store.delete_instance_associations(HOST, &[a, b]), Ok(2));
    store.delete_model_association(1).unwrap();
    assert!(store.model_associations().is_empty());
    assert_invariants(&store);
}

#[test]
fn instance_linked_only_to_itself_is_deleted_with_its_self_link() {
    let store = Store::new();
    store
        .create_model_association(&NewModelAssociation::new(
            HOST,
            "connect",
            HOST,
            Mapping::ManyToMany,
        ))
        .unwrap();
    store.register_instances(HOST, [1, 2]).unwrap();
    let own = store
        .create_instance_association("host_connect_host", 1, 1)
        .unwrap();
    assert_eq!(store.delete_instance(HOST, 1), Ok(true));
    assert_eq!(store.instance_association(own), None);
    assert!(!store.instance_exists(HOST, 1));
    assert_invariants(&store);
}

#[test]
fn self_link_does_not_hide_a_link_to_another_instance() {
    let store = Store::new();
    store
        .create_model_association(&NewModelAssociation::new(
            HOST,
            "connect",
            HOST,
            Mapping::ManyToMany,
        ))
        .unwrap();
    store.register_instances(HOST, [1, 2]).unwrap();
    store
        .create_instance_association("host_connect_host", 1, 1)
        .unwrap();
    store
        .create_instance_association("host_connect_host", 2, 1)
        .unwrap();
    assert_err(
        store.delete_instance(HOST, 1),
        1_101_075,
        "the inst has association",
    );
    assert_eq!(
        store.len(),
        2,
        "a refused delete removes nothing, self-link included"
    );
    assert_invariants(&store);
}
