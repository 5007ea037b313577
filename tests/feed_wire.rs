//! `resource_watch` on the wire: every rule of the `inst_asst` watch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_pass_by_value
)]

use assocstore::Store;
use assocstore::wire::handle_line;
use serde_json::{Value, json};

fn call(store: &Store, api: &str, body: Value) -> Value {
    let line = json!({ "api": api, "body": body }).to_string();
    serde_json::from_str(&handle_line(store, line.as_bytes())).unwrap()
}

fn watch(store: &Store, body: Value) -> Value {
    call(store, "resource_watch", body)
}

fn ok_data(v: &Value) -> &Value {
    assert_eq!(v["result"], true, "{v}");
    &v["data"]
}

/// A store with `a_run_b` (n:n), instances a 1..=3, b 1..=300, host.
fn store() -> Store {
    let s = Store::new();
    let made = call(
        &s,
        "create_object_association",
        json!({"bk_obj_asst_id": "a_run_b", "bk_obj_id": "a", "bk_asst_obj_id": "b", "bk_asst_id": "run", "mapping": "n:n"}),
    );
    ok_data(&made);
    for (model, n) in [("a", 3), ("b", 300)] {
        for id in 1..=n {
            ok_data(&call(
                &s,
                "create_inst",
                json!({"bk_obj_id": model, "bk_inst_id": id}),
            ));
        }
    }
    s
}

fn add(s: &Store, src: i64, dst: i64) -> i64 {
    let v = call(
        s,
        "add_instance_association",
        json!({"bk_obj_asst_id": "a_run_b", "bk_inst_id": src, "bk_asst_inst_id": dst}),
    );
    ok_data(&v)["id"].as_i64().unwrap()
}

#[test]
fn nothing_to_watch_answers_the_newest_cursor() {
    let s = store();
    let v = watch(&s, json!({"bk_resource": "inst_asst"}));
    let data = ok_data(&v);
    assert_eq!(data["bk_watched"], false);
    let events = data["bk_events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["bk_event_type"], "");
    assert_eq!(events[0]["bk_detail"], Value::Null);
    assert_eq!(events[0]["bk_resource"], "inst_asst");
    assert_eq!(events[0]["bk_cursor"], s.feed_cursor().to_string());
    // Continuing from it sees what comes next.
    let cursor = events[0]["bk_cursor"].clone();
    let id = add(&s, 1, 1);
    let v = watch(&s, json!({"bk_resource": "inst_asst", "bk_cursor": cursor}));
    let data = ok_data(&v);
    assert_eq!(data["bk_watched"], true);
    assert_eq!(data["bk_events"][0]["bk_event_type"], "create");
    assert_eq!(
        data["bk_events"][0]["bk_detail"],
        json!({"id": id, "bk_inst_id": 1, "bk_obj_id": "a", "bk_asst_inst_id": 1,
               "bk_asst_obj_id": "b", "bk_obj_asst_id": "a_run_b", "bk_asst_id": "run"})
    );
}

#[test]
fn start_from_one_reads_everything_retained_and_fields_project() {
    let s = store();
    let x = add(&s, 1, 1);
    let y = add(&s, 2, 2);
    let del = call(
        &s,
        "delete_instance_association",
        json!({"bk_obj_id": "a", "id": x}),
    );
    ok_data(&del);
    let v = watch(
        &s,
        json!({"bk_resource": "inst_asst", "bk_start_from": 1, "bk_fields": ["id", "bk_inst_id"]}),
    );
    let events = ok_data(&v)["bk_events"].as_array().unwrap().clone();
    let got: Vec<(String, Value)> = events
        .iter()
        .map(|e| {
            (
                e["bk_event_type"].as_str().unwrap().to_owned(),
                e["bk_detail"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("create".to_owned(), json!({"id": x, "bk_inst_id": 1})),
            ("create".to_owned(), json!({"id": y, "bk_inst_id": 2})),
            ("delete".to_owned(), json!({"id": x, "bk_inst_id": 1})),
        ]
    );
    // Cursors increase and are opaque strings.
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["bk_cursor"].as_str() < w[1]["bk_cursor"].as_str())
    );
    // A start time in the future: nothing yet, with the newest cursor.
    let later = watch(
        &s,
        json!({"bk_resource": "inst_asst", "bk_start_from": 4_000_000_000u64}),
    );
    assert_eq!(ok_data(&later)["bk_watched"], false);
}

#[test]
fn event_types_and_sub_resource_filter() {
    let s = store();
    let x = add(&s, 1, 1);
    ok_data(&call(
        &s,
        "delete_instance_association",
        json!({"bk_obj_id": "a", "id": x}),
    ));
    let types = |t: Value| {
        let v = watch(
            &s,
            json!({"bk_resource": "inst_asst", "bk_start_from": 1, "bk_event_types": t}),
        );
        ok_data(&v)["bk_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["bk_event_type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(types(json!(["delete"])), ["delete"]);
    assert_eq!(types(json!(["create", "delete"])), ["create", "delete"]);
    assert_eq!(types(json!([])), ["create", "delete"]);
    assert_eq!(types(json!(["update"])), [""], "accepted, never emitted");
    let sub = |m: &str| {
        let v = watch(
            &s,
            json!({"bk_resource": "inst_asst", "bk_start_from": 1, "bk_filter": {"bk_sub_resource": m}}),
        );
        ok_data(&v)["bk_watched"].as_bool().unwrap()
    };
    assert!(sub("a"));
    assert!(sub("b"));
    assert!(!sub("host"));
}

#[test]
fn at_most_200_events_then_the_rest() {
    let s = store();
    let ids: Vec<i64> = (1..=250).map(|i| add(&s, 1 + i % 3, i)).collect();
    let v = watch(&s, json!({"bk_resource": "inst_asst", "bk_start_from": 1}));
    let first = ok_data(&v)["bk_events"].as_array().unwrap().clone();
    assert_eq!(first.len(), 200);
    let cursor = first[199]["bk_cursor"].clone();
    let v = watch(&s, json!({"bk_resource": "inst_asst", "bk_cursor": cursor}));
    let rest = ok_data(&v)["bk_events"].as_array().unwrap().clone();
    assert_eq!(rest.len(), 50);
    let seen: Vec<i64> = first
        .iter()
        .chain(&rest)
        .map(|e| e["bk_detail"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, ids);
}

#[test]
fn errors() {
    let s = store();
    let fail = |body: Value| {
        let v = watch(&s, body);
        assert_eq!(v["result"], false, "{v}");
        (
            v["code"].as_i64().unwrap(),
            v["message"].as_str().unwrap().to_owned(),
        )
    };
    let bad_resource = (
        1_199_006,
        "'bk_resource' data parameter verification does not pass".to_owned(),
    );
    assert_eq!(fail(json!({"bk_resource": "host"})), bad_resource);
    assert_eq!(fail(json!({})), bad_resource);
    assert_eq!(
        fail(json!({"bk_resource": "inst_asst", "bk_event_types": ["create", "move"]})),
        (
            1_199_006,
            "'bk_event_types' data parameter verification does not pass".to_owned()
        )
    );
    let expired = (
        1_103_007,
        "the event cursor does not exist or has expired".to_owned(),
    );
    assert_eq!(
        fail(json!({"bk_resource": "inst_asst", "bk_cursor": "MQ0xNjA2MzkwMjk3DQ"})),
        expired
    );
    let other = Store::new();
    let foreign = other.feed_cursor().to_string();
    assert_eq!(
        fail(json!({"bk_resource": "inst_asst", "bk_cursor": foreign})),
        expired
    );
    // Retention passed it by.
    let small = Store::builder().feed_retention(2).build().unwrap();
    let start = small.feed_cursor().to_string();
    small.register_instances("a", [1, 2, 3]).unwrap();
    let v = watch(
        &small,
        json!({"bk_resource": "inst_asst", "bk_cursor": start}),
    );
    assert_eq!(
        (
            v["code"].as_i64().unwrap(),
            v["message"].as_str().unwrap().to_owned()
        ),
        expired
    );
    assert_eq!(
        fail(json!({"bk_resource": "inst_asst", "bk_cursor": 5})).0,
        1_199_000
    );
}
