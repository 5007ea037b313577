//! The markdown table and the machine-readable lines.

use std::fmt::Write as _;

use crate::run::{OPS, Run};
use crate::workload::Workload;

fn title(system: &str) -> &'static str {
    match system {
        "assocstore" => "assocstore",
        "sqlite" => "SQLite",
        "indradb" => "IndraDB ¹",
        "floor" => "floor ⁵",
        "redb" => "redb ⁶",
        _ => "HashMap",
    }
}

/// `1234567.8` → `1,234,568`; below 1000 one decimal.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "–".into();
    }
    if x < 1000.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(ours: f64, theirs: f64) -> f64 {
    theirs / ours
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    });
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    format!(
        "{}, {cores} cores",
        model.unwrap_or_else(|| "unknown CPU".into())
    )
}

/// Prints the table, its notes, the check line and the machine-readable
/// lines to stdout.
pub fn print(w: &Workload, runs: &[Run], check: &str) {
    let ours = runs.iter().find(|r| r.system == "assocstore");
    // Speed-ups need assocstore's figures.
    let peers: Vec<&Run> = match ours {
        Some(_) => runs.iter().filter(|r| r.system != "assocstore").collect(),
        None => Vec::new(),
    };
    println!("## assocstore and its peers, n = {}", num(w.n as f64));
    println!();
    println!(
        "Machine: {}. One process, one system after another (each dropped before the next), \
         seed {}, {} batches of up to 200, {} lookups of each kind, {} single creates.",
        cpu_model(),
        w.seed,
        w.batches.len(),
        w.get_ids.len(),
        w.singles.len()
    );
    println!();
    print!("{}", table(runs, ours, &peers));
    println!();
    notes(w, runs);
    println!();
    println!("{check}");
    if let Some(o) = ours {
        for p in &peers {
            for (i, op) in OPS.iter().enumerate() {
                let x = ratio(o.ns[i], p.ns[i]);
                if !x.is_nan() {
                    println!("ratio {op} {} {x:.2}", p.system);
                }
            }
        }
    }
    for r in runs.iter().filter(|r| !r.bytes_per_assoc.is_nan()) {
        println!(
            "bytes_per_assoc {} {} {:.1}",
            r.system, w.n, r.bytes_per_assoc
        );
    }
}

/// The markdown table: one column per system, then one speed-up column per
/// peer.
fn table(runs: &[Run], ours: Option<&Run>, peers: &[&Run]) -> String {
    let mut t = String::from("| operation |");
    for r in runs {
        let _ = write!(t, " {} |", title(r.system));
    }
    for p in peers {
        let _ = write!(
            t,
            " speed-up vs {} |",
            title(p.system)
                .trim_end_matches(" ¹")
                .trim_end_matches(" ⁶")
        );
    }
    t.push_str("\n|---|");
    t.push_str(&"--:|".repeat(runs.len() + peers.len()));
    t.push('\n');
    let labels = [
        "bulk_load, ns per item (batches of 200)",
        "create_one, ns/op",
        "get_by_id, ns/op",
        "by_source, ns/op",
        "by_target, ns/op",
        "find_by_model, ns/op ²",
    ];
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(t, "| {label} |");
        for r in runs {
            let _ = write!(t, " {} |", num(r.ns[i]));
        }
        for (o, p) in ours
            .into_iter()
            .flat_map(|o| peers.iter().map(move |p| (o, p)))
        {
            let x = ratio(o.ns[i], p.ns[i]);
            if x.is_nan() {
                t.push_str(" – |");
            } else {
                let _ = write!(t, " {x:.1}× |");
            }
        }
        t.push('\n');
    }
    let mut row = |label: &str, cell: &dyn Fn(&Run) -> String| {
        let _ = write!(t, "| {label} |");
        for r in runs {
            let _ = write!(t, " {} |", cell(r));
        }
        t.push_str(&" |".repeat(peers.len()));
        t.push('\n');
    };
    row("bytes per association ³", &|r| {
        let b = num(r.bytes_per_assoc);
        if r.foreign_bytes > 0 {
            format!("≥ {b}")
        } else {
            b
        }
    });
    row("bulk load, total seconds", &|r| {
        if r.load_secs.is_nan() {
            "–".into()
        } else {
            format!("{:.2}", r.load_secs)
        }
    });
    row("associations stored", &|r| num(r.stored as f64));
    row("instance registry, MiB ⁴", &|r| {
        format!("{:.1}", r.setup_bytes as f64 / f64::from(1 << 20))
    });
    row("rules enforced", &|r| {
        match r.system {
            "indradb" => "**no mapping rules**; repeats, instances",
            "sqlite" => "all, by the schema",
            "redb" => "all, per item in a write transaction",
            "floor" => "none: reads only",
            _ => "all",
        }
        .into()
    });
    t
}

fn notes(w: &Workload, runs: &[Run]) {
    let calls = (w.find_rounds * w.models.len()) as f64;
    let per_call = runs
        .first()
        .map_or(0.0, |r| r.outcome.find.count as f64 / calls);
    println!(
        "Times are medians: bulk_load over chunks of 50 batches (10,000 items), lookups over chunks \
         of 1,000, create_one over chunks of 200, find_by_model over rounds. Speed-up = the peer's \
         ns/op ÷ assocstore's (above 1: assocstore is faster)."
    );
    println!();
    println!(
        "¹ IndraDB enforces no mapping rule: it stores the `1:1` / `1:n` breakers that the others \
         refuse (exact repeats are refused: an edge is its key). Its lookups return those extra \
         records too."
    );
    println!(
        "² Every record touching one model (source or target), in id order; a round asks once for \
         each of the {m} models, ns/op is a round's time ÷ {m} ({} records per call on average).",
        num(per_call),
        m = w.models.len(),
    );
    println!(
        "³ Heap after the load minus heap before it (instances registered), ÷ associations stored, \
         from a counting global allocator (requested bytes, not malloc's overhead). SQLite keeps \
         its pages in C malloc, which that allocator cannot see: its figure adds \
         `page_count × page_size` and is a lower bound (page-cache headers not counted)."
    );
    println!(
        "⁴ Heap of the system before the load: models, model associations, {} registered instances \
         (SQLite: Rust side only).",
        num(w.models.iter().map(|m| m.count).sum::<i64>() as f64)
    );
    if runs.iter().any(|r| r.system == "floor") {
        println!(
            "⁵ Not a store: the lower bound on a read in this harness. The loaded state as perfect \
             arrays (records by id; per model association, each role's postings indexed by \
             instance id minus its model's first id): no hashing, probing, lock, rule or copy. A \
             peer's time ÷ the floor's caps the speed-up any store can show against it."
        );
    }
    if runs.iter().any(|r| r.system == "redb") {
        println!(
            "⁶ redb on its `InMemoryBackend` (commits `Durability::Immediate`, whose sync is a \
             no-op there): tables by id, by triple (also the index by source) and by target, the \
             rules checked per item in one write transaction per batch or call."
        );
    }
}
