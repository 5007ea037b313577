//! The durable section's clocks: loads and single creates interleaved
//! between systems (so a change in the disk's speed hits every system
//! alike), temporary directories, and the journal's growth.
//!
//! The disk of a shared machine is noisy in a way chunk medians cannot hide:
//! an `fdatasync` here has taken 3 ms for minutes, then 0.2 ms. Run one
//! system after another and a ratio between them measures the disk's mood.
//! So the systems of one level are loaded side by side, each taking the same
//! chunk of 50 batches in turn, and their single creates take rounds in turn;
//! ratios are medians over chunks (or rounds) of the paired ratio.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::measure::median;
use crate::run::LOAD_CHUNK;
use crate::workload::{Batch, Mapping, SplitMix64, Triple, Workload};

/// Rounds of single creates.
pub const ROUNDS: usize = 9;
/// Calls per round, split evenly between the threads.
pub const ROUND_CALLS: usize = 200;

/// A directory of its own under the system's temporary directory, removed
/// on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "peers-durable-{}-{nanos}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The sizes of the files in it, added up.
    pub fn bytes(&self) -> u64 {
        let entries = fs::read_dir(&self.0).expect("read dir");
        entries
            .map(|e| e.expect("entry").metadata().expect("metadata").len())
            .sum()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A bulk load's figures.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// ns per item of each chunk of [`LOAD_CHUNK`] batches, in order.
    pub chunks: Vec<f64>,
    /// Their median.
    pub ns_per_item: f64,
    /// Seconds in the batch calls, all of them.
    pub secs: f64,
    /// (created, refused).
    pub outcome: (usize, usize),
}

impl Load {
    /// Items per second at the median.
    pub fn rate(&self) -> f64 {
        1e9 / self.ns_per_item
    }
}

/// The median over paired samples of `a[i] / b[i]`.
pub fn paired(a: &[f64], b: &[f64]) -> f64 {
    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&mut ratios)
}

/// A batch call: (batch index, batch) → (created, refused).
type Call<'a> = Box<dyn FnMut(usize, &Batch) -> (usize, usize) + 'a>;

/// One system's part in an interleaved load: `call` is timed, `after`
/// (batch index) runs untimed after each call.
pub struct Lane<'a> {
    call: Call<'a>,
    after: Option<Box<dyn FnMut(usize) + 'a>>,
    load: Load,
}

impl<'a> Lane<'a> {
    pub fn new(call: impl FnMut(usize, &Batch) -> (usize, usize) + 'a) -> Lane<'a> {
        Lane {
            call: Box::new(call),
            after: None,
            load: Load::default(),
        }
    }

    pub fn after(mut self, after: impl FnMut(usize) + 'a) -> Lane<'a> {
        self.after = Some(Box::new(after));
        self
    }
}

/// Loads every batch into every lane: chunk by chunk, each lane taking the
/// chunk in turn (the first lane of chunk `c` is lane `c mod lanes`, so none
/// always follows the same other), each call timed alone. Returns each
/// lane's figures.
pub fn interleave(w: &Workload, mut lanes: Vec<Lane<'_>>) -> Vec<Load> {
    let k = lanes.len();
    for (c, chunk) in w.batches.chunks(LOAD_CHUNK).enumerate() {
        for step in 0..k {
            let lane = &mut lanes[(c + step) % k];
            let (mut ns, mut items) = (0.0, 0);
            for (j, b) in chunk.iter().enumerate() {
                let i = c * LOAD_CHUNK + j;
                let t = Instant::now();
                let (created, refused) = (lane.call)(i, b);
                ns += t.elapsed().as_nanos() as f64;
                if let Some(after) = &mut lane.after {
                    after(i);
                }
                let out = &mut lane.load.outcome;
                *out = (out.0 + created, out.1 + refused);
                items += b.items.len();
            }
            lane.load.secs += ns / 1e9;
            lane.load.chunks.push(ns / items.max(1) as f64);
        }
    }
    let loads = lanes.into_iter().map(|mut lane| {
        lane.load.ns_per_item = median(&mut lane.load.chunks.clone());
        lane.load
    });
    loads.collect()
}

/// Fresh valid triples for single creates after the load: `n:n` pairs no
/// record has and none repeated, so every create must succeed.
pub fn fresh_triples(w: &Workload, count: usize) -> Vec<Triple> {
    let mut taken: HashSet<Triple> = w.by_id.iter().copied().collect();
    let mut rng = SplitMix64::new(w.seed ^ 0x00D0_7AB1_E000);
    let many: Vec<_> = (w.assocs.iter())
        .filter(|a| a.mapping == Mapping::ManyToMany)
        .collect();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let a = many[rng.below(many.len() as u64) as usize];
        let (src, dst) = (&w.models[a.src], &w.models[a.dst]);
        let s = src.first + rng.below(src.count as u64) as i64;
        let d = dst.first + rng.below(dst.count as u64) as i64;
        if taken.insert((a.index, s, d)) {
            out.push((a.index, s, d));
        }
    }
    out
}

/// One round of single creates, `triples` split between `threads` threads
/// that start together: (seconds, calls that failed).
pub fn round_on_threads(
    threads: usize,
    triples: &[Triple],
    create: &(dyn Fn(Triple) -> bool + Sync),
) -> (f64, usize) {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (triples.chunks(triples.len().div_ceil(threads)))
            .map(|mine| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    mine.iter().filter(|&&t| !create(t)).count()
                })
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        let failed = handles.into_iter().map(|h| h.join().expect("thread"));
        let failed: usize = failed.sum();
        (t.elapsed().as_secs_f64(), failed)
    })
}

/// The same on the calling thread, for a system that is not `Sync`.
pub fn round_here(triples: &[Triple], create: &mut dyn FnMut(Triple) -> bool) -> (f64, usize) {
    let t = Instant::now();
    let failed = triples.iter().filter(|&&t| !create(t)).count();
    (t.elapsed().as_secs_f64(), failed)
}

/// One configuration's part in interleaved single creates: runs one round
/// over the given triples and returns (seconds, failed calls).
pub type CreateLane<'a> = Box<dyn FnMut(&[Triple]) -> (f64, usize) + 'a>;

/// [`ROUNDS`] rounds, each lane taking a round of [`ROUND_CALLS`] calls in
/// turn, every lane its own triples; returns each lane's calls per second
/// per round and its failed calls.
pub fn interleave_creates(w: &Workload, mut lanes: Vec<CreateLane<'_>>) -> Vec<(Vec<f64>, usize)> {
    let per_lane = ROUNDS * ROUND_CALLS;
    let triples = fresh_triples(w, per_lane * lanes.len());
    let mut out = vec![(Vec::with_capacity(ROUNDS), 0); lanes.len()];
    for r in 0..ROUNDS {
        for (l, lane) in lanes.iter_mut().enumerate() {
            let start = l * per_lane + r * ROUND_CALLS;
            let (secs, failed) = lane(&triples[start..start + ROUND_CALLS]);
            out[l].0.push(ROUND_CALLS as f64 / secs);
            out[l].1 += failed;
        }
    }
    out
}

/// Whether `name` is a journal segment's (`journal-<seq>.wal`).
fn is_segment(name: &str) -> bool {
    let seq = name
        .strip_prefix("journal-")
        .and_then(|r| r.strip_suffix(".wal"));
    seq.is_some_and(|seq| seq.bytes().all(|b| b.is_ascii_digit()))
}

/// The newest journal segment in `dir`.
fn newest_segment(dir: &Path) -> PathBuf {
    let names = fs::read_dir(dir).expect("read dir");
    let names = names.filter_map(|e| e.expect("entry").file_name().into_string().ok());
    let newest = names
        .filter(|n| is_segment(n))
        .max()
        .expect("a journal segment");
    dir.join(newest)
}

/// The bytes assocstore's journal grows by per batch, read between calls
/// from the size of its newest segment.
pub struct JournalMeter {
    dir: PathBuf,
    segment: PathBuf,
    len: u64,
    /// Bytes per batch so far.
    pub per_batch: Vec<u64>,
    known: (u64, usize),
}

impl JournalMeter {
    pub fn new(dir: &Path) -> JournalMeter {
        let segment = newest_segment(dir);
        let len = fs::metadata(&segment).expect("segment").len();
        JournalMeter {
            dir: dir.to_path_buf(),
            segment,
            len,
            per_batch: Vec::new(),
            known: (0, 0),
        }
    }

    /// Reads the growth for a batch of `items`. When a checkpoint replaced
    /// the segment (the record went to the removed one), counts the mean
    /// bytes per item of the batches before.
    pub fn read(&mut self, items: usize) {
        let bytes = if let Ok(m) = fs::metadata(&self.segment) {
            let grown = m.len() - self.len;
            self.len = m.len();
            self.known = (self.known.0 + grown, self.known.1 + items);
            grown
        } else {
            self.segment = newest_segment(&self.dir);
            self.len = fs::metadata(&self.segment).expect("segment").len();
            let mean = self.known.0 as f64 / self.known.1.max(1) as f64;
            (mean * items as f64) as u64
        };
        self.per_batch.push(bytes);
    }
}
