//! Paired A/B of two builds of assocstore: `new` (the working tree) and
//! `old` (a base revision that `run.sh` unpacks into `target/ab-base`).
//!
//! On a machine whose neighbours change its speed from minute to minute, two
//! report runs cannot tell a 5 % change from noise. Here both builds load the
//! same workload (the peers report's, `benches/peers/src/workload.rs`) in
//! alternating rounds of one process, each round timing every phase for
//! both; what is printed per phase is the median of old and new and the
//! median of the per-round new ÷ old ratios (below 1: new is faster).
//! The reads are the report's (100,000 lookups of each kind); whole-model
//! reads run one round per model where the report takes the median of
//! several.
//!
//! Usage: `benches/ab/run.sh BASE [ROUNDS] [N]`.

#[path = "../../peers/src/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use workload::Workload;

/// The phases, in the order they run and print.
const PHASES: [&str; 6] = [
    "bulk load (ns an item)",
    "create one",
    "get by id",
    "by source",
    "by target",
    "whole model",
];

/// Runs every phase of `w` on a fresh store of crate `$krate`; ns per
/// operation in [`PHASES`] order.
macro_rules! phases {
    ($krate:ident, $w:expr) => {{
        use $krate::{BatchCreate, NewModelAssociation, Store};
        let w: &Workload = $w;
        let per = |t: Instant, n: usize| t.elapsed().as_nanos() as f64 / n.max(1) as f64;
        let store = Store::new();
        for a in &w.assocs {
            let mapping: $krate::Mapping = a.mapping.as_str().parse().expect("mapping");
            let new = NewModelAssociation::new(a.src_name, a.kind, a.dst_name, mapping);
            store
                .create_model_association(&new)
                .expect("model association");
        }
        for m in &w.models {
            store
                .register_instances(m.name, m.ids())
                .expect("instances");
        }
        let mut sum = 0_usize;
        let t = Instant::now();
        for b in &w.batches {
            let a = &w.assocs[b.assoc];
            let req = BatchCreate::new(a.src_name, a.dst_name, &a.name, b.items.iter().copied());
            sum += store
                .batch_create_instance_associations(&req)
                .expect("batch")
                .created();
        }
        let bulk = per(t, w.batches.iter().map(|b| b.items.len()).sum());
        let t = Instant::now();
        for &id in &w.get_ids {
            sum += usize::from(store.edge(black_box(id)).is_some());
        }
        let get = per(t, w.get_ids.len());
        let mut buf = Vec::new();
        let t = Instant::now();
        for &(a, src) in &w.by_source {
            store
                .edges_from(&w.assocs[a].name, black_box(src), &mut buf)
                .expect("by source");
            sum += buf.len();
        }
        let by_source = per(t, w.by_source.len());
        let t = Instant::now();
        for &(a, dst) in &w.by_target {
            store
                .edges_to(&w.assocs[a].name, black_box(dst), &mut buf)
                .expect("by target");
            sum += buf.len();
        }
        let by_target = per(t, w.by_target.len());
        let t = Instant::now();
        for m in &w.models {
            store.edges_of_model(m.name, &mut buf).expect("whole model");
            sum += buf.len();
        }
        let model = per(t, w.models.len());
        let t = Instant::now();
        for &(a, src, dst) in &w.singles {
            sum += usize::from(
                store
                    .create_instance_association(&w.assocs[a].name, src, dst)
                    .is_ok(),
            );
        }
        let one = per(t, w.singles.len());
        black_box(sum);
        [bulk, one, get, by_source, by_target, model]
    }};
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        f64::midpoint(v[mid - 1], v[mid])
    } else {
        v[mid]
    }
}

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .map_or(default, |s| s.parse().expect("a number"))
    };
    let (rounds, n) = (arg(1, 11).max(1), arg(2, 1_000_000));
    let w = Workload::generate(n, 42);
    let mut old = vec![Vec::new(); PHASES.len()];
    let mut new = vec![Vec::new(); PHASES.len()];
    let mut ratio = vec![Vec::new(); PHASES.len()];
    for round in 0..rounds {
        // Alternate which build goes first: a second system reuses the
        // heap pages the first one freed.
        let (o, nw) = if round % 2 == 0 {
            let o = phases!(old, &w);
            (o, phases!(new, &w))
        } else {
            let nw = phases!(new, &w);
            (phases!(old, &w), nw)
        };
        for i in 0..PHASES.len() {
            old[i].push(o[i]);
            new[i].push(nw[i]);
            ratio[i].push(nw[i] / o[i]);
        }
        eprintln!(
            "round {round}: bulk load old {:.0} new {:.0} ns an item",
            o[0], nw[0]
        );
    }
    println!(
        "n = {n}, {rounds} rounds; ns per operation, medians; new/old = median of per-round ratios"
    );
    println!("| phase | old | new | new/old |\n|---|--:|--:|--:|");
    for i in 0..PHASES.len() {
        println!(
            "| {} | {:.1} | {:.1} | {:.3} |",
            PHASES[i],
            median(&mut old[i]),
            median(&mut new[i]),
            median(&mut ratio[i])
        );
    }
}
