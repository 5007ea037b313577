//! SQLite (`rusqlite`, bundled), in memory or on a file, with the rules in
//! the schema:
//!
//! * the triple is a unique index, which is also the index by source;
//! * `1:1` and `1:n` are partial unique indexes over a `mapping` column: one
//!   record per (model association, source) where `mapping = 0` (`1:1`), one
//!   per (model association, target) where `mapping < 2` (`1:1` and `1:n`);
//! * both instances must exist: composite foreign keys
//!   (`src_model`, `src`) and (`dst_model`, `dst`) into `instance`, and the
//!   record's denormalised model association facts (mapping, models) are a
//!   foreign key into `obj_asst`, so they cannot disagree with it;
//! * an index by target, (`obj_asst`, `dst`, `src`), covering the lookup.
//!
//! Lookups sort their few rows by id in Rust rather than with `ORDER BY`:
//! rusqlite's bundled SQLite has `STAT4`, which re-prepares a statement on
//! every bind when its plan could depend on the bound values, and an
//! `ORDER BY id` lookup was re-prepared each call (~15 µs, 10× the lookup).
//!
//! A batch is one transaction; each item is one `INSERT` that either inserts
//! or fails a constraint. SQLite backs out only the failing statement
//! and keeps the transaction, which is bk-cmdb's per-item semantics. A
//! single create is one `INSERT` in autocommit mode: its own transaction.
//!
//! On a file ([`Sqlite::on_file`], the durable section) the database is in
//! WAL mode at the given `synchronous` level with a 1 GiB page cache (redb's
//! default cache; SQLite's own default, 2 MB, would make most inserts read
//! pages back from the OS).

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::system::{Found, System};
use crate::workload::{Batch, Mapping, ModelAssoc, Workload};

/// Set on every connection (SQLite does not keep it in the file).
const CONNECTION: &str = "PRAGMA foreign_keys = ON;";

/// Set on every connection to a file: the page cache, in KiB when negative.
const FILE: &str = "PRAGMA cache_size = -1048576;";

const SCHEMA: &str = "
CREATE TABLE model (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE obj_asst (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    mapping INTEGER NOT NULL CHECK (mapping IN (0, 1, 2)), -- 1:1, 1:n, n:n
    src_model INTEGER NOT NULL REFERENCES model,
    dst_model INTEGER NOT NULL REFERENCES model,
    UNIQUE (src_model, dst_model, kind),
    UNIQUE (id, mapping, src_model, dst_model)
);
CREATE TABLE instance (
    model INTEGER NOT NULL REFERENCES model,
    id INTEGER NOT NULL,
    PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE TABLE assoc (
    id INTEGER PRIMARY KEY,
    obj_asst INTEGER NOT NULL,
    mapping INTEGER NOT NULL,
    src_model INTEGER NOT NULL,
    src INTEGER NOT NULL,
    dst_model INTEGER NOT NULL,
    dst INTEGER NOT NULL,
    FOREIGN KEY (obj_asst, mapping, src_model, dst_model)
        REFERENCES obj_asst (id, mapping, src_model, dst_model),
    FOREIGN KEY (src_model, src) REFERENCES instance (model, id),
    FOREIGN KEY (dst_model, dst) REFERENCES instance (model, id)
);
CREATE UNIQUE INDEX assoc_triple ON assoc (obj_asst, src, dst);
CREATE INDEX assoc_by_target ON assoc (obj_asst, dst, src);
CREATE UNIQUE INDEX assoc_one_to_one_source ON assoc (obj_asst, src) WHERE mapping = 0;
CREATE UNIQUE INDEX assoc_one_target ON assoc (obj_asst, dst) WHERE mapping < 2;
";

const INSERT: &str = "INSERT INTO assoc (obj_asst, mapping, src_model, src, dst_model, dst)
    SELECT id, mapping, src_model, ?2, dst_model, ?3 FROM obj_asst WHERE name = ?1";

const FACTS: &str = "SELECT id, mapping, src_model, dst_model FROM obj_asst WHERE name = ?1";

const INSERT_VALUES: &str = "INSERT INTO assoc (obj_asst, mapping, src_model, src, dst_model, dst)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Whether an `INSERT` inserted its row; a constraint failure is a refusal
/// (SQLite backs out that statement only), anything else a bug.
fn inserted(result: rusqlite::Result<usize>) -> bool {
    match result {
        Ok(rows) => rows == 1,
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            false
        }
        Err(e) => panic!("insert: {e}"),
    }
}

const GET: &str = "SELECT src, dst FROM assoc WHERE id = ?1";

/// Covered by `assoc_triple`; rows come in target order.
const BY_SOURCE: &str = "SELECT id, dst FROM assoc
    WHERE obj_asst = (SELECT id FROM obj_asst WHERE name = ?1) AND src = ?2";

/// Covered by `assoc_by_target`; rows come in source order.
const BY_TARGET: &str = "SELECT id, src FROM assoc
    WHERE obj_asst = (SELECT id FROM obj_asst WHERE name = ?1) AND dst = ?2";

/// A scan in rowid (= id) order.
const FIND: &str = "SELECT id, src, dst FROM assoc
    WHERE src_model = (SELECT id FROM model WHERE name = ?1)
       OR dst_model = (SELECT id FROM model WHERE name = ?1)
    ORDER BY id";

/// `PRAGMA synchronous` for a database on a file, in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// `FULL`: each commit syncs the WAL.
    Full,
    /// `NORMAL`: the WAL is synced only at checkpoints.
    Normal,
}

/// A SQLite database, in memory or on a file.
pub struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// An in-memory database holding the workload's models, model
    /// associations and instances.
    pub fn new(w: &Workload) -> Sqlite {
        Sqlite::set_up(w, Connection::open_in_memory().expect("open"))
    }

    /// The same on a new file at `path`, in WAL mode at `synchronous`.
    pub fn on_file(w: &Workload, path: &Path, synchronous: Synchronous) -> Sqlite {
        let conn = Connection::open(path).expect("open");
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        Sqlite::file_pragmas(&conn, synchronous);
        Sqlite::set_up(w, conn)
    }

    /// Opens an existing file, as a restarted process would.
    pub fn open(path: &Path, synchronous: Synchronous) -> Sqlite {
        let conn = Connection::open(path).expect("open");
        Sqlite::file_pragmas(&conn, synchronous);
        conn.execute_batch(CONNECTION).expect("pragma");
        Sqlite { conn }
    }

    fn file_pragmas(conn: &Connection, synchronous: Synchronous) {
        let level = match synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", level)
            .expect("synchronous");
        conn.execute_batch(FILE).expect("pragma");
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: the WAL copied into the database
    /// file and emptied.
    pub fn checkpoint(&self) {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .expect("checkpoint");
        assert_eq!(busy, 0, "wal_checkpoint was blocked");
    }

    /// (source, target) of record `id`, if any.
    pub fn record(&self, id: i64) -> Option<(i64, i64)> {
        let mut stmt = self.conn.prepare_cached(GET).expect("prepare");
        let row = stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)));
        row.optional().expect("query")
    }

    /// Creates the schema and registers the workload's models, model
    /// associations and instances.
    fn set_up(w: &Workload, conn: Connection) -> Sqlite {
        conn.execute_batch(CONNECTION).expect("pragma");
        conn.execute_batch(SCHEMA).expect("schema");
        let tx = conn.unchecked_transaction().expect("begin");
        for (i, m) in (0_i64..).zip(&w.models) {
            tx.execute("INSERT INTO model VALUES (?1, ?2)", params![i, m.name])
                .expect("model");
            let mut insert = tx
                .prepare("INSERT INTO instance VALUES (?1, ?2)")
                .expect("prepare");
            for id in m.ids() {
                insert.execute(params![i, id]).expect("instance");
            }
        }
        for (i, a) in (0_i64..).zip(&w.assocs) {
            let mapping = match a.mapping {
                Mapping::OneToOne => 0,
                Mapping::OneToMany => 1,
                Mapping::ManyToMany => 2,
            };
            tx.execute(
                "INSERT INTO obj_asst VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![i, a.name, a.kind, mapping, a.src as i64, a.dst as i64],
            )
            .expect("obj_asst");
        }
        tx.commit().expect("commit");
        Sqlite { conn }
    }

    /// One item, the model association looked up by name in the same
    /// statement: `true` if inserted, `false` if a constraint refused it.
    fn insert(&self, name: &str, src: i64, dst: i64) -> bool {
        let mut stmt = self.conn.prepare_cached(INSERT).expect("prepare");
        inserted(stmt.execute(params![name, src, dst]))
    }

    /// Runs a (model association name, instance) lookup returning
    /// (id, other end); sorts by id in Rust (see the test below for why not
    /// in SQL).
    fn lookup(&self, sql: &str, name: &str, inst: i64, found: &mut Found, src_role: bool) {
        let mut stmt = self.conn.prepare_cached(sql).expect("prepare");
        let rows = stmt
            .query_map(params![name, inst], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query");
        let mut rows: Vec<(i64, i64)> = rows.map(|r| r.expect("row")).collect();
        rows.sort_unstable();
        found.call(rows.into_iter().map(|(id, other)| {
            if src_role {
                (id, inst, other)
            } else {
                (id, other, inst)
            }
        }));
    }

    fn pragma(&self, name: &str) -> usize {
        let value: i64 = self
            .conn
            .pragma_query_value(None, name, |r| r.get(0))
            .expect("pragma");
        value as usize
    }
}

impl System for Sqlite {
    /// One transaction: the model association's facts once (as bk-cmdb
    /// reads it once per request), then one `INSERT` per item.
    fn bulk_load(&self, w: &Workload, batch: &Batch) -> (usize, usize) {
        let name = &w.assocs[batch.assoc].name;
        let tx = self.conn.unchecked_transaction().expect("begin");
        let mut facts = self.conn.prepare_cached(FACTS).expect("prepare");
        let facts: Option<[i64; 4]> = facts
            .query_row([name], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))
            .optional()
            .expect("query");
        let mut created = 0;
        if let Some([id, mapping, src_model, dst_model]) = facts {
            let mut insert = self.conn.prepare_cached(INSERT_VALUES).expect("prepare");
            for &(src, dst) in &batch.items {
                let result = insert.execute(params![id, mapping, src_model, src, dst_model, dst]);
                created += usize::from(inserted(result));
            }
        }
        tx.commit().expect("commit");
        (created, batch.items.len() - created)
    }

    fn create_one(&self, assoc: &ModelAssoc, src: i64, dst: i64) -> bool {
        self.insert(&assoc.name, src, dst)
    }

    fn get_by_id(&self, id: i64, found: &mut Found) {
        found.call(self.record(id).map(|(s, d)| (id, s, d)));
    }

    fn by_source(&self, assoc: &ModelAssoc, src: i64, found: &mut Found) {
        self.lookup(BY_SOURCE, &assoc.name, src, found, true);
    }

    fn by_target(&self, assoc: &ModelAssoc, dst: i64, found: &mut Found) {
        self.lookup(BY_TARGET, &assoc.name, dst, found, false);
    }

    fn find_by_model(&self, w: &Workload, model: usize, found: &mut Found) {
        let mut stmt = self.conn.prepare_cached(FIND).expect("prepare");
        let rows = stmt
            .query_map([w.models[model].name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("query");
        found.call(rows.map(|r| r.expect("row")));
    }

    /// The database pages (tables and indexes), `page_count × page_size`:
    /// SQLite allocates them with C `malloc`, which the counting allocator
    /// does not see. A lower bound: the page cache's per-page headers are not
    /// counted.
    fn foreign_bytes(&self) -> usize {
        self.pragma("page_count") * self.pragma("page_size")
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    /// With `SQLITE_ENABLE_STAT4` (rusqlite's bundled build), a statement
    /// whose plan could depend on a bound value is re-prepared on every
    /// bind: `… ORDER BY id` lookups were, at ~15 µs each. The lookups sort
    /// in Rust instead; this keeps it that way.
    #[test]
    fn lookups_are_never_re_prepared() {
        let w = Workload::generate(5000, 1);
        let db = Sqlite::new(&w);
        for b in &w.batches {
            db.bulk_load(&w, b);
        }
        let mut found = Found::default();
        for i in 0..50 {
            db.get_by_id(w.get_ids[i], &mut found);
            db.by_source(&w.assocs[w.by_source[i].0], w.by_source[i].1, &mut found);
            db.by_target(&w.assocs[w.by_target[i].0], w.by_target[i].1, &mut found);
        }
        db.find_by_model(&w, 1, &mut found);
        db.find_by_model(&w, 2, &mut found);
        for sql in [GET, BY_SOURCE, BY_TARGET, FIND, INSERT_VALUES] {
            let stmt = db.conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
        }
        assert!(found.ordered);
    }
}
