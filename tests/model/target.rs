//! The store under test, which a durable configuration can restart: a
//! [`Target`] owns the store and, when durable, the settings to open it
//! again (the same directory on the same [`SimulatedDisk`] or on the real
//! file system), so [`Op::Reopen`](super::Op::Reopen) and
//! [`Op::Crash`](super::Op::Crash) can replace it between two steps.
//!
//! # Workaround for an open store bug
//!
//! A durable target steps around a store bug, an `#[ignore]`d test in
//! `tests/model_regressions.rs`, so that the property tests can look for
//! others; [`Target::exact`] turns it off (the regression test replays its
//! shrunk sequence that way). Remove it once the bug is fixed.
//!
//! A model named only by a successful `register_instances(model, [])` is
//! known to the graph reads, but the call logs nothing, so a restart
//! without a checkpoint in between forgets the model
//! (`a_model_named_by_an_empty_registration_stays_known_after_a_clean_restart`).
//! The target notes such models ([`Target::named_by_empty_registration`])
//! and names them again the same way after each restart, until an instance
//! of theirs is registered (a journal record then names them).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use assocstore::storage::SimulatedDisk;
use assocstore::{Durability, Error, Store, StoreBuilder};

/// The store under test and how to bring it back.
pub(crate) struct Target {
    /// `None` only while it is being replaced.
    store: Option<Store>,
    durable: Option<Reopen>,
    /// Whether the workaround of the module docs is on.
    workaround: bool,
    /// Models named only by empty registrations (the workaround).
    unlogged_models: Vec<String>,
}

/// How a durable target is opened again.
struct Reopen {
    /// Path, durability, checkpoint size and storage all set.
    builder: StoreBuilder,
    level: Durability,
    /// The simulated disk the store lives on; `None` for the real file
    /// system.
    disk: Option<SimulatedDisk>,
    /// A directory of the real file system to remove once done.
    remove: Option<PathBuf>,
}

/// An open error with its cause (the `OpenFailure` names the file and byte
/// offset).
fn open_error(e: &Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e} ({cause})"),
        None => e.to_string(),
    }
}

impl Target {
    /// An in-memory store: `Reopen` and `Crash` do nothing.
    pub(crate) fn memory(store: Store) -> Target {
        Target {
            store: Some(store),
            durable: None,
            workaround: false,
            unlogged_models: Vec::new(),
        }
    }

    /// A durable store at `level` in `/sim/store` on a fresh
    /// [`SimulatedDisk`], checkpointing past `checkpoint_bytes` of journal;
    /// `builder` holds the other settings.
    ///
    /// # Panics
    /// If the store does not open.
    pub(crate) fn simulated(
        builder: StoreBuilder,
        level: Durability,
        checkpoint_bytes: u64,
    ) -> Target {
        let disk = SimulatedDisk::new();
        let builder = builder
            .path("/sim/store")
            .durability(level)
            .checkpoint_bytes(checkpoint_bytes)
            .storage(Arc::new(disk.clone()));
        Target::open(Reopen {
            builder,
            level,
            disk: Some(disk),
            remove: None,
        })
    }

    /// A durable store at `level` in a new directory under
    /// `std::env::temp_dir()` (removed when the target is dropped); `Crash`
    /// is a clean restart there (a real process cannot crash and go on).
    ///
    /// # Panics
    /// If the store does not open.
    pub(crate) fn files(builder: StoreBuilder, level: Durability, checkpoint_bytes: u64) -> Target {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "assocstore-model-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover of an earlier process with the same id.
        let _ = std::fs::remove_dir_all(&dir);
        let builder = builder
            .path(&dir)
            .durability(level)
            .checkpoint_bytes(checkpoint_bytes);
        Target::open(Reopen {
            builder,
            level,
            disk: None,
            remove: Some(dir),
        })
    }

    fn open(reopen: Reopen) -> Target {
        let store = match reopen.builder.clone().open() {
            Ok(store) => store,
            Err(e) => panic!("a new durable store does not open: {}", open_error(&e)),
        };
        Target {
            store: Some(store),
            durable: Some(reopen),
            workaround: true,
            unlogged_models: Vec::new(),
        }
    }

    /// The same target without the workaround of the module docs.
    #[must_use]
    pub(crate) fn exact(mut self) -> Target {
        self.workaround = false;
        self
    }

    /// Whether the store is durable (`Reopen` and `Crash` restart it).
    pub(crate) fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// The store under test.
    ///
    /// # Panics
    /// After a failed reopen.
    pub(crate) fn store(&self) -> &Store {
        match &self.store {
            Some(store) => store,
            None => panic!("no store: it failed to reopen"),
        }
    }

    /// The workaround of the module docs: `model` was named for the
    /// first time by a successful registration of no instances.
    pub(crate) fn named_by_empty_registration(&mut self, model: &str) {
        if self.workaround
            && self.durable.is_some()
            && !self.unlogged_models.iter().any(|m| m == model)
        {
            self.unlogged_models.push(model.to_owned());
        }
    }

    /// The workaround of the module docs, after a restart: names
    /// again the models [`Target::named_by_empty_registration`] noted but
    /// those with an instance `ever` registered.
    ///
    /// # Errors
    /// A registration failed.
    pub(crate) fn name_unlogged_models_again(
        &mut self,
        ever: &[(String, i64)],
    ) -> Result<(), String> {
        self.unlogged_models
            .retain(|m| !ever.iter().any(|(model, _)| model == m));
        for m in &self.unlogged_models {
            self.store()
                .register_instances(m, [])
                .map_err(|e| format!("workaround: register_instances({m}, []): {e}"))?;
        }
        Ok(())
    }

    /// Drops the store (a clean close) and opens it again; the open must
    /// cut nothing. Nothing in memory.
    ///
    /// # Errors
    /// The open failed, cut bytes or lost the durability level.
    pub(crate) fn reopen(&mut self) -> Result<(), String> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        drop(self.store.take());
        let store = d
            .builder
            .clone()
            .open()
            .map_err(|e| format!("reopen: {}", open_error(&e)))?;
        let report = store.open_report().cloned().unwrap_or_default();
        let level = store.durability();
        self.store = Some(store);
        if report.bytes_cut != 0 {
            return Err(format!(
                "reopen after a clean close cut {} bytes: {report}",
                report.bytes_cut
            ));
        }
        if level != Some(d.level) {
            return Err(format!("reopen: durability {level:?}, not {:?}", d.level));
        }
        Ok(())
    }

    /// On a simulated disk: a power cut at `Immediate`, a process crash at
    /// `Eventual`, then the crashed store is dropped (its files are dead, so
    /// its drop cannot write) and the directory opened again. On the real
    /// file system, a clean restart. Nothing in memory.
    ///
    /// # Errors
    /// The open failed or lost the durability level.
    pub(crate) fn crash(&mut self) -> Result<(), String> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        let Some(disk) = &d.disk else {
            return self.reopen();
        };
        let what = match d.level {
            Durability::Immediate => {
                disk.power_cut();
                "power cut"
            }
            Durability::Eventual => {
                disk.process_crash();
                "process crash"
            }
        };
        drop(self.store.take());
        let store = d
            .builder
            .clone()
            .open()
            .map_err(|e| format!("open after a {what}: {}", open_error(&e)))?;
        let level = store.durability();
        self.store = Some(store);
        if level != Some(d.level) {
            return Err(format!("reopen: durability {level:?}, not {:?}", d.level));
        }
        Ok(())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Some(dir) = self.durable.as_ref().and_then(|d| d.remove.as_ref()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
