//! The quickstart: replays the bk-cmdb seed scenario, printing bk-cmdb
//! shaped responses, then bulk-loads 1,000,000 associations in batches of 200
//! and reports throughput, memory and a few lookups.
//!
//! `cargo run --release --example quickstart` (`-- --n 200000` for a smaller load).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::io::Write;
use std::time::Instant;

use assocstore::{
    BatchCreate, BatchOutcome, Condition, Error, Mapping, NewModelAssociation, Store,
};
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated on the heap.
fn heap_bytes() -> usize {
    let s = GLOBAL.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// bk-cmdb's response envelope around `data` (or around an error).
fn envelope(result: Result<Value, Error>, request: u64) -> String {
    let (ok, code, message, data) = match result {
        Ok(data) => (true, 0, "success".to_owned(), data),
        Err(e) => (false, e.code(), e.to_string(), Value::Null),
    };
    let body = json!({
        "result": ok, "code": code, "message": message, "data": data,
        "permission": null, "request_id": format!("{request:032x}"),
    });
    serde_json::to_string_pretty(&body).unwrap()
}

fn batch_data(out: &BatchOutcome) -> Value {
    let created: serde_json::Map<String, Value> = out
        .success_created()
        .into_iter()
        .map(|(i, id)| (i.to_string(), json!(id)))
        .collect();
    let errors: serde_json::Map<String, Value> = out
        .error_msg()
        .into_iter()
        .map(|(i, msg)| (i.to_string(), json!(msg)))
        .collect();
    json!({ "success_created": created, "error_msg": errors })
}

/// The seed documents' scenario: one add, one batch with a failing item, one find.
fn seed_scenario() -> Result<(), Error> {
    let store = Store::new();
    store.create_model_association(&NewModelAssociation::new(
        "bk_switch",
        "belong",
        "host",
        Mapping::OneToMany,
    ))?;
    store.register_instances("bk_switch", [11, 12])?;
    store.register_instances("host", [21, 22])?;

    println!(
        "add_instance_association {{bk_obj_asst_id: bk_switch_belong_host, bk_inst_id: 11, bk_asst_inst_id: 21}}"
    );
    let added = store.create_instance_association("bk_switch_belong_host", 11, 21);
    println!("{}", envelope(added.map(|id| json!({ "id": id })), 1));

    println!(
        "batch_create_instance_association {{details: [{{12 -> 22}}, {{12 -> 23}}]}} (host 23 does not exist)"
    );
    let batch = BatchCreate::new(
        "bk_switch",
        "host",
        "bk_switch_belong_host",
        [(12, 22), (12, 23)],
    );
    let out = store.batch_create_instance_associations(&batch);
    println!("{}", envelope(out.map(|o| batch_data(&o)), 2));

    println!(
        "add_instance_association {{bk_inst_id: 12, bk_asst_inst_id: 21}} (1:n: host 21 already has a source)"
    );
    let refused = store.create_instance_association("bk_switch_belong_host", 12, 21);
    println!("{}", envelope(refused.map(|id| json!({ "id": id })), 3));

    let condition =
        json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_asst_id": "", "bk_asst_obj_id": ""});
    println!("find_instance_association {{bk_obj_id: bk_switch, condition: {condition}}}");
    let found = store.find_instance_associations("bk_switch", &Condition::from_json(&condition)?);
    println!("{}", envelope(found.map(|f| json!(f)), 4));
    store.check_invariants().map_err(|_| Error::InvalidInput)
}

/// The bulk load's model associations: (id, source, kind, target, mapping).
const LOAD_ASSOCS: [(&str, &str, &str, Mapping); 3] = [
    ("bk_switch", "connect", "host", Mapping::OneToMany),
    ("disk", "belong", "host", Mapping::OneToOne),
    ("host", "run", "app", Mapping::ManyToMany),
];

/// The (model association, source, target) of the i-th association of a load
/// of `n`: 30% switch→host (1:n), 30% disk→host (1:1), 40% host→app (n:n, each
/// host runs 4 apps).
fn nth_association(i: u64, n: u64) -> (usize, i64, i64) {
    let hosts = (n * 3 / 10).max(1);
    if i < hosts {
        (0, (i % 1000 + 1) as i64, (i + 1) as i64)
    } else if i < 2 * hosts {
        let disk = (i - hosts + 1) as i64;
        (1, disk, disk)
    } else {
        let k = i - 2 * hosts;
        let host = (k / 4 % hosts + 1) as i64;
        let app = ((k / 4 / hosts * 4 + k % 4 + host as u64 * 7) % 10_000 + 1) as i64;
        (2, host, app)
    }
}

fn bulk_load(n: u64) -> Result<(), Error> {
    let start_heap = heap_bytes();
    let store = Store::new();
    for (src, kind, dst, mapping) in LOAD_ASSOCS {
        store.create_model_association(&NewModelAssociation::new(src, kind, dst, mapping))?;
    }
    let hosts = (n * 3 / 10).max(1) as i64;
    store.register_instances("bk_switch", 1..=1000)?;
    store.register_instances("host", 1..=hosts)?;
    store.register_instances("disk", 1..=hosts)?;
    store.register_instances("app", 1..=10_000)?;
    let instances_heap = heap_bytes();

    println!(
        "\nbulk load: {n} associations in batches of 200 over {} model associations",
        LOAD_ASSOCS.len()
    );
    let started = Instant::now();
    let mut batch: Vec<(i64, i64)> = Vec::with_capacity(200);
    let (mut created, mut failed) = (0usize, 0usize);
    let mut shown = 0;
    let mut i = 0;
    while i < n {
        let (which, _, _) = nth_association(i, n);
        batch.clear();
        while i < n && batch.len() < 200 && nth_association(i, n).0 == which {
            let (_, s, t) = nth_association(i, n);
            batch.push((s, t));
            i += 1;
        }
        let (src, kind, dst, _) = LOAD_ASSOCS[which];
        let req = BatchCreate::new(
            src,
            dst,
            format!("{src}_{kind}_{dst}"),
            batch.iter().copied(),
        );
        let out = store.batch_create_instance_associations(&req)?;
        created += out.created();
        failed += out.items.len() - out.created();
        let percent = i * 100 / n;
        if percent >= shown + 2 || i == n {
            shown = percent;
            let bar = "#".repeat(percent as usize / 2) + &" ".repeat(50 - percent as usize / 2);
            eprint!("\r[{bar}] {percent:3}% {i}/{n}");
            std::io::stderr().flush().ok();
        }
    }
    let elapsed = started.elapsed();
    eprintln!();
    let loaded_heap = heap_bytes();
    let assoc_bytes = loaded_heap.saturating_sub(instances_heap);
    println!(
        "created {created}, refused {failed}, in {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "throughput: {:.0} associations/s",
        created as f64 / elapsed.as_secs_f64()
    );
    println!(
        "memory: {:.1} MiB in all ({:.1} MiB instance registry, {:.1} MiB associations), {:.1} bytes per association",
        (loaded_heap - start_heap) as f64 / 1_048_576.0,
        (instances_heap - start_heap) as f64 / 1_048_576.0,
        assoc_bytes as f64 / 1_048_576.0,
        assoc_bytes as f64 / created.max(1) as f64,
    );
    lookups(&store)
}

/// A few lookups on the loaded store, each timed.
fn lookups(store: &Store) -> Result<(), Error> {
    println!("\nlookups:");
    let t = Instant::now();
    let rec = store.instance_association(1).expect("record 1 exists");
    println!(
        "  by id 1: {} ({:?})",
        serde_json::to_string(&rec).unwrap(),
        t.elapsed()
    );
    let t = Instant::now();
    let by_src = Condition::from_json(
        &json!({"bk_inst_id": 7, "bk_obj_asst_id": "bk_switch_connect_host"}),
    )?;
    let hits = store.find_instance_associations("bk_switch", &by_src)?;
    println!(
        "  switch 7's hosts: {} records ({:?})",
        hits.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let by_dst = Condition::from_json(&json!({"bk_asst_inst_id": 42, "bk_asst_obj_id": "host"}))?;
    let hits = store.find_instance_associations("host", &by_dst)?;
    println!(
        "  host 42's sources (its switch and its disk): {} records ({:?})",
        hits.len(),
        t.elapsed()
    );
    let err = store
        .create_instance_association("disk_belong_host", 1, 2)
        .unwrap_err();
    println!("  disk 1 -> host 2 under 1:1: {} {err}", err.code());
    let t = Instant::now();
    let verdict = store
        .check_invariants()
        .map_or_else(|e| e, |()| "ok".to_owned());
    println!(
        "  check_invariants over {} records: {verdict} ({:?})",
        store.len(),
        t.elapsed()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut n: u64 = 1_000_000;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--n", Some(v)) if v > 0 => n = v,
            _ => {
                eprintln!("usage: quickstart [--n ASSOCIATIONS]");
                std::process::exit(2);
            }
        }
    }
    seed_scenario()?;
    bulk_load(n)
}
