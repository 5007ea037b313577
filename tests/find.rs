//! SPEC §3.4 `find_instance_association`: records touching a model (as source
//! or target), filtered by a condition, in id order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assocstore::{Condition, InstanceAssociation, Mapping, Store};
use common::{
    HOST, SEED, SWITCH, assert_err, assert_invariants, cond, define, find_all, ids, many_to_many,
    seed_store,
};
use serde_json::{Value, json};

/// The record ids of a fixture, by role.
struct Ids {
    /// `bk_switch` 11 → host 21 (belong).
    s11_h21: i64,
    /// `bk_switch` 12 → host 22 (belong).
    s12_h22: i64,
    /// host 21 → app 31 (run).
    h21_a31: i64,
    /// host 22 → app 31 (run).
    h22_a31: i64,
    /// `bk_switch` 11 → app 31 (connect); does not touch host.
    s11_a31: i64,
}

/// Three models, three model associations, five records: `host` is the
/// target of two records, the source of two and untouched by one.
fn fixture() -> (Store, Ids) {
    let store = seed_store();
    let run = define(&store, &many_to_many(HOST, "run", "app"));
    let connect = define(&store, &many_to_many(SWITCH, "connect", "app"));
    store.register_instances("app", [31]).unwrap();
    let s11_h21 = store.create_instance_association(SEED, 11, 21).unwrap();
    let h21_a31 = store.create_instance_association(&run, 21, 31).unwrap();
    let s11_a31 = store.create_instance_association(&connect, 11, 31).unwrap();
    let s12_h22 = store.create_instance_association(SEED, 12, 22).unwrap();
    let h22_a31 = store.create_instance_association(&run, 22, 31).unwrap();
    let ids = Ids {
        s11_h21,
        s12_h22,
        h21_a31,
        h22_a31,
        s11_a31,
    };
    (store, ids)
}

/// The ids of the records touching `model` that match `condition`.
fn find_ids(store: &Store, model: &str, condition: &Value) -> Vec<i64> {
    ids(&store
        .find_instance_associations(model, &cond(condition))
        .unwrap())
}

#[test]
fn empty_model_is_unassigned() {
    let (store, _) = fixture();
    assert_err(
        store.find_instance_associations("", &Condition::all()),
        1_199_010,
        "'bk_obj_id' unassigned",
    );
    assert_invariants(&store);
}

#[test]
fn unknown_model_finds_nothing() {
    let (store, _) = fixture();
    assert!(find_all(&store, "never_used").is_empty());
    assert_invariants(&store);
}

#[test]
fn model_finds_records_where_it_is_source_or_target() {
    let (store, r) = fixture();
    assert_eq!(
        ids(&find_all(&store, HOST)),
        [r.s11_h21, r.h21_a31, r.s12_h22, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn target_only_model_finds_its_records() {
    let (store, r) = fixture();
    assert_eq!(
        ids(&find_all(&store, "app")),
        [r.h21_a31, r.s11_a31, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn seed_condition_with_empty_optional_keys_finds_results() {
    let (store, r) = fixture();
    let seed = json!({"bk_obj_asst_id": SEED, "bk_asst_id": "", "bk_asst_obj_id": ""});
    assert_eq!(find_ids(&store, SWITCH, &seed), [r.s11_h21, r.s12_h22]);
    assert_eq!(find_ids(&store, HOST, &seed), [r.s11_h21, r.s12_h22]);
    assert_invariants(&store);
}

#[test]
fn seed_condition_returns_full_records() {
    let (store, r) = fixture();
    let seed = json!({"bk_obj_asst_id": SEED, "bk_asst_id": "", "bk_asst_obj_id": ""});
    let found = store
        .find_instance_associations(SWITCH, &cond(&seed))
        .unwrap();
    assert_eq!(
        found[0],
        InstanceAssociation {
            id: r.s11_h21,
            bk_inst_id: 11,
            bk_obj_id: SWITCH.into(),
            bk_asst_inst_id: 21,
            bk_asst_obj_id: HOST.into(),
            bk_obj_asst_id: SEED.into(),
            bk_asst_id: "belong".into(),
        }
    );
    assert_invariants(&store);
}

#[test]
fn empty_model_association_id_is_a_real_filter() {
    let (store, _) = fixture();
    assert!(find_ids(&store, HOST, &json!({"bk_obj_asst_id": ""})).is_empty());
    assert_invariants(&store);
}

#[test]
fn non_empty_kind_filters() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(
            &store,
            HOST,
            &json!({"bk_asst_id": "run", "bk_asst_obj_id": ""})
        ),
        [r.h21_a31, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn non_empty_target_model_filters() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(
            &store,
            HOST,
            &json!({"bk_asst_id": "", "bk_asst_obj_id": HOST})
        ),
        [r.s11_h21, r.s12_h22]
    );
    assert_invariants(&store);
}

#[test]
fn source_model_condition_narrows_a_bidirectional_find() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_obj_id": HOST})),
        [r.h21_a31, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn model_association_id_of_another_model_finds_nothing() {
    let (store, _) = fixture();
    assert!(
        find_ids(
            &store,
            HOST,
            &json!({"bk_obj_asst_id": "bk_switch_connect_app"})
        )
        .is_empty()
    );
    assert_invariants(&store);
}

#[test]
fn source_instance_equality_finds_its_records_touching_the_model() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": 21})),
        [r.h21_a31]
    );
    assert_eq!(
        find_ids(&store, SWITCH, &json!({"bk_inst_id": 11})),
        [r.s11_h21, r.s11_a31]
    );
    assert_invariants(&store);
}

#[test]
fn source_instance_equality_is_limited_to_records_touching_the_model() {
    let (store, r) = fixture();
    // switch 11 is the source of a record touching app, not host.
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": 11})),
        [r.s11_h21]
    );
    // host 21 is a source, but no record of it touches bk_switch.
    assert!(find_ids(&store, SWITCH, &json!({"bk_inst_id": 21})).is_empty());
    assert_invariants(&store);
}

#[test]
fn target_instance_equality_finds_its_records() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, "app", &json!({"bk_asst_inst_id": 31})),
        [r.h21_a31, r.s11_a31, r.h22_a31]
    );
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_asst_inst_id": 21})),
        [r.s11_h21]
    );
    assert_invariants(&store);
}

#[test]
fn equalities_combine_as_and() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(
            &store,
            "app",
            &json!({"bk_asst_inst_id": 31, "bk_obj_asst_id": "host_run_app", "bk_inst_id": 22})
        ),
        [r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn integral_float_equals_the_integer_id() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": 21.0})),
        [r.h21_a31]
    );
    assert!(find_ids(&store, HOST, &json!({"bk_inst_id": "21"})).is_empty());
    assert_invariants(&store);
}

#[test]
fn eq_operator_matches_equal_values() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_asst_id": {"$eq": "belong"}})),
        [r.s11_h21, r.s12_h22]
    );
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_asst_inst_id": {"$eq": 22}})),
        [r.s12_h22]
    );
    assert_invariants(&store);
}

#[test]
fn ne_operator_excludes_equal_values() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_asst_id": {"$ne": "belong"}})),
        [r.h21_a31, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn in_operator_matches_any_listed_value() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": {"$in": [12, 22]}})),
        [r.s12_h22, r.h22_a31]
    );
    assert!(find_ids(&store, HOST, &json!({"bk_inst_id": {"$in": []}})).is_empty());
    assert_invariants(&store);
}

#[test]
fn nin_operator_excludes_every_listed_value() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": {"$nin": [11, 21]}})),
        [r.s12_h22, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn gt_and_gte_operators_compare_numbers() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"id": {"$gt": r.s12_h22}})),
        [r.h22_a31]
    );
    assert_eq!(
        find_ids(&store, HOST, &json!({"id": {"$gte": r.s12_h22}})),
        [r.s12_h22, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn lt_and_lte_operators_compare_numbers() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"id": {"$lt": r.h21_a31}})),
        [r.s11_h21]
    );
    assert_eq!(
        find_ids(&store, HOST, &json!({"id": {"$lte": r.h21_a31}})),
        [r.s11_h21, r.h21_a31]
    );
    assert_invariants(&store);
}

#[test]
fn range_operators_on_one_field_combine() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(
            &store,
            HOST,
            &json!({"id": {"$gt": r.s11_h21, "$lt": r.h22_a31}})
        ),
        [r.h21_a31, r.s12_h22]
    );
    assert_invariants(&store);
}

#[test]
fn comparison_does_not_cross_types() {
    let (store, _) = fixture();
    assert!(find_ids(&store, HOST, &json!({"id": {"$gt": "0"}})).is_empty());
    assert!(find_ids(&store, HOST, &json!({"bk_asst_id": {"$gt": 0}})).is_empty());
    assert_invariants(&store);
}

#[test]
fn string_comparison_is_lexicographic() {
    let (store, r) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_asst_id": {"$lt": "c"}})),
        [r.s11_h21, r.s12_h22]
    );
    assert_invariants(&store);
}

#[test]
fn and_operator_requires_every_condition() {
    let (store, r) = fixture();
    let condition = json!({"$and": [{"bk_asst_id": "run"}, {"bk_inst_id": {"$gte": 22}}]});
    assert_eq!(find_ids(&store, HOST, &condition), [r.h22_a31]);
    assert_invariants(&store);
}

#[test]
fn or_operator_accepts_any_condition() {
    let (store, r) = fixture();
    let condition = json!({"$or": [{"bk_inst_id": 12}, {"bk_inst_id": 21}]});
    assert_eq!(find_ids(&store, HOST, &condition), [r.h21_a31, r.s12_h22]);
    assert_invariants(&store);
}

#[test]
fn or_nested_in_and_combines_with_top_level_equalities() {
    let (store, r) = fixture();
    let condition = json!({
        "bk_asst_inst_id": 31,
        "$and": [{"$or": [{"bk_obj_id": SWITCH}, {"bk_inst_id": 22}]}],
    });
    assert_eq!(find_ids(&store, "app", &condition), [r.s11_a31, r.h22_a31]);
    assert_invariants(&store);
}

#[test]
fn or_still_keeps_to_the_model() {
    let (store, r) = fixture();
    // Record s11_a31 matches, but does not touch host.
    let condition = json!({"$or": [{"bk_inst_id": 11}, {"bk_asst_id": "run"}]});
    assert_eq!(
        find_ids(&store, HOST, &condition),
        [r.s11_h21, r.h21_a31, r.h22_a31]
    );
    assert_invariants(&store);
}

#[test]
fn unsupported_field_operator_is_named() {
    let (store, _) = fixture();
    assert_err(
        Condition::from_json(&json!({"bk_obj_asst_id": {"$regex": "^bk_"}})),
        1_199_006,
        "'$regex' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn unsupported_top_level_operator_is_named() {
    let (store, _) = fixture();
    assert_err(
        Condition::from_json(&json!({"$where": "true"})),
        1_199_006,
        "'$where' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn unsupported_operator_nested_in_or_is_named() {
    let (store, _) = fixture();
    assert_err(
        Condition::from_json(&json!({"$or": [{"bk_inst_id": 11}, {"id": {"$exists": true}}]})),
        1_199_006,
        "'$exists' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn condition_that_is_not_an_object_is_refused() {
    let (store, _) = fixture();
    assert_err(
        Condition::from_json(&json!([{"bk_inst_id": 11}])),
        1_199_006,
        "'condition' data parameter verification does not pass",
    );
    assert_invariants(&store);
}

#[test]
fn null_condition_finds_everything() {
    let (store, _) = fixture();
    assert_eq!(
        find_ids(&store, HOST, &Value::Null),
        ids(&find_all(&store, HOST))
    );
    assert_eq!(find_ids(&store, HOST, &json!({})).len(), 4);
    assert_invariants(&store);
}

#[test]
fn deleted_records_are_not_found() {
    let (store, r) = fixture();
    assert!(store.delete_instance_association(HOST, r.h21_a31).unwrap());
    assert_eq!(
        ids(&find_all(&store, HOST)),
        [r.s11_h21, r.s12_h22, r.h22_a31]
    );
    assert_eq!(
        find_ids(&store, HOST, &json!({"bk_inst_id": 21})),
        Vec::<i64>::new()
    );
    assert_invariants(&store);
}

#[test]
fn results_are_in_id_order_across_model_associations_and_instances() {
    let store = Store::new();
    let kinds = ["belong", "run", "connect", "group", "default"];
    let names: Vec<String> = kinds
        .iter()
        .map(|k| define(&store, &many_to_many("vm", k, "vm")))
        .collect();
    store.register_instances("vm", 1..=40).unwrap();
    let mut created = Vec::new();
    // Interleave model associations and instances so no index order agrees
    // with id order by accident.
    for step in 0..120_i64 {
        let name = &names[(step * 7 % 5) as usize];
        let src = 1 + (step * 13) % 40;
        let dst = 1 + (step * 29 + 5 + step / 40) % 40;
        if let Ok(id) = store.create_instance_association(name, src, dst) {
            created.push(id);
        }
    }
    assert!(created.len() > 100, "{}", created.len());
    let all = ids(&find_all(&store, "vm"));
    assert_eq!(all, created);
    let by_source = find_ids(&store, "vm", &json!({"bk_inst_id": 1}));
    assert!(!by_source.is_empty());
    assert!(by_source.windows(2).all(|w| w[0] < w[1]), "{by_source:?}");
    let by_target = find_ids(&store, "vm", &json!({"bk_asst_inst_id": 6}));
    assert!(!by_target.is_empty());
    assert!(by_target.windows(2).all(|w| w[0] < w[1]), "{by_target:?}");
    assert_invariants(&store);
}

#[test]
fn record_serializes_with_spec_keys_in_spec_order() {
    let (store, r) = fixture();
    let rec = store.instance_association(r.s11_h21).unwrap();
    let text = serde_json::to_string(&rec).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"id":{},"bk_inst_id":11,"bk_obj_id":"bk_switch","bk_asst_inst_id":21,"bk_asst_obj_id":"host","bk_obj_asst_id":"bk_switch_belong_host","bk_asst_id":"belong"}}"#,
            r.s11_h21
        )
    );
    assert_invariants(&store);
}

#[test]
fn found_records_serialize_as_a_json_array_in_id_order() {
    let store = seed_store();
    let a = store.create_instance_association(SEED, 12, 22).unwrap();
    let b = store.create_instance_association(SEED, 11, 21).unwrap();
    let found = find_all(&store, HOST);
    let value = serde_json::to_value(&found).unwrap();
    assert_eq!(
        value,
        json!([
            {"id": a, "bk_inst_id": 12, "bk_obj_id": "bk_switch", "bk_asst_inst_id": 22,
             "bk_asst_obj_id": "host", "bk_obj_asst_id": SEED, "bk_asst_id": "belong"},
            {"id": b, "bk_inst_id": 11, "bk_obj_id": "bk_switch", "bk_asst_inst_id": 21,
             "bk_asst_obj_id": "host", "bk_obj_asst_id": SEED, "bk_asst_id": "belong"},
        ])
    );
    assert_invariants(&store);
}

#[test]
fn record_round_trips_through_json() {
    let (store, r) = fixture();
    let rec = store.instance_association(r.h22_a31).unwrap();
    let back: InstanceAssociation =
        serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
    assert_eq!(back, rec);
    assert_invariants(&store);
}

#[test]
fn find_on_a_one_to_one_self_association_is_bidirectional_once() {
    let store = Store::new();
    let name = define(
        &store,
        &assocstore::NewModelAssociation::new("vm", "connect", "vm", Mapping::OneToOne),
    );
    store.register_instances("vm", [1, 2]).unwrap();
    let id = store.create_instance_association(&name, 1, 2).unwrap();
    // Source and target model are the same: the record is found once.
    assert_eq!(ids(&find_all(&store, "vm")), [id]);
    assert_invariants(&store);
}

/// The allocation-free edge reads return exactly what `find` returns, in the
/// same order, by source, by target and for a whole model.
#[test]
fn edge_reads_agree_with_find() {
    use assocstore::{Edge, Mapping, NewModelAssociation, Store};
    let store = Store::new();
    let defs = [
        ("a", "run", "b", Mapping::ManyToMany),
        ("b", "belong", "a", Mapping::OneToMany),
    ];
    for (src, kind, dst, mapping) in defs {
        store
            .create_model_association(&NewModelAssociation::new(src, kind, dst, mapping))
            .unwrap();
    }
    store.register_instances("a", 1..=5).unwrap();
    store.register_instances("b", 1..=5).unwrap();
    for (s, t) in [(1, 2), (1, 3), (2, 3), (5, 1), (1, 1)] {
        store.create_instance_association("a_run_b", s, t).unwrap();
    }
    for (s, t) in [(3, 1), (4, 2)] {
        store
            .create_instance_association("b_belong_a", s, t)
            .unwrap();
    }
    let as_edges = |cond: serde_json::Value, model: &str| -> Vec<(i64, i64, i64)> {
        let cond = assocstore::Condition::from_json(&cond).unwrap();
        let found = store.find_instance_associations(model, &cond).unwrap();
        found
            .iter()
            .map(|r| (r.id, r.bk_inst_id, r.bk_asst_inst_id))
            .collect()
    };
    let triples = |edges: &[Edge]| -> Vec<(i64, i64, i64)> {
        edges
            .iter()
            .map(|e| (e.id, e.bk_inst_id, e.bk_asst_inst_id))
            .collect()
    };
    let mut edges = Vec::new();
    store.edges_from("a_run_b", 1, &mut edges).unwrap();
    assert_eq!(
        triples(&edges),
        as_edges(
            serde_json::json!({"bk_obj_asst_id": "a_run_b", "bk_inst_id": 1}),
            "a"
        )
    );
    store.edges_to("a_run_b", 3, &mut edges).unwrap();
    assert_eq!(
        triples(&edges),
        as_edges(
            serde_json::json!({"bk_obj_asst_id": "a_run_b", "bk_asst_inst_id": 3}),
            "b"
        )
    );
    store.edges_of_model("b", &mut edges).unwrap();
    assert_eq!(triples(&edges), as_edges(serde_json::json!({}), "b"));
    assert_eq!(edges.len(), 7);
    assert_eq!(
        store.edges_from("nope", 1, &mut edges).unwrap_err().code(),
        1_101_046
    );
    // By id: the same record as `instance_association`, with the model
    // association's id; nothing for a deleted, never-created or invalid id.
    for id in 1..=7 {
        let record = store.instance_association(id).unwrap();
        let model_association = store.model_association(&record.bk_obj_asst_id).unwrap().id;
        assert_eq!(
            store.edge(id),
            Some(Edge {
                id,
                model_association,
                bk_inst_id: record.bk_inst_id,
                bk_asst_inst_id: record.bk_asst_inst_id,
            })
        );
    }
    assert!(store.delete_instance_association("a", 2).unwrap());
    for id in [2, 8, 0, -1, i64::MAX] {
        assert_eq!(store.edge(id), None, "id {id}");
    }
    store.check_invariants().unwrap();
}
