//! SPEC §3.3: batch create — whole-request checks in order, per-item outcomes
//! and their order, and the atomic and idempotent modes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use assocstore::{BatchCreate, BatchOutcome, Error, ItemOutcome, Mapping, Store};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, define, find_all, many_to_many, pairs, seed,
    seed_store, seed_store_with,
};

const EXISTS: &str = "the associations bk_switch->host already exist";
const NO_SOURCE: &str = "the association inst is not exist";
const NO_TARGET: &str = "the  inst to asst  is not exist";
const ONE_TO_ONE: &str = "can not create multiple instance association for a 1:1 association.";
const ONE_TO_MANY: &str = "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.";

/// A bk-cmdb mode batch on the seed model association.
fn seed_batch(details: impl IntoIterator<Item = (i64, i64)>) -> BatchCreate {
    BatchCreate::new(SWITCH, HOST, SEED, details)
}

/// Runs `batch`, which must pass the whole-request checks.
fn run(store: &Store, batch: &BatchCreate) -> BatchOutcome {
    store.batch_create_instance_associations(batch).unwrap()
}

/// The error of item `index`, which must have failed.
fn failure(out: &BatchOutcome, index: usize) -> &Error {
    match &out.items[index] {
        ItemOutcome::Failed(err) => err,
        other => panic!("item {index}: expected a failure, got {other:?}"),
    }
}

/// The id of item `index`, which must have been created.
fn created(out: &BatchOutcome, index: usize) -> i64 {
    match out.items[index] {
        ItemOutcome::Created(id) => id,
        ref other => panic!("item {index}: expected a creation, got {other:?}"),
    }
}

// --- whole-request checks ------------------------------------------------

#[test]
fn empty_model_association_id_is_named_first() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new("", "", "", [])),
        1_199_011,
        "'bk_obj_asst_id' the parameter is invalid or does not exist",
    );
    assert_invariants(&store);
}

#[test]
fn empty_source_model_is_named_before_the_target_model() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new("", "", SEED, [(11, 21)])),
        1_199_011,
        "'bk_obj_id' the parameter is invalid or does not exist",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn empty_target_model_is_named() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(SWITCH, "", SEED, [(11, 21)])),
        1_199_011,
        "'bk_asst_obj_id' the parameter is invalid or does not exist",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn empty_details_are_refused() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&seed_batch([])),
        1_199_038,
        "need data details is null",
    );
    assert_invariants(&store);
}

#[test]
fn empty_details_win_over_an_unknown_model_association() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            SWITCH,
            HOST,
            "bk_switch_run_host",
            [],
        )),
        1_199_038,
        "need data details is null",
    );
    assert_invariants(&store);
}

#[test]
fn more_than_200_details_are_refused_by_default() {
    let store = seed_store();
    assert_eq!(store.batch_limit(), 200);
    assert_err(
        store.batch_create_instance_associations(&seed_batch(vec![(11, 21); 201])),
        1_199_035,
        " details exceed the limit 200",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn exactly_200_details_are_accepted() {
    let store = Store::new();
    define(&store, &many_to_many(SWITCH, "belong", HOST));
    store.register_instances(SWITCH, 1..=200).unwrap();
    store.register_instances(HOST, [21]).unwrap();
    let out = run(&store, &seed_batch((1..=200).map(|s| (s, 21))));
    assert_eq!(out.created(), 200);
    assert!(out.error_msg().is_empty());
    assert_eq!(store.len(), 200);
    assert_invariants(&store);
}

#[test]
fn configured_batch_limit_refuses_one_more() {
    let store = Store::builder().batch_limit(5).build().unwrap();
    seed(&store, Mapping::ManyToMany);
    assert_eq!(store.batch_limit(), 5);
    assert_err(
        store.batch_create_instance_associations(&seed_batch(vec![(11, 21); 6])),
        1_199_035,
        " details exceed the limit 5",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn configured_batch_limit_accepts_exactly_the_limit() {
    let store = Store::builder().batch_limit(5).build().unwrap();
    seed(&store, Mapping::ManyToMany);
    let out = run(&store, &seed_batch(vec![(11, 21); 5]));
    assert_eq!(out.created(), 1);
    assert_eq!(out.error_msg().len(), 4);
    assert_invariants(&store);
}

#[test]
fn zero_batch_limit_is_an_invalid_setting() {
    assert_err(
        Store::builder().batch_limit(0).build(),
        1_199_006,
        "'batch_limit' data parameter verification does not pass",
    );
    let store = Store::builder().batch_limit(1).build().unwrap();
    assert_invariants(&store);
}

#[test]
fn batch_limit_wins_over_the_prefix_check() {
    let store = Store::builder().batch_limit(1).build().unwrap();
    seed(&store, Mapping::OneToMany);
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "zzz",
            HOST,
            SEED,
            [(11, 21), (12, 22)],
        )),
        1_199_035,
        " details exceed the limit 1",
    );
    assert_invariants(&store);
}

#[test]
fn model_association_id_not_starting_with_the_source_model_names_it() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "switch",
            HOST,
            SEED,
            [(11, 21)],
        )),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn model_association_id_not_ending_with_the_target_model_names_it() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            SWITCH,
            "hosts",
            SEED,
            [(11, 21)],
        )),
        1_199_006,
        "'bk_asst_obj_id' data parameter verification does not pass",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn prefix_check_wins_over_suffix_check() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(HOST, SWITCH, SEED, [(11, 21)])),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn source_model_longer_than_the_model_association_id_is_refused_without_panic() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "bk_switch_belong_host_and_more",
            HOST,
            SEED,
            [(11, 21)],
        )),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn target_model_longer_than_the_model_association_id_is_refused_without_panic() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            SWITCH,
            "x_bk_switch_belong_host",
            SEED,
            [(11, 21)],
        )),
        1_199_006,
        "'bk_asst_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn prefix_check_cutting_a_multibyte_character_is_refused_without_panic() {
    let store = seed_store();
    // "é" is two bytes: a one-byte model would end inside it.
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "a",
            "b",
            "é_belong_b",
            [(11, 21)],
        )),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "a",
            "b",
            "a_belong_bé",
            [(11, 21)],
        )),
        1_199_006,
        "'bk_asst_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn unknown_model_association_passing_prefix_and_suffix_is_refused() {
    let store = seed_store();
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            SWITCH,
            HOST,
            "bk_switch_run_host",
            [(11, 21)],
        )),
        1_101_046,
        "object association does not exist.",
    );
    assert_invariants(&store);
}

#[test]
fn source_model_other_than_the_model_associations_is_refused() {
    let store = seed_store();
    // "bk_sw" prefixes "bk_switch_belong_host" but is not its source model.
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            "bk_sw",
            HOST,
            SEED,
            [(11, 21)],
        )),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn target_model_other_than_the_model_associations_is_refused() {
    let store = seed_store();
    // "st" ends "bk_switch_belong_host" but is not its target model.
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(SWITCH, "st", SEED, [(11, 21)])),
        1_199_006,
        "'bk_asst_obj_id' data parameter verification does not pass",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn models_of_a_custom_id_must_match_the_model_association() {
    let store = seed_store();
    // The id "host_x_bk_switch_x_host" starts with "host" and ends with
    // "host", but its model association goes from bk_switch to host.
    define(
        &store,
        &many_to_many(SWITCH, "run", HOST).with_id("host_x_bk_switch_x_host"),
    );
    assert_err(
        store.batch_create_instance_associations(&BatchCreate::new(
            HOST,
            HOST,
            "host_x_bk_switch_x_host",
            [(21, 22)],
        )),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

// --- per-item outcomes -----------------------------------------------------

#[test]
fn seed_scenario_one_item_succeeds_and_one_fails() {
    // The API page's example: host 22 does not exist (any more).
    let store = seed_store();
    assert_eq!(store.delete_instance(HOST, 22), Ok(true));
    let out = run(&store, &seed_batch([(11, 21), (12, 22)]));
    let id = created(&out, 0);
    assert_eq!(out.success_created(), BTreeMap::from([(0, id)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(1, NO_TARGET.to_owned())]));
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21)]);
    assert_invariants(&store);
}

#[test]
fn all_items_succeed_in_details_order() {
    let store = seed_store();
    let out = run(&store, &seed_batch([(12, 22), (11, 21)]));
    let (a, b) = (created(&out, 0), created(&out, 1));
    assert!(a < b, "ids follow details order: {a} {b}");
    assert_eq!(out.success_created(), BTreeMap::from([(0, a), (1, b)]));
    assert!(out.error_msg().is_empty());
    assert_eq!(out.created(), 2);
    assert_eq!(
        store
            .instance_association(a)
            .map(|r| (r.bk_inst_id, r.bk_asst_inst_id)),
        Some((12, 22))
    );
    assert_invariants(&store);
}

#[test]
fn triple_already_in_the_store_fails_with_the_models_named() {
    let store = seed_store_with(Mapping::ManyToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(11, 21)]));
    let err = failure(&out, 0);
    assert_eq!(err.code(), 1_101_038);
    assert_eq!(err.to_string(), EXISTS);
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn repeated_pair_inside_the_batch_fails_as_existing() {
    let store = seed_store_with(Mapping::ManyToMany);
    let out = run(&store, &seed_batch([(11, 21), (11, 21)]));
    created(&out, 0);
    assert_eq!(failure(&out, 1).code(), 1_101_038);
    assert_eq!(out.error_msg(), BTreeMap::from([(1, EXISTS.to_owned())]));
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn existing_triple_is_reported_before_the_one_to_one_rule() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(11, 21)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, EXISTS.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn existing_triple_is_reported_before_the_one_to_many_rule() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(11, 21)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, EXISTS.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn repeated_pair_inside_the_batch_is_reported_before_the_mapping_rule() {
    let store = seed_store_with(Mapping::OneToOne);
    let out = run(&store, &seed_batch([(11, 21), (11, 21)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(1, EXISTS.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn earlier_item_counts_for_the_one_to_one_rule_as_a_source() {
    let store = seed_store_with(Mapping::OneToOne);
    let out = run(&store, &seed_batch([(11, 21), (11, 22)]));
    created(&out, 0);
    assert_eq!(failure(&out, 1).code(), 1_101_052);
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([(1, ONE_TO_ONE.to_owned())])
    );
    assert_invariants(&store);
}

#[test]
fn earlier_item_counts_for_the_one_to_one_rule_as_a_target() {
    let store = seed_store_with(Mapping::OneToOne);
    let out = run(&store, &seed_batch([(11, 21), (12, 21)]));
    created(&out, 0);
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([(1, ONE_TO_ONE.to_owned())])
    );
    assert_invariants(&store);
}

#[test]
fn earlier_item_counts_for_the_one_to_many_rule() {
    let store = seed_store_with(Mapping::OneToMany);
    let out = run(&store, &seed_batch([(11, 21), (11, 22), (12, 21)]));
    created(&out, 0);
    created(&out, 1);
    assert_eq!(failure(&out, 2).code(), 1_101_061);
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([(2, ONE_TO_MANY.to_owned())])
    );
    assert_invariants(&store);
}

#[test]
fn stored_record_counts_for_the_mapping_rule() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(12, 21)]));
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([(0, ONE_TO_MANY.to_owned())])
    );
    assert_invariants(&store);
}

#[test]
fn failed_item_does_not_count_for_the_mapping_rule() {
    let store = seed_store_with(Mapping::OneToOne);
    // Item 0 fails (no switch 99), so host 21 is still free for item 1.
    let out = run(&store, &seed_batch([(99, 21), (11, 21)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_SOURCE.to_owned())]));
    created(&out, 1);
    assert_invariants(&store);
}

#[test]
fn missing_source_fails_its_item() {
    let store = seed_store();
    let out = run(&store, &seed_batch([(99, 21)]));
    assert_eq!(failure(&out, 0).code(), 1_101_073);
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_SOURCE.to_owned())]));
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn missing_target_fails_its_item() {
    let store = seed_store();
    let out = run(&store, &seed_batch([(11, 99)]));
    assert_eq!(failure(&out, 0).code(), 1_101_074);
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_TARGET.to_owned())]));
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn missing_source_is_reported_before_missing_target() {
    let store = seed_store();
    let out = run(&store, &seed_batch([(98, 99)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_SOURCE.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn missing_source_is_reported_before_the_mapping_rule() {
    let store = seed_store_with(Mapping::OneToMany);
    store.create_instance_association(SEED, 11, 21).unwrap();
    // No switch 99, and host 21 already has a source.
    let out = run(&store, &seed_batch([(99, 21)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_SOURCE.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn missing_target_is_reported_before_the_mapping_rule() {
    let store = seed_store_with(Mapping::OneToOne);
    store.create_instance_association(SEED, 11, 21).unwrap();
    // No host 99, and switch 11 already is a source.
    let out = run(&store, &seed_batch([(11, 99)]));
    assert_eq!(out.error_msg(), BTreeMap::from([(0, NO_TARGET.to_owned())]));
    assert_invariants(&store);
}

#[test]
fn one_failing_item_does_not_stop_the_others() {
    let store = seed_store_with(Mapping::ManyToMany);
    let out = run(
        &store,
        &seed_batch([(99, 21), (11, 21), (11, 98), (12, 22), (11, 21)]),
    );
    let (a, b) = (created(&out, 1), created(&out, 3));
    assert_eq!(out.success_created(), BTreeMap::from([(1, a), (3, b)]));
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([
            (0, NO_SOURCE.to_owned()),
            (2, NO_TARGET.to_owned()),
            (4, EXISTS.to_owned()),
        ])
    );
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21), (12, 22)]);
    assert_invariants(&store);
}

#[test]
fn every_item_failing_still_succeeds_as_a_call() {
    let store = seed_store();
    let out = run(&store, &seed_batch([(99, 21), (11, 99)]));
    assert!(out.success_created().is_empty());
    assert_eq!(out.error_msg().len(), 2);
    assert_eq!(out.created(), 0);
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn created_ids_follow_details_order_and_outlive_gaps() {
    let store = seed_store_with(Mapping::ManyToMany);
    let before = store.create_instance_association(SEED, 12, 21).unwrap();
    let out = run(
        &store,
        &seed_batch([(11, 22), (99, 21), (11, 21), (12, 22)]),
    );
    let ids: Vec<i64> = out.success_created().into_values().collect();
    assert_eq!(ids.len(), 3);
    assert!(before < ids[0], "{before} {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(
        pairs(&find_all(&store, SWITCH)),
        [(12, 21), (11, 22), (11, 21), (12, 22)]
    );
    assert_invariants(&store);
}

#[test]
fn batch_links_an_instance_to_itself_in_a_self_associated_model() {
    let store = seed_store();
    let name = define(&store, &many_to_many(HOST, "connect", HOST));
    let out = run(
        &store,
        &BatchCreate::new(HOST, HOST, &name, [(21, 21), (21, 22)]),
    );
    assert_eq!(out.created(), 2);
    assert_eq!(pairs(&find_all(&store, HOST)), [(21, 21), (21, 22)]);
    assert_invariants(&store);
}

// --- atomic mode -------------------------------------------------------------

#[test]
fn atomic_batch_with_one_bad_item_inserts_nothing() {
    let store = seed_store_with(Mapping::ManyToMany);
    let existing = store.create_instance_association(SEED, 12, 22).unwrap();
    let before = find_all(&store, HOST);
    let out = run(
        &store,
        &seed_batch([(11, 21), (11, 99), (12, 21)]).atomic(true),
    );
    assert_eq!(
        out.items,
        [
            ItemOutcome::RolledBack,
            ItemOutcome::Failed(Error::TargetInstanceNotFound),
            ItemOutcome::RolledBack,
        ]
    );
    assert!(out.success_created().is_empty());
    assert_eq!(out.error_msg(), BTreeMap::from([(1, NO_TARGET.to_owned())]));
    assert_eq!(out.created(), 0);
    assert_eq!(find_all(&store, HOST), before);
    assert_eq!(store.len(), 1);
    assert!(store.instance_association(existing).is_some());
    assert_invariants(&store);
}

#[test]
fn atomic_batch_with_an_intra_batch_conflict_inserts_nothing() {
    let store = seed_store_with(Mapping::OneToMany);
    let out = run(&store, &seed_batch([(11, 21), (12, 21)]).atomic(true));
    assert_eq!(
        out.items,
        [
            ItemOutcome::RolledBack,
            ItemOutcome::Failed(Error::OneToManyViolation),
        ]
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

#[test]
fn atomic_batch_rolled_back_leaves_the_mapping_slots_free() {
    let store = seed_store_with(Mapping::OneToOne);
    run(&store, &seed_batch([(11, 21), (12, 99)]).atomic(true));
    let out = run(&store, &seed_batch([(12, 21), (11, 22)]));
    assert_eq!(out.created(), 2);
    assert_invariants(&store);
}

#[test]
fn atomic_batch_of_good_items_inserts_them_all() {
    let store = seed_store_with(Mapping::OneToOne);
    let out = run(&store, &seed_batch([(11, 21), (12, 22)]).atomic(true));
    let (a, b) = (created(&out, 0), created(&out, 1));
    assert!(a < b);
    assert!(out.error_msg().is_empty());
    assert_eq!(pairs(&find_all(&store, HOST)), [(11, 21), (12, 22)]);
    assert_invariants(&store);
}

// --- idempotent mode ---------------------------------------------------------

#[test]
fn idempotent_batch_reports_a_stored_triple_with_its_id() {
    let store = seed_store_with(Mapping::OneToOne);
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(11, 21), (12, 22)]).idempotent(true));
    assert_eq!(out.items[0], ItemOutcome::Existing(id));
    let new = created(&out, 1);
    assert_eq!(out.success_created(), BTreeMap::from([(0, id), (1, new)]));
    assert!(out.error_msg().is_empty());
    assert_eq!(out.created(), 1);
    assert_eq!(store.len(), 2);
    assert_invariants(&store);
}

#[test]
fn idempotent_batch_reports_a_repeat_inside_the_batch_with_the_first_id() {
    let store = seed_store_with(Mapping::OneToMany);
    let out = run(&store, &seed_batch([(11, 21), (11, 21)]).idempotent(true));
    let id = created(&out, 0);
    assert_eq!(out.items[1], ItemOutcome::Existing(id));
    assert_eq!(out.success_created(), BTreeMap::from([(0, id), (1, id)]));
    assert_eq!(out.created(), 1);
    assert_eq!(store.len(), 1);
    assert_invariants(&store);
}

#[test]
fn idempotent_batch_still_reports_other_failures() {
    let store = seed_store_with(Mapping::OneToMany);
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(&store, &seed_batch([(11, 21), (12, 21)]).idempotent(true));
    assert_eq!(out.items[0], ItemOutcome::Existing(id));
    assert_eq!(
        out.error_msg(),
        BTreeMap::from([(1, ONE_TO_MANY.to_owned())])
    );
    assert_invariants(&store);
}

#[test]
fn idempotent_atomic_batch_with_a_stored_triple_commits() {
    let store = seed_store_with(Mapping::ManyToMany);
    let id = store.create_instance_association(SEED, 11, 21).unwrap();
    let out = run(
        &store,
        &seed_batch([(11, 21), (12, 22)])
            .idempotent(true)
            .atomic(true),
    );
    assert_eq!(out.items[0], ItemOutcome::Existing(id));
    created(&out, 1);
    assert_eq!(store.len(), 2);
    assert_invariants(&store);
}

#[test]
fn idempotent_atomic_batch_rolled_back_reports_the_repeat_as_rolled_back() {
    let store = seed_store_with(Mapping::ManyToMany);
    let out = run(
        &store,
        &seed_batch([(11, 21), (11, 21), (99, 21)])
            .idempotent(true)
            .atomic(true),
    );
    assert_eq!(
        out.items,
        [
            ItemOutcome::RolledBack,
            ItemOutcome::RolledBack,
            ItemOutcome::Failed(Error::SourceInstanceNotFound),
        ]
    );
    assert!(store.is_empty());
    assert_invariants(&store);
}

/// Batches behave the same whatever the shard count: one shard, the
/// default, and the largest (where a batch finds its shards by search
/// rather than through a table indexed by shard).
#[test]
fn batch_outcomes_do_not_depend_on_the_shard_count() {
    let outcomes: Vec<BatchOutcome> = [1, 8, 65_536]
        .into_iter()
        .map(|shards| {
            let store = Store::builder().shards(shards).build().unwrap();
            seed(&store, Mapping::OneToMany);
            // created, repeat, breaker (host 21 taken), missing target,
            // created, repeat of the first.
            let batch = seed_batch([(11, 21), (11, 21), (12, 21), (11, 99), (12, 22), (11, 21)]);
            let out = run(&store, &batch);
            assert_invariants(&store);
            out
        })
        .collect();
    assert_eq!(outcomes[0].items.len(), 6);
    assert_eq!(created(&outcomes[0], 0), 1);
    assert_eq!(created(&outcomes[0], 4), 2);
    assert_eq!(outcomes[0], outcomes[1]);
    assert_eq!(outcomes[0], outcomes[2]);
}
