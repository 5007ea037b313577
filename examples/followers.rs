//! Followers tailing a leader's change feed, in one process: several writer
//! threads bulk-load instance associations into a leader while followers
//! apply its feed; prints the leader's load rate, each follower's apply
//! rate and lag (events and milliseconds, median and 99th percentile), then
//! a fresh follower's catch-up from the whole feed and the rate of reading
//! retained events, and checks that every follower's digest equals the
//! leader's (exit 1 otherwise).
//!
//! `cargo run --release --example followers` (1,000,000 associations, 4
//! writers, 3 followers; `-- --n 20000 --writers 2 --followers 2` for less).
//!
//! Across processes the feed would be published to a log (Kafka, Redpanda,
//! NATS `JetStream`) and each follower process would apply it in cursor
//! order; here the followers read the leader directly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assocstore::{BatchCreate, Mapping, NewModelAssociation, Since, Store, WatchFilter};

struct Args {
    n: usize,
    writers: usize,
    followers: usize,
}

fn args() -> Args {
    let mut a = Args {
        n: 1_000_000,
        writers: 4,
        followers: 3,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok());
        match (pair[0].as_str(), value) {
            ("--n", Some(v)) => a.n = v,
            ("--writers", Some(v)) => a.writers = v,
            ("--followers", Some(v)) => a.followers = v,
            _ => {
                eprintln!("usage: followers [--n N] [--writers W] [--followers F]");
                std::process::exit(2);
            }
        }
    }
    a.writers = a.writers.max(1);
    a
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `q` quantile of `v` (sorted here).
fn quantile(v: &mut [u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// What one follower measured while tailing.
struct Tail {
    events: u64,
    busy: Duration,
    lag_events: Vec<u64>,
    lag_ms: Vec<u64>,
    digest: u64,
}

/// Tails `leader` into a fresh store until `done` and caught up.
fn tail(leader: &Store, done: &AtomicBool) -> Tail {
    let store = Store::new();
    let all = WatchFilter::default();
    let mut t = Tail {
        events: 0,
        busy: Duration::ZERO,
        lag_events: Vec::new(),
        lag_ms: Vec::new(),
        digest: 0,
    };
    loop {
        let finished = done.load(Ordering::Acquire);
        let after = Since::After(leader.feed_cursor_at(store.feed_cursor().position()));
        let got = leader
            .wait_events(after, &all, 8192, Duration::from_millis(20))
            .unwrap();
        if got.events.is_empty() {
            if finished {
                break;
            }
            continue;
        }
        let started = Instant::now();
        t.events += store.apply(&got.events).unwrap() as u64;
        t.busy += started.elapsed();
        let last = got.events.last().unwrap();
        t.lag_ms.push(now_ms().saturating_sub(last.time_ms));
        t.lag_events
            .push(leader.feed_cursor().position() - last.cursor.position());
    }
    t.digest = store.digest();
    t
}

/// The workload: pairs (source, target) of an n:n model association shaped
/// like the peer workload's (every host linked to 4 switches, each switch
/// to about 50 hosts), distinct for every k below n.
struct Workload {
    n: usize,
    hosts: i64,
    switches: i64,
}

impl Workload {
    fn new(n: usize) -> Workload {
        Workload {
            n,
            hosts: n.div_ceil(4) as i64,
            switches: (n / 50).max(8) as i64,
        }
    }

    fn pair(&self, k: usize) -> (i64, i64) {
        (k as i64 / 4 + 1, (k as i64 * 7919) % self.switches + 1)
    }

    /// A leader with the definitions and instances, retaining every event.
    fn leader(&self) -> Store {
        let leader = Store::builder()
            .feed_retention(self.n + (self.hosts + self.switches) as usize + 16)
            .build()
            .unwrap();
        leader
            .create_model_association(&NewModelAssociation::new(
                "host",
                "connect",
                "switch",
                Mapping::ManyToMany,
            ))
            .unwrap();
        leader.register_instances("host", 1..=self.hosts).unwrap();
        leader
            .register_instances("switch", 1..=self.switches)
            .unwrap();
        leader
    }

    /// Loads every pair into `leader` from `writers` threads, batches of
    /// 200; returns the time taken.
    fn load(&self, leader: &Store, writers: usize) -> Duration {
        let started = Instant::now();
        let per = self.n.div_ceil(writers);
        std::thread::scope(|s| {
            for w in 0..writers {
                s.spawn(move || {
                    let ks: Vec<usize> = (w * per..((w + 1) * per).min(self.n)).collect();
                    for chunk in ks.chunks(200) {
                        let pairs = chunk.iter().map(|&k| self.pair(k));
                        let req = BatchCreate::new("host", "switch", "host_connect_switch", pairs);
                        let out = leader.batch_create_instance_associations(&req).unwrap();
                        assert_eq!(out.created(), chunk.len());
                    }
                });
            }
        });
        started.elapsed()
    }
}

fn main() {
    let a = args();
    let work = Workload::new(a.n);
    // The leader's bulk-load rate alone, the yardstick of the followers'.
    let solo = work.load(&work.leader(), a.writers);
    let solo_rate = a.n as f64 / solo.as_secs_f64();
    println!(
        "leader alone: {} associations from {} writer threads in {:.2} s: {solo_rate:.0} associations/s",
        a.n,
        a.writers,
        solo.as_secs_f64(),
    );

    let leader = Arc::new(work.leader());
    let done = AtomicBool::new(false);
    let (load, tails) = std::thread::scope(|s| {
        let tails: Vec<_> = (0..a.followers)
            .map(|_| s.spawn(|| tail(&leader, &done)))
            .collect();
        let load = work.load(&leader, a.writers);
        done.store(true, Ordering::Release);
        (
            load,
            tails
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    println!(
        "leader with {} followers: {:.2} s: {:.0} associations/s ({} events)",
        a.followers,
        load.as_secs_f64(),
        a.n as f64 / load.as_secs_f64(),
        leader.feed_cursor().position()
    );
    let leader_digest = leader.digest();
    let mut ok = true;
    for (i, mut t) in tails.into_iter().enumerate() {
        let same = t.digest == leader_digest;
        ok &= same;
        println!(
            "follower {i}: applied {} events, {:.0} events/s while applying; lag median {} events / {} ms, p99 {} events / {} ms; digest {}",
            t.events,
            t.events as f64 / t.busy.as_secs_f64().max(1e-9),
            quantile(&mut t.lag_events, 0.5),
            quantile(&mut t.lag_ms, 0.5),
            quantile(&mut t.lag_events, 0.99),
            quantile(&mut t.lag_ms, 0.99),
            if same { "= leader" } else { "DIFFERS" },
        );
    }

    // A fresh follower catching up from the whole feed, alone: reading the
    // leader's events and applying them, timed apart.
    let fresh = Store::new();
    let (mut reading, mut applying, mut applied) = (Duration::ZERO, Duration::ZERO, 0u64);
    loop {
        let started = Instant::now();
        let after = Since::After(leader.feed_cursor_at(fresh.feed_cursor().position()));
        let got = leader.events(after, &WatchFilter::default(), 4096).unwrap();
        reading += started.elapsed();
        if got.events.is_empty() {
            break;
        }
        let started = Instant::now();
        applied += fresh.apply(&got.events).unwrap() as u64;
        applying += started.elapsed();
    }
    let same = fresh.digest() == leader_digest;
    ok &= same;
    let total = reading + applying;
    println!(
        "catch-up: a fresh follower applied {applied} events in {:.2} s ({:.2} s reading, {:.2} s applying): {:.0} events/s, {:.2}x the leader's rate alone ({:.0} events/s applying alone); digest {}",
        total.as_secs_f64(),
        reading.as_secs_f64(),
        applying.as_secs_f64(),
        applied as f64 / total.as_secs_f64(),
        applied as f64 / total.as_secs_f64() / solo_rate,
        applied as f64 / applying.as_secs_f64(),
        if same { "= leader" } else { "DIFFERS" },
    );

    // Reading retained events: as followers and watchers do, a chunk at a
    // time (the catch-up above read in chunks of 4,096), and all at once.
    let started = Instant::now();
    let read = leader
        .events(Since::Start, &WatchFilter::default(), usize::MAX)
        .unwrap();
    let took = started.elapsed();
    println!(
        "read: {applied} retained events in chunks of 4,096: {:.0} events/s; all {} in one call: {:.0} events/s",
        applied as f64 / reading.as_secs_f64(),
        read.events.len(),
        read.events.len() as f64 / took.as_secs_f64()
    );
    if !ok {
        eprintln!("a follower's state differs from the leader's");
        std::process::exit(1);
    }
}
