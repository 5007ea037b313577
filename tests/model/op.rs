//! The one `Op` enum: every operation of the library API, over the small
//! domains of [`super::domain`]. Shared by the property tests (through the
//! strategies in [`super::strategy`]) and the fuzz targets (through
//! `arbitrary`), so every finding replays as a unit test.
//!
//! Conditions and query-builder rules are held as small structures and
//! rendered to JSON ([`FindCond::to_json`], [`SearchBody::to_json`],
//! [`RuleNode::to_json`]); store and model both receive the same JSON.

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};

use super::domain::{
    AssocPick, FieldPick, InstPick, KindPick, MappingPick, ModelPick, NamePick, OnDeletePick,
    RecPick, StrPick, TowardsPick,
};

/// One operation on the store (and on the reference model).
#[derive(Debug, Clone, Arbitrary)]
pub(crate) enum Op {
    /// `create_association_kind`.
    CreateKind { kind: KindPick, labelled: bool },
    /// `create_model_association` of a [`super::domain::SLOTS`] entry,
    /// optionally with other models / kind under the same id.
    CreateModelAssoc {
        slot: AssocPick,
        alter: Option<(ModelPick, KindPick, ModelPick)>,
        mapping: MappingPick,
        on_delete: OnDeletePick,
        named: bool,
    },
    /// `delete_model_association` by id (0 to 15).
    DeleteModelAssoc { id: u8 },
    /// `define_model` (topology display name and icon).
    DefineModel { model: ModelPick, named: bool },
    /// `register_instance`, with an explicit id or `max + 1`.
    RegisterInstance {
        model: ModelPick,
        id: Option<InstPick>,
        name: Option<NamePick>,
    },
    /// `register_instances`.
    RegisterInstances {
        model: ModelPick,
        ids: Vec<InstPick>,
    },
    /// `delete_instance`.
    DeleteInstance { model: ModelPick, id: InstPick },
    /// `delete_instances`.
    DeleteInstances {
        model: ModelPick,
        ids: Vec<InstPick>,
    },
    /// `create_instance_association`.
    Create {
        assoc: AssocPick,
        src: InstPick,
        dst: InstPick,
    },
    /// `batch_create_instance_associations`, in any of the four modes.
    Batch {
        assoc: AssocPick,
        models: BatchModels,
        details: Vec<(InstPick, InstPick)>,
        idempotent: bool,
        atomic: bool,
    },
    /// `delete_instance_association`.
    DeleteById { model: ModelPick, id: RecPick },
    /// `delete_instance_associations`.
    DeleteByIds { model: ModelPick, ids: IdList },
    /// `delete_instance_associations_of`.
    DeleteAssociationsOf { model: ModelPick, id: InstPick },
    /// `delete_instance_cascade`.
    Cascade { model: ModelPick, id: InstPick },
    /// `instance_association` (get by id).
    Get { id: RecPick },
    /// `Condition::from_json` then `find_instance_associations`.
    Find {
        model: ModelPick,
        condition: FindCond,
    },
    /// `Search::from_json` then `search_instance_associations`.
    Search { model: ModelPick, body: SearchBody },
    /// `QueryFilter::from_json` then `count_instance_associations`.
    Count {
        model: ModelPick,
        conditions: Option<RuleNode>,
    },
    /// `search_related_instance_associations`.
    Related {
        model: ModelPick,
        id: InstPick,
        fields: Vec<FieldPick>,
        start: u8,
        limit: u8,
    },
    /// `instance_topology` or `instance_topology_upstream`.
    Topology {
        model: ModelPick,
        id: InstPick,
        upstream: bool,
    },
    /// `neighbours`.
    Neighbours {
        model: ModelPick,
        id: InstPick,
        towards: TowardsPick,
        filter: FilterPick,
    },
    /// `traverse`.
    Traverse {
        model: ModelPick,
        id: InstPick,
        towards: TowardsPick,
        depth: u8,
        node_limit: Option<u8>,
        filter: FilterPick,
    },
    /// `shortest_path`.
    ShortestPath {
        from: (ModelPick, InstPick),
        to: (ModelPick, InstPick),
        towards: TowardsPick,
        depth: u8,
        filter: FilterPick,
    },
    /// `checkpoint`: must succeed (a no-op in memory). Changes nothing the
    /// model holds.
    Checkpoint,
    /// A clean restart of a durable store: drop it, open the same directory
    /// with the same settings. Changes nothing the model holds (a clean close
    /// loses nothing). Nothing to do for an in-memory store; only
    /// [`super::Target`] can reopen.
    Reopen,
    /// A crash of a durable store, then an open with the same settings: a
    /// power cut at `Immediate` (every acknowledged call was synced), a
    /// process crash at `Eventual` (every written byte stays). Changes
    /// nothing the model holds. Nothing to do for an in-memory store; only
    /// [`super::Target`] can crash.
    Crash,
}

/// The `bk_obj_id` / `bk_asst_obj_id` of a batch request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) enum BatchModels {
    /// The models of the slot the request names (right, usually).
    Slot,
    /// Any two models (prefix / suffix / mismatch / empty errors).
    Given(ModelPick, ModelPick),
}

/// The id list of `delete_instance_associations`.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum IdList {
    Picks(Vec<RecPick>),
    /// No ids (1199003).
    Empty,
    /// 490 to 519 ids, so sometimes over the 500 limit (1199059).
    Many(u8),
}

impl IdList {
    pub(crate) fn resolve(&self, live: &[i64], last_id: i64) -> Vec<i64> {
        match self {
            IdList::Picks(picks) => picks.iter().map(|p| p.resolve(live, last_id)).collect(),
            IdList::Empty => Vec::new(),
            IdList::Many(n) => {
                let count = 490 + i64::from(*n % 30);
                (1..=count).collect()
            }
        }
    }
}

/// Which associations a graph read follows.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) struct FilterPick {
    pub(crate) kinds: Vec<KindPick>,
    pub(crate) assocs: Vec<AssocPick>,
}

impl FilterPick {
    pub(crate) fn kinds(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_owned()).collect()
    }

    pub(crate) fn assocs(&self) -> Vec<String> {
        self.assocs.iter().map(|a| a.name().to_owned()).collect()
    }
}

/// A scalar (or rarely an array) compared with record fields.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum ValPick {
    /// -1 to 8.
    Int(u8),
    /// -1.0 to 8.5 in halves (whole ones equal the integers).
    Float(u8),
    Str(StrPick),
    Bool(bool),
    Null,
    /// Numbers past 2⁵³ and past the int64 range, as integers and floats.
    Big(u8),
}

impl ValPick {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            ValPick::Int(v) => json!(i64::from(*v % 10) - 1),
            ValPick::Float(v) => {
                let whole = f64::from(*v % 10) - 1.0;
                json!(if v % 2 == 0 { whole } else { whole + 0.5 })
            }
            ValPick::Str(s) => json!(s.text()),
            ValPick::Bool(b) => json!(b),
            ValPick::Null => Value::Null,
            ValPick::Big(k) => match k % 8 {
                0 => json!(9_100_000_000_000_000_i64),
                1 => json!(9.1e15),
                2 => json!(9_007_199_254_740_993_i64),
                3 => json!(9_007_199_254_740_992.0_f64),
                4 => json!(9_007_199_254_740_994.0_f64),
                5 => json!(u64::MAX),
                6 => json!(-1.0e19),
                _ => json!(9.1e15 + 2.0),
            },
        }
    }
}

/// The `condition` of `find_instance_association`.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum FindCond {
    Doc(Vec<FindEntry>),
    /// JSON `null`: everything.
    Null,
    /// A JSON array: not a condition.
    NotObject,
}

/// One key of a find condition document.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum FindEntry {
    /// `"field": value`.
    Eq(FieldPick, ValPick),
    /// `"bk_asst_id": ""`, `"bk_asst_obj_id": ""` or `"bk_obj_asst_id": ""`.
    EmptyString(u8),
    /// `"field": {"$op": arg, ...}`.
    Ops(FieldPick, Vec<(FindOpPick, FindArg)>),
    /// `"$and": [doc, ...]`.
    And(Vec<Vec<FindEntry>>),
    /// `"$or": [doc, ...]`.
    Or(Vec<Vec<FindEntry>>),
    /// An operator outside SPEC's list at document level (`$where`, ...).
    BadOp(u8),
    /// `"$and": 1` or `"$or": [1]`.
    BadList(bool),
}

/// A field-level operator of a find condition, or one SPEC does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct FindOpPick(pub(crate) u8);

impl FindOpPick {
    pub(crate) fn name(self) -> &'static str {
        [
            "$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$eq", "$in", "$nin",
            "$regex", "$exists", "$and",
        ][usize::from(self.0) % 14]
    }
}

/// The operand of a field-level operator.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum FindArg {
    One(ValPick),
    List(Vec<ValPick>),
}

impl FindArg {
    fn to_json(&self) -> Value {
        match self {
            FindArg::One(v) => v.to_json(),
            FindArg::List(vs) => Value::Array(vs.iter().map(ValPick::to_json).collect()),
        }
    }
}

impl FindCond {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            FindCond::Doc(entries) => doc_json(entries),
            FindCond::Null => Value::Null,
            FindCond::NotObject => json!([1]),
        }
    }
}

/// A document; a key given twice keeps its first position and its last
/// value, as JSON objects do.
fn doc_json(entries: &[FindEntry]) -> Value {
    let mut map = Map::new();
    for entry in entries {
        let (key, value) = match entry {
            FindEntry::Eq(f, v) => (f.name().to_owned(), v.to_json()),
            FindEntry::EmptyString(k) => (
                ["bk_asst_id", "bk_asst_obj_id", "bk_obj_asst_id"][usize::from(*k) % 3].to_owned(),
                json!(""),
            ),
            FindEntry::Ops(f, ops) => {
                let mut inner = Map::new();
                for (op, arg) in ops {
                    inner.insert(op.name().to_owned(), arg.to_json());
                }
                (f.name().to_owned(), Value::Object(inner))
            }
            FindEntry::And(docs) => ("$and".to_owned(), docs_json(docs)),
            FindEntry::Or(docs) => ("$or".to_owned(), docs_json(docs)),
            FindEntry::BadOp(k) => (
                ["$where", "$nor", "$not", "$expr"][usize::from(*k) % 4].to_owned(),
                json!(1),
            ),
            FindEntry::BadList(and) => {
                if *and {
                    ("$and".to_owned(), json!(1))
                } else {
                    ("$or".to_owned(), json!([1]))
                }
            }
        };
        map.insert(key, value);
    }
    Value::Object(map)
}

fn docs_json(docs: &[Vec<FindEntry>]) -> Value {
    Value::Array(docs.iter().map(|d| doc_json(d)).collect())
}

/// A query-builder rule (the `conditions` of search and count).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum RuleNode {
    Atom {
        field: FieldPick,
        op: RuleOpPick,
        value: Option<RuleVal>,
    },
    Combined {
        condition: CondPick,
        rules: Vec<RuleNode>,
    },
    /// An `OR` of 19 to 23 atoms (the limit is 20).
    WideOr(u8),
    /// Something that is not a rule: a number, `{}`, `{"field": "id"}`.
    Junk(u8),
}

/// A query-builder operator, or one SPEC does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct RuleOpPick(pub(crate) u8);

impl RuleOpPick {
    pub(crate) fn name(self) -> &'static str {
        // The listed operators weigh a little more than the unlisted ones.
        const UNLISTED: [&str; 5] = ["equal", "in", "like", "datetime_less", "is_null"];
        let n = usize::from(self.0) % (super::rules::OPERATORS.len() + UNLISTED.len());
        super::rules::OPERATORS
            .get(n)
            .copied()
            .unwrap_or_else(|| UNLISTED[n - super::rules::OPERATORS.len()])
    }
}

/// The `condition` of a combined rule: `AND`, `OR`, or something invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub(crate) struct CondPick(pub(crate) u8);

impl CondPick {
    fn to_json(self) -> Option<Value> {
        match self.0 % 12 {
            0..=5 => Some(json!("AND")),
            6..=9 => Some(json!("OR")),
            10 => Some(json!("and")),
            _ => None,
        }
    }
}

/// The `value` of an atom.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum RuleVal {
    One(ValPick),
    List(Vec<ValPick>),
    /// 495 to 510 integers (the `in` limit is 500).
    Many(u8),
}

impl RuleNode {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            RuleNode::Atom { field, op, value } => {
                let mut map = Map::new();
                map.insert("field".into(), json!(field.name()));
                map.insert("operator".into(), json!(op.name()));
                match value {
                    None => {}
                    Some(RuleVal::One(v)) => {
                        map.insert("value".into(), v.to_json());
                    }
                    Some(RuleVal::List(vs)) => {
                        let list = vs.iter().map(ValPick::to_json).collect();
                        map.insert("value".into(), Value::Array(list));
                    }
                    Some(RuleVal::Many(n)) => {
                        let list = (0..495 + i64::from(n % 16)).map(|i| json!(i % 9)).collect();
                        map.insert("value".into(), Value::Array(list));
                    }
                }
                Value::Object(map)
            }
            RuleNode::Combined { condition, rules } => {
                let mut map = Map::new();
                // A missing `condition` still needs the key for the node to be
                // read as a combined rule; `null` is the invalid value then.
                map.insert(
                    "condition".into(),
                    condition.to_json().unwrap_or(Value::Null),
                );
                map.insert(
                    "rules".into(),
                    Value::Array(rules.iter().map(RuleNode::to_json).collect()),
                );
                Value::Object(map)
            }
            RuleNode::WideOr(n) => {
                let atom = |i: i64| json!({"field": "bk_inst_id", "operator": "equal", "value": i});
                let rules: Vec<Value> = (0..19 + i64::from(n % 5)).map(atom).collect();
                json!({"condition": "OR", "rules": rules})
            }
            RuleNode::Junk(k) => match k % 3 {
                0 => json!(7),
                1 => json!({}),
                _ => json!({"field": "id"}),
            },
        }
    }
}

/// A `search_instance_associations` body.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) struct SearchBody {
    pub(crate) conditions: Option<RuleNode>,
    pub(crate) fields: FieldsPick,
    pub(crate) start: u8,
    pub(crate) limit: u8,
    pub(crate) sort: SortPick,
}

/// The `fields` of a search body.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum FieldsPick {
    Absent,
    List(Vec<FieldPick>),
    /// `"fields": "id"`.
    NotArray,
    /// `"fields": [1]`.
    NotStrings,
}

/// The `page.sort` of a search body.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub(crate) enum SortPick {
    Absent,
    /// Comma-separated keys, each `f`, `-f`, `f:1`, `f:-1` or ` f `.
    Keys(Vec<(FieldPick, u8)>),
    /// `"sort": 1`.
    NotString,
}

impl SearchBody {
    pub(crate) fn to_json(&self) -> Value {
        let mut body = Map::new();
        if let Some(rule) = &self.conditions {
            body.insert("conditions".into(), rule.to_json());
        }
        match &self.fields {
            FieldsPick::Absent => {}
            FieldsPick::List(fields) => {
                let names = fields.iter().map(|f| json!(f.name())).collect();
                body.insert("fields".into(), Value::Array(names));
            }
            FieldsPick::NotArray => {
                body.insert("fields".into(), json!("id"));
            }
            FieldsPick::NotStrings => {
                body.insert("fields".into(), json!([1]));
            }
        }
        let mut page = Map::new();
        // Valid values first (indexes 0 to 8), then invalid ones.
        let start = [
            None,
            Some(json!(0)),
            Some(json!(1)),
            Some(json!(2)),
            Some(json!(0)),
            Some(json!(5)),
            Some(json!(1000)),
            Some(Value::Null),
            Some(json!(1)),
            Some(json!(-1)),
            Some(json!(1.5)),
            Some(json!("1")),
        ][usize::from(self.start) % 12]
            .clone();
        if let Some(start) = start {
            page.insert("start".into(), start);
        }
        // Valid values first (indexes 0 to 7), then invalid ones.
        let limit = [
            Some(json!(500)),
            Some(json!(1)),
            Some(json!(2)),
            Some(json!(3)),
            Some(json!(10)),
            Some(json!(500)),
            Some(json!(5)),
            Some(json!(4)),
            None,
            Some(json!(0)),
            Some(json!(501)),
            Some(json!(-1)),
            Some(json!(2.5)),
            Some(json!("5")),
        ][usize::from(self.limit) % 14]
            .clone();
        if let Some(limit) = limit {
            page.insert("limit".into(), limit);
        }
        match &self.sort {
            SortPick::Absent => {}
            SortPick::Keys(keys) => {
                let items: Vec<String> = keys
                    .iter()
                    .map(|(f, style)| {
                        let f = f.name();
                        match style % 5 {
                            0 => f.to_owned(),
                            1 => format!("-{f}"),
                            2 => format!("{f}:1"),
                            3 => format!("{f}:-1"),
                            _ => format!(" {f} "),
                        }
                    })
                    .collect();
                page.insert("sort".into(), json!(items.join(",")));
            }
            SortPick::NotString => {
                page.insert("sort".into(), json!(1));
            }
        }
        body.insert("page".into(), Value::Object(page));
        Value::Object(body)
    }
}

/// The `start` of `search_related_instance_associations`.
pub(crate) fn related_start(v: u8) -> u64 {
    [0, 0, 0, 1, 2, 5, 1000][usize::from(v) % 7]
}

/// The `limit` of `search_related_instance_associations`.
pub(crate) fn related_limit(v: u8) -> u64 {
    [0, 0, 1, 2, 3, 500, 501][usize::from(v) % 7]
}

/// The `max_depth` of a traversal or shortest path: 0 to 4.
pub(crate) fn depth(v: u8) -> usize {
    usize::from(v % 5)
}

/// Instance names keep their pick.
pub(crate) fn inst_name(name: Option<NamePick>) -> Option<&'static str> {
    name.map(NamePick::name)
}
