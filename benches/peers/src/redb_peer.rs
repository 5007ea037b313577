//! redb (the pure-Rust embedded key-value store, copy-on-write B-trees), with
//! the rules checked per item inside one write transaction:
//!
//! * `obj_asst`: model association name → (key, mapping, source model,
//!   target model), read once per batch or call, as the SQLite peer does;
//! * `instance`: (model, instance id) → (), the registry both ends must be in;
//! * `record`: id → (model association, source, target); its last key is the
//!   last id given;
//! * `triple`: (model association, source, target) → id, so no triple twice;
//!   it is also the index by source (a range over (a, src, ..)), as SQLite's
//!   unique triple index is;
//! * `by_target`: (model association, target, source) → id.
//!
//! `1:1` refuses an item whose source already has a record of the model
//! association (a range over `triple`), `1:1` and `1:n` one whose target has
//! (a range over `by_target`). An item is checked before anything is written,
//! so a refused one leaves the transaction as it was: bk-cmdb's per-item
//! semantics. A batch is one write transaction at the peer's durability.

use std::path::Path;

use redb::backends::InMemoryBackend;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction,
};

use crate::system::{Found, System};
use crate::workload::{Batch, Mapping, ModelAssoc, Workload};

/// (key, mapping: 0 `1:1`, 1 `1:n`, 2 `n:n`, source model, target model).
type Facts = (u32, u8, u32, u32);
const OBJ_ASST: TableDefinition<'_, &str, Facts> = TableDefinition::new("obj_asst");
const INSTANCE: TableDefinition<'_, (u32, i64), ()> = TableDefinition::new("instance");
const RECORD: TableDefinition<'_, u64, (u32, i64, i64)> = TableDefinition::new("record");
const TRIPLE: TableDefinition<'_, (u32, i64, i64), u64> = TableDefinition::new("triple");
const BY_TARGET: TableDefinition<'_, (u32, i64, i64), u64> = TableDefinition::new("by_target");

/// A redb database; each write transaction commits at `durability`.
pub struct Redb {
    db: Database,
    durability: Durability,
}

/// The tables a write transaction changes, and the last id given.
struct Tables<'t> {
    instance: Table<'t, (u32, i64), ()>,
    record: Table<'t, u64, (u32, i64, i64)>,
    triple: Table<'t, (u32, i64, i64), u64>,
    by_target: Table<'t, (u32, i64, i64), u64>,
    last_id: u64,
}

/// Whether `table` has a key (a, x, _).
fn any(table: &impl ReadableTable<(u32, i64, i64), u64>, a: u32, x: i64) -> bool {
    let mut range = table
        .range((a, x, i64::MIN)..=(a, x, i64::MAX))
        .expect("range");
    range.next().is_some()
}

impl Tables<'_> {
    /// Checks one item and inserts it if every rule allows: `true` if created.
    fn insert(&mut self, (a, mapping, src_model, dst_model): Facts, src: i64, dst: i64) -> bool {
        if mapping == 0 && any(&self.triple, a, src) || mapping < 2 && any(&self.by_target, a, dst)
        {
            return false;
        }
        if self.triple.get((a, src, dst)).expect("get").is_some() {
            return false;
        }
        let exists = |t: &Table<'_, (u32, i64), ()>, m, id| t.get((m, id)).expect("get").is_some();
        if !exists(&self.instance, src_model, src) || !exists(&self.instance, dst_model, dst) {
            return false;
        }
        self.last_id += 1;
        let id = self.last_id;
        self.record.insert(id, (a, src, dst)).expect("insert");
        self.triple.insert((a, src, dst), id).expect("insert");
        self.by_target.insert((a, dst, src), id).expect("insert");
        true
    }
}

impl Redb {
    /// In memory (redb's `InMemoryBackend`), for the in-memory report.
    /// Commits are `Immediate` (the backend's sync is a no-op): pages a
    /// `None` commit frees are reused only after a durable one.
    pub fn new(w: &Workload) -> Redb {
        let db = Database::builder().create_with_backend(InMemoryBackend::new());
        Redb::setup(w, db.expect("create"), Durability::Immediate)
    }

    /// A new database file at `path`, each commit at `durability`.
    pub fn create(w: &Workload, path: &Path, durability: Durability) -> Redb {
        Redb::setup(w, Database::create(path).expect("create"), durability)
    }

    /// Opens an existing file, as a restarted process would.
    pub fn open(path: &Path, durability: Durability) -> Redb {
        let db = Database::open(path).expect("open");
        Redb { db, durability }
    }

    /// Registers the workload's models, model associations and instances
    /// (one durable commit).
    fn setup(w: &Workload, db: Database, durability: Durability) -> Redb {
        let txn = db.begin_write().expect("begin");
        {
            let mut obj_asst = txn.open_table(OBJ_ASST).expect("table");
            for (i, a) in (0_u32..).zip(&w.assocs) {
                let mapping = match a.mapping {
                    Mapping::OneToOne => 0,
                    Mapping::OneToMany => 1,
                    Mapping::ManyToMany => 2,
                };
                let facts = (i, mapping, a.src as u32, a.dst as u32);
                obj_asst.insert(a.name.as_str(), facts).expect("insert");
            }
            let mut instance = txn.open_table(INSTANCE).expect("table");
            for (m, model) in (0_u32..).zip(&w.models) {
                for id in model.ids() {
                    instance.insert((m, id), ()).expect("insert");
                }
            }
            txn.open_table(RECORD).expect("table");
            txn.open_table(TRIPLE).expect("table");
            txn.open_table(BY_TARGET).expect("table");
        }
        txn.commit().expect("commit");
        Redb { db, durability }
    }

    /// One write transaction at the peer's durability: `work` gets the model
    /// association's facts (if it exists) and the tables.
    fn write<R>(&self, name: &str, work: impl FnOnce(Option<Facts>, &mut Tables<'_>) -> R) -> R {
        let mut txn = self.db.begin_write().expect("begin");
        txn.set_durability(self.durability).expect("durability");
        let out = Redb::in_txn(&txn, name, work);
        txn.commit().expect("commit");
        out
    }

    fn in_txn<R>(
        txn: &WriteTransaction,
        name: &str,
        work: impl FnOnce(Option<Facts>, &mut Tables<'_>) -> R,
    ) -> R {
        let facts = txn.open_table(OBJ_ASST).expect("table");
        let facts = facts.get(name).expect("get").map(|f| f.value());
        let record = txn.open_table(RECORD).expect("table");
        let last_id = record.last().expect("last").map_or(0, |(k, _)| k.value());
        let mut tables = Tables {
            instance: txn.open_table(INSTANCE).expect("table"),
            record,
            triple: txn.open_table(TRIPLE).expect("table"),
            by_target: txn.open_table(BY_TARGET).expect("table"),
            last_id,
        };
        work(facts, &mut tables)
    }

    /// An empty commit at [`Durability::Immediate`]: makes every earlier
    /// [`Durability::None`] commit durable.
    pub fn sync(&self) {
        let txn = self.db.begin_write().expect("begin");
        txn.commit().expect("commit");
    }

    /// (source, target) of record `id`, if any.
    pub fn record(&self, id: i64) -> Option<(i64, i64)> {
        let txn = self.db.begin_read().expect("begin");
        let table = txn.open_table(RECORD).expect("table");
        let row = table.get(id as u64).expect("get");
        row.map(|r| (r.value().1, r.value().2))
    }

    /// A lookup by (model association, one end) in `table`, keyed (a, end,
    /// other end) → id; records sorted by id.
    fn lookup(
        &self,
        table: TableDefinition<'_, (u32, i64, i64), u64>,
        name: &str,
        end: i64,
    ) -> Vec<(i64, i64)> {
        let txn = self.db.begin_read().expect("begin");
        let facts = txn.open_table(OBJ_ASST).expect("table");
        let Some(facts) = facts.get(name).expect("get") else {
            return Vec::new();
        };
        let a = facts.value().0;
        let table = txn.open_table(table).expect("table");
        let range = table.range((a, end, i64::MIN)..=(a, end, i64::MAX));
        let rows = range.expect("range").map(|row| {
            let (key, id) = row.expect("row");
            (id.value() as i64, key.value().2)
        });
        let mut rows: Vec<(i64, i64)> = rows.collect();
        rows.sort_unstable();
        rows
    }
}

impl System for Redb {
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize) {
        let created = self.write(&w.assocs[batch.assoc].name, |facts, t| {
            let Some(facts) = facts else { return 0 };
            let items = batch.items.iter();
            items.filter(|&&(s, d)| t.insert(facts, s, d)).count()
        });
        (created, batch.items.len() - created)
    }

    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool {
        self.write(&assoc.name, |facts, t| {
            facts.is_some_and(|f| t.insert(f, src, dst))
        })
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        found.call(self.record(id).map(|(s, d)| (id, s, d)));
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        let rows = self.lookup(TRIPLE, &assoc.name, src);
        found.call(rows.into_iter().map(|(id, dst)| (id, src, dst)));
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        let rows = self.lookup(BY_TARGET, &assoc.name, dst);
        found.call(rows.into_iter().map(|(id, src)| (id, src, dst)));
    }

    /// A scan of `record` in id order, keeping the model associations that
    /// touch `model`.
    fn find_by_model(&self, _: &Workload, model: usize, found: &mut Found) {
        let txn = self.db.begin_read().expect("begin");
        let facts = txn.open_table(OBJ_ASST).expect("table");
        let mut touches = Vec::new();
        for row in facts.iter().expect("iter") {
            let (a, _, s, d) = row.expect("row").1.value();
            if s as usize == model || d as usize == model {
                touches.push(a);
            }
        }
        let records = txn.open_table(RECORD).expect("table");
        let rows = records.iter().expect("iter").filter_map(|row| {
            let (id, r) = row.expect("row");
            let (a, s, d) = r.value();
            touches.contains(&a).then(|| (id.value() as i64, s, d))
        });
        found.call(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Reference;

    /// The whole tiny workload on a redb file: every outcome (created and
    /// refused counts, every lookup's records) as the workload says.
    #[test]
    fn redb_enforces_the_rules() {
        let w = Workload::generate(3000, 5);
        let dir = std::env::temp_dir().join(format!("peers-test-redb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Redb::create(&w, &dir.join("db.redb"), Durability::None);
        let run = crate::run::run_system("redb", Box::new(db), &w);
        std::fs::remove_dir_all(&dir).unwrap();
        let problems = Reference::new(&w).problems(&run);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(w.bulk.breakers > 0 && w.bulk.repeats > 0, "{:?}", w.bulk);
    }

    /// What the workload never tries: an end that is not a registered
    /// instance, and an unknown model association.
    #[test]
    fn unknown_instances_and_model_associations_are_refused() {
        let w = Workload::generate(1000, 1);
        let db = Redb::new(&w);
        let a = &w.assocs[2]; // app_run_host, n:n
        let (app, host) = (w.models[a.src].first, w.models[a.dst].first);
        assert!(!db.create_one(a, host, host), "a host is not an app");
        let unregistered = w.models.last().unwrap().ids().end;
        assert!(!db.create_one(a, app, unregistered));
        let mut other = a.clone();
        other.name = "app_run_disk".into();
        assert!(!db.create_one(&other, app, host));
        assert!(db.create_one(a, app, host));
        assert!(!db.create_one(a, app, host), "the same triple twice");
        assert_eq!(db.record(1), Some((app, host)));
    }
}
