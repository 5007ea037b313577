//! `proptest` strategies for [`Op`] sequences. They draw the same picks as
//! `arbitrary` does, weighted so that most requests are well-formed (and so
//! reach the interesting checks) while every kind of malformed one still
//! turns up. Shrinking moves picks towards zero, the most ordinary value of
//! each domain.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::strategy::Union;

use super::domain::{
    AssocPick, FieldPick, InstPick, KindPick, MappingPick, ModelPick, NamePick, OnDeletePick,
    RecPick, StrPick, TowardsPick,
};
use super::op::{
    BatchModels, CondPick, FieldsPick, FilterPick, FindArg, FindCond, FindEntry, FindOpPick,
    IdList, Op, RuleNode, RuleOpPick, RuleVal, SearchBody, SortPick, ValPick,
};

/// Sequences of 1 to 100 ops. Four in five start with a setup (instances
/// 1 to 6 in each main model, a few model associations) so that creates
/// get past the existence checks; shrinking may drop any of it.
pub(crate) fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    let setup = prop_oneof![4 => setup(), 1 => Just(Vec::new())];
    (setup, vec(op_strategy(), 1..=100)).prop_map(|(mut ops, more)| {
        ops.extend(more);
        ops.truncate(100);
        ops
    })
}

/// Registers 1 to 6 and the two large ids in `a`, `ab` and `b`, and
/// creates two to five model
/// associations from the slots that can be created without a custom kind.
fn setup() -> impl Strategy<Value = Vec<Op>> {
    let creatable: Vec<u8> = vec![0, 1, 2, 3, 4, 7, 8, 9];
    let assocs = subsequence(creatable, 2..=5).prop_shuffle();
    (assocs, vec((any::<u8>(), any::<u8>()), 5)).prop_map(|(slots, rules)| {
        let mut ops: Vec<Op> = (0..3)
            .map(|m| Op::RegisterInstances {
                model: ModelPick(m),
                ids: (0..6).chain([19, 20]).map(InstPick).collect(),
            })
            .collect();
        for (slot, (mapping, on_delete)) in slots.into_iter().zip(rules) {
            ops.push(Op::CreateModelAssoc {
                slot: AssocPick(slot),
                alter: None,
                mapping: MappingPick(mapping),
                on_delete: OnDeletePick(on_delete),
                named: false,
            });
        }
        ops
    })
}

fn model() -> impl Strategy<Value = ModelPick> + Clone {
    any::<u8>().prop_map(ModelPick)
}

fn inst() -> impl Strategy<Value = InstPick> + Clone {
    any::<u8>().prop_map(InstPick)
}

fn kind() -> impl Strategy<Value = KindPick> + Clone {
    any::<u8>().prop_map(KindPick)
}

fn assoc() -> impl Strategy<Value = AssocPick> + Clone {
    any::<u8>().prop_map(AssocPick)
}

fn rec() -> impl Strategy<Value = RecPick> + Clone {
    any::<u16>().prop_map(RecPick)
}

/// A record field mostly (indexes 0 to 12 of the field pool are names
/// bk-cmdb's field pattern accepts).
fn field() -> impl Strategy<Value = FieldPick> + Clone {
    prop_oneof![9 => (0u8..13).prop_map(FieldPick), 1 => any::<u8>().prop_map(FieldPick)]
}

fn towards() -> impl Strategy<Value = TowardsPick> + Clone {
    any::<u8>().prop_map(TowardsPick)
}

fn filter() -> impl Strategy<Value = FilterPick> + Clone {
    prop_oneof![
        3 => Just(FilterPick { kinds: Vec::new(), assocs: Vec::new() }),
        1 => (vec(kind(), 0..3), vec(assoc(), 0..3))
            .prop_map(|(kinds, assocs)| FilterPick { kinds, assocs }),
    ]
}

/// A non-empty string from the pool.
fn text() -> impl Strategy<Value = StrPick> + Clone {
    any::<u8>().prop_map(|k| StrPick(if k % 20 == 11 { 0 } else { k }))
}

fn val() -> impl Strategy<Value = ValPick> + Clone {
    prop_oneof![
        4 => any::<u8>().prop_map(ValPick::Int),
        1 => any::<u8>().prop_map(ValPick::Float),
        4 => any::<u8>().prop_map(|k| ValPick::Str(StrPick(k))),
        1 => any::<bool>().prop_map(ValPick::Bool),
        1 => Just(ValPick::Null),
        2 => any::<u8>().prop_map(ValPick::Big),
    ]
}

/// An operator (indexes 0 to 10 are the ones SPEC lists) with an operand
/// that suits it most of the time.
fn find_op() -> impl Strategy<Value = (FindOpPick, FindArg)> + Clone {
    let op = prop_oneof![20 => 0u8..11, 1 => any::<u8>()];
    (op, any::<u8>(), val(), vec(val(), 0..4)).prop_map(|(op, odd, one, list)| {
        let pick = FindOpPick(op);
        let listed = matches!(pick.name(), "$in" | "$nin");
        let arg = if listed == (odd % 16 != 0) {
            FindArg::List(list)
        } else {
            FindArg::One(one)
        };
        (pick, arg)
    })
}

fn find_leaf() -> impl Strategy<Value = FindEntry> + Clone {
    prop_oneof![
        6 => (field(), val()).prop_map(|(f, v)| FindEntry::Eq(f, v)),
        1 => any::<u8>().prop_map(FindEntry::EmptyString),
        5 => (field(), vec(find_op(), 0..3)).prop_map(|(f, ops)| FindEntry::Ops(f, ops)),
        1 => prop_oneof![
            any::<u8>().prop_map(FindEntry::BadOp),
            any::<bool>().prop_map(FindEntry::BadList),
        ],
    ]
}

fn find_doc() -> BoxedStrategy<Vec<FindEntry>> {
    let leaf = find_leaf();
    vec(leaf.clone(), 0..4)
        .prop_recursive(2, 24, 3, move |inner| {
            let entry = prop_oneof![
                12 => leaf.clone(),
                2 => vec(inner.clone(), 1..3).prop_map(FindEntry::And),
                2 => vec(inner.clone(), 1..3).prop_map(FindEntry::Or),
                1 => vec(inner, 0..3).prop_map(FindEntry::And),
            ];
            vec(entry, 0..4)
        })
        .boxed()
}

fn find_cond() -> impl Strategy<Value = FindCond> {
    prop_oneof![
        30 => find_doc().prop_map(FindCond::Doc),
        2 => Just(FindCond::Null),
        1 => Just(FindCond::NotObject),
    ]
}

/// A value that suits the operator (index into `RuleOpPick`'s list) most of
/// the time.
fn rule_val(op: u8) -> BoxedStrategy<Option<RuleVal>> {
    let suited: BoxedStrategy<Option<RuleVal>> = match op % 23 {
        0 | 1 | 18 => prop_oneof![
            3 => any::<u8>().prop_map(ValPick::Int),
            1 => any::<u8>().prop_map(ValPick::Big),
            3 => text().prop_map(ValPick::Str),
            1 => any::<u8>().prop_map(ValPick::Float),
            1 => any::<bool>().prop_map(ValPick::Bool),
        ]
        .prop_map(|v| Some(RuleVal::One(v)))
        .boxed(),
        2 | 3 | 19 => prop_oneof![
            vec(any::<u8>().prop_map(ValPick::Int), 0..4),
            vec(any::<u8>().prop_map(ValPick::Big), 1..3),
            vec(text().prop_map(ValPick::Str), 0..4),
        ]
        .prop_map(|l| Some(RuleVal::List(l)))
        .boxed(),
        4..=7 => prop_oneof![
            3 => any::<u8>().prop_map(ValPick::Int),
            1 => any::<u8>().prop_map(ValPick::Float),
            1 => any::<u8>().prop_map(ValPick::Big),
        ]
        .prop_map(|v| Some(RuleVal::One(v)))
        .boxed(),
        8..=13 => text()
            .prop_map(|s| Some(RuleVal::One(ValPick::Str(s))))
            .boxed(),
        _ => Just(None).boxed(),
    };
    prop_oneof![
        40 => suited,
        1 => option::of(prop_oneof![
            val().prop_map(RuleVal::One),
            vec(val(), 0..4).prop_map(RuleVal::List),
            any::<u8>().prop_map(RuleVal::Many),
        ]),
    ]
    .boxed()
}

fn rule_atom() -> impl Strategy<Value = RuleNode> + Clone {
    let op = prop_oneof![40 => 0u8..20, 1 => any::<u8>()];
    let field =
        prop_oneof![40 => (0u8..13).prop_map(FieldPick), 1 => any::<u8>().prop_map(FieldPick)];
    (field, op)
        .prop_flat_map(|(field, op)| {
            rule_val(op).prop_map(move |value| RuleNode::Atom {
                field,
                op: RuleOpPick(op),
                value,
            })
        })
        .boxed()
}

fn cond() -> impl Strategy<Value = CondPick> + Clone {
    prop_oneof![40 => 0u8..10, 1 => any::<u8>()].prop_map(CondPick)
}

fn rule_node() -> BoxedStrategy<RuleNode> {
    let leaf = prop_oneof![
        60 => rule_atom(),
        1 => any::<u8>().prop_map(RuleNode::WideOr),
        1 => any::<u8>().prop_map(RuleNode::Junk),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            2 => inner.clone(),
            1 => (cond(), prop_oneof![20 => vec(inner.clone(), 1..4), 1 => vec(inner, 0..1)])
                .prop_map(|(condition, rules)| RuleNode::Combined { condition, rules }),
        ]
    })
    .boxed()
}

/// A `conditions` value: a combined rule at the top mostly.
fn top_rule() -> impl Strategy<Value = RuleNode> {
    prop_oneof![
        30 => (cond(), vec(rule_node(), 1..4))
            .prop_map(|(condition, rules)| RuleNode::Combined { condition, rules }),
        1 => rule_node(),
    ]
}

fn search_body() -> impl Strategy<Value = SearchBody> {
    let fields = prop_oneof![
        10 => Just(FieldsPick::Absent),
        8 => vec(field(), 0..4).prop_map(FieldsPick::List),
        1 => prop_oneof![Just(FieldsPick::NotArray), Just(FieldsPick::NotStrings)],
    ];
    let sort = prop_oneof![
        6 => Just(SortPick::Absent),
        8 => vec((field(), any::<u8>()), 1..3).prop_map(SortPick::Keys),
        1 => Just(SortPick::NotString),
    ];
    // Indexes below 9 (start) and 8 (limit) are valid values.
    let start = prop_oneof![30 => 0u8..9, 1 => any::<u8>()];
    let limit = prop_oneof![30 => 0u8..8, 1 => any::<u8>()];
    (
        option::weighted(0.6, top_rule()),
        fields,
        start,
        limit,
        sort,
    )
        .prop_map(|(conditions, fields, start, limit, sort)| SearchBody {
            conditions,
            fields,
            start,
            limit,
            sort,
        })
}

fn batch() -> impl Strategy<Value = Op> {
    let details = prop_oneof![
        12 => vec((inst(), inst()), 0..8),
        1 => vec((inst(), inst()), 190..=210),
    ];
    let models = prop_oneof![
        9 => Just(BatchModels::Slot),
        1 => (model(), model()).prop_map(|(a, b)| BatchModels::Given(a, b)),
    ];
    (assoc(), models, details, any::<bool>(), any::<bool>()).prop_map(
        |(assoc, models, details, idempotent, atomic)| Op::Batch {
            assoc,
            models,
            details,
            idempotent,
            atomic,
        },
    )
}

fn register_ids() -> impl Strategy<Value = Vec<InstPick>> {
    prop_oneof![
        4 => subsequence((0u8..6).collect::<Vec<u8>>(), 0..=6)
            .prop_shuffle()
            .prop_map(|ids| ids.into_iter().map(InstPick).collect()),
        1 => vec(inst(), 0..5),
    ]
}

fn id_list() -> impl Strategy<Value = IdList> {
    prop_oneof![
        8 => vec(rec(), 1..5).prop_map(IdList::Picks),
        1 => Just(IdList::Empty),
        1 => any::<u8>().prop_map(IdList::Many),
    ]
}

/// One op, weighted towards creates and the definitions they need (never
/// `Checkpoint`, `Reopen` or `Crash`).
pub(crate) fn op_strategy() -> impl Strategy<Value = Op> {
    Union::new_weighted(arms())
}

/// Sequences for a durable store: as [`ops_strategy`], with
/// [`durable_op_strategy`]'s ops.
pub(crate) fn durable_ops_strategy(crash: bool) -> impl Strategy<Value = Vec<Op>> {
    let setup = prop_oneof![4 => setup(), 1 => Just(Vec::new())];
    (setup, vec(durable_op_strategy(crash), 1..=100)).prop_map(|(mut ops, more)| {
        ops.extend(more);
        ops.truncate(100);
        ops
    })
}

/// [`op_strategy`]'s ops plus `Checkpoint`, `Reopen` and (if `crash`)
/// `Crash`, each about one op in 14.
pub(crate) fn durable_op_strategy(crash: bool) -> impl Strategy<Value = Op> {
    let mut arms = arms();
    let total: u32 = arms.iter().map(|(w, _)| w).sum();
    let added = if crash { 3 } else { 2 };
    // w / (total + added·w) ≥ 1/15, the first whole w: 6 of 84 with the
    // current weights.
    let w = total.div_ceil(15 - added);
    arms.push((w, Just(Op::Checkpoint).boxed()));
    arms.push((w, Just(Op::Reopen).boxed()));
    if crash {
        arms.push((w, Just(Op::Crash).boxed()));
    }
    Union::new_weighted(arms)
}

/// The weighted arms of [`op_strategy`], one per operation.
#[allow(clippy::too_many_lines)] // one line per operation
fn arms() -> Vec<(u32, BoxedStrategy<Op>)> {
    vec![
        (
            1,
            (kind(), any::<bool>())
                .prop_map(|(kind, labelled)| Op::CreateKind { kind, labelled })
                .boxed(),
        ),
        (
            6,
            (
                assoc(),
                option::weighted(0.15, (model(), kind(), model())),
                any::<u8>().prop_map(MappingPick),
                any::<u8>().prop_map(OnDeletePick),
                any::<bool>(),
            )
                .prop_map(
                    |(slot, alter, mapping, on_delete, named)| Op::CreateModelAssoc {
                        slot,
                        alter,
                        mapping,
                        on_delete,
                        named,
                    },
                )
                .boxed(),
        ),
        (
            1,
            any::<u8>()
                .prop_map(|id| Op::DeleteModelAssoc { id })
                .boxed(),
        ),
        (
            1,
            (model(), any::<bool>())
                .prop_map(|(model, named)| Op::DefineModel { model, named })
                .boxed(),
        ),
        (
            3,
            (
                model(),
                option::weighted(0.8, inst()),
                option::of(any::<u8>().prop_map(NamePick)),
            )
                .prop_map(|(model, id, name)| Op::RegisterInstance { model, id, name })
                .boxed(),
        ),
        (
            5,
            (model(), register_ids())
                .prop_map(|(model, ids)| Op::RegisterInstances { model, ids })
                .boxed(),
        ),
        (
            2,
            (model(), inst())
                .prop_map(|(model, id)| Op::DeleteInstance { model, id })
                .boxed(),
        ),
        (
            1,
            (model(), vec(inst(), 0..4))
                .prop_map(|(model, ids)| Op::DeleteInstances { model, ids })
                .boxed(),
        ),
        (
            14,
            (assoc(), inst(), inst())
                .prop_map(|(assoc, src, dst)| Op::Create { assoc, src, dst })
                .boxed(),
        ),
        (6, batch().boxed()),
        (
            3,
            (model(), rec())
                .prop_map(|(model, id)| Op::DeleteById { model, id })
                .boxed(),
        ),
        (
            2,
            (model(), id_list())
                .prop_map(|(model, ids)| Op::DeleteByIds { model, ids })
                .boxed(),
        ),
        (
            1,
            (model(), inst())
                .prop_map(|(model, id)| Op::DeleteAssociationsOf { model, id })
                .boxed(),
        ),
        (
            2,
            (model(), inst())
                .prop_map(|(model, id)| Op::Cascade { model, id })
                .boxed(),
        ),
        (1, rec().prop_map(|id| Op::Get { id }).boxed()),
        (
            3,
            (model(), find_cond())
                .prop_map(|(model, condition)| Op::Find { model, condition })
                .boxed(),
        ),
        (
            3,
            (model(), search_body())
                .prop_map(|(model, body)| Op::Search { model, body })
                .boxed(),
        ),
        (
            2,
            (model(), option::weighted(0.7, top_rule()))
                .prop_map(|(model, conditions)| Op::Count { model, conditions })
                .boxed(),
        ),
        (
            2,
            (
                model(),
                inst(),
                prop_oneof![1 => Just(Vec::new()), 6 => vec(field(), 1..4)],
                any::<u8>(),
                any::<u8>(),
            )
                .prop_map(|(model, id, fields, start, limit)| Op::Related {
                    model,
                    id,
                    fields,
                    start,
                    limit,
                })
                .boxed(),
        ),
        (
            2,
            (model(), inst(), any::<bool>())
                .prop_map(|(model, id, upstream)| Op::Topology {
                    model,
                    id,
                    upstream,
                })
                .boxed(),
        ),
        (
            2,
            (model(), inst(), towards(), filter())
                .prop_map(|(model, id, towards, filter)| Op::Neighbours {
                    model,
                    id,
                    towards,
                    filter,
                })
                .boxed(),
        ),
        (
            2,
            (
                model(),
                inst(),
                towards(),
                any::<u8>(),
                option::weighted(0.3, any::<u8>()),
                filter(),
            )
                .prop_map(
                    |(model, id, towards, depth, node_limit, filter)| Op::Traverse {
                        model,
                        id,
                        towards,
                        depth,
                        node_limit,
                        filter,
                    },
                )
                .boxed(),
        ),
        (
            1,
            (
                (model(), inst()),
                (model(), inst()),
                towards(),
                any::<u8>(),
                filter(),
            )
                .prop_map(|(from, to, towards, depth, filter)| Op::ShortestPath {
                    from,
                    to,
                    towards,
                    depth,
                    filter,
                })
                .boxed(),
        ),
    ]
}
