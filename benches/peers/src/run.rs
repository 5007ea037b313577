//! Runs the standard workload on one system: setup, bulk load (timed and
//! weighed), lookups, single creates.

use std::hint::black_box;
use std::time::Instant;

use crate::assocstore_system::Assocstore;
use crate::hashmap_peer::HashMapPeer;
use crate::indradb_peer::IndraDb;
use crate::measure::{chunked, heap_bytes, median};
use crate::redb_peer::Redb;
use crate::sqlite_peer::Sqlite;
use crate::system::{Found, System};
use crate::workload::Workload;

/// The systems, in report order.
pub const SYSTEMS: [&str; 6] = [
    "assocstore",
    "sqlite",
    "indradb",
    "hashmap",
    "redb",
    "floor",
];

/// The systems a report runs unless `--systems` says otherwise: every store
/// (redb, added for the durable section, and the floor, a reference, are
/// asked for by name).
pub const DEFAULT_SYSTEMS: [&str; 4] = ["assocstore", "sqlite", "indradb", "hashmap"];

/// The timed operations, in report order.
pub const OPS: [&str; 6] = [
    "bulk_load",
    "create_one",
    "get_by_id",
    "by_source",
    "by_target",
    "find_by_model",
];

/// Batches per timed bulk-load chunk (10,000 items).
pub const LOAD_CHUNK: usize = 50;
/// Lookups per timed chunk.
const LOOKUP_CHUNK: usize = 1000;
/// Single creates per timed chunk.
const CREATE_CHUNK: usize = 200;

/// What each phase returned, to check against the workload.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// Bulk load: (created, refused).
    pub bulk: (usize, usize),
    /// Single creates: (created, refused).
    pub single: (usize, usize),
    /// Get by id.
    pub get: Found,
    /// By (model association, source).
    pub by_source: Found,
    /// By (model association, target).
    pub by_target: Found,
    /// Every record touching a model, all rounds.
    pub find: Found,
}

/// One system's figures.
#[derive(Debug, Clone)]
pub struct Run {
    /// One of [`SYSTEMS`].
    pub system: &'static str,
    /// Whether it ran the write phases (all but the floor did).
    pub writes: bool,
    /// Median ns per operation, in [`OPS`] order.
    pub ns: [f64; 6],
    /// Seconds for the whole bulk load.
    pub load_secs: f64,
    /// Heap bytes per stored association after the load (setup excluded).
    pub bytes_per_assoc: f64,
    /// Bytes of that outside the Rust heap (SQLite's pages).
    pub foreign_bytes: usize,
    /// Heap bytes of the empty system with instances registered.
    pub setup_bytes: usize,
    /// Associations stored by the load.
    pub stored: usize,
    /// Results, for the check.
    pub outcome: Outcome,
}

fn build(system: &str, w: &Workload) -> Box<dyn System> {
    match system {
        "assocstore" => Box::new(Assocstore::new(w)),
        "sqlite" => Box::new(Sqlite::new(w)),
        "indradb" => Box::new(IndraDb::new(w)),
        "hashmap" => Box::new(HashMapPeer::new(w)),
        "redb" => Box::new(Redb::new(w)),
        "floor" => Box::new(crate::floor::Floor::new(w)),
        other => unreachable!("unknown system {other}"),
    }
}

/// Runs the whole workload on `system` and drops it before returning.
pub fn run(system: &'static str, w: &Workload) -> Run {
    let progress = |what: &str, secs: f64| eprintln!("[{system}] {what}: {secs:.2} s");
    let base = heap_bytes();
    let t = Instant::now();
    let sys = build(system, w);
    let setup_bytes = heap_bytes().saturating_sub(base);
    progress(
        "setup (model associations, instances)",
        t.elapsed().as_secs_f64(),
    );
    Run {
        setup_bytes,
        ..run_system(system, sys, w)
    }
}

/// Runs the whole workload on `sys`, already set up, and drops it before
/// returning (`setup_bytes` is left 0).
pub fn run_system(system: &'static str, sys: Box<dyn System>, w: &Workload) -> Run {
    let progress = |what: &str, secs: f64| eprintln!("[{system}] {what}: {secs:.2} s");
    let before = heap_bytes();
    let foreign_before = sys.foreign_bytes();
    let mut out = Outcome::default();
    let writes = !sys.read_only();
    let (load_ns, load_secs) = if writes {
        chunked(
            &w.batches,
            LOAD_CHUNK,
            |part| part.iter().map(|b| b.items.len()).sum(),
            |b| {
                let (c, r) = sys.bulk_load(w, b);
                out.bulk.0 += c;
                out.bulk.1 += r;
            },
        )
    } else {
        (f64::NAN, f64::NAN)
    };
    let foreign_bytes = sys.foreign_bytes().saturating_sub(foreign_before);
    let heap = heap_bytes().saturating_sub(before) + foreign_bytes;
    // The floor is built loaded: it holds every record the load creates.
    let stored = if writes { out.bulk.0 } else { w.by_id.len() };
    progress("bulk load", load_secs);

    let (get_ns, secs) = chunked(&w.get_ids, LOOKUP_CHUNK, <[_]>::len, |&id| {
        sys.get_by_id(black_box(id), &mut out.get);
    });
    progress("get_by_id", secs);
    let (src_ns, secs) = chunked(&w.by_source, LOOKUP_CHUNK, <[_]>::len, |&(a, s)| {
        sys.by_source(&w.assocs[a], black_box(s), &mut out.by_source);
    });
    progress("by_source", secs);
    let (dst_ns, secs) = chunked(&w.by_target, LOOKUP_CHUNK, <[_]>::len, |&(a, d)| {
        sys.by_target(&w.assocs[a], black_box(d), &mut out.by_target);
    });
    progress("by_target", secs);

    let mut rounds = Vec::with_capacity(w.find_rounds);
    let t = Instant::now();
    for _ in 0..w.find_rounds {
        let round = Instant::now();
        for m in 0..w.models.len() {
            sys.find_by_model(w, m, &mut out.find);
        }
        rounds.push(round.elapsed().as_nanos() as f64 / w.models.len() as f64);
    }
    let find_ns = median(&mut rounds);
    progress("find_by_model", t.elapsed().as_secs_f64());

    let create_ns = if writes {
        let (create_ns, secs) = chunked(&w.singles, CREATE_CHUNK, <[_]>::len, |&(a, s, d)| {
            if sys.create_one(&w.assocs[a], s, d) {
                out.single.0 += 1;
            } else {
                out.single.1 += 1;
            }
        });
        progress("create_one", secs);
        create_ns
    } else {
        f64::NAN
    };

    let t = Instant::now();
    drop(sys);
    progress("drop", t.elapsed().as_secs_f64());
    Run {
        system,
        writes,
        ns: [load_ns, create_ns, get_ns, src_ns, dst_ns, find_ns],
        load_secs,
        bytes_per_assoc: if writes {
            heap as f64 / stored.max(1) as f64
        } else {
            f64::NAN
        },
        foreign_bytes,
        setup_bytes: 0,
        stored,
        outcome: out,
    }
}
