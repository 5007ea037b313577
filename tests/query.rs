//! SPEC §3.4 `search_instance_associations` and `count_instance_associations`:
//! bk-cmdb's query-builder rules, their validation errors (1199006 naming the
//! key), projection, sorting, paging, and the search/count asymmetry. Ends
//! with property tests that check the store (index planner and filter alike)
//! against a brute-force evaluator written here from SPEC, sharing no code
//! with `src/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cmp::Ordering;

use assocstore::{
    Condition, InstanceAssociation, Mapping, NewModelAssociation, Page, QueryFilter, Search, Store,
};
use common::{
    HOST, SEED, SWITCH, all_records, assert_err, assert_invariants, define, ids, many_to_many,
    proptest_cases, seed_store,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Fixture and helpers
// ---------------------------------------------------------------------------

/// Three models and six records, ids 1 to 6:
///
/// | id | source | target | model association |
/// |---|---|---|---|
/// | 1 | `bk_switch` 11 | host 21 | `bk_switch_belong_host` (belong) |
/// | 2 | host 21 | app 31 | `host_run_app` (run) |
/// | 3 | `bk_switch` 11 | app 31 | `bk_switch_connect_app` (connect) |
/// | 4 | `bk_switch` 12 | host 22 | `bk_switch_belong_host` (belong) |
/// | 5 | host 22 | app 32 | `host_run_app` (run) |
/// | 6 | host 21 | app 32 | `host_run_app` (run) |
///
/// `host` touches 1, 2, 4, 5, 6 (target of 1 and 4, source of 2, 5, 6).
fn fixture() -> Store {
    let store = seed_store();
    let run = define(&store, &many_to_many(HOST, "run", "app"));
    let connect = define(&store, &many_to_many(SWITCH, "connect", "app"));
    store.register_instances("app", [31, 32]).unwrap();
    let created = [
        store.create_instance_association(SEED, 11, 21).unwrap(),
        store.create_instance_association(&run, 21, 31).unwrap(),
        store.create_instance_association(&connect, 11, 31).unwrap(),
        store.create_instance_association(SEED, 12, 22).unwrap(),
        store.create_instance_association(&run, 22, 32).unwrap(),
        store.create_instance_association(&run, 21, 32).unwrap(),
    ];
    assert_eq!(created, [1, 2, 3, 4, 5, 6], "fixture ids");
    store
}

/// Every record touching `host` in the fixture.
const ALL_HOST: [i64; 5] = [1, 2, 4, 5, 6];

/// One atom rule.
fn atom(field: &str, operator: &str, value: Value) -> Value {
    let mut rule = bare(field, operator);
    rule["value"] = value;
    rule
}

/// One atom rule without a value (`exist`, `is_empty`, ...).
fn bare(field: &str, operator: &str) -> Value {
    json!({"field": field, "operator": operator})
}

/// A combined rule.
fn combine(condition: &str, rules: Vec<Value>) -> Value {
    let mut rule = Map::new();
    rule.insert("condition".to_owned(), Value::from(condition));
    rule.insert("rules".to_owned(), Value::Array(rules));
    Value::Object(rule)
}

fn and(rules: Vec<Value>) -> Value {
    combine("AND", rules)
}

fn or(rules: Vec<Value>) -> Value {
    combine("OR", rules)
}

/// A search body for `conditions` with the largest page.
fn body(conditions: &Value) -> Value {
    json!({"conditions": conditions, "page": {"start": 0, "limit": 500}})
}

/// The ids of the records touching `model` that `conditions` selects.
fn search_ids(store: &Store, model: &str, conditions: &Value) -> Vec<i64> {
    let search = Search::from_json(&body(conditions)).unwrap();
    ids(&store.search_instance_associations(model, &search).unwrap())
}

/// The ids of the records touching `host` that the single `rule` selects.
fn host_ids(store: &Store, rule: Value) -> Vec<i64> {
    search_ids(store, HOST, &and(vec![rule]))
}

/// The ids a full search body yields for `model`.
fn search_body_ids(store: &Store, model: &str, body: &Value) -> Vec<i64> {
    let search = Search::from_json(body).unwrap();
    ids(&store.search_instance_associations(model, &search).unwrap())
}

/// `count_instance_associations` with `conditions`.
fn count(store: &Store, model: &str, conditions: &Value) -> u64 {
    let filter = QueryFilter::from_json(conditions).unwrap();
    store
        .count_instance_associations(model, Some(&filter))
        .unwrap()
}

/// Asserts that `conditions` is refused with 1199006 naming `key`, both by
/// `QueryFilter::from_json` and inside a search body.
#[track_caller]
fn assert_invalid(conditions: &Value, key: &str) {
    let message = format!("'{key}' data parameter verification does not pass");
    assert_err(QueryFilter::from_json(conditions), 1_199_006, &message);
    assert_err(Search::from_json(&body(conditions)), 1_199_006, &message);
}

/// Asserts that `conditions` parses, as a filter and inside a search body.
#[track_caller]
fn assert_valid(conditions: &Value) {
    assert!(
        QueryFilter::from_json(conditions).is_ok(),
        "{conditions} should be a valid filter"
    );
    assert!(Search::from_json(&body(conditions)).is_ok());
}

/// Asserts that the search body is refused with 1199006 naming `key`.
#[track_caller]
fn assert_body_invalid(body: &Value, key: &str) {
    let message = format!("'{key}' data parameter verification does not pass");
    assert_err(Search::from_json(body), 1_199_006, &message);
}

// ---------------------------------------------------------------------------
// Operators (SPEC §3.4)
// ---------------------------------------------------------------------------

#[test]
fn equal_on_an_integer_field() {
    let store = fixture();
    assert_eq!(
        host_ids(&store, atom("bk_inst_id", "equal", json!(21))),
        [2, 6]
    );
    assert_invariants(&store);
}

#[test]
fn equal_on_a_string_field() {
    let store = fixture();
    let rule = atom("bk_asst_id", "equal", json!("belong"));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn equal_integer_field_to_a_whole_float() {
    let store = fixture();
    let rule = atom("bk_inst_id", "equal", json!(21.0));
    assert_eq!(host_ids(&store, rule), [2, 6]);
    assert_invariants(&store);
}

#[test]
fn equal_on_the_record_id_answers_from_the_index() {
    let store = fixture();
    assert_eq!(host_ids(&store, atom("id", "equal", json!(4))), [4]);
    // Record 3 exists but does not touch host.
    assert!(host_ids(&store, atom("id", "equal", json!(3))).is_empty());
    assert!(host_ids(&store, atom("id", "equal", json!(99))).is_empty());
    assert_invariants(&store);
}

#[test]
fn not_equal_on_a_string_field() {
    let store = fixture();
    let rule = atom("bk_asst_id", "not_equal", json!("belong"));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn not_equal_on_an_integer_field() {
    let store = fixture();
    let rule = atom("bk_asst_inst_id", "not_equal", json!(32));
    assert_eq!(host_ids(&store, rule), [1, 2, 4]);
    assert_invariants(&store);
}

#[test]
fn in_on_an_integer_field() {
    let store = fixture();
    let rule = atom("bk_asst_inst_id", "in", json!([21, 22, 99]));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn in_on_a_string_field() {
    let store = fixture();
    let rule = atom(
        "bk_obj_asst_id",
        "in",
        json!([SEED, "bk_switch_connect_app"]),
    );
    // Record 3 is of the second model association but does not touch host.
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn not_in_on_an_integer_field() {
    let store = fixture();
    let rule = atom("bk_asst_inst_id", "not_in", json!([21, 22]));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn not_in_on_a_string_field() {
    let store = fixture();
    let rule = atom("bk_obj_id", "not_in", json!([HOST]));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn less_on_the_record_id() {
    let store = fixture();
    assert_eq!(host_ids(&store, atom("id", "less", json!(4))), [1, 2]);
    assert_invariants(&store);
}

#[test]
fn less_with_a_fractional_bound() {
    let store = fixture();
    assert_eq!(host_ids(&store, atom("id", "less", json!(2.5))), [1, 2]);
    assert_invariants(&store);
}

#[test]
fn less_or_equal_includes_the_bound() {
    let store = fixture();
    let rule = atom("id", "less_or_equal", json!(4));
    assert_eq!(host_ids(&store, rule), [1, 2, 4]);
    assert_invariants(&store);
}

#[test]
fn greater_excludes_the_bound() {
    let store = fixture();
    assert_eq!(host_ids(&store, atom("id", "greater", json!(4))), [5, 6]);
    assert_invariants(&store);
}

#[test]
fn greater_or_equal_includes_the_bound() {
    let store = fixture();
    let rule = atom("bk_inst_id", "greater_or_equal", json!(21));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn begins_with_a_prefix() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "begins_with", json!("host_"));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn begins_with_is_case_sensitive() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "begins_with", json!("HOST_"));
    assert!(host_ids(&store, rule).is_empty());
    assert_invariants(&store);
}

#[test]
fn begins_with_takes_its_value_as_literal_text() {
    let store = fixture();
    // As a regular expression `^host.` would match `host_run_app`.
    let rule = atom("bk_obj_asst_id", "begins_with", json!("host."));
    assert!(host_ids(&store, rule).is_empty());
    assert_invariants(&store);
}

#[test]
fn not_begins_with_a_prefix() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "not_begins_with", json!("host_"));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn contains_a_substring() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "contains", json!("_run_"));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn contains_ignores_case() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "contains", json!("BeLoNg"));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn not_contains_a_substring() {
    let store = fixture();
    let rule = atom("bk_obj_asst_id", "not_contains", json!("belong"));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn not_contains_respects_case() {
    let store = fixture();
    // Only `contains` ignores case (crate docs, `QueryFilter`).
    let rule = atom("bk_obj_asst_id", "not_contains", json!("BELONG"));
    assert_eq!(host_ids(&store, rule), ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn ends_with_a_suffix() {
    let store = fixture();
    let rule = atom("bk_asst_obj_id", "ends_with", json!("ost"));
    assert_eq!(host_ids(&store, rule), [1, 4]);
    assert_invariants(&store);
}

#[test]
fn not_ends_with_a_suffix() {
    let store = fixture();
    let rule = atom("bk_asst_obj_id", "not_ends_with", json!("ost"));
    assert_eq!(host_ids(&store, rule), [2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn exist_holds_for_every_record_field() {
    let store = fixture();
    for field in [
        "id",
        "bk_inst_id",
        "bk_obj_id",
        "bk_asst_inst_id",
        "bk_asst_obj_id",
        "bk_obj_asst_id",
        "bk_asst_id",
    ] {
        assert_eq!(host_ids(&store, bare(field, "exist")), ALL_HOST, "{field}");
        assert!(
            host_ids(&store, bare(field, "not_exist")).is_empty(),
            "{field}"
        );
    }
    assert_invariants(&store);
}

#[test]
fn is_empty_never_holds_for_a_scalar_field() {
    let store = fixture();
    assert!(host_ids(&store, bare("bk_obj_asst_id", "is_empty")).is_empty());
    assert!(host_ids(&store, bare("id", "is_empty")).is_empty());
    assert_invariants(&store);
}

#[test]
fn is_not_empty_holds_for_every_scalar_field() {
    let store = fixture();
    let rule = bare("bk_obj_asst_id", "is_not_empty");
    assert_eq!(host_ids(&store, rule), ALL_HOST);
    assert_eq!(host_ids(&store, bare("id", "is_not_empty")), ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn field_no_record_has_matches_only_negated_operators() {
    let store = fixture();
    let everything = ALL_HOST.to_vec();
    let nothing: Vec<i64> = Vec::new();
    let cases = [
        (atom("bk_biz_id", "equal", json!(1)), &nothing),
        (atom("bk_biz_id", "not_equal", json!(1)), &everything),
        (atom("bk_biz_id", "in", json!([1, 2])), &nothing),
        (atom("bk_biz_id", "not_in", json!([1, 2])), &everything),
        (atom("bk_biz_id", "less", json!(1)), &nothing),
        (atom("bk_biz_id", "less_or_equal", json!(1)), &nothing),
        (atom("bk_biz_id", "greater", json!(1)), &nothing),
        (atom("bk_biz_id", "greater_or_equal", json!(1)), &nothing),
        (atom("bk_biz_id", "begins_with", json!("b")), &nothing),
        (
            atom("bk_biz_id", "not_begins_with", json!("b")),
            &everything,
        ),
        (atom("bk_biz_id", "contains", json!("b")), &nothing),
        (atom("bk_biz_id", "not_contains", json!("b")), &everything),
        (atom("bk_biz_id", "ends_with", json!("b")), &nothing),
        (atom("bk_biz_id", "not_ends_with", json!("b")), &everything),
        (bare("bk_biz_id", "exist"), &nothing),
        (bare("bk_biz_id", "not_exist"), &everything),
        (bare("bk_biz_id", "is_empty"), &nothing),
        (bare("bk_biz_id", "is_not_empty"), &everything),
    ];
    for (rule, want) in cases {
        assert_eq!(&host_ids(&store, rule.clone()), want, "{rule}");
    }
    assert_invariants(&store);
}

#[test]
fn string_value_never_matches_an_integer_field() {
    let store = fixture();
    let everything = ALL_HOST.to_vec();
    let nothing: Vec<i64> = Vec::new();
    let cases = [
        (atom("bk_inst_id", "equal", json!("21")), &nothing),
        (atom("bk_inst_id", "not_equal", json!("21")), &everything),
        (atom("bk_inst_id", "in", json!(["21", "22"])), &nothing),
        (
            atom("bk_inst_id", "not_in", json!(["21", "22"])),
            &everything,
        ),
        (atom("id", "equal", json!("1")), &nothing),
        (atom("bk_asst_inst_id", "begins_with", json!("2")), &nothing),
        (
            atom("bk_asst_inst_id", "not_begins_with", json!("2")),
            &everything,
        ),
        (atom("id", "contains", json!("1")), &nothing),
        (atom("id", "not_contains", json!("1")), &everything),
        (atom("bk_inst_id", "ends_with", json!("1")), &nothing),
        (atom("bk_inst_id", "not_ends_with", json!("1")), &everything),
    ];
    for (rule, want) in cases {
        assert_eq!(&host_ids(&store, rule.clone()), want, "{rule}");
    }
    assert_invariants(&store);
}

#[test]
fn integer_value_never_matches_a_string_field() {
    let store = fixture();
    let everything = ALL_HOST.to_vec();
    let nothing: Vec<i64> = Vec::new();
    let cases = [
        (atom("bk_obj_id", "equal", json!(21)), &nothing),
        (atom("bk_obj_id", "not_equal", json!(21)), &everything),
        (atom("bk_obj_asst_id", "in", json!([1, 2])), &nothing),
        (atom("bk_obj_asst_id", "not_in", json!([1, 2])), &everything),
        (atom("bk_asst_id", "less", json!(1_000_000)), &nothing),
        (
            atom("bk_asst_id", "less_or_equal", json!(1_000_000)),
            &nothing,
        ),
        (atom("bk_asst_id", "greater", json!(-1)), &nothing),
        (atom("bk_asst_id", "greater_or_equal", json!(-1)), &nothing),
    ];
    for (rule, want) in cases {
        assert_eq!(&host_ids(&store, rule.clone()), want, "{rule}");
    }
    assert_invariants(&store);
}

#[test]
fn boolean_value_equals_no_field() {
    let store = fixture();
    assert!(host_ids(&store, atom("id", "equal", json!(true))).is_empty());
    let rule = atom("bk_asst_id", "not_equal", json!(false));
    assert_eq!(host_ids(&store, rule), ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn and_requires_every_rule() {
    let store = fixture();
    let conditions = and(vec![
        atom("bk_asst_id", "equal", json!("run")),
        atom("bk_asst_inst_id", "equal", json!(32)),
    ]);
    assert_eq!(search_ids(&store, HOST, &conditions), [5, 6]);
    assert_invariants(&store);
}

#[test]
fn or_requires_any_rule() {
    let store = fixture();
    let conditions = or(vec![
        atom("bk_inst_id", "equal", json!(12)),
        atom("bk_asst_inst_id", "equal", json!(31)),
    ]);
    assert_eq!(search_ids(&store, HOST, &conditions), [2, 4]);
    assert_invariants(&store);
}

#[test]
fn nested_or_under_and() {
    let store = fixture();
    let conditions = and(vec![
        atom("bk_asst_id", "equal", json!("run")),
        or(vec![
            atom("bk_inst_id", "equal", json!(22)),
            atom("bk_asst_inst_id", "equal", json!(31)),
        ]),
    ]);
    assert_eq!(search_ids(&store, HOST, &conditions), [2, 5]);
    assert_invariants(&store);
}

#[test]
fn null_conditions_select_everything() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"conditions": null, "page": {"limit": 500}}),
    );
    assert_eq!(found, ALL_HOST);
    let missing = search_body_ids(&store, HOST, &json!({"page": {"limit": 500}}));
    assert_eq!(missing, ALL_HOST);
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Validation (SPEC §3.4: 1199006 naming the key)
// ---------------------------------------------------------------------------

#[test]
fn top_level_atom_is_not_a_combined_rule() {
    assert_invalid(&atom("id", "equal", json!(1)), "conditions.");
}

#[test]
fn top_level_array_is_not_a_combined_rule() {
    assert_invalid(&json!([atom("id", "equal", json!(1))]), "conditions.");
}

#[test]
fn top_level_string_is_not_a_combined_rule() {
    assert_invalid(&json!("AND"), "conditions.");
}

#[test]
fn unknown_condition_is_refused() {
    let conditions = json!({"condition": "XOR", "rules": [atom("id", "equal", json!(1))]});
    assert_invalid(&conditions, "conditions.condition");
}

#[test]
fn lowercase_condition_is_refused() {
    let conditions = json!({"condition": "and", "rules": [atom("id", "equal", json!(1))]});
    assert_invalid(&conditions, "conditions.condition");
}

#[test]
fn nested_unknown_condition_names_its_path() {
    let conditions = and(vec![
        atom("id", "equal", json!(1)),
        json!({"condition": "NOT", "rules": [atom("id", "equal", json!(1))]}),
    ]);
    assert_invalid(&conditions, "conditions.rules[1].condition");
}

#[test]
fn empty_rules_are_refused() {
    assert_invalid(&and(vec![]), "conditions.rules");
    assert_invalid(&or(vec![]), "conditions.rules");
}

#[test]
fn missing_rules_are_refused() {
    assert_invalid(&json!({"condition": "AND"}), "conditions.rules");
}

#[test]
fn nested_empty_rules_name_their_path() {
    let conditions = and(vec![atom("id", "equal", json!(1)), or(vec![])]);
    assert_invalid(&conditions, "conditions.rules[1].rules");
}

#[test]
fn or_with_twenty_one_rules_is_refused() {
    let rules = vec![atom("id", "equal", json!(1)); 21];
    assert_invalid(&or(rules), "conditions.rules");
}

#[test]
fn or_with_twenty_rules_is_accepted() {
    assert_valid(&or(vec![atom("id", "equal", json!(1)); 20]));
}

#[test]
fn and_with_twenty_one_rules_is_accepted() {
    assert_valid(&and(vec![atom("id", "equal", json!(1)); 21]));
}

#[test]
fn nested_or_with_twenty_one_rules_names_its_path() {
    let conditions = and(vec![or(vec![atom("id", "equal", json!(1)); 21])]);
    assert_invalid(&conditions, "conditions.rules[0].rules");
}

#[test]
fn nesting_three_deep_is_accepted() {
    // AND > OR > atom: three levels, the most SPEC allows.
    let conditions = and(vec![or(vec![atom("id", "equal", json!(1))])]);
    assert_valid(&conditions);
}

#[test]
fn nesting_four_deep_is_refused() {
    let conditions = and(vec![or(vec![and(vec![atom("id", "equal", json!(1))])])]);
    assert_invalid(&conditions, "conditions.rules");
}

#[test]
fn nesting_four_deep_in_a_later_branch_is_refused() {
    let conditions = and(vec![
        atom("id", "equal", json!(1)),
        or(vec![
            atom("id", "equal", json!(1)),
            and(vec![atom("id", "equal", json!(2))]),
        ]),
    ]);
    assert_invalid(&conditions, "conditions.rules");
}

#[test]
fn unknown_operator_is_refused() {
    let conditions = and(vec![atom("id", "like", json!(1))]);
    assert_invalid(&conditions, "conditions.rules[0].operator");
}

#[test]
fn between_is_not_supported() {
    let conditions = and(vec![atom("id", "between", json!([1, 2]))]);
    assert_invalid(&conditions, "conditions.rules[0].operator");
}

#[test]
fn datetime_operators_are_not_supported() {
    for op in [
        "datetime_less",
        "datetime_less_or_equal",
        "datetime_greater",
        "datetime_greater_or_equal",
    ] {
        let conditions = and(vec![atom("id", op, json!("2024-01-01"))]);
        assert_invalid(&conditions, "conditions.rules[0].operator");
    }
}

#[test]
fn null_checks_are_not_supported() {
    for op in ["is_null", "is_not_null"] {
        assert_invalid(&and(vec![bare("id", op)]), "conditions.rules[0].operator");
    }
}

#[test]
fn operator_that_is_not_a_string_is_refused() {
    let conditions = and(vec![json!({"field": "id", "operator": 1, "value": 1})]);
    assert_invalid(&conditions, "conditions.rules[0].operator");
}

#[test]
fn unknown_operator_in_a_later_rule_names_its_index() {
    let conditions = and(vec![
        atom("id", "equal", json!(1)),
        atom("id", "equal", json!(2)),
        atom("id", "regex", json!("1")),
    ]);
    assert_invalid(&conditions, "conditions.rules[2].operator");
}

#[test]
fn field_starting_with_an_underscore_is_refused() {
    let conditions = and(vec![atom("_id", "equal", json!(1))]);
    assert_invalid(&conditions, "conditions.rules[0].field");
}

#[test]
fn empty_field_is_refused() {
    let conditions = and(vec![atom("", "equal", json!(1))]);
    assert_invalid(&conditions, "conditions.rules[0].field");
}

#[test]
fn field_with_a_space_or_dollar_is_refused() {
    for field in ["bk inst", "bk$inst", "$where"] {
        let conditions = and(vec![atom(field, "equal", json!(1))]);
        assert_invalid(&conditions, "conditions.rules[0].field");
    }
}

#[test]
fn field_with_digits_dashes_and_dots_is_accepted() {
    for field in ["0abc", "a-b", "a.b", "bk_biz_id", "X9"] {
        assert_valid(&and(vec![atom(field, "equal", json!(1))]));
    }
}

#[test]
fn in_with_five_hundred_one_values_is_refused() {
    let values: Vec<i64> = (1..=501).collect();
    let conditions = and(vec![atom("id", "in", json!(values))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn not_in_with_five_hundred_one_values_is_refused() {
    let values: Vec<i64> = (1..=501).collect();
    let conditions = and(vec![atom("id", "not_in", json!(values))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn in_with_five_hundred_values_is_accepted_and_matches() {
    let store = fixture();
    let values: Vec<i64> = (1..=500).collect();
    let conditions = and(vec![atom("id", "in", json!(values))]);
    assert_valid(&conditions);
    assert_eq!(search_ids(&store, HOST, &conditions), ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn in_with_mixed_types_is_refused() {
    let conditions = and(vec![atom("bk_inst_id", "in", json!([21, "22"]))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn in_with_a_scalar_is_refused() {
    let conditions = and(vec![atom("bk_inst_id", "in", json!(21))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn less_with_a_string_is_refused() {
    let conditions = and(vec![atom("id", "less", json!("3"))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn greater_without_a_value_is_refused() {
    let conditions = and(vec![bare("id", "greater")]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn begins_with_an_empty_string_is_refused() {
    let conditions = and(vec![atom("bk_obj_id", "begins_with", json!(""))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn contains_with_a_number_is_refused() {
    let conditions = and(vec![atom("bk_obj_id", "contains", json!(1))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn equal_with_an_array_is_refused() {
    let conditions = and(vec![atom("bk_inst_id", "equal", json!([21]))]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn nested_bad_value_names_its_full_path() {
    let conditions = and(vec![
        atom("id", "equal", json!(1)),
        or(vec![
            atom("id", "less", json!("x")),
            atom("id", "equal", json!(2)),
        ]),
    ]);
    assert_invalid(&conditions, "conditions.rules[1].rules[0].value");
}

#[test]
fn nested_bad_operator_names_its_full_path() {
    let conditions = or(vec![
        atom("id", "equal", json!(1)),
        and(vec![
            atom("id", "equal", json!(2)),
            atom("id", "between", json!([1, 2])),
        ]),
    ]);
    assert_invalid(&conditions, "conditions.rules[1].rules[1].operator");
}

#[test]
fn first_invalid_rule_is_reported() {
    let conditions = and(vec![
        atom("id", "less", json!("x")),
        atom("id", "like", json!(1)),
    ]);
    assert_invalid(&conditions, "conditions.rules[0].value");
}

#[test]
fn page_limit_zero_is_refused() {
    let body = json!({"page": {"start": 0, "limit": 0}});
    assert_body_invalid(&body, "page.limit");
}

#[test]
fn page_limit_five_hundred_one_is_refused() {
    let body = json!({"page": {"start": 0, "limit": 501}});
    assert_body_invalid(&body, "page.limit");
}

#[test]
fn missing_page_limit_is_refused() {
    assert_body_invalid(&json!({}), "page.limit");
    assert_body_invalid(&json!({"page": {"start": 0}}), "page.limit");
}

#[test]
fn negative_page_limit_is_refused() {
    assert_body_invalid(&json!({"page": {"limit": -1}}), "page.limit");
}

#[test]
fn page_limit_five_hundred_is_accepted() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"start": 0, "limit": 500}}));
    assert_eq!(found, ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn negative_page_start_is_refused() {
    assert_body_invalid(&json!({"page": {"start": -1, "limit": 10}}), "page.start");
}

#[test]
fn page_sort_that_is_not_a_string_is_refused() {
    let body = json!({"page": {"limit": 10, "sort": 1}});
    assert_body_invalid(&body, "page.sort");
}

#[test]
fn fields_that_are_not_strings_are_refused() {
    assert_body_invalid(&json!({"fields": [1], "page": {"limit": 10}}), "fields");
    assert_body_invalid(&json!({"fields": "id", "page": {"limit": 10}}), "fields");
}

#[test]
fn page_is_validated_before_conditions() {
    let body = json!({"conditions": {"condition": "XOR"}, "page": {"limit": 0}});
    assert_body_invalid(&body, "page.limit");
}

#[test]
fn store_refuses_a_page_limit_of_zero() {
    let store = fixture();
    assert_err(
        store.search_instance_associations(HOST, &Search::new(Page::new(0, 0))),
        1_199_006,
        "'page.limit' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn store_refuses_a_page_limit_of_five_hundred_one() {
    let store = fixture();
    assert_err(
        store.search_instance_associations(HOST, &Search::new(Page::new(0, 501))),
        1_199_006,
        "'page.limit' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn search_with_an_empty_model_is_refused() {
    let store = fixture();
    assert_err(
        store.search_instance_associations("", &Search::new(Page::new(0, 10))),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn search_checks_the_model_before_the_page() {
    let store = fixture();
    assert_err(
        store.search_instance_associations("", &Search::new(Page::new(0, 0))),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn count_with_an_empty_model_is_refused() {
    let store = fixture();
    assert_err(
        store.count_instance_associations("", None),
        1_199_006,
        "'bk_obj_id' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Projection, sorting, paging
// ---------------------------------------------------------------------------

#[test]
fn projection_keeps_only_the_listed_keys_in_record_order() {
    let store = fixture();
    let search = Search::from_json(&json!({
        "conditions": and(vec![atom("id", "in", json!([1, 2]))]),
        "fields": ["bk_asst_id", "bk_inst_id", "id"],
        "page": {"limit": 10},
    }))
    .unwrap();
    let found = store.search_instance_associations(HOST, &search).unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"id":1,"bk_inst_id":11,"bk_asst_id":"belong"},{"id":2,"bk_inst_id":21,"bk_asst_id":"run"}]"#
    );
    assert_invariants(&store);
}

#[test]
fn projection_without_the_id_omits_it() {
    let store = fixture();
    let search = Search::from_json(&json!({
        "conditions": and(vec![atom("id", "equal", json!(4))]),
        "fields": ["bk_obj_asst_id", "bk_asst_obj_id"],
        "page": {"limit": 10},
    }))
    .unwrap();
    let found = store.search_instance_associations(HOST, &search).unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"bk_asst_obj_id":"host","bk_obj_asst_id":"bk_switch_belong_host"}]"#
    );
    assert_invariants(&store);
}

#[test]
fn empty_fields_return_whole_records() {
    let store = fixture();
    let search = Search::from_json(&json!({
        "conditions": and(vec![atom("id", "equal", json!(2))]),
        "fields": [],
        "page": {"limit": 10},
    }))
    .unwrap();
    let found = store.search_instance_associations(HOST, &search).unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"id":2,"bk_inst_id":21,"bk_obj_id":"host","bk_asst_inst_id":31,"bk_asst_obj_id":"app","bk_obj_asst_id":"host_run_app","bk_asst_id":"run"}]"#
    );
    assert_invariants(&store);
}

#[test]
fn projection_ignores_unknown_field_names() {
    let store = fixture();
    let search = Search::from_json(&json!({
        "conditions": and(vec![atom("id", "equal", json!(5))]),
        "fields": ["bk_biz_id", "bk_asst_inst_id"],
        "page": {"limit": 10},
    }))
    .unwrap();
    let found = store.search_instance_associations(HOST, &search).unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"bk_asst_inst_id":32}]"#
    );
    assert_invariants(&store);
}

#[test]
fn projection_filters_on_fields_it_does_not_return() {
    let store = fixture();
    let search = Search::from_json(&json!({
        "conditions": and(vec![atom("bk_asst_id", "equal", json!("belong"))]),
        "fields": ["bk_inst_id"],
        "page": {"limit": 10},
    }))
    .unwrap();
    let found = store.search_instance_associations(HOST, &search).unwrap();
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"bk_inst_id":11},{"bk_inst_id":12}]"#
    );
    assert_invariants(&store);
}

#[test]
fn descending_sort_on_the_id() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"limit": 10, "sort": "-id"}}));
    assert_eq!(found, [6, 5, 4, 2, 1]);
    assert_invariants(&store);
}

#[test]
fn both_sort_syntaxes_give_the_same_order() {
    let store = fixture();
    let dash = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"limit": 10, "sort": "bk_inst_id,-id"}}),
    );
    let colon = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"limit": 10, "sort": "bk_inst_id:1,id:-1"}}),
    );
    // bk_inst_id: 1→11, 4→12, 2→21, 6→21, 5→22; the tie on 21 by id descending.
    assert_eq!(dash, [1, 4, 6, 2, 5]);
    assert_eq!(colon, dash);
    assert_invariants(&store);
}

#[test]
fn multi_key_sort_on_string_then_integer() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"limit": 10, "sort": "bk_asst_id:-1,bk_asst_inst_id:-1"}}),
    );
    // run (2→31, 5→32, 6→32) before belong (1→21, 4→22); ties keep id order.
    assert_eq!(found, [5, 6, 2, 4, 1]);
    assert_invariants(&store);
}

#[test]
fn ascending_sort_ties_keep_id_order() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"limit": 10, "sort": "bk_obj_asst_id"}}),
    );
    assert_eq!(found, [1, 4, 2, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn sort_on_an_unknown_field_keeps_id_order() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"limit": 10, "sort": "-bk_biz_id"}}),
    );
    assert_eq!(found, ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn empty_sort_keeps_id_order() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"limit": 10, "sort": ""}}));
    assert_eq!(found, ALL_HOST);
    assert_invariants(&store);
}

#[test]
fn page_is_cut_after_sorting() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"start": 1, "limit": 2, "sort": "-id"}}),
    );
    assert_eq!(found, [5, 4]);
    assert_invariants(&store);
}

#[test]
fn page_start_and_limit_cut_a_window() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"start": 1, "limit": 2}}));
    assert_eq!(found, [2, 4]);
    assert_invariants(&store);
}

#[test]
fn page_limit_past_the_end_returns_the_rest() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"start": 4, "limit": 10}}));
    assert_eq!(found, [6]);
    assert_invariants(&store);
}

#[test]
fn page_start_at_the_end_is_empty() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"start": 5, "limit": 10}}));
    assert!(found.is_empty());
    assert_invariants(&store);
}

#[test]
fn page_start_far_beyond_the_end_is_empty() {
    let store = fixture();
    let found = search_body_ids(
        &store,
        HOST,
        &json!({"page": {"start": 1_000_000, "limit": 500}}),
    );
    assert!(found.is_empty());
    assert_invariants(&store);
}

#[test]
fn page_limit_one_returns_the_first_record() {
    let store = fixture();
    let found = search_body_ids(&store, HOST, &json!({"page": {"start": 0, "limit": 1}}));
    assert_eq!(found, [1]);
    assert_invariants(&store);
}

#[test]
fn five_hundred_records_fill_a_page_of_five_hundred() {
    let store = Store::new();
    let run = define(&store, &many_to_many("a", "run", "b"));
    store.register_instances("a", 1..=501).unwrap();
    store.register_instances("b", [1]).unwrap();
    for src in 1..=501 {
        store.create_instance_association(&run, src, 1).unwrap();
    }
    let first = search_body_ids(&store, "b", &json!({"page": {"start": 0, "limit": 500}}));
    assert_eq!(first, (1..=500).collect::<Vec<i64>>());
    let rest = search_body_ids(&store, "b", &json!({"page": {"start": 500, "limit": 500}}));
    assert_eq!(rest, [501]);
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Search is bidirectional, count counts the source model only
// ---------------------------------------------------------------------------

#[test]
fn search_returns_records_where_the_model_is_source_or_target() {
    let store = fixture();
    let found = search_body_ids(&store, "app", &json!({"page": {"limit": 500}}));
    assert_eq!(found, [2, 3, 5, 6]);
    assert_invariants(&store);
}

#[test]
fn count_counts_only_records_whose_source_is_the_model() {
    let store = fixture();
    assert_eq!(store.count_instance_associations(HOST, None).unwrap(), 3);
    assert_eq!(store.count_instance_associations(SWITCH, None).unwrap(), 3);
    assert_invariants(&store);
}

#[test]
fn count_of_a_target_only_model_is_zero_while_search_finds_its_records() {
    let store = fixture();
    assert_eq!(store.count_instance_associations("app", None).unwrap(), 0);
    assert_eq!(
        search_body_ids(&store, "app", &json!({"page": {"limit": 500}})).len(),
        4
    );
    assert_invariants(&store);
}

#[test]
fn count_with_conditions() {
    let store = fixture();
    let run_to_32 = and(vec![
        atom("bk_asst_id", "equal", json!("run")),
        atom("bk_asst_inst_id", "equal", json!(32)),
    ]);
    assert_eq!(count(&store, HOST, &run_to_32), 2);
    let belong = and(vec![atom("bk_asst_id", "equal", json!("belong"))]);
    assert_eq!(count(&store, SWITCH, &belong), 2);
    assert_invariants(&store);
}

#[test]
fn count_ignores_matching_records_where_the_model_is_the_target() {
    let store = fixture();
    let belong = and(vec![atom("bk_asst_id", "equal", json!("belong"))]);
    assert_eq!(search_ids(&store, HOST, &belong), [1, 4]);
    assert_eq!(count(&store, HOST, &belong), 0);
    assert_invariants(&store);
}

#[test]
fn count_filter_cannot_widen_to_other_source_models() {
    let store = fixture();
    let switch_sources = or(vec![
        atom("bk_obj_id", "equal", json!(SWITCH)),
        atom("bk_inst_id", "equal", json!(11)),
    ]);
    assert_eq!(count(&store, HOST, &switch_sources), 0);
    assert_invariants(&store);
}

#[test]
fn count_and_search_of_an_unknown_model_are_empty() {
    let store = fixture();
    assert_eq!(
        store.count_instance_associations("nowhere", None).unwrap(),
        0
    );
    assert!(search_body_ids(&store, "nowhere", &json!({"page": {"limit": 1}})).is_empty());
    assert_invariants(&store);
}

#[test]
fn self_associated_record_is_searched_once_and_counted() {
    let store = fixture();
    let peer = define(&store, &many_to_many(HOST, "connect", HOST));
    let id = store.create_instance_association(&peer, 21, 22).unwrap();
    assert_eq!(id, 7);
    let found = search_body_ids(&store, HOST, &json!({"page": {"limit": 500}}));
    assert_eq!(found, [1, 2, 4, 5, 6, 7]);
    assert_eq!(store.count_instance_associations(HOST, None).unwrap(), 4);
    assert_invariants(&store);
}

#[test]
fn search_by_target_instance_is_limited_to_records_touching_the_model() {
    let store = fixture();
    // App 31 is the target of records 2 (host) and 3 (switch only).
    let rule = atom("bk_asst_inst_id", "equal", json!(31));
    assert_eq!(host_ids(&store, rule.clone()), [2]);
    assert_eq!(search_ids(&store, "app", &and(vec![rule])), [2, 3]);
    assert_invariants(&store);
}

#[test]
fn deleted_records_are_neither_searched_nor_counted() {
    let store = fixture();
    assert!(store.delete_instance_association(HOST, 2).unwrap());
    let found = search_body_ids(&store, HOST, &json!({"page": {"limit": 500}}));
    assert_eq!(found, [1, 4, 5, 6]);
    assert_eq!(store.count_instance_associations(HOST, None).unwrap(), 2);
    assert!(host_ids(&store, atom("id", "equal", json!(2))).is_empty());
    assert_invariants(&store);
}

// ---------------------------------------------------------------------------
// Property tests against a brute-force reference written from SPEC
// ---------------------------------------------------------------------------

const MODELS: [&str; 3] = ["m0", "m1", "m2"];

/// The model associations of the random store: every mapping, two model
/// associations between the same models, and two self-associated models.
const ASSOCS: [(usize, &str, usize, Mapping); 6] = [
    (0, "belong", 1, Mapping::OneToOne),
    (0, "run", 1, Mapping::OneToMany),
    (1, "connect", 2, Mapping::ManyToMany),
    (2, "group", 0, Mapping::OneToMany),
    (1, "default", 1, Mapping::ManyToMany),
    (2, "belong", 2, Mapping::OneToOne),
];

/// Instances 1..=6 of every model (the same ids in each); 7 is never
/// registered, so some creates fail.
const INSTANCES: i64 = 6;

/// The seven record fields and one no record has.
const FIELDS: [&str; 8] = [
    "id",
    "bk_inst_id",
    "bk_obj_id",
    "bk_asst_inst_id",
    "bk_asst_obj_id",
    "bk_obj_asst_id",
    "bk_asst_id",
    "bk_biz_id",
];

/// Strings the values are drawn from: whole field values, parts of them in
/// both cases, and digits (the empty string is added where it is valid).
const STRINGS: [&str; 20] = [
    "m0",
    "m1",
    "m2",
    "belong",
    "run",
    "connect",
    "group",
    "default",
    "m0_belong_m1",
    "m0_run_m1",
    "m1_connect_m2",
    "m2_group_m0",
    "m1_default_m1",
    "m2_belong_m2",
    "m1_",
    "_m2",
    "BELONG",
    "M0_",
    "onn",
    "1",
];

fn assoc_id(index: usize) -> String {
    let (src, kind, dst, _) = ASSOCS[index];
    format!("{}_{kind}_{}", MODELS[src], MODELS[dst])
}

fn build_store(shards: usize, creates: &[(usize, i64, i64)]) -> Store {
    let store = Store::builder().shards(shards).build().unwrap();
    for (src, kind, dst, mapping) in ASSOCS {
        let new = NewModelAssociation::new(MODELS[src], kind, MODELS[dst], mapping);
        store.create_model_association(&new).unwrap();
    }
    for model in MODELS {
        store.register_instances(model, 1..=INSTANCES).unwrap();
    }
    for &(assoc, src, dst) in creates {
        // Mapping and existence failures are part of the scenario.
        let _ = store.create_instance_association(&assoc_id(assoc), src, dst);
    }
    store
}

/// A record's field as the reference sees it.
#[derive(Debug, Clone, Copy)]
enum Actual<'a> {
    Int(i64),
    Str(&'a str),
    Missing,
}

fn actual<'a>(rec: &'a InstanceAssociation, field: &str) -> Actual<'a> {
    match field {
        "id" => Actual::Int(rec.id),
        "bk_inst_id" => Actual::Int(rec.bk_inst_id),
        "bk_asst_inst_id" => Actual::Int(rec.bk_asst_inst_id),
        "bk_obj_id" => Actual::Str(&rec.bk_obj_id),
        "bk_asst_obj_id" => Actual::Str(&rec.bk_asst_obj_id),
        "bk_obj_asst_id" => Actual::Str(&rec.bk_obj_asst_id),
        "bk_asst_id" => Actual::Str(&rec.bk_asst_id),
        _ => Actual::Missing,
    }
}

/// MongoDB's order within a type class (numbers by value, strings by
/// bytes, a missing field equal to `null`); `None` across classes.
fn order(actual: Actual<'_>, value: &Value) -> Option<Ordering> {
    match (actual, value) {
        (Actual::Int(a), Value::Number(n)) => (a as f64).partial_cmp(&n.as_f64()?),
        (Actual::Str(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Actual::Missing, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn same(actual: Actual<'_>, value: &Value) -> bool {
    order(actual, value) == Some(Ordering::Equal)
}

fn in_list(actual: Actual<'_>, list: &Value) -> bool {
    list.as_array()
        .is_some_and(|vs| vs.iter().any(|v| same(actual, v)))
}

/// The reference evaluation of a query-builder rule tree (SPEC §3.4 and
/// the `QueryFilter` docs: string operators take literal text, only
/// `contains` ignores case, `is_empty` never holds for a scalar).
fn rule_matches(rule: &Value, rec: &InstanceAssociation) -> bool {
    if let Some(condition) = rule.get("condition") {
        let rules = rule["rules"].as_array().unwrap();
        return if condition == "AND" {
            rules.iter().all(|r| rule_matches(r, rec))
        } else {
            rules.iter().any(|r| rule_matches(r, rec))
        };
    }
    let a = actual(rec, rule["field"].as_str().unwrap());
    let value = rule.get("value").unwrap_or(&Value::Null);
    let text = match a {
        Actual::Str(s) => Some(s),
        _ => None,
    };
    let needle = value.as_str().unwrap_or_default();
    match rule["operator"].as_str().unwrap() {
        "equal" => same(a, value),
        "not_equal" => !same(a, value),
        "in" => in_list(a, value),
        "not_in" => !in_list(a, value),
        "less" => order(a, value) == Some(Ordering::Less),
        "less_or_equal" => matches!(order(a, value), Some(Ordering::Less | Ordering::Equal)),
        "greater" => order(a, value) == Some(Ordering::Greater),
        "greater_or_equal" => matches!(order(a, value), Some(Ordering::Greater | Ordering::Equal)),
        "begins_with" => text.is_some_and(|t| t.starts_with(needle)),
        "not_begins_with" => !text.is_some_and(|t| t.starts_with(needle)),
        "contains" => text.is_some_and(|t| t.to_lowercase().contains(&needle.to_lowercase())),
        "not_contains" => !text.is_some_and(|t| t.contains(needle)),
        "ends_with" => text.is_some_and(|t| t.ends_with(needle)),
        "not_ends_with" => !text.is_some_and(|t| t.ends_with(needle)),
        "exist" => !matches!(a, Actual::Missing),
        "not_exist" => matches!(a, Actual::Missing),
        "is_empty" => false,
        "is_not_empty" => true,
        other => panic!("generator made operator {other}"),
    }
}

/// The reference evaluation of one `find` operator object or plain value.
fn field_matches(a: Actual<'_>, test: &Value) -> bool {
    let ops = match test {
        Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => ops,
        plain => return same(a, plain),
    };
    ops.iter().all(|(op, operand)| match op.as_str() {
        "$eq" => same(a, operand),
        "$ne" => !same(a, operand),
        "$in" => in_list(a, operand),
        "$nin" => !in_list(a, operand),
        "$gt" => order(a, operand) == Some(Ordering::Greater),
        "$gte" => matches!(order(a, operand), Some(Ordering::Greater | Ordering::Equal)),
        "$lt" => order(a, operand) == Some(Ordering::Less),
        "$lte" => matches!(order(a, operand), Some(Ordering::Less | Ordering::Equal)),
        other => panic!("generator made operator {other}"),
    })
}

/// The reference evaluation of a `find` condition document (SPEC §3.4,
/// with its divergence: top-level `""` for `bk_asst_id` / `bk_asst_obj_id`
/// does not filter).
fn doc_matches(doc: &Map<String, Value>, rec: &InstanceAssociation, top: bool) -> bool {
    doc.iter().all(|(key, value)| match key.as_str() {
        "$and" => value
            .as_array()
            .unwrap()
            .iter()
            .all(|d| doc_matches(d.as_object().unwrap(), rec, false)),
        "$or" => value
            .as_array()
            .unwrap()
            .iter()
            .any(|d| doc_matches(d.as_object().unwrap(), rec, false)),
        "bk_asst_id" | "bk_asst_obj_id" if top && value == "" => true,
        field => field_matches(actual(rec, field), value),
    })
}

/// The reference order of bk-cmdb's sort string: `-f` or `f:-1` descending,
/// integers with integers and strings with strings, then id ascending.
fn reference_sort(records: &mut [InstanceAssociation], sort: &str) {
    let keys: Vec<(&str, bool)> = sort
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|k| match (k.strip_prefix('-'), k.split_once(':')) {
            (Some(name), _) => (name, true),
            (None, Some((name, dir))) => (name, dir == "-1"),
            (None, None) => (k, false),
        })
        .collect();
    records.sort_by(|x, y| {
        for &(field, descending) in &keys {
            let ord = match (actual(x, field), actual(y, field)) {
                (Actual::Int(a), Actual::Int(b)) => a.cmp(&b),
                (Actual::Str(a), Actual::Str(b)) => a.cmp(b),
                _ => Ordering::Equal,
            };
            let ord = if descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        x.id.cmp(&y.id)
    });
}

/// The reference projection: the record's JSON keeping only `fields` (all
/// of it when `fields` is empty), in record key order.
fn reference_projection(rec: &InstanceAssociation, fields: &[&str]) -> String {
    let mut full = serde_json::to_value(rec).unwrap();
    if !fields.is_empty() {
        full.as_object_mut()
            .unwrap()
            .retain(|k, _| fields.contains(&k.as_str()));
    }
    full.to_string()
}

fn creates() -> impl Strategy<Value = Vec<(usize, i64, i64)>> {
    prop::collection::vec(
        (0..ASSOCS.len(), 1..=INSTANCES + 1, 1..=INSTANCES + 1),
        0..70,
    )
}

fn shards() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 4, 16])
}

fn field() -> impl Strategy<Value = &'static str> {
    prop::sample::select(FIELDS.to_vec())
}

/// Whether a record field holds an integer.
fn is_int_field(field: &str) -> bool {
    matches!(field, "id" | "bk_inst_id" | "bk_asst_inst_id")
}

/// Integers around the instance ids (1..=6) and floats, whole or not.
fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (-1_i64..=8).prop_map(Value::from),
        1 => (-1_i64..=8).prop_map(|n| json!(n as f64)),
        1 => (-1_i64..=8).prop_map(|n| json!(n as f64 + 0.5)),
    ]
    .boxed()
}

/// Integers around the record ids (a random store holds at most ~70).
fn record_id() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (0_i64..=45).prop_map(Value::from),
        1 => (0_i64..=45).prop_map(|n| json!(n as f64 + 0.5)),
    ]
    .boxed()
}

/// Any string of the pool, or the empty string.
fn text() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => non_empty_text(),
        1 => Just(Value::from("")),
    ]
    .boxed()
}

fn non_empty_text() -> BoxedStrategy<Value> {
    prop::sample::select(STRINGS.to_vec())
        .prop_map(Value::from)
        .boxed()
}

/// The values a string field takes in the random store, whole.
fn domain(field: &str) -> &'static [&'static str] {
    match field {
        "bk_obj_id" | "bk_asst_obj_id" => &MODELS,
        "bk_asst_id" => &["belong", "run", "connect", "group", "default"],
        "bk_obj_asst_id" => &[
            "m0_belong_m1",
            "m0_run_m1",
            "m1_connect_m2",
            "m2_group_m0",
            "m1_default_m1",
            "m2_belong_m2",
        ],
        _ => &STRINGS,
    }
}

/// Parts of a string field's values, in both cases, for the string
/// operators.
fn parts(field: &str) -> &'static [&'static str] {
    match field {
        "bk_obj_id" | "bk_asst_obj_id" => &["m", "m1", "M1", "2", "0"],
        "bk_asst_id" => &["bel", "BELONG", "onn", "n", "ect", "up"],
        "bk_obj_asst_id" => &["m0_", "m1_", "_m2", "M0_", "belong", "_RUN_", "m1_d"],
        _ => &STRINGS,
    }
}

/// A string for `field`: usually one of its values, sometimes any string of
/// the pool or the empty string.
fn text_for(field: &str) -> BoxedStrategy<Value> {
    let own = prop::sample::select(domain(field)).prop_map(Value::from);
    prop_oneof![4 => own, 1 => text()].boxed()
}

/// A non-empty needle for the string operators on `field`.
fn needle_for(field: &str) -> BoxedStrategy<Value> {
    let whole = prop::sample::select(domain(field)).prop_map(Value::from);
    let part = prop::sample::select(parts(field)).prop_map(Value::from);
    prop_oneof![2 => whole, 3 => part, 1 => non_empty_text()].boxed()
}

/// A number, a string or a boolean.
fn basic() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => number(),
        3 => text(),
        1 => any::<bool>().prop_map(Value::from),
    ]
    .boxed()
}

/// A number that suits `field`: record ids for `id`, instance ids
/// otherwise.
fn number_for(field: &str) -> BoxedStrategy<Value> {
    if field == "id" {
        prop_oneof![4 => record_id(), 1 => number()].boxed()
    } else {
        number()
    }
}

/// A value of `field`'s own type most of the time (so filters select proper
/// subsets), any basic value otherwise (so mixed types are exercised).
fn basic_for(field: &str) -> BoxedStrategy<Value> {
    let fitting = if is_int_field(field) {
        number_for(field)
    } else {
        text_for(field)
    };
    prop_oneof![5 => fitting, 1 => basic()].boxed()
}

/// A non-empty list of values of one JSON type, usually `field`'s.
fn list_for(field: &str) -> BoxedStrategy<Value> {
    let fitting = if is_int_field(field) {
        prop::collection::vec(number_for(field), 1..5)
    } else {
        prop::collection::vec(text_for(field), 1..5)
    };
    prop_oneof![
        5 => fitting.prop_map(Value::from),
        1 => prop::collection::vec(number(), 1..4).prop_map(Value::from),
        1 => prop::collection::vec(text(), 1..4).prop_map(Value::from),
        1 => prop::collection::vec(any::<bool>(), 1..3).prop_map(Value::from),
    ]
    .boxed()
}

const EQUALITY_OPS: [&str; 2] = ["equal", "not_equal"];
const SET_OPS: [&str; 2] = ["in", "not_in"];
const NUMERIC_OPS: [&str; 4] = ["less", "less_or_equal", "greater", "greater_or_equal"];
const STRING_OPS: [&str; 6] = [
    "begins_with",
    "not_begins_with",
    "contains",
    "not_contains",
    "ends_with",
    "not_ends_with",
];
const PRESENCE_OPS: [&str; 4] = ["exist", "not_exist", "is_empty", "is_not_empty"];

/// An atom rule with a value that suits its operator (SPEC §3.4's
/// validation), usually of its field's type.
fn atom_rule() -> BoxedStrategy<Value> {
    let ops = prop::sample::select(
        [
            &EQUALITY_OPS[..],
            &SET_OPS[..],
            &NUMERIC_OPS[..],
            &STRING_OPS[..],
            &PRESENCE_OPS[..],
        ]
        .concat(),
    );
    (field(), ops)
        .prop_flat_map(|(f, op)| {
            let value = if EQUALITY_OPS.contains(&op) {
                basic_for(f)
            } else if SET_OPS.contains(&op) {
                list_for(f)
            } else if NUMERIC_OPS.contains(&op) {
                number_for(f)
            } else if STRING_OPS.contains(&op) {
                needle_for(f)
            } else {
                return Just(bare(f, op)).boxed();
            };
            value.prop_map(move |v| atom(f, op, v)).boxed()
        })
        .boxed()
}

fn combined(children: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    (
        prop::sample::select(&["AND", "OR"][..]),
        prop::collection::vec(children, 1..=max),
    )
        .prop_map(|(condition, rules)| combine(condition, rules))
        .boxed()
}

/// A valid rule tree: a combined rule over atoms and combined rules of
/// atoms, three levels at most.
fn rule_tree() -> BoxedStrategy<Value> {
    let inner = combined(atom_rule(), 3);
    combined(prop_oneof![3 => atom_rule(), 1 => inner].boxed(), 3)
}

/// A sort string in one of the two syntaxes, zero to three keys.
fn sort_string() -> BoxedStrategy<String> {
    (
        prop::collection::vec((field(), any::<bool>()), 0..=3),
        any::<bool>(),
    )
        .prop_map(|(keys, colon)| {
            keys.iter()
                .map(|&(f, descending)| match (colon, descending) {
                    (false, false) => f.to_owned(),
                    (false, true) => format!("-{f}"),
                    (true, false) => format!("{f}:1"),
                    (true, true) => format!("{f}:-1"),
                })
                .collect::<Vec<String>>()
                .join(",")
        })
        .boxed()
}

fn projection() -> BoxedStrategy<Vec<&'static str>> {
    prop::sample::subsequence(FIELDS.to_vec(), 0..=4).boxed()
}

/// A `find` operand for `field`: usually of its type, sometimes `null` or
/// the empty string (which at the top level does not filter `bk_asst_id`
/// and `bk_asst_obj_id`).
fn operand_for(field: &str) -> BoxedStrategy<Value> {
    prop_oneof![
        8 => basic_for(field),
        1 => Just(Value::Null),
        2 => Just(Value::from("")),
    ]
    .boxed()
}

/// A `find` field test for `field`: a plain value (equality) or an object
/// of one or two operators; `$in` / `$nin` lists may mix types, as MongoDB
/// allows.
fn field_test(field: &'static str) -> BoxedStrategy<Value> {
    let comparison = (
        prop::sample::select(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"][..]),
        operand_for(field),
    );
    let set = (
        prop::sample::select(&["$in", "$nin"][..]),
        prop::collection::vec(operand_for(field), 0..4).prop_map(Value::from),
    );
    let op = prop_oneof![2 => comparison, 1 => set];
    prop_oneof![
        2 => operand_for(field),
        3 => prop::collection::vec(op, 1..=2).prop_map(|ops| {
            let map: Map<String, Value> =
                ops.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Value::Object(map)
        }),
    ]
    .boxed()
}

/// A document of field tests, possibly with `$and` / `$or` over
/// `children`.
fn doc_of(children: Option<BoxedStrategy<Value>>) -> BoxedStrategy<Value> {
    let tests = prop::collection::vec(field().prop_flat_map(|f| (Just(f), field_test(f))), 0..=2);
    let logic = match children {
        None => Just(Vec::new()).boxed(),
        Some(children) => prop::collection::vec(
            (
                prop::sample::select(&["$and", "$or"][..]),
                prop::collection::vec(children, 1..=3),
            ),
            0..=1,
        )
        .boxed(),
    };
    (tests, logic)
        .prop_map(|(tests, logic)| {
            let mut map = Map::new();
            for (f, test) in tests {
                map.insert(f.to_owned(), test);
            }
            for (op, docs) in logic {
                map.insert(op.to_owned(), Value::from(docs));
            }
            Value::Object(map)
        })
        .boxed()
}

/// A `find` condition nested up to three levels.
fn condition_doc() -> BoxedStrategy<Value> {
    let leaf = doc_of(None);
    let middle = doc_of(Some(leaf));
    doc_of(Some(middle))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases()))]

    #[test]
    fn search_and_count_agree_with_a_brute_force_filter(
        shards in shards(),
        creates in creates(),
        filters in prop::collection::vec(rule_tree(), 1..8),
    ) {
        let store = build_store(shards, &creates);
        let all = all_records(&store, &MODELS);
        prop_assert_eq!(all.len(), store.len());
        prop_assert!(all.len() < 500);
        for conditions in &filters {
            let search = Search::from_json(&body(conditions)).unwrap();
            let filter = QueryFilter::from_json(conditions).unwrap();
            for model in MODELS {
                let want: Vec<i64> = all
                    .iter()
                    .filter(|r| &*r.bk_obj_id == model || &*r.bk_asst_obj_id == model)
                    .filter(|r| rule_matches(conditions, r))
                    .map(|r| r.id)
                    .collect();
                let got = store.search_instance_associations(model, &search).unwrap();
                prop_assert_eq!(ids(&got), want, "search {} {}", model, conditions);
                let want_count = all
                    .iter()
                    .filter(|r| &*r.bk_obj_id == model && rule_matches(conditions, r))
                    .count() as u64;
                let got_count = store.count_instance_associations(model, Some(&filter)).unwrap();
                prop_assert_eq!(got_count, want_count, "count {} {}", model, conditions);
            }
        }
        prop_assert_eq!(store.check_invariants(), Ok(()));
    }

    #[test]
    fn sorted_projected_pages_agree_with_a_brute_force_filter(
        shards in shards(),
        creates in creates(),
        conditions in rule_tree(),
        sort in sort_string(),
        fields in projection(),
        start in 0_u64..40,
        limit in 1_u64..=40,
    ) {
        let store = build_store(shards, &creates);
        let all = all_records(&store, &MODELS);
        let search = Search::from_json(&json!({
            "conditions": conditions,
            "fields": fields,
            "page": {"start": start, "limit": limit, "sort": sort},
        }))
        .unwrap();
        for model in MODELS {
            let mut want: Vec<InstanceAssociation> = all
                .iter()
                .filter(|r| &*r.bk_obj_id == model || &*r.bk_asst_obj_id == model)
                .filter(|r| rule_matches(&conditions, r))
                .cloned()
                .collect();
            reference_sort(&mut want, &sort);
            let want: Vec<String> = want
                .iter()
                .skip(start as usize)
                .take(limit as usize)
                .map(|r| reference_projection(r, &fields))
                .collect();
            let got: Vec<String> = store
                .search_instance_associations(model, &search)
                .unwrap()
                .iter()
                .map(|r| serde_json::to_string(r).unwrap())
                .collect();
            prop_assert_eq!(got, want, "{} sort {:?}", model, sort);
        }
        prop_assert_eq!(store.check_invariants(), Ok(()));
    }

    #[test]
    fn find_agrees_with_a_brute_force_condition(
        shards in shards(),
        creates in creates(),
        conditions in prop::collection::vec(condition_doc(), 1..8),
    ) {
        let store = build_store(shards, &creates);
        let all = all_records(&store, &MODELS);
        for doc in &conditions {
            let condition = Condition::from_json(doc).unwrap();
            for model in MODELS {
                let want: Vec<i64> = all
                    .iter()
                    .filter(|r| &*r.bk_obj_id == model || &*r.bk_asst_obj_id == model)
                    .filter(|r| doc_matches(doc.as_object().unwrap(), r, true))
                    .map(|r| r.id)
                    .collect();
                let got = store.find_instance_associations(model, &condition).unwrap();
                prop_assert_eq!(ids(&got), want, "find {} {}", model, doc);
            }
        }
        prop_assert_eq!(store.check_invariants(), Ok(()));
    }
}

/// The generators must keep producing filters that select some but not all
/// records, or the properties above would pass vacuously.
#[test]
fn generated_filters_often_select_a_proper_subset() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut rules_proper, mut finds_proper) = (0, 0);
    for _ in 0..200 {
        let creates = creates().new_tree(&mut runner).unwrap().current();
        let store = build_store(4, &creates);
        let all = all_records(&store, &MODELS);
        let proper = |n: usize| usize::from(n > 0 && n < all.len());
        let rule = rule_tree().new_tree(&mut runner).unwrap().current();
        rules_proper += proper(all.iter().filter(|r| rule_matches(&rule, r)).count());
        let doc = condition_doc().new_tree(&mut runner).unwrap().current();
        let doc = doc.as_object().unwrap();
        finds_proper += proper(all.iter().filter(|r| doc_matches(doc, r, true)).count());
        assert_invariants(&store);
    }
    assert!(rules_proper >= 20, "rule trees: {rules_proper} of 200");
    assert!(finds_proper >= 20, "find conditions: {finds_proper} of 200");
}
