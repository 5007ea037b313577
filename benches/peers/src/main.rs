//! Peer comparison for assocstore: the standard workload ([`workload`]) on
//! assocstore, SQLite, IndraDB and a `HashMap` baseline, in one process run,
//! printed as a markdown table and machine-readable lines.
//!
//! ```sh
//! cargo run --release -p peers -- --n 1000000
//! cargo run --release -p peers -- --n 100000 --systems assocstore,hashmap
//! ```
//!
//! Options: `--n N` bulk items (default 1,000,000; at least 1,000),
//! `--seed S` (default 42), `--systems a,b,…` a subset of `assocstore`,
//! `sqlite`, `indradb`, `hashmap` (default: these four, in that order) and
//! `floor`, the lower bound on a read ([`floor`]; only when named), and `redb`
//! (only when named); `--durable` adds a section measured on files
//! ([`durable`]: bulk load per durability level, single creates, reopen,
//! bytes on disk, and the targets), `--durable-peers sqlite,redb` (default) or
//! `none` its peers. Progress goes to stderr. The exit status
//! is 1 when a system's outcomes differ from the workload's expected ones.

mod assocstore_system;
mod check;
mod durable;
mod floor;
mod hashmap_peer;
mod indradb_peer;
mod measure;
mod redb_peer;
mod report;
mod run;
mod sqlite_peer;
mod system;
mod workload;

use std::process::ExitCode;
use std::time::Instant;

use crate::check::Reference;
use crate::run::{DEFAULT_SYSTEMS, SYSTEMS};
use crate::workload::Workload;

struct Args {
    n: usize,
    seed: u64,
    systems: Vec<&'static str>,
    durable: bool,
    durable_peers: durable::Peers,
}

const USAGE: &str = "usage: peers [--n N] [--seed S] \
    [--systems assocstore,sqlite,indradb,hashmap[,redb][,floor]] [--durable] \
    [--durable-peers sqlite,redb|none]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        n: 1_000_000,
        seed: 42,
        systems: DEFAULT_SYSTEMS.to_vec(),
        durable: false,
        durable_peers: durable::Peers {
            sqlite: true,
            redb: true,
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--n" => {
                let v = value()?.replace('_', "");
                args.n = v.parse().map_err(|_| format!("--n: not a number: {v}"))?;
                if args.n < 1000 {
                    return Err("--n must be at least 1000".into());
                }
            }
            "--seed" => {
                let v = value()?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: not a number: {v}"))?;
            }
            "--systems" => {
                let v = value()?;
                args.systems = Vec::new();
                for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let known = SYSTEMS.iter().find(|&&s| s == name);
                    let known = known.ok_or(format!("--systems: unknown system {name}"))?;
                    if !args.systems.contains(known) {
                        args.systems.push(known);
                    }
                }
                if args.systems.is_empty() {
                    return Err("--systems: name at least one".into());
                }
            }
            "--durable" => args.durable = true,
            "--durable-peers" => {
                let v = value()?;
                let names: Vec<&str> = v.split(',').map(str::trim).collect();
                if let Some(bad) = names
                    .iter()
                    .find(|n| !["sqlite", "redb", "none"].contains(n))
                {
                    return Err(format!("--durable-peers: unknown peer {bad}"));
                }
                args.durable = true;
                args.durable_peers = durable::Peers {
                    sqlite: names.contains(&"sqlite"),
                    redb: names.contains(&"redb"),
                };
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let t = Instant::now();
    let w = Workload::generate(args.n, args.seed);
    eprintln!(
        "workload: n = {}, seed {}: {} valid, {} repeats, {} breakers; generated in {:.2} s",
        w.n,
        w.seed,
        w.bulk.valid,
        w.bulk.repeats,
        w.bulk.breakers,
        t.elapsed().as_secs_f64()
    );
    let reference = Reference::new(&w);
    let runs: Vec<_> = args.systems.iter().map(|s| run::run(s, &w)).collect();
    let problems: Vec<String> = runs.iter().flat_map(|r| reference.problems(r)).collect();
    let names: Vec<&str> = runs.iter().map(|r| r.system).collect();
    let check = if problems.is_empty() {
        format!(
            "check ok: {} agree with the workload: {}",
            names.join(", "),
            reference.summary(names.contains(&"indradb"))
        )
    } else {
        format!("check FAILED:\n{}", problems.join("\n"))
    };
    report::print(&w, &runs, &check);
    let mut failed = !problems.is_empty();
    if args.durable {
        let t = Instant::now();
        let section = durable::run(&w, args.durable_peers);
        eprintln!(
            "[durable] whole section: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        durable::report::print(&w, &section);
        failed |= !section.problems.is_empty();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
