//! `kill -9` against the real binary: nothing acknowledged is ever lost.
//!
//! Each round starts `assocstore replay --data DIR --durability LEVEL`,
//! streams a seeded workload of write requests into it with up to a few
//! dozen lines in flight, reads the response lines on another thread, and
//! sends SIGKILL after a random number of answers. Then the test opens DIR itself with [`Store::open`]
//! and checks the store against what it knows:
//!
//! * every acknowledged effect is there: each model association, instance
//!   and association whose success line was read (ids and triples exact),
//!   and each acknowledged delete stays absent;
//! * nothing appears that was never requested: every model association,
//!   instance and association in the store was acknowledged, or is the
//!   effect of a request sent but not answered before the kill (such a
//!   request may or may not have taken effect);
//! * `check_invariants()` passes.
//!
//! Between kills the test knows the exact state: it adopts the reopened
//! store as the truth, and the answers come in request order, so each
//! answer's effect is known when it is read. Record ids keep increasing
//! across rounds: an acknowledged id is above every id seen before.
//!
//! Both durability levels must lose nothing acknowledged to `kill -9`
//! (`eventual` hands each record to the OS before answering). A last round
//! ends the input normally and checks a clean close as well. A third
//! variant passes `--checkpoint-bytes 1024`, so that kills also land inside
//! checkpoints.
//!
//! `ASSOCSTORE_KILL_ROUNDS` sets the number of kill rounds (default 60);
//! `ASSOCSTORE_KILL_SEED` replays another seed. One `figures: kill9` line
//! per level sums a run up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use assocstore::{Edge, Store};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_assocstore");

/// Kill rounds when `ASSOCSTORE_KILL_ROUNDS` is not set.
const DEFAULT_ROUNDS: u64 = 60;
/// A round is killed after 0 to this many answers.
const MOST_ANSWERS_BEFORE_KILL: u64 = 250;
/// Requests in the last, clean round.
const CLEAN_ROUND_LINES: u64 = 200;
/// The most requests written ahead of their answers.
const MOST_IN_FLIGHT: u64 = 48;
/// Instance ids run 1..=INSTANCES in each model, so triples repeat.
const INSTANCES: i64 = 20;
/// For the checkpoint variant: small, so checkpoints (snapshot, new
/// segment, old files removed) happen every thirty writes or so, and some
/// kills land inside one.
const SMALL_CHECKPOINT_BYTES: u64 = 1024;
/// How long an answer may take before the test gives up (a hang, not a
/// timing assertion).
const ANSWER_DEADLINE: Duration = Duration::from_mins(2);

/// Held while this process has a store open and while it spawns a child.
///
/// The directory lock is an OS lock on an open file: a child forked while
/// this process holds a store (the tests run on parallel threads) shares
/// that open file until it execs, and so holds the lock that long, which
/// can make the next child on that directory find it locked. `spawn`
/// returns once the child has exec'd (and so closed what it inherited).
static SPAWN_GATE: Mutex<()> = Mutex::new(());

const MODELS: [&str; 3] = ["ka", "kb", "kc"];

/// A model association the workload defines: name, source and target
/// models (indexes into [`MODELS`]), kind, mapping.
struct AssocDef {
    name: &'static str,
    src: usize,
    dst: usize,
    kind: &'static str,
    mapping: &'static str,
}

const ASSOCS: [AssocDef; 4] = [
    AssocDef {
        name: "ka_run_kb",
        src: 0,
        dst: 1,
        kind: "run",
        mapping: "n:n",
    },
    AssocDef {
        name: "kb_connect_kc",
        src: 1,
        dst: 2,
        kind: "connect",
        mapping: "1:n",
    },
    AssocDef {
        name: "ka_belong_kc",
        src: 0,
        dst: 2,
        kind: "belong",
        mapping: "n:n",
    },
    AssocDef {
        name: "kc_default_ka",
        src: 2,
        dst: 0,
        kind: "default",
        mapping: "1:1",
    },
];

/// `SplitMix64`: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn inst(&mut self) -> i64 {
        1 + self.below(INSTANCES as u64) as i64
    }
}

/// One write request of the workload.
#[derive(Debug, Clone)]
enum Req {
    /// `create_object_association` of `ASSOCS[i]`.
    Define(usize),
    /// `create_inst` (model, id).
    Inst(usize, i64),
    /// `add_instance_association` (assoc, src, dst).
    Add(usize, i64, i64),
    /// `batch_create_instance_association` (assoc, details).
    Batch(usize, Vec<(i64, i64)>),
    /// `delete_instance_association` (model, id), the model being one the
    /// record touches (so an acknowledged delete means the id is gone).
    Delete(usize, i64),
}

impl Req {
    fn line(&self) -> String {
        let (api, body) = match self {
            Req::Define(a) => {
                let d = &ASSOCS[*a];
                (
                    "create_object_association",
                    json!({"bk_obj_asst_id": d.name, "bk_obj_id": MODELS[d.src],
                           "bk_asst_obj_id": MODELS[d.dst], "bk_asst_id": d.kind,
                           "mapping": d.mapping}),
                )
            }
            Req::Inst(m, i) => (
                "create_inst",
                json!({"bk_obj_id": MODELS[*m], "bk_inst_id": i}),
            ),
            Req::Add(a, s, d) => (
                "add_instance_association",
                json!({"bk_obj_asst_id": ASSOCS[*a].name, "bk_inst_id": s, "bk_asst_inst_id": d}),
            ),
            Req::Batch(a, details) => {
                let d = &ASSOCS[*a];
                let details: Vec<Value> = details
                    .iter()
                    .map(|(s, t)| json!({"bk_inst_id": s, "bk_asst_inst_id": t}))
                    .collect();
                (
                    "batch_create_instance_association",
                    json!({"bk_obj_id": MODELS[d.src], "bk_asst_obj_id": MODELS[d.dst],
                           "bk_obj_asst_id": d.name, "details": details}),
                )
            }
            Req::Delete(m, id) => (
                "delete_instance_association",
                json!({"bk_obj_id": MODELS[*m], "id": id}),
            ),
        };
        let mut line = json!({"api": api, "body": body}).to_string();
        line.push('\n');
        line
    }

    /// The triples this request may create.
    fn creates(&self) -> Vec<Triple> {
        match self {
            Req::Add(a, s, d) => vec![(*a, *s, *d)],
            Req::Batch(a, details) => details.iter().map(|&(s, d)| (*a, s, d)).collect(),
            _ => Vec::new(),
        }
    }
}

/// (model association index, source instance, target instance).
type Triple = (usize, i64, i64);

/// What the test knows the store holds: exact between kills.
#[derive(Default)]
struct State {
    assocs: BTreeSet<usize>,
    instances: BTreeSet<(usize, i64)>,
    records: BTreeMap<i64, Triple>,
    triples: BTreeMap<Triple, i64>,
    /// Ids whose delete was acknowledged: absent for good.
    deleted: BTreeSet<i64>,
    /// The highest record id ever seen.
    max_id: i64,
}

/// A run's sums, for the `figures:` line.
#[derive(Default)]
struct Figures {
    rounds: u64,
    lines_sent: u64,
    acknowledged: u64,
    acknowledged_after_kill: u64,
    writes_acknowledged: u64,
    unanswered: u64,
    unanswered_applied: u64,
    lost: u64,
    phantoms: u64,
    torn_tails_cut: u64,
    opens_from_snapshot: u64,
}

impl State {
    /// The next request: setup first, then a seeded mix.
    fn next_request(&self, rng: &mut Rng, defined: &mut BTreeSet<usize>) -> Req {
        if let Some(a) = (0..ASSOCS.len()).find(|a| !self.assocs.contains(a) && defined.insert(*a))
        {
            return Req::Define(a);
        }
        let roll = rng.below(100);
        if roll < 22 {
            return Req::Inst(rng.index(MODELS.len()), rng.inst());
        }
        if roll < 57 || (roll >= 70 && self.records.is_empty()) {
            return Req::Add(rng.index(ASSOCS.len()), rng.inst(), rng.inst());
        }
        if roll < 70 {
            let n = 1 + rng.below(4);
            let details = (0..n).map(|_| (rng.inst(), rng.inst())).collect();
            return Req::Batch(rng.index(ASSOCS.len()), details);
        }
        // A delete: mostly of a live record, sometimes again of a deleted one.
        let id = if !self.deleted.is_empty() && rng.below(100) < 15 {
            *self
                .deleted
                .iter()
                .nth(rng.index(self.deleted.len()))
                .expect("in range")
        } else {
            *self
                .records
                .keys()
                .nth(rng.index(self.records.len()))
                .expect("in range")
        };
        // A deleted id's record is unknown; its model association's models
        // are not needed then, any model will do (it is absent anyway).
        let model = match self.records.get(&id) {
            Some(&(a, _, _)) if rng.below(2) == 0 => ASSOCS[a].src,
            Some(&(a, _, _)) => ASSOCS[a].dst,
            None => rng.index(MODELS.len()),
        };
        Req::Delete(model, id)
    }

    /// Applies the answer to `req`, checking it against the known state.
    fn answer(&mut self, req: &Req, env: &Value) -> Result<bool, String> {
        let ok = env["result"].as_bool().ok_or("no result")?;
        let wrote = match req {
            Req::Define(a) => {
                if !ok {
                    return Err("defining a missing model association failed".into());
                }
                self.assocs.insert(*a);
                true
            }
            Req::Inst(m, i) => {
                let fresh = self.instances.insert((*m, *i));
                if ok != fresh {
                    return Err(format!(
                        "create_inst answered {ok}, the instance was {}registered",
                        if fresh { "not " } else { "" }
                    ));
                }
                ok
            }
            Req::Add(a, s, d) => {
                let possible = self.possible(&(*a, *s, *d));
                if ok {
                    let id = env["data"]["id"].as_i64().ok_or("no id")?;
                    self.created(id, (*a, *s, *d))?;
                } else if ASSOCS[*a].mapping == "n:n" && possible {
                    return Err("an n:n create that could succeed failed".into());
                }
                ok
            }
            Req::Batch(a, details) => {
                if !ok {
                    return Ok(false);
                }
                let created = env["data"]["success_created"]
                    .as_object()
                    .ok_or("no success_created")?;
                let mut items: Vec<(usize, i64)> = created
                    .iter()
                    .map(|(k, v)| Ok(k.parse().ok().zip(v.as_i64()).ok_or("bad item")?))
                    .collect::<Result<_, String>>()?;
                items.sort_unstable();
                let mut any = false;
                for (index, id) in items {
                    let &(s, d) = details.get(index).ok_or("index out of range")?;
                    self.created(id, (*a, s, d))?;
                    any = true;
                }
                any
            }
            Req::Delete(_, id) => {
                if !ok {
                    return Err("delete_instance_association failed".into());
                }
                if let Some(t) = self.records.remove(id) {
                    self.triples.remove(&t);
                }
                self.deleted.insert(*id);
                true
            }
        };
        Ok(wrote)
    }

    /// Whether a create of `t` meets the preconditions every mapping shares.
    fn possible(&self, t: &Triple) -> bool {
        let d = &ASSOCS[t.0];
        self.assocs.contains(&t.0)
            && self.instances.contains(&(d.src, t.1))
            && self.instances.contains(&(d.dst, t.2))
            && !self.triples.contains_key(t)
    }

    fn created(&mut self, id: i64, t: Triple) -> Result<(), String> {
        if !self.possible(&t) {
            return Err(format!("record {id} {t:?} created against the known state"));
        }
        if id <= self.max_id {
            return Err(format!("id {id} is not above {} seen before", self.max_id));
        }
        self.max_id = id;
        self.records.insert(id, t);
        self.triples.insert(t, id);
        Ok(())
    }

    /// Opens `dir`, checks it against the acknowledged state and the
    /// unanswered requests, then adopts what it holds.
    fn check_and_adopt(&mut self, dir: &Path, unanswered: &[Req], fig: &mut Figures) {
        let gate = SPAWN_GATE.lock().unwrap_or_else(PoisonError::into_inner);
        let store = Store::open(dir).unwrap_or_else(|e| {
            let cause = std::error::Error::source(&e).map(ToString::to_string);
            panic!("reopening {} failed: {e}: {cause:?}", dir.display())
        });
        let report = store.open_report().expect("durable").clone();
        fig.torn_tails_cut += u64::from(report.bytes_cut > 0);
        fig.opens_from_snapshot += u64::from(report.snapshot.is_some());
        let mut check = Check {
            unanswered,
            problems: Vec::new(),
            lost: 0,
            phantoms: 0,
            applied: 0,
        };
        if let Err(e) = store.check_invariants() {
            check.problems.push(format!("invariants: {e}"));
        }
        let (by_id, assocs) = self.check_assocs(&store, &mut check);
        let instances = self.check_instances(&store, &mut check);
        let found = self.check_records(&store, &by_id, &mut check);
        drop(store);
        drop(gate);

        fig.lost += check.lost;
        fig.phantoms += check.phantoms;
        fig.unanswered_applied += check.applied;
        assert!(
            check.problems.is_empty(),
            "after round {} in {} ({report}): {} acknowledged effects lost, {} unrequested; \
             first problems:\n{}",
            fig.rounds,
            dir.display(),
            check.lost,
            check.phantoms,
            check
                .problems
                .iter()
                .take(20)
                .fold(String::new(), |mut s, p| {
                    let _ = writeln!(s, "  {p}");
                    s
                })
        );

        // The store passed: it is the truth from here on.
        self.assocs = assocs;
        self.instances = instances;
        self.triples = found.iter().map(|(&id, &t)| (t, id)).collect();
        self.max_id = self.max_id.max(found.keys().last().copied().unwrap_or(0));
        self.records = found;
    }

    /// The model associations in `store`, by store id and as indexes into
    /// [`ASSOCS`].
    fn check_assocs(
        &self,
        store: &Store,
        check: &mut Check<'_>,
    ) -> (BTreeMap<i64, usize>, BTreeSet<usize>) {
        let mut by_id = BTreeMap::new();
        let mut assocs = BTreeSet::new();
        for ma in store.model_associations() {
            let Some(a) = ASSOCS.iter().position(|d| {
                d.name == ma.bk_obj_asst_id
                    && MODELS[d.src] == ma.bk_obj_id
                    && MODELS[d.dst] == ma.bk_asst_obj_id
                    && d.kind == ma.bk_asst_id
                    && d.mapping == ma.mapping.to_string()
            }) else {
                check.phantom(format!("model association never requested: {ma:?}"));
                continue;
            };
            by_id.insert(ma.id, a);
            assocs.insert(a);
        }
        for a in self.assocs.difference(&assocs) {
            check.lost(format!("acknowledged model association {a} lost"));
        }
        for a in assocs.difference(&self.assocs) {
            if check.sent(|r| matches!(r, Req::Define(x) if x == a)) {
                check.applied += 1;
            } else {
                check.phantom(format!("model association {a} appeared unrequested"));
            }
        }
        (by_id, assocs)
    }

    /// The instances in `store`.
    fn check_instances(&self, store: &Store, check: &mut Check<'_>) -> BTreeSet<(usize, i64)> {
        let mut instances = BTreeSet::new();
        for (m, model) in MODELS.iter().enumerate() {
            instances.extend(store.instances(model).into_iter().map(|i| (m, i)));
        }
        for mi in self.instances.difference(&instances) {
            check.lost(format!("acknowledged instance {mi:?} lost"));
        }
        for mi in instances.difference(&self.instances) {
            if check.sent(|r| matches!(r, Req::Inst(m, i) if (*m, *i) == *mi)) {
                check.applied += 1;
            } else {
                check.phantom(format!("instance {mi:?} appeared unrequested"));
            }
        }
        instances
    }

    /// The associations in `store`, by id.
    fn check_records(
        &self,
        store: &Store,
        by_id: &BTreeMap<i64, usize>,
        check: &mut Check<'_>,
    ) -> BTreeMap<i64, Triple> {
        let mut found: BTreeMap<i64, Triple> = BTreeMap::new();
        let mut edges: Vec<Edge> = Vec::new();
        for model in MODELS {
            store
                .edges_of_model(model, &mut edges)
                .expect("model named");
            for e in &edges {
                match by_id.get(&e.model_association) {
                    Some(&a) => {
                        found.insert(e.id, (a, e.bk_inst_id, e.bk_asst_inst_id));
                    }
                    None => check.phantom(format!("record {} of an unknown association", e.id)),
                }
            }
        }
        if store.len() != found.len() {
            check.problems.push(format!(
                "len() is {} but {} records were found by model",
                store.len(),
                found.len()
            ));
        }
        for (id, t) in &self.records {
            match found.get(id) {
                Some(f) if f == t => {}
                Some(f) => check.lost(format!("record {id} is {f:?}, acknowledged as {t:?}")),
                None if check.sent(|r| matches!(r, Req::Delete(_, x) if x == id)) => {
                    check.applied += 1;
                }
                None => check.lost(format!("acknowledged record {id} {t:?} lost")),
            }
        }
        for id in &self.deleted {
            if let Some(t) = found.get(id) {
                check.lost(format!("record {id} {t:?} is back after its delete"));
            }
        }
        let requested: BTreeSet<Triple> = check.unanswered.iter().flat_map(Req::creates).collect();
        for (id, t) in &found {
            if self.records.contains_key(id) {
                continue;
            }
            if *id > self.max_id && requested.contains(t) {
                check.applied += 1;
            } else {
                check.phantom(format!("record {id} {t:?} appeared unrequested"));
            }
        }
        found
    }
}

/// What one reopening found wrong, and how many unanswered effects it found.
struct Check<'a> {
    unanswered: &'a [Req],
    problems: Vec<String>,
    lost: u64,
    phantoms: u64,
    applied: u64,
}

impl Check<'_> {
    /// An acknowledged effect that is not there.
    fn lost(&mut self, what: String) {
        self.lost += 1;
        self.problems.push(what);
    }

    /// Something there that no request asked for.
    fn phantom(&mut self, what: String) {
        self.phantoms += 1;
        self.problems.push(what);
    }

    /// Whether an unanswered request matches.
    fn sent(&self, matches: impl Fn(&Req) -> bool) -> bool {
        self.unanswered.iter().any(matches)
    }
}

/// A directory under the system's temp dir, removed when the test passes.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "assocstore-kill9-{label}-{}-{nanos}",
            std::process::id()
        ));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("kill9: keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// Reads whole response lines into a channel; a line cut short by the kill
/// (no newline) was never acknowledged and is dropped.
fn read_answers(child: &mut Child) -> (Receiver<Vec<u8>>, thread::JoinHandle<()>) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut out = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match out.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.ends_with(b"\n") => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
                Ok(_) => break,
            }
        }
    });
    (rx, reader)
}

/// The child's standard error after it ended.
fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    err
}

/// Pairs an answer with the oldest unanswered request and applies it.
fn take(line: &[u8], in_flight: &mut VecDeque<Req>, state: &mut State, fig: &mut Figures) {
    let req = in_flight
        .pop_front()
        .expect("an answer with no request before it");
    let env: Value = serde_json::from_slice(line)
        .unwrap_or_else(|e| panic!("bad answer {e}: {}", String::from_utf8_lossy(line)));
    match state.answer(&req, &env) {
        Ok(wrote) => fig.writes_acknowledged += u64::from(wrote),
        Err(why) => panic!("round {}: {req:?} answered {env}: {why}", fig.rounds),
    }
    fig.acknowledged += 1;
}

/// One run of the binary on `dir`: killed after a random number of answers
/// when `kill`, else ended by closing its input after a fixed number of
/// requests.
fn round(run: &Run, rng: &mut Rng, state: &mut State, fig: &mut Figures, kill: bool) {
    let dir = run.dir.0.as_path();
    let mut command = Command::new(BIN);
    command
        .arg("replay")
        .arg("--data")
        .arg(dir)
        .args(["--durability", run.level]);
    if let Some(bytes) = run.checkpoint_bytes {
        command.arg(format!("--checkpoint-bytes={bytes}"));
    }
    let gate = SPAWN_GATE.lock().unwrap_or_else(PoisonError::into_inner);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn assocstore");
    drop(gate);
    let mut stdin = Some(child.stdin.take().expect("piped stdin"));
    let (rx, reader) = read_answers(&mut child);
    let kill_after = if kill {
        rng.below(MOST_ANSWERS_BEFORE_KILL + 1)
    } else {
        u64::MAX
    };
    let window = 1 + rng.below(MOST_IN_FLIGHT) as usize;
    let mut in_flight: VecDeque<Req> = VecDeque::new();
    let mut defined = BTreeSet::new();
    let (mut sent, mut answered) = (0u64, 0u64);

    loop {
        while let Ok(line) = rx.try_recv() {
            take(&line, &mut in_flight, state, fig);
            answered += 1;
        }
        if answered >= kill_after || (!kill && sent >= CLEAN_ROUND_LINES) {
            break;
        }
        if in_flight.len() >= window {
            match rx.recv_timeout(ANSWER_DEADLINE) {
                Ok(line) => {
                    take(&line, &mut in_flight, state, fig);
                    answered += 1;
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => panic!("no answer in {ANSWER_DEADLINE:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    panic!("assocstore ended early: {}", stderr_of(&mut child));
                }
            }
        }
        let req = state.next_request(rng, &mut defined);
        let line = req.line();
        let pipe = stdin.as_mut().expect("open");
        if let Err(e) = pipe.write_all(line.as_bytes()).and_then(|()| pipe.flush()) {
            let _ = child.wait();
            panic!("writing a request: {e}; stderr: {}", stderr_of(&mut child));
        }
        in_flight.push_back(req);
        sent += 1;
    }

    if kill {
        // Half the kills follow the answer at once; the others after up to
        // 2 ms more, so the child is caught at every stage of a line.
        if rng.below(2) == 0 {
            thread::sleep(Duration::from_micros(rng.below(2000)));
        }
        child.kill().expect("SIGKILL");
    } else {
        stdin = None;
    }
    let status = child.wait().expect("wait");
    drop(stdin);
    // Lines the child wrote before it died are acknowledgements too.
    let before = fig.acknowledged;
    for line in &rx {
        take(&line, &mut in_flight, state, fig);
    }
    if kill {
        fig.acknowledged_after_kill += fig.acknowledged - before;
    }
    reader.join().expect("reader thread");
    let err = stderr_of(&mut child);
    if !kill {
        assert!(status.success(), "clean run: {status:?}, stderr: {err}");
        assert!(in_flight.is_empty(), "clean run: unanswered requests");
    }
    fig.lines_sent += sent;
    fig.unanswered += in_flight.len() as u64;
    let unanswered: Vec<Req> = in_flight.into_iter().collect();
    state.check_and_adopt(dir, &unanswered, fig);
}

/// One test's settings and directory.
struct Run {
    level: &'static str,
    checkpoint_bytes: Option<u64>,
    dir: TempDir,
}

fn kill9(level: &'static str, checkpoint_bytes: Option<u64>, default_seed: u64) {
    let rounds = env_u64("ASSOCSTORE_KILL_ROUNDS").unwrap_or(DEFAULT_ROUNDS);
    let seed = env_u64("ASSOCSTORE_KILL_SEED").unwrap_or(default_seed);
    let label = match checkpoint_bytes {
        Some(bytes) => format!("{level}, checkpoint every {bytes} bytes"),
        None => level.to_owned(),
    };
    let run = Run {
        level,
        checkpoint_bytes,
        dir: TempDir::new(&format!(
            "{level}{}",
            if checkpoint_bytes.is_some() {
                "-ckpt"
            } else {
                ""
            }
        )),
    };
    let mut rng = Rng(seed);
    let mut state = State::default();
    let mut fig = Figures::default();
    let started = Instant::now();
    for _ in 0..rounds {
        fig.rounds += 1;
        round(&run, &mut rng, &mut state, &mut fig, true);
    }
    round(&run, &mut rng, &mut state, &mut fig, false);
    assert_eq!((fig.lost, fig.phantoms), (0, 0));
    println!(
        "figures: kill9 {label}: {} rounds, {} lines acknowledged ({} after the kill signal, {} \
         writes), {} lines lost, {} unrequested effects, {} unanswered lines ({} effects of them \
         found), {} torn tails cut, {} opens from a snapshot, {} associations at the end, seed \
         {seed:#x}, {:.1} s",
        fig.rounds,
        fig.acknowledged,
        fig.acknowledged_after_kill,
        fig.writes_acknowledged,
        fig.lost,
        fig.phantoms,
        fig.unanswered,
        fig.unanswered_applied,
        fig.torn_tails_cut,
        fig.opens_from_snapshot,
        state.records.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn kill9_loses_nothing_acknowledged_at_immediate() {
    kill9("immediate", None, 0x6b69_6c6c_3901);
}

#[test]
fn kill9_loses_nothing_acknowledged_at_eventual() {
    kill9("eventual", None, 0x6b69_6c6c_3902);
}

/// Kills that also land in checkpoints (snapshot written, renamed, old
/// segments removed), which the journal size triggers inside a write.
#[test]
fn kill9_loses_nothing_acknowledged_across_checkpoints() {
    kill9("eventual", Some(SMALL_CHECKPOINT_BYTES), 0x6b69_6c6c_3903);
}
