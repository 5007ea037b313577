//! The check: every system's outcomes against what the workload says must
//! happen, computed from the workload alone (a reference model that shares no
//! code with any system).

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::run::{Outcome, Run};
use crate::system::Found;
use crate::workload::{Triple, Workload};

/// The expected outcome for a system that enforces the mapping rules, and the
/// extra records a system that does not (IndraDB) also returns.
pub struct Reference {
    exact: Outcome,
    /// Breakers that a rule-less system stores, as found by each lookup.
    extra: Outcome,
}

/// Sums, over a list of lookup keys, what each key finds among `records`.
fn expect<K: std::hash::Hash + Eq + Copy>(
    keys: impl Iterator<Item = K> + Clone,
    records: &[(i64, Triple)],
    key_of: impl Fn(&Triple) -> Vec<K>,
) -> Found {
    let mut per_key: HashMap<K, Found> = keys.clone().map(|k| (k, Found::default())).collect();
    for &(id, t) in records {
        for k in key_of(&t) {
            if let Some(f) = per_key.get_mut(&k) {
                f.add(id, t.1, t.2);
            }
        }
    }
    let mut total = Found::default();
    for k in keys {
        let f = per_key[&k];
        total.count += f.count;
        total.sum = total.sum.wrapping_add(f.sum);
        total.sum_pairs = total.sum_pairs.wrapping_add(f.sum_pairs);
    }
    total
}

impl Reference {
    /// What the workload must produce.
    pub fn new(w: &Workload) -> Reference {
        let created: Vec<(i64, Triple)> = (1..).zip(w.by_id.iter().copied()).collect();
        let breakers: Vec<(i64, Triple)> = w.bulk_breakers.iter().map(|&t| (0, t)).collect();
        let lookups = |records: &[(i64, Triple)]| {
            let by_source = expect(w.by_source.iter().copied(), records, |t| vec![(t.0, t.1)]);
            let by_target = expect(w.by_target.iter().copied(), records, |t| vec![(t.0, t.2)]);
            let rounds = (0..w.find_rounds).flat_map(|_| 0..w.models.len());
            let find = expect(rounds, records, |t| {
                let a = &w.assocs[t.0];
                if a.src == a.dst {
                    vec![a.src]
                } else {
                    vec![a.src, a.dst]
                }
            });
            (by_source, by_target, find)
        };
        let mut get = Found::default();
        for &id in &w.get_ids {
            let (_, s, d) = w.by_id[(id - 1) as usize];
            get.add(id, s, d);
        }
        let (by_source, by_target, find) = lookups(&created);
        let bad = |e: &crate::workload::Expected| e.repeats + e.breakers;
        let exact = Outcome {
            bulk: (w.bulk.valid, bad(&w.bulk)),
            single: (w.single.valid, bad(&w.single)),
            get,
            by_source,
            by_target,
            find,
        };
        let (by_source, by_target, find) = lookups(&breakers);
        let extra = Outcome {
            bulk: (w.bulk.breakers, 0),
            single: (w.single.breakers, 0),
            by_source,
            by_target,
            find,
            ..Outcome::default()
        };
        Reference { exact, extra }
    }

    /// Problems with one run; empty when it did exactly what it must.
    /// IndraDB enforces no mapping: it must store every breaker and agree on
    /// everything else, ids aside (its ids are its own).
    pub fn problems(&self, run: &Run) -> Vec<String> {
        let (e, x, got) = (&self.exact, &self.extra, &run.outcome);
        let rule_less = run.system == "indradb";
        let mut problems = Vec::new();
        let mut want = |what: &str, expected: String, actual: String| {
            if expected != actual {
                problems.push(format!(
                    "{} {what}: expected {expected}, got {actual}",
                    run.system
                ));
            }
        };
        let counts = |(c, r): (usize, usize), (xc, _): (usize, usize)| {
            if rule_less {
                format!("{} created, {} refused", c + xc, r - xc)
            } else {
                format!("{c} created, {r} refused")
            }
        };
        // A read-only system (the floor) ran no writes: only its reads count.
        if run.writes {
            want(
                "bulk_load",
                counts(e.bulk, x.bulk),
                counts(got.bulk, (0, 0)),
            );
            want(
                "create_one",
                counts(e.single, x.single),
                counts(got.single, (0, 0)),
            );
        }
        for (what, e, x, got) in [
            ("get_by_id", e.get, x.get, got.get),
            ("by_source", e.by_source, x.by_source, got.by_source),
            ("by_target", e.by_target, x.by_target, got.by_target),
            ("find_by_model", e.find, x.find, got.find),
        ] {
            let (expected, actual) = if rule_less && what == "get_by_id" {
                // Its ids count the breakers too: only how many were found.
                (
                    format!("{} records", e.count),
                    format!("{} records", got.count),
                )
            } else if rule_less {
                let sum = e.sum_pairs.wrapping_add(x.sum_pairs);
                (
                    format!("{} records, pairs {sum:x}", e.count + x.count),
                    format!("{} records, pairs {:x}", got.count, got.sum_pairs),
                )
            } else {
                (
                    format!("{} records, sum {:x}", e.count, e.sum),
                    format!("{} records, sum {:x}", got.count, got.sum),
                )
            };
            want(what, expected, actual);
            want(
                &format!("{what} order"),
                "id order".into(),
                if got.ordered { "id order" } else { "unordered" }.into(),
            );
        }
        problems
    }

    /// The one-line summary of what every system had to do; `rule_less`
    /// adds what IndraDB does on top.
    pub fn summary(&self, rule_less: bool) -> String {
        let (e, x) = (&self.exact, &self.extra);
        let mut line = format!(
            "bulk_load {} created / {} refused, create_one {} / {}; lookups found: get_by_id {}, \
             by_source {}, by_target {}, find_by_model {} records",
            e.bulk.0,
            e.bulk.1,
            e.single.0,
            e.single.1,
            e.get.count,
            e.by_source.count,
            e.by_target.count,
            e.find.count,
        );
        if rule_less {
            let _ = write!(
                line,
                " (IndraDB, enforcing no mapping, stores the {} + {} mapping breakers too and \
                 finds {} / {} / {} more)",
                x.bulk.0, x.single.0, x.by_source.count, x.by_target.count, x.find.count,
            );
        }
        line
    }
}
