//! SPEC §3.2: creating one instance association — each check in order with
//! its code and message, check precedence, ids and the stored record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{InstanceAssociation, Mapping};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, define, find_all, many_to_many, one_to_many,
    seed_store, seed_store_with,
};

#[test]
fn create_returns_the_id_of_a_record_copying_the_model_association() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let rec = store.instance_association(id).unwrap();
    let expected = InstanceAssociation {
        id,
        bk_inst_id: 11,
        bk_obj_id: SWITCH.into(),
        bk_asst_inst_id: 21,
        bk_asst_obj_id: HOST.into(),
        bk_obj_asst_id: SEED.into(),
        bk_asst_id: "belong".into(),
    };
    assert_eq!(rec, expected);
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn record_fields_follow_a_custom_model_association_id() {
    let store = seed_store();
    define(
        &store,
        &many_to_many(HOST, "run", SWITCH).with_id("runs_on"),
    );
    let id = store
        .create_instance_association("runs_on", 21, 12)
        .unwrap();
    let rec = store.instance_association(id).unwrap();
    assert_eq!(
        (
            rec.bk_inst_id,
            &*rec.bk_obj_id,
            rec.bk_asst_inst_id,
            &*rec.bk_asst_obj_id,
            &*rec.bk_obj_asst_id,
            &*rec.bk_asst_id
        ),
        (21, HOST, 12, SWITCH, "runs_on", "run")
    );
    assert_invariants(&store);
}

#[test]
fn first_record_id_is_one() {
    let store = seed_store();
    assert_eq!(store.create_instance_association(SEED, 11, 21), Ok(1));
    assert_invariants(&store);
}

#[test]
fn unknown_model_association_is_refused() {
    let store = seed_store();
    assert_err(
        store.create_instance_association("bk_switch_run_host", 11, 21),
        1_101_046,
        "object association does not exist.",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn empty_model_association_id_is_unknown() {
    let store = seed_store();
    assert_err(
        store.create_instance_association("", 11, 21),
        1_101_046,
        "object association does not exist.",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn unknown_model_association_wins_over_missing_instances() {
    let store = seed_store();
    assert_err(
        store.create_instance_association("nope", 98, 99),
        1_101_046,
        "object association does not exist.",
    );
    assert_invariants(&store);
}

#[test]
fn one_to_one_refuses_a_source_that_already_is_a_source() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 22),
        1_101_052,
        "can not create multiple instance association for a 1:1 association.",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn one_to_one_refuses_a_target_that_already_is_a_target() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 12, 21),
        1_101_052,
        "can not create multiple instance association for a 1:1 association.",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn one_to_many_refuses_a_target_that_already_has_a_source() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 12, 21),
        1_101_061,
        "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn readding_a_pair_under_one_to_one_is_a_mapping_error() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 21),
        1_101_052,
        "can not create multiple instance association for a 1:1 association.",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn readding_a_pair_under_one_to_many_is_a_mapping_error() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 21),
        1_101_061,
        "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn readding_a_pair_under_many_to_many_is_duplicated() {
    let store = seed_store_with(Mapping::ManyToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_err(
        store.create_instance_association(SEED, 11, 21),
        1_199_014,
        "duplicated instances exist, fields [association] duplicated",
    );
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn mapping_wins_over_a_missing_source_instance() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    // 99 is no switch, and host 21 already has a source.
    assert_err(
        store.create_instance_association(SEED, 99, 21),
        1_101_061,
        "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
    );
    assert_invariants(&store);
}

#[test]
fn mapping_wins_over_a_missing_target_instance() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    // 99 is no host, and switch 11 already is a source.
    assert_err(
        store.create_instance_association(SEED, 11, 99),
        1_101_052,
        "can not create multiple instance association for a 1:1 association.",
    );
    assert_invariants(&store);
}

#[test]
fn missing_source_instance_is_refused() {
    let store = seed_store();
    assert_err(
        store.create_instance_association(SEED, 99, 21),
        1_101_073,
        "the association inst is not exist",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn missing_source_wins_over_missing_target() {
    let store = seed_store();
    assert_err(
        store.create_instance_association(SEED, 98, 99),
        1_101_073,
        "the association inst is not exist",
    );
    assert_invariants(&store);
}

#[test]
fn missing_target_instance_is_refused() {
    let store = seed_store();
    assert_err(
        store.create_instance_association(SEED, 11, 99),
        1_101_074,
        "the  inst to asst  is not exist",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn source_registered_only_in_the_target_model_is_missing() {
    let store = seed_store();
    // 21 is a host, not a switch.
    assert_err(
        store.create_instance_association(SEED, 21, 22),
        1_101_073,
        "the association inst is not exist",
    );
    assert_invariants(&store);
}

#[test]
fn target_registered_only_in_the_source_model_is_missing() {
    let store = seed_store();
    // 12 is a switch, not a host.
    assert_err(
        store.create_instance_association(SEED, 11, 12),
        1_101_074,
        "the  inst to asst  is not exist",
    );
    assert_invariants(&store);
}

#[test]
fn deleted_instance_is_missing() {
    let store = seed_store();
    assert_eq!(store.delete_instance(HOST, 22), Ok(true));
    assert_err(
        store.create_instance_association(SEED, 11, 22),
        1_101_074,
        "the  inst to asst  is not exist",
    );
    assert_invariants(&store);
}

#[test]
fn instance_may_link_to_itself_in_a_self_associated_model() {
    let store = seed_store();
    let name = define(&store, &many_to_many(HOST, "connect", HOST));
    let id = store.create_instance_association(&name, 21, 21).unwrap();
    let rec = store.instance_association(id).unwrap();
    assert_eq!((rec.bk_inst_id, rec.bk_asst_inst_id), (21, 21));
    assert_eq!((&*rec.bk_obj_id, &*rec.bk_asst_obj_id), (HOST, HOST));
    assert_err(
        store.create_instance_association(&name, 21, 21),
        1_199_014,
        "duplicated instances exist, fields [association] duplicated",
    );
    assert_invariants(&store);
}

#[test]
fn self_link_is_allowed_under_one_to_one() {
    let store = seed_store();
    let name = define(
        &store,
        &assocstore::NewModelAssociation::new(HOST, "group", HOST, Mapping::OneToOne),
    );
    let id = store.create_instance_association(&name, 22, 22).unwrap();
    assert_eq!(
        store.instance_association(id).map(|r| r.bk_inst_id),
        Some(22)
    );
    assert_invariants(&store);
}

#[test]
fn ids_strictly_increase_across_creates() {
    let store = seed_store_with(Mapping::ManyToMany);
    let mut ids = Vec::new();
    for (src, dst) in [(11, 21), (12, 22), (11, 22), (12, 21)] {
        ids.push(store.create_instance_association(SEED, src, dst).unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_invariants(&store);
}

#[test]
fn ids_strictly_increase_across_failed_creates() {
    let store = seed_store();
    let first = store.create_instance_association(SEED, 11, 21).unwrap();
    assert!(store.create_instance_association(SEED, 12, 21).is_err());
    assert!(store.create_instance_association(SEED, 11, 99).is_err());
    assert!(store.create_instance_association("nope", 11, 22).is_err());
    let second = store.create_instance_association(SEED, 11, 22).unwrap();
    assert!(second > first, "{first} then {second}");
    assert_invariants(&store);
}

#[test]
fn ids_are_one_sequence_over_all_model_associations() {
    let store = seed_store();
    let run = define(&store, &one_to_many(HOST, "run", SWITCH));
    let a = store.create_instance_association(SEED, 11, 21).unwrap();
    let b = store.create_instance_association(&run, 21, 11).unwrap();
    let c = store.create_instance_association(SEED, 12, 22).unwrap();
    assert!(a < b && b < c, "{a} {b} {c}");
    let all = find_all(&store, HOST);
    assert_eq!(common::ids(&all), vec![a, b, c]);
    assert_invariants(&store);
}

#[test]
fn failed_create_leaves_the_store_unchanged() {
    let store = seed_store();
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let before = find_all(&store, HOST);
    for (src, dst) in [(12, 21), (99, 22), (11, 99)] {
        assert!(store.create_instance_association(SEED, src, dst).is_err());
    }
    assert_eq!(find_all(&store, HOST), before);
    assert_eq!(store.len(), 1);
    assert!(store.instance_association(id + 1).is_none());
    assert_invariants(&store);
}

#[test]
fn get_by_unknown_id_is_none() {
    let store = seed_store();
    store.create_instance_association(SEED, 11, 21).unwrap();
    assert_eq!(store.instance_association(0), None);
    assert_eq!(store.instance_association(2), None);
    assert_eq!(store.instance_association(-1), None);
    assert_invariants(&store);
}
