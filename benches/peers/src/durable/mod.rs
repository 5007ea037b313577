//! The durable section (`--durable`): the workload's bulk load and single
//! creates on files, at each durability level, for assocstore, SQLite on a
//! file and redb, against a floor that only appends and syncs; then reopen
//! times and bytes on disk. Each system has its own directory under
//! `std::env::temp_dir()`, removed when it is done.
//!
//! Two phases, one per level, each loading its systems side by side (see
//! [`measure`]): `Eventual` (with assocstore in memory, SQLite `NORMAL`,
//! redb `None`), then `Immediate` (with SQLite `FULL`, redb `Immediate` and
//! the floor), whose stores then take the single creates.

pub mod measure;
pub mod report;

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use assocstore::{Durability, Store};
use redb::Durability as RedbDurability;

use self::measure::{CreateLane, JournalMeter, Lane, Load, TempDir, interleave};
use self::measure::{interleave_creates, round_here, round_on_threads};
use crate::assocstore_system::Assocstore;
use crate::measure::median;
use crate::redb_peer::Redb;
use crate::sqlite_peer::{Sqlite, Synchronous};
use crate::system::System;
use crate::workload::{Triple, Workload};

/// Threads of the concurrent single creates.
pub const THREADS: usize = 8;

/// One system at one level: its load, and what its files hold after it.
#[derive(Debug, Clone)]
pub struct LoadRow {
    /// Short name for the machine-readable lines.
    pub key: &'static str,
    /// What it is, for the table.
    pub label: &'static str,
    pub load: Load,
    /// Bytes in its directory after the load and a checkpoint, and after
    /// setup (instances registered); `None` for the floor and in memory.
    pub disk: Option<(u64, u64)>,
}

/// Single creates at `Immediate`: calls per second per round.
#[derive(Debug, Clone)]
pub struct CreateRow {
    pub key: &'static str,
    pub label: &'static str,
    pub threads: usize,
    pub rounds: Vec<f64>,
    /// The median round.
    pub per_sec: f64,
}

/// Seconds from "open" to the first query's answer.
#[derive(Debug, Clone)]
pub struct ReopenRow {
    pub key: &'static str,
    pub label: &'static str,
    pub secs: f64,
    /// What the open did (assocstore's open report).
    pub note: String,
}

/// Everything the section measured.
#[derive(Debug, Default)]
pub struct Section {
    pub loads: Vec<LoadRow>,
    pub creates: Vec<CreateRow>,
    pub reopens: Vec<ReopenRow>,
    /// Bytes assocstore's journal grew by during the `Immediate` load (what
    /// the floor writes).
    pub journal_bytes: u64,
    /// Outcomes that differ from the workload's.
    pub problems: Vec<String>,
}

impl Section {
    pub fn load(&self, key: &str) -> Option<&LoadRow> {
        self.loads.iter().find(|r| r.key == key)
    }

    pub fn create(&self, key: &str, threads: usize) -> Option<&CreateRow> {
        let mut rows = self.creates.iter();
        rows.find(|r| r.key == key && r.threads == threads)
    }

    pub fn reopen(&self, key: &str) -> Option<&ReopenRow> {
        self.reopens.iter().find(|r| r.key == key)
    }

    fn want(&mut self, what: &str, expected: &str, got: &str) {
        if expected != got {
            self.problems
                .push(format!("{what}: expected {expected}, got {got}"));
        }
    }

    /// Adds a load row, checking its outcome against the workload's.
    fn push_load(&mut self, w: &Workload, row: LoadRow) {
        if row.key != "floor" {
            let bad = w.bulk.repeats + w.bulk.breakers;
            let expected = format!("{} created, {bad} refused", w.bulk.valid);
            let (c, r) = row.load.outcome;
            let got = format!("{c} created, {r} refused");
            self.want(&format!("durable {} bulk_load", row.key), &expected, &got);
        }
        progress(&format!("{} bulk load", row.label), row.load.secs);
        self.loads.push(row);
    }

    /// Adds a reopen row; `last` is the last record the load created, as
    /// the reopened store answers it.
    fn push_reopen(&mut self, w: &Workload, row: ReopenRow, last: Option<(i64, i64)>) {
        let &(_, s, d) = w.by_id.last().expect("a record");
        let id = w.by_id.len();
        let (expected, got) = (format!("{:?}", Some((s, d))), format!("{last:?}"));
        self.want(
            &format!("durable {} reopen, record {id}", row.key),
            &expected,
            &got,
        );
        progress(&format!("{} reopen", row.label), row.secs);
        self.reopens.push(row);
    }
}

fn progress(what: &str, secs: f64) {
    eprintln!("[durable] {what}: {secs:.2} s");
}

/// The keys and labels of assocstore's rows at one level.
struct Names {
    key: &'static str,
    label: &'static str,
    replay: (&'static str, &'static str),
    snapshot: (&'static str, &'static str),
}

fn names(level: Durability) -> Names {
    match level {
        Durability::Immediate => Names {
            key: "assocstore-immediate",
            label: "assocstore, `Immediate`",
            replay: (
                "assocstore-immediate-replay",
                "assocstore `Immediate`, journal replay ²",
            ),
            snapshot: (
                "assocstore-immediate-snapshot",
                "assocstore `Immediate`, from the snapshot ²",
            ),
        },
        Durability::Eventual => Names {
            key: "assocstore-eventual",
            label: "assocstore, `Eventual`",
            replay: (
                "assocstore-eventual-replay",
                "assocstore `Eventual`, journal replay ²",
            ),
            snapshot: (
                "assocstore-eventual-snapshot",
                "assocstore `Eventual`, from the snapshot ²",
            ),
        },
    }
}

/// A durable assocstore at `level` with the workload's setup, checkpointed:
/// the directory, the store, and the bytes after setup.
fn assocstore_open(w: &Workload, level: Durability) -> (TempDir, Assocstore, u64) {
    let dir = TempDir::new(names(level).key);
    let store = Store::builder().path(&dir.0).durability(level).open();
    let sys = Assocstore::with_store(w, store.expect("open"));
    sys.store().checkpoint().expect("checkpoint");
    let setup = dir.bytes();
    (dir, sys, setup)
}

/// Opens assocstore's directory and reads the last record.
fn assocstore_reopen(
    w: &Workload,
    dir: &Path,
    s: &mut Section,
    key_label: (&'static str, &'static str),
) -> Store {
    let t = Instant::now();
    let store = Store::open(dir).expect("reopen");
    let last = store.edge(w.by_id.len() as i64);
    let secs = t.elapsed().as_secs_f64();
    let note = store.open_report().map_or(String::new(), |r| {
        format!(
            "{} associations from the snapshot, {} journal records replayed; `open_report().elapsed` {:.3} s",
            r.snapshot_records,
            r.records_replayed,
            r.elapsed.as_secs_f64()
        )
    });
    let (key, label) = key_label;
    let row = ReopenRow {
        key,
        label,
        secs,
        note,
    };
    s.push_reopen(w, row, last.map(|e| (e.bk_inst_id, e.bk_asst_inst_id)));
    store
}

/// After the load: close, reopen (journal replay), checkpoint, bytes, close,
/// reopen (from the snapshot). Returns the open store.
fn assocstore_after(
    w: &Workload,
    level: Durability,
    (dir, sys, setup): (TempDir, Assocstore, u64),
    load: Load,
    s: &mut Section,
) -> (TempDir, Store) {
    let n = names(level);
    sys.into_store().close().expect("close");
    let replay = assocstore_reopen(w, &dir.0, s, n.replay);
    replay.checkpoint().expect("checkpoint");
    let disk = Some((dir.bytes(), setup));
    replay.close().expect("close");
    s.push_load(
        w,
        LoadRow {
            key: n.key,
            label: n.label,
            load,
            disk,
        },
    );
    let store = assocstore_reopen(w, &dir.0, s, n.snapshot);
    (dir, store)
}

fn sqlite_names(sync: Synchronous) -> (&'static str, &'static str, &'static str) {
    match sync {
        Synchronous::Full => (
            "sqlite-full",
            "SQLite, WAL, `synchronous=FULL`",
            "SQLite `FULL`, open + first query",
        ),
        Synchronous::Normal => (
            "sqlite-normal",
            "SQLite, WAL, `synchronous=NORMAL`",
            "SQLite `NORMAL`, open + first query",
        ),
    }
}

/// SQLite on a new file in WAL mode with the workload's setup, checkpointed.
fn sqlite_open(w: &Workload, sync: Synchronous) -> (TempDir, Sqlite, u64) {
    let dir = TempDir::new(sqlite_names(sync).0);
    let db = Sqlite::on_file(w, &dir.file("db.sqlite"), sync);
    db.checkpoint();
    let setup = dir.bytes();
    (dir, db, setup)
}

/// After the load: `wal_checkpoint(TRUNCATE)`, bytes, close, reopen and a
/// first query. Returns the open database.
fn sqlite_after(
    w: &Workload,
    sync: Synchronous,
    (dir, db, setup): (TempDir, Sqlite, u64),
    load: Load,
    s: &mut Section,
) -> (TempDir, Sqlite) {
    let (key, label, reopened) = sqlite_names(sync);
    db.checkpoint();
    s.push_load(
        w,
        LoadRow {
            key,
            label,
            load,
            disk: Some((dir.bytes(), setup)),
        },
    );
    drop(db);
    let t = Instant::now();
    let db = Sqlite::open(&dir.file("db.sqlite"), sync);
    let last = db.record(w.by_id.len() as i64);
    let row = ReopenRow {
        key,
        label: reopened,
        secs: t.elapsed().as_secs_f64(),
        note: String::new(),
    };
    s.push_reopen(w, row, last);
    (dir, db)
}

fn redb_names(durability: RedbDurability) -> (&'static str, &'static str, &'static str) {
    if matches!(durability, RedbDurability::Immediate) {
        (
            "redb-immediate",
            "redb, `Durability::Immediate`",
            "redb `Immediate`, open + first query",
        )
    } else {
        (
            "redb-none",
            "redb, `Durability::None` ¹",
            "redb `None`, open + first query",
        )
    }
}

/// redb on a new file with the workload's setup.
fn redb_open(w: &Workload, durability: RedbDurability) -> (TempDir, Redb, u64) {
    let dir = TempDir::new(redb_names(durability).0);
    let db = Redb::create(w, &dir.file("db.redb"), durability);
    let setup = dir.bytes();
    (dir, db, setup)
}

/// After the load: one `Immediate` commit, bytes, close, reopen and a first
/// query. Returns the open database.
fn redb_after(
    w: &Workload,
    durability: RedbDurability,
    (dir, db, setup): (TempDir, Redb, u64),
    load: Load,
    s: &mut Section,
) -> (TempDir, Redb) {
    let (key, label, reopened) = redb_names(durability);
    db.sync();
    s.push_load(
        w,
        LoadRow {
            key,
            label,
            load,
            disk: Some((dir.bytes(), setup)),
        },
    );
    drop(db);
    let t = Instant::now();
    let db = Redb::open(&dir.file("db.redb"), durability);
    let last = db.record(w.by_id.len() as i64);
    let row = ReopenRow {
        key,
        label: reopened,
        secs: t.elapsed().as_secs_f64(),
        note: String::new(),
    };
    s.push_reopen(w, row, last);
    (dir, db)
}

/// `Eventual` and its peers, side by side, with assocstore in memory.
/// Returns the bytes assocstore's journal grew by per batch.
fn eventual(w: &Workload, peers: Peers, s: &mut Section) -> Vec<u64> {
    let memory = Assocstore::new(w);
    let ours = assocstore_open(w, Durability::Eventual);
    let meter = RefCell::new(JournalMeter::new(&ours.0.0));
    let lite = peers.sqlite.then(|| sqlite_open(w, Synchronous::Normal));
    let redb = peers.redb.then(|| redb_open(w, RedbDurability::None));
    eprintln!("[durable] Eventual, its peers and in memory: loading side by side");
    let mut lanes = vec![
        Lane::new(|_, b| memory.bulk_load(w, b)),
        Lane::new(|_, b| ours.1.bulk_load(w, b))
            .after(|i| meter.borrow_mut().read(w.batches[i].items.len())),
    ];
    if let Some(lite) = &lite {
        lanes.push(Lane::new(|_, b| lite.1.bulk_load(w, b)));
    }
    if let Some(redb) = &redb {
        lanes.push(Lane::new(|_, b| redb.1.bulk_load(w, b)));
    }
    let mut loads = interleave(w, lanes).into_iter();
    let mut next = || loads.next().expect("a load");
    drop(memory);
    let label = "assocstore in memory (`Store::new()`)";
    let load = next();
    s.push_load(
        w,
        LoadRow {
            key: "memory",
            label,
            load,
            disk: None,
        },
    );
    let (_, store) = assocstore_after(w, Durability::Eventual, ours, next(), s);
    store.close().expect("close");
    if let Some(lite) = lite {
        drop(sqlite_after(w, Synchronous::Normal, lite, next(), s));
    }
    if let Some(redb) = redb {
        drop(redb_after(w, RedbDurability::None, redb, next(), s));
    }
    meter.into_inner().per_batch
}

/// `Immediate` and its peers and the floor, side by side; then the single
/// creates, side by side. `journal` is the bytes per batch of the same
/// load's journal at `Eventual` (the records are the same), which the floor
/// appends.
fn immediate(w: &Workload, journal: &[u64], peers: Peers, s: &mut Section) {
    let ours = assocstore_open(w, Durability::Immediate);
    let lite = peers.sqlite.then(|| sqlite_open(w, Synchronous::Full));
    let redb = peers.redb.then(|| redb_open(w, RedbDurability::Immediate));
    let floor_dir = TempDir::new("floor");
    let mut floor = OpenOptions::new()
        .create(true)
        .append(true)
        .open(floor_dir.file("floor.wal"));
    let floor = floor.as_mut().expect("floor file");
    let meter = RefCell::new(JournalMeter::new(&ours.0.0));
    let mut bytes = Vec::new();
    eprintln!("[durable] Immediate, its peers and the floor: loading side by side");
    let mut lanes = vec![
        Lane::new(|_, b| ours.1.bulk_load(w, b))
            .after(|i| meter.borrow_mut().read(w.batches[i].items.len())),
        // As many bytes as the journal grew by for this batch, then
        // `fdatasync`, as the journal syncs.
        Lane::new(|i, b| {
            let n = journal[i] as usize;
            if bytes.len() < n {
                bytes.resize(n, 0xA5_u8);
            }
            floor.write_all(&bytes[..n]).expect("write");
            floor.sync_data().expect("sync");
            (b.items.len(), 0)
        }),
    ];
    if let Some(lite) = &lite {
        lanes.push(Lane::new(|_, b| lite.1.bulk_load(w, b)));
    }
    if let Some(redb) = &redb {
        lanes.push(Lane::new(|_, b| redb.1.bulk_load(w, b)));
    }
    let mut loads = interleave(w, lanes).into_iter();
    let mut next = || loads.next().expect("a load");
    s.journal_bytes = meter.borrow().per_batch.iter().sum();
    let eventual: u64 = journal.iter().sum();
    let (expected, got) = (eventual.to_string(), s.journal_bytes.to_string());
    s.want(
        "durable journal bytes at Immediate, as at Eventual",
        &expected,
        &got,
    );
    let (ours_load, floor_load) = (next(), next());
    let (_ours_dir, store) = assocstore_after(w, Durability::Immediate, ours, ours_load, s);
    let label = "floor: append the journal's bytes, `fdatasync` per batch";
    s.push_load(
        w,
        LoadRow {
            key: "floor",
            label,
            load: floor_load,
            disk: None,
        },
    );
    let lite = lite.map(|lite| sqlite_after(w, Synchronous::Full, lite, next(), s));
    let redb = redb.map(|redb| redb_after(w, RedbDurability::Immediate, redb, next(), s));
    drop(floor_dir);
    let (lite, redb) = (lite.as_ref().map(|l| &l.1), redb.as_ref().map(|r| &r.1));
    creates(w, &store, lite, redb, s);
    store.close().expect("close");
}

/// Single creates on the stores just loaded at `Immediate`: assocstore and
/// redb from 1 and [`THREADS`] threads, SQLite (one connection) from one,
/// taking rounds in turn.
fn creates(
    w: &Workload,
    store: &Store,
    lite: Option<&Sqlite>,
    redb: Option<&Redb>,
    s: &mut Section,
) {
    eprintln!("[durable] single creates at Immediate, side by side");
    let ours = |(a, src, dst): Triple| {
        let name = &w.assocs[a].name;
        store.create_instance_association(name, src, dst).is_ok()
    };
    let mut rows = vec![
        ("assocstore-immediate", "assocstore, `Immediate`", 1),
        ("assocstore-immediate", "assocstore, `Immediate`", THREADS),
    ];
    let mut lanes: Vec<CreateLane<'_>> = vec![
        Box::new(|t| round_on_threads(1, t, &ours)),
        Box::new(|t| round_on_threads(THREADS, t, &ours)),
    ];
    if let Some(lite) = lite {
        let mut create = move |(a, src, dst): Triple| lite.create_one(&w.assocs[a], src, dst);
        rows.push(("sqlite-full", "SQLite `FULL`, one transaction per call", 1));
        lanes.push(Box::new(move |t| round_here(t, &mut create)));
    }
    let theirs =
        redb.map(|redb| move |(a, src, dst): Triple| redb.create_one(&w.assocs[a], src, dst));
    if let Some(theirs) = &theirs {
        let label = "redb `Immediate`, one write transaction per call";
        rows.extend([
            ("redb-immediate", label, 1),
            ("redb-immediate", label, THREADS),
        ]);
        lanes.push(Box::new(|t| round_on_threads(1, t, theirs)));
        lanes.push(Box::new(|t| round_on_threads(THREADS, t, theirs)));
    }
    let results = interleave_creates(w, lanes);
    for ((key, label, threads), (rounds, failed)) in rows.into_iter().zip(results) {
        let per_sec = median(&mut rounds.clone());
        eprintln!("[durable] {key} create_one, {threads} threads: {per_sec:.0} calls/s");
        let (what, failed) = (
            format!("durable {key} create_one, {threads} threads"),
            format!("{failed} failed"),
        );
        s.want(&what, "0 failed", &failed);
        s.creates.push(CreateRow {
            key,
            label,
            threads,
            rounds,
            per_sec,
        });
    }
}

/// Which peers the section runs besides assocstore and the floor.
#[derive(Debug, Clone, Copy)]
pub struct Peers {
    pub sqlite: bool,
    pub redb: bool,
}

/// The whole section. Progress goes to stderr.
pub fn run(w: &Workload, peers: Peers) -> Section {
    let mut s = Section::default();
    let journal = eventual(w, peers, &mut s);
    immediate(w, &journal, peers, &mut s);
    s
}
