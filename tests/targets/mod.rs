//! The fuzz targets' bodies, shared by `fuzz/` (libFuzzer, `cargo fuzz run
//! -s none <target>`) and `tests/fuzz_corpus.rs` (which replays every file of
//! `fuzz/corpus/` and `fuzz/artifacts/` on stable, so findings stay covered
//! without libFuzzer). Each function panics when it finds a bug.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use arbitrary::{Arbitrary, Unstructured};

#[path = "../model/mod.rs"]
mod model;
use assocstore::{
    BatchCreate, Condition, ItemOutcome, Mapping, NewModelAssociation, QueryFilter, Search, Store,
};
use serde_json::{Value, json};

/// Raw bytes, split on `\n`, replayed through one fresh store: every line
/// must give exactly one well-formed envelope, never a panic.
pub(crate) fn replay_line(data: &[u8]) {
    let store = Store::new();
    for line in data.split(|&b| b == b'\n') {
        let out = assocstore::wire::handle_line(&store, line);
        check_envelope(&out);
    }
    store.check_invariants().unwrap();
}

/// One envelope line: no newline, the six keys in order, consistent fields.
pub(crate) fn check_envelope(out: &str) {
    assert!(!out.contains('\n'), "envelope spans lines: {out}");
    let v: Value = serde_json::from_str(out).expect("envelope is JSON");
    let obj = v.as_object().expect("envelope is an object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "result",
            "code",
            "message",
            "data",
            "permission",
            "request_id"
        ]
    );
    let ok = obj["result"].as_bool().expect("result is a bool");
    let code = obj["code"].as_i64().expect("code is an integer");
    assert_eq!(ok, code == 0, "result and code disagree: {out}");
    if !ok {
        assert!(obj["data"].is_null(), "failure with data: {out}");
    }
    assert!(obj["permission"].is_null());
    let id = obj["request_id"].as_str().expect("request_id is a string");
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "request_id {id}"
    );
}

/// A small store with one model association of each mapping between `a` and
/// `b`, instances 1..=4 of each, and a few records.
pub(crate) fn small_store() -> Store {
    let store = Store::builder().shards(2).build().unwrap();
    for (kind, mapping) in [
        ("belong", Mapping::OneToOne),
        ("run", Mapping::OneToMany),
        ("connect", Mapping::ManyToMany),
    ] {
        store
            .create_model_association(&NewModelAssociation::new("a", kind, "b", mapping))
            .unwrap();
    }
    store.register_instances("a", 1..=4).unwrap();
    store.register_instances("b", 1..=4).unwrap();
    for (assoc, s, t) in [
        ("a_belong_b", 1, 1),
        ("a_run_b", 1, 2),
        ("a_connect_b", 2, 3),
    ] {
        store.create_instance_association(assoc, s, t).unwrap();
    }
    store
}

/// A rule tree built from fuzz input; converted to JSON for the parsers.
#[derive(Debug, Arbitrary)]
enum RuleNode {
    Combined { or: u8, rules: Vec<RuleNode> },
    Atom { field: u8, op: u8, value: Scalar },
    Raw(Scalar),
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    Int(i64),
    Small(u8),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Scalar>),
}

const FIELDS: [&str; 9] = [
    "id",
    "bk_inst_id",
    "bk_obj_id",
    "bk_asst_inst_id",
    "bk_asst_obj_id",
    "bk_obj_asst_id",
    "bk_asst_id",
    "bk_biz_id",
    "_bad",
];
/// The listed operators, then three SPEC does not list.
fn op_name(n: u8) -> &'static str {
    const UNLISTED: [&str; 3] = ["between", "is_null", "$eq"];
    let listed = &model::OPERATORS;
    let n = usize::from(n) % (listed.len() + UNLISTED.len());
    listed
        .get(n)
        .copied()
        .unwrap_or_else(|| UNLISTED[n - listed.len()])
}

/// Depth beyond which the generator stops nesting (the fuzzer's input, not
/// the store, would otherwise decide how deep the harness recurses).
const MAX_GEN_DEPTH: usize = 40;

impl Scalar {
    fn to_json(&self, depth: usize) -> Value {
        match self {
            Scalar::Int(n) => json!(n),
            Scalar::Small(n) => json!(n % 6),
            Scalar::Str(s) => json!(s),
            Scalar::Bool(b) => json!(b),
            Scalar::Null => Value::Null,
            Scalar::List(items) if depth < MAX_GEN_DEPTH => {
                Value::Array(items.iter().map(|i| i.to_json(depth + 1)).collect())
            }
            Scalar::List(_) => json!([]),
        }
    }
}

impl RuleNode {
    fn to_json(&self, depth: usize) -> Value {
        match self {
            RuleNode::Combined { or, rules } => {
                let condition = ["AND", "OR", "XOR"][usize::from(*or % 3)];
                let rules: Vec<Value> = if depth < MAX_GEN_DEPTH {
                    rules.iter().map(|r| r.to_json(depth + 1)).collect()
                } else {
                    Vec::new()
                };
                json!({"condition": condition, "rules": rules})
            }
            RuleNode::Atom { field, op, value } => json!({
                "field": FIELDS[usize::from(*field) % FIELDS.len()],
                "operator": op_name(*op),
                "value": value.to_json(depth + 1),
            }),
            RuleNode::Raw(s) => s.to_json(depth + 1),
        }
    }

    /// The same tree as a MongoDB-style `find` condition.
    fn to_condition(&self, depth: usize) -> Value {
        match self {
            RuleNode::Combined { or, rules } if depth < MAX_GEN_DEPTH => {
                let key = ["$and", "$or", "$nor"][usize::from(*or % 3)];
                let rules: Vec<Value> = rules.iter().map(|r| r.to_condition(depth + 1)).collect();
                json!({ key: rules })
            }
            RuleNode::Atom { field, op, value } => {
                let op = [
                    "$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$regex",
                ][usize::from(*op) % 9];
                json!({ FIELDS[usize::from(*field) % FIELDS.len()]: { op: value.to_json(depth + 1) } })
            }
            other => other.to_json(depth),
        }
    }
}

/// Arbitrary rule trees through every parser and, when they parse, through
/// search, count and find on a small store: a result or 1199006, never a
/// panic or a stack overflow.
pub(crate) fn query(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(tree) = RuleNode::arbitrary(&mut u) else {
        return;
    };
    let limit = u.int_in_range(0..=600).unwrap_or(10);
    let start = u.int_in_range(0..=8).unwrap_or(0);
    let store = small_store();
    let rules = tree.to_json(0);
    let body = json!({"conditions": rules, "page": {"start": start, "limit": limit, "sort": "-bk_inst_id,id"}});
    match Search::from_json(&body) {
        Ok(search) => {
            let found = store.search_instance_associations("a", &search).unwrap();
            assert!(found.len() as u64 <= limit);
        }
        Err(e) => assert_eq!(e.code(), 1_199_006, "{e}"),
    }
    match QueryFilter::from_json(&rules) {
        Ok(filter) => {
            let n = store
                .count_instance_associations("a", Some(&filter))
                .unwrap();
            assert!(n <= 3);
        }
        Err(e) => assert_eq!(e.code(), 1_199_006, "{e}"),
    }
    match Condition::from_json(&tree.to_condition(0)) {
        Ok(cond) => {
            let found = store.find_instance_associations("b", &cond).unwrap();
            assert!(found.windows(2).all(|w| w[0].id < w[1].id));
        }
        Err(e) => assert_eq!(e.code(), 1_199_006, "{e}"),
    }
}

/// Arbitrary batch creates (0–210 details, all modes) against a small
/// store: whole-request errors or one outcome per detail, all-or-none in
/// atomic mode, and indexes that still agree.
pub(crate) fn batch(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let store = small_store();
    for _ in 0..4 {
        let Ok(which) = u.int_in_range(0..=5u8) else {
            break;
        };
        let assoc = [
            "a_belong_b",
            "a_run_b",
            "a_connect_b",
            "a_nope_b",
            "",
            "x_run_b",
        ][usize::from(which)];
        let src = if u.ratio(1, 8).unwrap_or(false) {
            "x"
        } else {
            "a"
        };
        let len = u.int_in_range(0..=210usize).unwrap_or(0);
        let mut details = Vec::with_capacity(len);
        for _ in 0..len {
            let s = i64::from(u.int_in_range(-1..=5i8).unwrap_or(1));
            let t = i64::from(u.int_in_range(-1..=5i8).unwrap_or(1));
            details.push((s, t));
        }
        let req = BatchCreate::new(src, "b", assoc, details)
            .idempotent(u.arbitrary().unwrap_or(false))
            .atomic(u.arbitrary().unwrap_or(false));
        let before = store.len();
        match store.batch_create_instance_associations(&req) {
            Ok(out) => {
                assert_eq!(out.items.len(), req.details.len());
                let created = out.created();
                assert_eq!(store.len(), before + created);
                if req.atomic
                    && out
                        .items
                        .iter()
                        .any(|o| matches!(o, ItemOutcome::Failed(_)))
                {
                    assert_eq!(created, 0, "atomic batch partly applied");
                }
            }
            Err(_) => assert_eq!(store.len(), before, "refused batch changed the store"),
        }
        store.check_invariants().unwrap();
    }
}

/// An arbitrary sequence of [`model::Op`]s, each applied to a fresh store
/// and to the reference model of SPEC, which must agree at every step.
pub(crate) fn ops(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ops) = Vec::<model::Op>::arbitrary(&mut u) else {
        return;
    };
    let shards = if u.arbitrary::<bool>().unwrap_or(false) {
        1
    } else {
        4
    };
    let store = Store::builder().shards(shards).build().unwrap();
    if let Err(e) = model::run_ops(&store, &ops) {
        panic!("store and model disagree: {e}");
    }
}
