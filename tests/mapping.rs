//! SPEC §1 mapping rules: `1:1`, `1:n` and `n:n`, per model association and
//! per role (source or target).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{Mapping, Store};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, define, find_all, many_to_many, one_to_many,
    one_to_one, pairs, seed_store_with,
};

const ONE_TO_ONE: &str = "can not create multiple instance association for a 1:1 association.";
const ONE_TO_MANY: &str = "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.";

/// A store with one self-associated model `host` (instances 1..=4) under
/// `mapping`, and the model association's id.
fn self_associated(mapping: Mapping) -> (Store, String) {
    let store = Store::new();
    let name = define(
        &store,
        &assocstore::NewModelAssociation::new(HOST, "connect", HOST, mapping),
    );
    store.register_instances(HOST, 1..=4).unwrap();
    (store, name)
}

// --- 1:1 -------------------------------------------------------------------

#[test]
fn one_to_one_allows_disjoint_pairs() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    store.create_instance_association(SEED, 12, 22).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21), (12, 22)]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_refuses_a_second_target_for_a_source() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 22),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21)]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_refuses_a_second_source_for_a_target() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 12, 21),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21)]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_slot_is_free_again_after_its_record_is_deleted() {
    let store = seed_store_with(Mapping::OneToOne);
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(SWITCH, id).unwrap());
    store.create_instance_association(SEED, 11, 22).unwrap();
    store.create_instance_association(SEED, 12, 21).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 22), (12, 21)]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_instance_may_be_source_of_one_record_and_target_of_another() {
    let (store, name) = self_associated(Mapping::OneToOne);
    store.create_instance_association(&name, 1, 2).unwrap();
    // 2 already is a target; as a source it is still free.
    store.create_instance_association(&name, 2, 3).unwrap();
    // 1 already is a source; as a target it is still free.
    store.create_instance_association(&name, 3, 1).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(1, 2), (2, 3), (3, 1)]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_self_associated_instance_used_in_both_roles_is_full() {
    let (store, name) = self_associated(Mapping::OneToOne);
    store.create_instance_association(&name, 1, 2).unwrap();
    store.create_instance_association(&name, 3, 1).unwrap();
    assert_err(
        store.create_instance_association(&name, 1, 4),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_err(
        store.create_instance_association(&name, 4, 1),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_invariants(&store);
}

#[test]
fn one_to_one_self_link_takes_both_roles_of_the_instance() {
    let (store, name) = self_associated(Mapping::OneToOne);
    store.create_instance_association(&name, 1, 1).unwrap();
    assert_err(
        store.create_instance_association(&name, 1, 2),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_err(
        store.create_instance_association(&name, 2, 1),
        1_101_052,
        ONE_TO_ONE,
    );
    store.create_instance_association(&name, 2, 3).unwrap();
    assert_invariants(&store);
}

// --- 1:n -------------------------------------------------------------------

#[test]
fn one_to_many_source_may_have_many_targets() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    store.create_instance_association(SEED, 11, 22).unwrap();
    assert_eq!(pairs(&find_all(&store, SWITCH)), [(11, 21), (11, 22)]);
    assert_invariants(&store);
}

#[test]
fn one_to_many_target_may_have_only_one_source() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 12, 21),
        1_101_061,
        ONE_TO_MANY,
    );
    store.create_instance_association(SEED, 12, 22).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21), (12, 22)]);
    assert_invariants(&store);
}

#[test]
fn one_to_many_target_accepts_a_new_source_after_the_old_record_is_deleted() {
    let store = seed_store_with(Mapping::OneToMany);
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.delete_instance_association(HOST, id).unwrap());
    store.create_instance_association(SEED, 12, 21).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(12, 21)]);
    assert_invariants(&store);
}

#[test]
fn one_to_many_target_may_still_be_a_source_in_a_self_associated_model() {
    let (store, name) = self_associated(Mapping::OneToMany);
    store.create_instance_association(&name, 1, 2).unwrap();
    assert_err(
        store.create_instance_association(&name, 3, 2),
        1_101_061,
        ONE_TO_MANY,
    );
    store.create_instance_association(&name, 2, 3).unwrap();
    store.create_instance_association(&name, 2, 4).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(1, 2), (2, 3), (2, 4)]);
    assert_invariants(&store);
}

// --- n:n -------------------------------------------------------------------

#[test]
fn many_to_many_allows_every_pair_once() {
    let store = seed_store_with(Mapping::ManyToMany);
    for (src, dst) in [(11, 21), (11, 22), (12, 21), (12, 22)] {
        store.create_instance_association(SEED, src, dst).unwrap();
    }
    assert_eq!(
        pairs(&find_all(&store, HOST)),
        [(11, 21), (11, 22), (12, 21), (12, 22)]
    );
    assert_invariants(&store);
}

#[test]
fn many_to_many_refuses_only_a_repeated_pair() {
    let store = seed_store_with(Mapping::ManyToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    store.create_instance_association(SEED, 12, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 12, 21),
        1_199_014,
        "duplicated instances exist, fields [association] duplicated",
    );
    assert_eq!(store.len(), 2);
    assert_invariants(&store);
}

#[test]
fn reversed_pair_is_a_different_record_in_a_self_associated_model() {
    let (store, name) = self_associated(Mapping::ManyToMany);
    store.create_instance_association(&name, 1, 2).unwrap();
    store.create_instance_association(&name, 2, 1).unwrap();
    assert_eq!(pairs(&find_all(&store, HOST)), [(1, 2), (2, 1)]);
    assert_invariants(&store);
}

// --- per model association -------------------------------------------------

#[test]
fn one_to_one_counts_only_records_of_its_own_model_association() {
    let store = seed_store_with(Mapping::OneToOne);
    let connect = define(&store, &one_to_one(SWITCH, "connect", HOST));
    store.create_instance_association(SEED, 11, 21).unwrap();
    // The same instances, in the same roles, under another model association.
    store.create_instance_association(&connect, 11, 21).unwrap();
    store.create_instance_association(&connect, 12, 22).unwrap();
    assert_err(
        store.create_instance_association(&connect, 11, 22),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_eq!(store.len(), 3);
    assert_invariants(&store);
}

#[test]
fn one_to_many_counts_only_records_of_its_own_model_association() {
    let store = seed_store_with(Mapping::OneToMany);
    let run = define(&store, &one_to_many(SWITCH, "run", HOST));
    store.create_instance_association(SEED, 11, 21).unwrap();
    // host 21 has source 11 under `belong`, none under `run`.
    store.create_instance_association(&run, 12, 21).unwrap();
    assert_err(
        store.create_instance_association(&run, 11, 21),
        1_101_061,
        ONE_TO_MANY,
    );
    assert_invariants(&store);
}

#[test]
fn many_to_many_pair_may_exist_once_per_model_association() {
    let store = seed_store_with(Mapping::ManyToMany);
    let run = define(&store, &many_to_many(SWITCH, "run", HOST));
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(&run, 11, 21).unwrap();
    assert_ne!(a, b);
    let kinds: Vec<String> = find_all(&store, HOST)
        .iter()
        .map(|r| r.bk_asst_id.to_string())
        .collect();
    assert_eq!(kinds, ["belong", "run"]);
    assert_invariants(&store);
}

#[test]
fn one_to_one_in_one_direction_does_not_limit_the_reverse_model_association() {
    let store = seed_store_with(Mapping::OneToOne);
    let back = define(&store, &one_to_one(HOST, "belong", SWITCH));
    store.create_instance_association(SEED, 11, 21).unwrap();
    store.create_instance_association(&back, 21, 11).unwrap();
    assert_err(
        store.create_instance_association(&back, 21, 12),
        1_101_052,
        ONE_TO_ONE,
    );
    assert_invariants(&store);
}
