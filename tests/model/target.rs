//! The store under test, which a durable configuration can restart: a
//! [`Target`] owns the store and, when durable, the settings to open it
//! again (the same directory on the same [`SimulatedDisk`] or on the real
//! file system), so [`Op::Reopen`](super::Op::Reopen) and
//! [`Op::Crash`](super::Op::Crash) can replace it between two steps.
//!
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
        }
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
