//! The reference model of SPEC and the one `Op` enum, shared by
//! `tests/model.rs` (property tests), `tests/stress.rs` (the replay of a
//! concurrent run), `tests/model_regressions.rs` (named scenarios) and the
//! fuzz targets (`#[path = "../../tests/model/mod.rs"] mod model;`).
//!
//! The model is deliberately naive: vectors scanned from the start, every
//! check a separate `if` in SPEC's order, messages rendered from SPEC §2's
//! table. It shares no code with `src/`: it uses the crate's public types
//! only to call the store (and `Mapping` / `OnDelete` as plain values).
//! Depends on `assocstore`, `serde_json`, `proptest` and `arbitrary` only.
//!
//! | file | what |
//! |---|---|
//! | `domain.rs` | the small domains: models, instances, kinds, model associations, fields |
//! | `op.rs` | the `Op` enum and the JSON of conditions and rules |
//! | `strategy.rs` | the proptest strategies |
//! | `reference.rs` | the model's state and writes (SPEC §3.1–§3.3, §3.5) |
//! | `find.rs`, `rules.rs`, `reads.rs` | the model's reads (SPEC §3.4) |
//! | `apply.rs` | `apply(store, model, op)`, `step(target, model, op)` and the full comparison |
//! | `feed.rs` | each step's change-feed events against the model, and a follower of the whole feed |
//! | `target.rs` | the store under test, which a durable configuration reopens and crashes |
#![allow(dead_code, unused_imports, unreachable_pub)]

mod apply;
mod domain;
mod feed;
mod find;
mod op;
mod reads;
mod reference;
mod rules;
pub(crate) use rules::OPERATORS;
mod strategy;
mod target;

pub(crate) use apply::{apply, check_contents, fail_of, outcome_counts, rec_of, same, step};
pub(crate) use domain::{
    ALL_MODELS, AssocPick, FieldPick, InstPick, KindPick, MappingPick, ModelPick, NamePick,
    OnDeletePick, RecPick, SLOTS, StrPick, TowardsPick,
};
pub(crate) use op::{
    BatchModels, CondPick, FieldsPick, FilterPick, FindArg, FindCond, FindEntry, FindOpPick,
    IdList, Op, RuleNode, RuleOpPick, RuleVal, SearchBody, SortPick, ValPick,
};
pub(crate) use reference::{Assoc, BatchReq, Fail, Item, Model, Rec};
pub(crate) use strategy::{durable_op_strategy, durable_ops_strategy, op_strategy, ops_strategy};
pub(crate) use target::Target;

/// Runs `ops` on `store` and a fresh model, comparing after every step.
/// `Reopen` and `Crash` do nothing here (see [`run_ops_on`]).
///
/// # Errors
/// The step, the op and the disagreement.
pub(crate) fn run_ops(store: &assocstore::Store, ops: &[Op]) -> Result<(), String> {
    let mut model = Model::new(store.batch_limit());
    for (i, op) in ops.iter().enumerate() {
        apply(store, &mut model, op).map_err(|e| format!("step {i}: {op:?}\n{e}"))?;
    }
    Ok(())
}

/// Runs `ops` on `target` and a fresh model, comparing after every step;
/// `Reopen` and `Crash` restart a durable target.
///
/// # Errors
/// The step, the op and the disagreement.
/// After every step, the events since the step began must be the model's
/// changes, and at the end a follower fed the whole feed must equal the
/// model (`feed.rs`).
pub(crate) fn run_ops_on(target: &mut Target, ops: &[Op]) -> Result<(), String> {
    let mut model = Model::new(target.store().batch_limit());
    for (i, op) in ops.iter().enumerate() {
        let before = feed::Before::take(target.store(), &model);
        step(target, &mut model, op)
            .and_then(|()| before.check(target.store(), &model))
            .map_err(|e| format!("step {i}: {op:?}\n{e}"))?;
    }
    feed::check_follower(target.store(), &model).map_err(|e| format!("after the last step: {e}"))
}
