//! The durable section's tables, targets and machine-readable lines.

use std::fmt::Write as _;

use crate::durable::measure::{ROUND_CALLS, ROUNDS, paired};
use crate::durable::{LoadRow, Section, THREADS};
use crate::report::num;
use crate::workload::Workload;

/// The assocstore row a load row is compared with: the one at its level.
fn same_level(key: &str) -> Option<&'static str> {
    match key {
        "sqlite-normal" | "redb-none" => Some("assocstore-eventual"),
        "sqlite-full" | "redb-immediate" | "floor" => Some("assocstore-immediate"),
        _ => None,
    }
}

fn bytes_per(bytes: u64, stored: usize) -> String {
    format!("{:.1}", bytes as f64 / stored.max(1) as f64)
}

fn load_table(s: &Section, stored: usize) -> String {
    let mut t = String::from(
        "| bulk load, batches of 200 | ns per item | items/s | total s | speed-up of assocstore, \
         same level | on disk, bytes per association ³ | of it, not the instance registry ³ |\n\
         |---|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in &s.loads {
        let ours = same_level(r.key).and_then(|k| s.load(k));
        let speed_up = ours.map_or("–".into(), |o| {
            format!("{:.2}×", paired(&r.load.chunks, &o.load.chunks))
        });
        let (disk, data) = r.disk.map_or(("–".into(), "–".into()), |(all, setup)| {
            (
                bytes_per(all, stored),
                bytes_per(all - setup.min(all), stored),
            )
        });
        let _ = writeln!(
            t,
            "| {} | {} | {} | {:.2} | {speed_up} | {disk} | {data} |",
            r.label,
            num(r.load.ns_per_item),
            num(r.load.rate()),
            r.load.secs,
        );
    }
    t
}

fn create_table(s: &Section) -> String {
    let mut t = String::from(
        "| single creates at `Immediate` | threads | calls/s | µs per call | × assocstore, 1 \
         thread |\n|---|--:|--:|--:|--:|\n",
    );
    let one = s.create("assocstore-immediate", 1);
    for r in &s.creates {
        let x = one.map_or("–".into(), |o| {
            format!("{:.2}×", paired(&r.rounds, &o.rounds))
        });
        let _ = writeln!(
            t,
            "| {} | {} | {} | {:.0} | {x} |",
            r.label,
            r.threads,
            num(r.per_sec),
            1e6 / r.per_sec
        );
    }
    t
}

fn reopen_table(s: &Section) -> String {
    let mut t = String::from(
        "| reopen after the load: open + first query | seconds | what the open did |\n|---|--:|---|\n",
    );
    for r in &s.reopens {
        let note = if r.note.is_empty() { "–" } else { &r.note };
        let _ = writeln!(t, "| {} | {:.3} | {note} |", r.label, r.secs);
    }
    t
}

/// One target: what it asks, the measured value, and whether it is met
/// (`None`: not measurable at this `n`).
struct Target {
    key: &'static str,
    what: String,
    value: f64,
    shown: String,
    met: Option<bool>,
}

fn targets(w: &Workload, s: &Section) -> Vec<Target> {
    let mut out = Vec::new();
    let chunks = |k: &str| s.load(k).map_or(&[][..], |r| &r.load.chunks[..]);
    let secs = |k: &str| s.load(k).map_or(f64::NAN, |r| r.load.secs);
    // The judged figure is the paired median; the whole load's ratio is shown too.
    let ratio = |key, what: &str, value: f64, total: f64, met: bool| Target {
        key,
        what: what.into(),
        value,
        shown: format!("{value:.2}× (whole load: {total:.2}×)"),
        met: Some(met),
    };
    let (mem, ev, im) = ("memory", "assocstore-eventual", "assocstore-immediate");
    let x = paired(chunks(mem), chunks(ev));
    out.push(ratio(
        "eventual_vs_memory",
        "`Eventual` bulk load ≥ 0.7× the in-memory assocstore rate",
        x,
        secs(mem) / secs(ev),
        x >= 0.7,
    ));
    let x = paired(chunks(im), chunks("floor"));
    out.push(ratio(
        "immediate_vs_floor",
        "`Immediate` bulk load within 1.5× of the floor's time",
        x,
        secs(im) / secs("floor"),
        x <= 1.5,
    ));
    for (key, peer, name) in [
        ("immediate_vs_sqlite_full", "sqlite-full", "SQLite `FULL`"),
        ("immediate_vs_redb", "redb-immediate", "redb `Immediate`"),
    ] {
        let x = paired(chunks(peer), chunks(im));
        out.push(ratio(
            key,
            &format!("`Immediate` bulk load ≥ 3× {name} (rate)"),
            x,
            secs(peer) / secs(im),
            x >= 3.0,
        ));
    }
    let (one, many) = (s.create(im, 1), s.create(im, THREADS));
    let x = one
        .zip(many)
        .map_or(f64::NAN, |(o, m)| paired(&m.rounds, &o.rounds));
    let per_sec = |r: Option<&crate::durable::CreateRow>| r.map_or(f64::NAN, |r| r.per_sec);
    out.push(Target {
        key: "creates_8_vs_1",
        what: format!("{THREADS} threads of single `Immediate` creates ≥ 4× one thread"),
        value: x,
        shown: format!(
            "{x:.2}× (medians {} vs {} calls/s)",
            num(per_sec(many)),
            num(per_sec(one))
        ),
        met: Some(x >= 4.0),
    });
    let reopen = |k: &str| s.reopen(k).map_or(f64::NAN, |r| r.secs);
    let worst = [
        "assocstore-immediate-replay",
        "assocstore-immediate-snapshot",
        "assocstore-eventual-replay",
        "assocstore-eventual-snapshot",
    ]
    .map(reopen)
    .into_iter()
    .fold(f64::NAN, f64::max);
    out.push(Target {
        key: "reopen_secs",
        what: "reopen of the loaded store < 3 s at n = 10,000,000 (slowest of the four)".into(),
        value: worst,
        shown: format!("{worst:.3} s at n = {}", num(w.n as f64)),
        met: (w.n >= 10_000_000).then_some(worst < 3.0),
    });
    let stored = w.by_id.len().max(1) as f64;
    let disk = [ev, im]
        .map(|k| {
            s.load(k)
                .and_then(|r| r.disk)
                .map_or(f64::NAN, |d| d.0 as f64 / stored)
        })
        .into_iter()
        .fold(f64::NAN, f64::max);
    out.push(Target {
        key: "disk_bytes_per_assoc",
        what: "≤ 24 bytes on disk per association after a checkpoint".into(),
        value: disk,
        shown: format!("{disk:.1} bytes (directory ÷ associations)"),
        met: Some(disk <= 24.0),
    });
    out
}

/// Prints the section to stdout.
pub fn print(w: &Workload, s: &Section) {
    let stored = w.by_id.len();
    println!();
    println!(
        "## Durable: the same load on files, n = {}",
        num(w.n as f64)
    );
    println!();
    println!(
        "Each system in its own directory under `{}` (removed afterwards). The systems of one \
         level load side by side, taking each chunk of 50 batches in turn (the `Eventual` ones, \
         then the `Immediate` ones), so a change in the disk's speed hits them alike. ns per \
         item is the median over chunks; items/s = 10⁹ ÷ it; total s adds up every batch call. \
         Speed-up = the median over chunks of the row's ns per item ÷ assocstore's in the same \
         chunk, at the same level (above 1: assocstore is faster).",
        std::env::temp_dir().display()
    );
    println!();
    print!("{}", load_table(s, stored));
    println!();
    println!(
        "assocstore's journal grew by {} bytes during the load ({:.1} per item, frames included); \
         the floor appends the same bytes per batch.",
        num(s.journal_bytes as f64),
        s.journal_bytes as f64 / w.n as f64
    );
    println!();
    println!(
        "Single creates: fresh valid `n:n` triples (every call must succeed) on the stores just \
         loaded at `Immediate`; {ROUNDS} rounds of {ROUND_CALLS} calls (split between the \
         threads, each its own triples), the configurations taking rounds in turn. calls/s \
         is the median round; × = the median over rounds of the paired ratio."
    );
    println!();
    print!("{}", create_table(s));
    println!();
    print!("{}", reopen_table(s));
    println!();
    if s.load("redb-none").is_some() {
        println!(
            "¹ A redb `None` commit is not persisted until a later `Immediate` one: a crash, even of \
         the process alone, loses it. The load ends with one `Immediate` commit (untimed). \
         assocstore `Eventual` and SQLite `NORMAL` survive a killed process."
        );
    }
    println!(
        "² `Store::open` after `close()`: \"journal replay\" with no checkpoint since the load (the \
         setup was checkpointed: the load's journal is replayed on the setup's snapshot), \"from \
         the snapshot\" after `checkpoint()`. Every reopen reads back the last record loaded; the \
         files are in the OS cache."
    );
    println!(
        "³ The files in the system's directory after the load and a checkpoint (assocstore \
         `checkpoint()`; SQLite `wal_checkpoint(TRUNCATE)`, `-shm` included; redb its file), ÷ \
         the {} associations; the second figure subtracts the same after setup (the {} instances \
         registered, before the load).",
        num(stored as f64),
        num(w.models.iter().map(|m| m.count).sum::<i64>() as f64)
    );
    println!();
    println!("### Targets");
    println!();
    if w.n != 1_000_000 {
        println!(
            "The targets are set at n = 1,000,000 (the reopen one at 10,000,000); this run is at \
             n = {}.",
            num(w.n as f64)
        );
        println!();
    }
    println!("| target | measured | met |\n|---|--:|---|");
    let mut targets = targets(w, s);
    for t in targets.iter_mut().filter(|t| t.value.is_nan()) {
        t.met = None;
        t.shown = "not measured (peer left out)".into();
    }
    for t in &targets {
        let met = match t.met {
            Some(true) => "met",
            Some(false) => "**not met**",
            None if t.value.is_nan() => "–",
            None => "not judged at this n",
        };
        println!("| {} | {} | {met} |", t.what, t.shown);
    }
    println!();
    if s.problems.is_empty() {
        println!(
            "durable check ok: every load created {} and refused {}, every single create \
             succeeded, every reopen found the last record",
            w.bulk.valid,
            w.bulk.repeats + w.bulk.breakers
        );
    } else {
        println!("durable check FAILED:\n{}", s.problems.join("\n"));
    }
    machine_lines(w, s, &targets);
}

fn machine_lines(w: &Workload, s: &Section, targets: &[Target]) {
    for r in &s.loads {
        let LoadRow { key, load, .. } = r;
        println!(
            "durable_load {key} {} {:.1} {:.3}",
            w.n, load.ns_per_item, load.secs
        );
        if let Some((all, _)) = r.disk {
            let per = all as f64 / w.by_id.len().max(1) as f64;
            println!("durable_bytes_per_assoc {key} {} {per:.1}", w.n);
        }
    }
    for r in &s.creates {
        println!("durable_create {} {} {:.0}", r.key, r.threads, r.per_sec);
    }
    for r in &s.reopens {
        println!("durable_reopen {} {} {:.3}", r.key, w.n, r.secs);
    }
    for t in targets {
        let met = match t.met {
            Some(true) => "met",
            Some(false) => "not_met",
            None if t.value.is_nan() => "not_measured",
            None => "not_judged",
        };
        println!("target {} {} {:.3} {met}", t.key, w.n, t.value);
    }
}
