//! Criterion benches of the core store: batch insert with every check on,
//! single create, and lookups by id and by source instance.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use assocstore::{BatchCreate, Condition, Mapping, NewModelAssociation, Store};
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
    let conditions: Vec<Condition> = (1..=400)
        .map(|src| Condition::from_json(&serde_json::json!({ "bk_inst_id": src })).unwrap())
        .collect();
    let mut k = 0usize;
    group.bench_function("by_source", |b| {
        b.iter(|| {
            k = (k + 1) % conditions.len();
            black_box(
                store
                    .find_instance_associations("src", &conditions[k])
                    .unwrap(),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bulk_insert, single_create, lookups);
criterion_main!(benches);
