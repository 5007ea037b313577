//! Shared by the durability tests: a deterministic workload that uses every
//! kind of write, and a canonical dump of everything a store answers.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use assocstore::storage::SimulatedDisk;
use assocstore::{
    AssociationKind, BatchCreate, Condition, Durability, Mapping, NewModelAssociation, OnDelete,
    Store,
};

/// The models of the workload: few, so rules collide constantly.
pub(crate) const MODELS: [&str; 3] = ["a", "b", "c"];
const KINDS: [&str; 4] = ["belong", "run", "connect", "backup"];

/// One call of the workload.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    Kind(&'static str),
    Assoc(usize, usize, usize, Mapping, OnDelete),
    DropAssoc(i64),
    Define(usize, u8),
    Register(usize, Option<i64>, bool),
    RegisterMany(usize, Vec<i64>),
    Create(usize, usize, usize, i64, i64),
    Batch(usize, usize, usize, Vec<(i64, i64)>, bool, bool),
    Delete(usize, i64),
    DeleteMany(usize, Vec<i64>),
    DeleteInstance(usize, i64),
    DeleteInstances(usize, Vec<i64>),
    Unlink(usize, i64),
    Cascade(usize, i64),
}

/// A small deterministic generator (`SplitMix64`).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn inst(&mut self) -> i64 {
        1 + self.below(8) as i64
    }

    fn model(&mut self) -> usize {
        self.below(3) as usize
    }
}

fn name(src: usize, kind: usize, dst: usize) -> String {
    format!("{}_{}_{}", MODELS[src], KINDS[kind], MODELS[dst])
}

/// `n` calls from `seed`: definitions first, then a mix of every write.
pub(crate) fn workload(seed: u64, n: usize) -> Vec<Call> {
    let mut rng = Rng(seed);
    let mut calls = vec![
        Call::Kind("backup"),
        Call::Assoc(0, 0, 1, Mapping::OneToMany, OnDelete::DeleteDest),
        Call::Assoc(1, 1, 2, Mapping::ManyToMany, OnDelete::None),
        Call::Assoc(0, 2, 0, Mapping::ManyToMany, OnDelete::DeleteSrc),
        Call::Assoc(2, 3, 1, Mapping::OneToOne, OnDelete::None),
        Call::RegisterMany(0, (1..=6).collect()),
        Call::RegisterMany(1, (1..=6).collect()),
        Call::RegisterMany(2, (1..=6).collect()),
    ];
    while calls.len() < n {
        let (s, k, d) = (rng.model(), rng.below(4) as usize, rng.model());
        let call = match rng.below(20) {
            0 => Call::Assoc(s, k, d, Mapping::ManyToMany, OnDelete::None),
            1 => Call::DropAssoc(1 + rng.below(6) as i64),
            2 => Call::Define(s, rng.below(3) as u8),
            3 | 4 => Call::Register(s, (rng.below(3) > 0).then(|| rng.inst()), rng.below(2) == 0),
            5 => Call::RegisterMany(s, (0..=rng.below(3)).map(|_| rng.inst()).collect()),
            6..=9 => Call::Create(s, k, d, rng.inst(), rng.inst()),
            10..=12 => Call::Batch(
                s,
                k,
                d,
                (0..=rng.below(6))
                    .map(|_| (rng.inst(), rng.inst()))
                    .collect(),
                rng.below(2) == 0,
                rng.below(3) == 0,
            ),
            13 => Call::Delete(s, 1 + rng.below(60) as i64),
            14 => Call::DeleteMany(
                s,
                (0..=rng.below(4))
                    .map(|_| 1 + rng.below(60) as i64)
                    .collect(),
            ),
            15 => Call::DeleteInstance(s, rng.inst()),
            16 => Call::DeleteInstances(s, vec![rng.inst(), rng.inst()]),
            17 => Call::Unlink(s, rng.inst()),
            18 => Call::Cascade(s, rng.inst()),
            _ => Call::Create(0, 0, 1, rng.inst(), rng.inst()),
        };
        calls.push(call);
    }
    calls
}

/// Runs one call; its outcome as text (`Err(code)` for a failure).
pub(crate) fn apply(store: &Store, call: &Call) -> Result<String, i64> {
    let out = match call {
        Call::Kind(k) => store
            .create_association_kind(AssociationKind::new(*k, *k))
            .map(|v| format!("{v}")),
        Call::Assoc(s, k, d, mapping, on_delete) => store
            .create_model_association(
                &NewModelAssociation::new(MODELS[*s], KINDS[*k], MODELS[*d], *mapping)
                    .with_on_delete(*on_delete),
            )
            .map(|v| format!("{v}")),
        Call::DropAssoc(id) => store.delete_model_association(*id).map(|()| String::new()),
        Call::Define(m, v) => store
            .define_model(MODELS[*m], &format!("name{v}"), &format!("icon{v}"))
            .map(|()| String::new()),
        Call::Register(m, id, named) => store
            .register_instance(MODELS[*m], *id, named.then_some("named"))
            .map(|v| format!("{v}")),
        Call::RegisterMany(m, ids) => store
            .register_instances(MODELS[*m], ids.iter().copied())
            .map(|v| format!("{v}")),
        Call::Create(s, k, d, src, dst) => store
            .create_instance_association(&name(*s, *k, *d), *src, *dst)
            .map(|v| format!("{v}")),
        Call::Batch(s, k, d, details, idem, atomic) => store
            .batch_create_instance_associations(
                &BatchCreate::new(MODELS[*s], MODELS[*d], name(*s, *k, *d), details.clone())
                    .idempotent(*idem)
                    .atomic(*atomic),
            )
            .map(|o| format!("{:?}", o.items)),
        Call::Delete(m, id) => store
            .delete_instance_association(MODELS[*m], *id)
            .map(|v| format!("{v}")),
        Call::DeleteMany(m, ids) => store
            .delete_instance_associations(MODELS[*m], ids)
            .map(|v| format!("{v}")),
        Call::DeleteInstance(m, id) => store
            .delete_instance(MODELS[*m], *id)
            .map(|v| format!("{v}")),
        Call::DeleteInstances(m, ids) => store
            .delete_instances(MODELS[*m], ids.iter().copied())
            .map(|v| format!("{v}")),
        Call::Unlink(m, id) => store
            .delete_instance_associations_of(MODELS[*m], *id)
            .map(|v| format!("{v:?}")),
        Call::Cascade(m, id) => store
            .delete_instance_cascade(MODELS[*m], *id)
            .map(|v| format!("{v:?}")),
    };
    out.map_err(|e| e.code())
}

/// Everything the store answers about its state, as text.
pub(crate) fn dump(store: &Store) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "kinds {:?}", store.association_kinds());
    let _ = writeln!(out, "assocs {:?}", store.model_associations());
    let _ = writeln!(out, "len {}", store.len());
    for m in MODELS {
        let insts = store.instances(m);
        let names: Vec<_> = insts.iter().map(|&i| store.instance_name(m, i)).collect();
        let _ = writeln!(out, "{m} instances {insts:?} names {names:?}");
        let found = store.find_instance_associations(m, &Condition::all());
        let _ = writeln!(out, "{m} records {found:?}");
        if let Some(&first) = insts.first() {
            let _ = writeln!(out, "{m} topology {:?}", store.instance_topology(m, first));
        }
    }
    out
}

/// The dumps of an in-memory store after each prefix of `calls`:
/// `dumps[i]` is the state after the first `i` calls.
pub(crate) fn prefix_dumps(calls: &[Call]) -> Vec<String> {
    let store = Store::new();
    let mut dumps = vec![dump(&store)];
    for call in calls {
        let _ = apply(&store, call);
        dumps.push(dump(&store));
    }
    dumps
}

/// A durable store on a simulated disk.
pub(crate) fn open_sim(
    disk: &SimulatedDisk,
    level: Durability,
    checkpoint_bytes: u64,
) -> Result<Store, assocstore::Error> {
    Store::builder()
        .path("/sim/store")
        .durability(level)
        .checkpoint_bytes(checkpoint_bytes)
        .storage(Arc::new(disk.clone()))
        .open()
}

/// A fresh, unique directory under the system's temporary directory.
pub(crate) fn temp_dir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("assocstore-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Removes a test directory, ignoring errors.
pub(crate) fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
