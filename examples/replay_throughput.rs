//! Replay throughput: generates a file of bk-cmdb API lines (setup, then
//! 1,000,000 `add_instance_association`, then 100,000 queries of four
//! kinds), replays it through `assocstore::wire::replay` into a sink, and
//! prints lines per second for the writes, the queries and the whole run.
//!
//! `cargo run --release --example replay_throughput` (`-- --adds N --queries M`
//! to scale; `--keep` leaves the generated file in place and prints its path,
//! so the binary can be timed on it too: `time target/release/assocstore
//! replay FILE > /dev/null`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use assocstore::Store;
use assocstore::wire::replay;

/// Targets per source: `adds / FAN_OUT` hosts, each running `FAN_OUT` apps.
const FAN_OUT: u64 = 50;
const APPS: u64 = 10_000;

struct Plan {
    adds: u64,
    queries: u64,
}

impl Plan {
    fn hosts(&self) -> u64 {
        self.adds.div_ceil(FAN_OUT).max(1)
    }

    /// The i-th association: host i / 50 runs 50 distinct apps.
    fn pair(i: u64) -> (u64, u64) {
        let host = i / FAN_OUT + 1;
        let app = (host * 37 + (i % FAN_OUT) * 191) % APPS + 1;
        (host, app)
    }

    fn write_setup(&self, out: &mut impl Write) -> io::Result<u64> {
        writeln!(
            out,
            r#"{{"api":"create_object_association","body":{{"bk_obj_asst_id":"host_run_app","bk_obj_id":"host","bk_asst_obj_id":"app","bk_asst_id":"run","mapping":"n:n"}}}}"#
        )?;
        for host in 1..=self.hosts() {
            writeln!(
                out,
                r#"{{"api":"create_inst","body":{{"bk_obj_id":"host","bk_inst_id":{host}}}}}"#
            )?;
        }
        for app in 1..=APPS {
            writeln!(
                out,
                r#"{{"api":"create_inst","body":{{"bk_obj_id":"app","bk_inst_id":{app}}}}}"#
            )?;
        }
        Ok(1 + self.hosts() + APPS)
    }

    fn write_adds(&self, out: &mut impl Write) -> io::Result<()> {
        for i in 0..self.adds {
            let (host, app) = Plan::pair(i);
            writeln!(
                out,
                r#"{{"api":"add_instance_association","body":{{"bk_app_code":"esb_test","bk_username":"admin","bk_obj_asst_id":"host_run_app","bk_inst_id":{host},"bk_asst_inst_id":{app}}}}}"#
            )?;
        }
        Ok(())
    }

    fn write_queries(&self, out: &mut impl Write) -> io::Result<()> {
        for q in 0..self.queries {
            let (host, app) = Plan::pair(q.wrapping_mul(7919) % self.adds.max(1));
            match q % 4 {
                0 => writeln!(
                    out,
                    r#"{{"api":"find_instance_association","body":{{"bk_obj_id":"host","condition":{{"bk_inst_id":{host},"bk_asst_inst_id":{app}}}}}}}"#
                )?,
                1 => writeln!(
                    out,
                    r#"{{"api":"search_related_inst_asso","body":{{"condition":{{"bk_obj_id":"host","bk_inst_id":{host}}},"fields":["id","bk_asst_inst_id"],"page":{{"start":0,"limit":10}}}}}}"#
                )?,
                2 => writeln!(
                    out,
                    r#"{{"api":"count_instance_associations","body":{{"bk_obj_id":"host","conditions":{{"condition":"AND","rules":[{{"field":"bk_inst_id","operator":"equal","value":{host}}}]}}}}}}"#
                )?,
                _ => writeln!(
                    out,
                    r#"{{"api":"search_instance_associations","body":{{"bk_obj_id":"app","conditions":{{"condition":"AND","rules":[{{"field":"bk_asst_inst_id","operator":"in","value":[{app}]}}]}},"page":{{"start":0,"limit":10,"sort":"-id"}}}}}}"#
                )?,
            }
        }
        Ok(())
    }
}

fn generate(path: &PathBuf, plan: &Plan) -> io::Result<(u64, u64)> {
    let mut out = BufWriter::new(File::create(path)?);
    let setup = plan.write_setup(&mut out)?;
    plan.write_adds(&mut out)?;
    out.flush()?;
    let writes_end = out.get_ref().metadata()?.len();
    plan.write_queries(&mut out)?;
    out.flush()?;
    Ok((setup, writes_end))
}

fn main() -> io::Result<()> {
    let mut plan = Plan {
        adds: 1_000_000,
        queries: 100_000,
    };
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--adds" => {
                plan.adds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(plan.adds);
            }
            "--queries" => {
                plan.queries = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(plan.queries);
            }
            "--keep" => keep = true,
            _ => {
                eprintln!("usage: replay_throughput [--adds N] [--queries M] [--keep]");
                std::process::exit(2);
            }
        }
    }
    let path = std::env::temp_dir().join(format!("assocstore-replay-{}.jsonl", std::process::id()));
    let (setup, writes_end) = generate(&path, &plan)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "generated {} ({:.0} MiB): {setup} setup lines, {} add_instance_association, {} queries",
        path.display(),
        size as f64 / 1_048_576.0,
        plan.adds,
        plan.queries
    );

    // Replay the setup and writes, then the queries, on one store, timing each part.
    let store = Store::new();
    let file = File::open(&path)?;
    let started = Instant::now();
    let writes = replay(&store, io::Read::take(file, writes_end), io::sink())?;
    let write_time = started.elapsed();
    let mut rest = File::open(&path)?;
    io::Seek::seek(&mut rest, io::SeekFrom::Start(writes_end))?;
    let started = Instant::now();
    let reads = replay(&store, rest, io::sink())?;
    let read_time = started.elapsed();
    if !keep {
        std::fs::remove_file(&path)?;
    }

    let rate = |lines: u64, secs: f64| lines as f64 / secs;
    println!(
        "writes:  {} lines ({} failed) in {:.2} s = {:.0} lines/s",
        writes.lines,
        writes.failures,
        write_time.as_secs_f64(),
        rate(writes.lines, write_time.as_secs_f64())
    );
    println!(
        "queries: {} lines ({} failed) in {:.2} s = {:.0} lines/s",
        reads.lines,
        reads.failures,
        read_time.as_secs_f64(),
        rate(reads.lines, read_time.as_secs_f64())
    );
    let total = write_time + read_time;
    println!(
        "total:   {} lines in {:.2} s = {:.0} lines/s; {} associations stored",
        writes.lines + reads.lines,
        total.as_secs_f64(),
        rate(writes.lines + reads.lines, total.as_secs_f64()),
        store.len()
    );
    if keep {
        println!("kept {}", path.display());
    }
    Ok(())
}
