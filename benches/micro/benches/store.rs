//! Criterion benches of the store: bulk insert in batches of 200 with every
//! check on, single create, lookups by id, by (model association, source),
//! by (model association, target), every record of a model, an instance's
//! related records, and a two-thread mixed read/write run. Each reports
//! throughput in elements per second. `cargo bench`; the peer comparison is
//! `cargo run --release -p peers -- --n 1000000`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use std::sync::Arc;
use std::thread;

use assocstore::{BatchCreate, Condition, Edge, Mapping, NewModelAssociation, Store};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const HOSTS: i64 = 20_000;

/// A store with `src→host` model associations of each mapping and every
/// instance registered.
fn fresh_store() -> Store {
    let store = Store::new();
    for (kind, mapping) in [
        ("belong", Mapping::OneToOne),
        ("connect", Mapping::OneToMany),
        ("run", Mapping::ManyToMany),
    ] {
        store
            .create_model_association(&NewModelAssociation::new("src", kind, "host", mapping))
            .unwrap();
    }
    store.register_instances("src", 1..=HOSTS).unwrap();
    store.register_instances("host", 1..=HOSTS).unwrap();
    store
}

/// `HOSTS` associations under each model association, in batches of 200.
fn load(store: &Store) {
    for (kind, fan) in [("belong", 1), ("connect", 50), ("run", 7)] {
        let pairs: Vec<(i64, i64)> = (0..HOSTS)
            .map(|i| match fan {
                1 => (i + 1, i + 1),
                50 => (i / 50 + 1, i + 1),
                _ => (i / fan + 1, (i * 13) % HOSTS + 1),
            })
            .collect();
        for chunk in pairs.chunks(200) {
            let req = BatchCreate::new("src", "host", format!("src_{kind}_host"), chunk.to_vec());
            store.batch_create_instance_associations(&req).unwrap();
        }
    }
}

fn bulk_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulk_insert");
    group.throughput(Throughput::Elements(3 * HOSTS as u64));
    group.sample_size(10);
    group.bench_function("batches_of_200", |b| {
        b.iter_batched(fresh_store, |store| load(&store), BatchSize::PerIteration);
    });
    group.finish();
}

fn single_create(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_one");
    group.throughput(Throughput::Elements(1));
    let store = fresh_store();
    let mut i = 0i64;
    group.bench_function("n_n", |b| {
        b.iter(|| {
            i += 1;
            let (src, dst) = (i / HOSTS % HOSTS + 1, i % HOSTS + 1);
            black_box(
                store
                    .create_instance_association("src_run_host", src, dst)
                    .ok(),
            )
        });
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let store = fresh_store();
    load(&store);
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(1));
    let mut id = 0i64;
    group.bench_function("by_id", |b| {
        b.iter(|| {
            id = id % (3 * HOSTS) + 1;
            black_box(store.instance_association(id))
        });
    });
    group.bench_function("edge_by_id", |b| {
        b.iter(|| {
            id = id % (3 * HOSTS) + 1;
            black_box(store.edge(id))
        });
    });
    let mut edges: Vec<Edge> = Vec::new();
    let mut k = 0i64;
    group.bench_function("by_source", |b| {
        b.iter(|| {
            k = k % (HOSTS / 50) + 1;
            store.edges_from("src_connect_host", k, &mut edges).unwrap();
            black_box(edges.len())
        });
    });
    group.bench_function("by_target", |b| {
        b.iter(|| {
            k = k % HOSTS + 1;
            store.edges_to("src_run_host", k, &mut edges).unwrap();
            black_box(edges.len())
        });
    });
    let conditions: Vec<Condition> = (1..=400)
        .map(|src| Condition::from_json(&serde_json::json!({ "bk_inst_id": src })).unwrap())
        .collect();
    let mut n = 0usize;
    group.bench_function("find_by_source_condition", |b| {
        b.iter(|| {
            n = (n + 1) % conditions.len();
            black_box(
                store
                    .find_instance_associations("src", &conditions[n])
                    .unwrap(),
            )
        });
    });
    let fields = ["id".to_owned(), "bk_asst_inst_id".to_owned()];
    group.bench_function("related", |b| {
        b.iter(|| {
            k = k % HOSTS + 1;
            black_box(
                store
                    .search_related_instance_associations("host", k, &fields, 0, 0)
                    .unwrap(),
            )
        });
    });
    group.finish();

    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Elements(3 * HOSTS as u64));
    group.sample_size(10);
    group.bench_function("edges_of_model", |b| {
        b.iter(|| {
            store.edges_of_model("host", &mut edges).unwrap();
            black_box(edges.len())
        });
    });
    group.finish();
}

/// One thread creates and deletes while another reads by source, for a
/// fixed number of operations each.
fn mixed(c: &mut Criterion) {
    const OPS: u64 = 20_000;
    let mut group = c.benchmark_group("mixed_2_threads");
    group.throughput(Throughput::Elements(2 * OPS));
    group.sample_size(10);
    group.bench_function("create_delete_vs_read", |b| {
        b.iter_batched(
            || {
                let store = Arc::new(fresh_store());
                load(&store);
                store
            },
            |store| {
                let writer = {
                    let store = Arc::clone(&store);
                    thread::spawn(move || {
                        for i in 0..OPS as i64 {
                            let (src, dst) = (i % HOSTS + 1, (i * 7 + 3) % HOSTS + 1);
                            if let Ok(id) =
                                store.create_instance_association("src_run_host", src, dst)
                            {
                                store.delete_instance_association("src", id).ok();
                            }
                        }
                    })
                };
                let mut edges = Vec::new();
                for i in 0..OPS as i64 {
                    store
                        .edges_from("src_connect_host", i % (HOSTS / 50) + 1, &mut edges)
                        .unwrap();
                    black_box(edges.len());
                }
                writer.join().unwrap();
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bulk_insert, single_create, lookups, mixed);
criterion_main!(benches);
