//! The file seam: every byte a durable store reads or writes goes through a
//! [`Storage`], so tests can fail any write or sync, write short, or cut the
//! power.
//!
//! [`FileStorage`] is the real file system. [`SimulatedDisk`] keeps files in
//! memory the way a disk with a volatile cache does: each file has its
//! *durable* bytes (what survives a power cut) and its *live* bytes (what
//! reads see); [`StorageFile::sync`] makes a file's live bytes durable, and
//! [`Storage::sync_dir`] makes the directory's names (creates, renames,
//! removes) durable. [`SimulatedDisk::power_cut`] drops everything not yet
//! durable; [`SimulatedDisk::fail_after`] turns the Nth write or sync into
//! an error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

/// An open file that is only appended to (journal segments, new snapshots).
pub trait StorageFile: Send + Sync {
    /// Appends all of `buf` at the end of the file.
    ///
    /// # Errors
    /// The OS error; some prefix of `buf` may have been written.
    fn append(&self, buf: &[u8]) -> io::Result<()>;

    /// Makes every byte appended so far durable (`fsync`).
    ///
    /// # Errors
    /// The OS error; nothing is then known about what is durable.
    fn sync(&self) -> io::Result<()>;
}

/// Where a durable store keeps its files.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Creates `dir` and its parents if missing.
    ///
    /// # Errors
    /// The OS error.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;

    /// The names of the files in `dir`.
    ///
    /// # Errors
    /// The OS error.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;

    /// The whole content of a file.
    ///
    /// # Errors
    /// The OS error.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// Creates (or empties) a file and opens it for appending.
    ///
    /// # Errors
    /// The OS error.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;

    /// Cuts a file to `len` bytes and makes that durable.
    ///
    /// # Errors
    /// The OS error.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;

    /// Renames a file, replacing `to` if it exists.
    ///
    /// # Errors
    /// The OS error.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes a file.
    ///
    /// # Errors
    /// The OS error.
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Makes the names in `dir` durable (`fsync` of the directory).
    ///
    /// # Errors
    /// The OS error.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Takes the exclusive lock on `dir`, failing at once (with
    /// [`io::ErrorKind::WouldBlock`]) if another owner holds it. The lock
    /// lasts as long as the returned guard.
    ///
    /// # Errors
    /// `WouldBlock` when held elsewhere, or the OS error.
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn std::any::Any + Send + Sync>>;

    /// The time a commit is stamped with, in milliseconds since the Unix
    /// epoch (the change feed's commit times). Default: the system clock;
    /// the simulated disk answers a fixed time so its images are the same
    /// run after run.
    fn now_ms(&self) -> u64 {
        crate::feed::now_ms()
    }

    /// The identity a new store in this storage takes for its change-feed
    /// cursors. Default: random; the simulated disk answers a fixed one
    /// (its images stay the same run after run).
    fn new_store_id(&self) -> u32 {
        crate::feed::new_store_id()
    }
}

/// The real file system, through `std::fs`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileStorage;

struct OsFile(std::fs::File);

impl StorageFile for OsFile {
    fn append(&self, buf: &[u8]) -> io::Result<()> {
        io::Write::write_all(&mut &self.0, buf)
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

/// The name of the lock file in a store's directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

impl Storage for FileStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(names)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(OsFile(file)))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(len)?;
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }

    fn lock(&self, dir: &Path) -> io::Result<Box<dyn std::any::Any + Send + Sync>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the directory is locked by another store",
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

/// A simulated disk with a volatile cache, for crash and fault tests.
///
/// Cheap to clone: clones share the same disk, so a test keeps one handle
/// while the store holds another.
///
/// ```
/// use assocstore::storage::SimulatedDisk;
/// let disk = SimulatedDisk::new();
/// disk.fail_after(3); // the 4th write or sync from now fails
/// assert_eq!(disk.io_count(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SimulatedDisk {
    inner: Arc<Mutex<Disk>>,
}

#[derive(Debug, Default)]
struct Disk {
    /// File contents by inode number.
    inodes: HashMap<u64, Inode>,
    /// What reads see: path → inode.
    live_names: BTreeMap<PathBuf, u64>,
    /// What survives a power cut: path → inode.
    durable_names: BTreeMap<PathBuf, u64>,
    next_inode: u64,
    /// Writes and syncs done so far.
    io_count: u64,
    /// The write or sync with this number fails (and, if `persistent`,
    /// every one after it).
    fail_at: Option<u64>,
    persistent: bool,
    /// A failing write first writes half of its bytes.
    short_writes: bool,
    /// Locked directories, with the epoch their lock was taken in.
    locked: HashMap<PathBuf, u64>,
    /// Bumped by every crash: files and locks opened before it are dead, so
    /// a crashed store dropped later cannot touch the disk.
    epoch: u64,
}

#[derive(Debug, Default, Clone)]
struct Inode {
    live: Vec<u8>,
    durable: Vec<u8>,
}

impl Disk {
    /// Counts one write or sync and says whether it must fail.
    fn tick(&mut self) -> bool {
        self.io_count += 1;
        match self.fail_at {
            Some(n) if self.io_count == n => true,
            Some(n) => self.persistent && self.io_count > n,
            None => false,
        }
    }

    fn inode_of(&self, path: &Path) -> io::Result<u64> {
        self.live_names
            .get(path)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }
}

fn injected() -> io::Error {
    io::Error::other("injected I/O failure")
}

impl SimulatedDisk {
    /// An empty disk that never fails.
    pub fn new() -> SimulatedDisk {
        SimulatedDisk::default()
    }

    /// How many writes and syncs have been done so far.
    pub fn io_count(&self) -> u64 {
        self.inner.lock().io_count
    }

    /// Makes the write or sync numbered `io_count() + n + 1` fail, once
    /// (the disk works again after it).
    pub fn fail_after(&self, n: u64) {
        let mut disk = self.inner.lock();
        disk.fail_at = Some(disk.io_count + n + 1);
        disk.persistent = false;
    }

    /// As [`SimulatedDisk::fail_after`], but every write and sync after the
    /// first failure fails too.
    pub fn fail_from(&self, n: u64) {
        self.fail_after(n);
        self.inner.lock().persistent = true;
    }

    /// Whether a failing write first writes half its bytes (default
    /// `false`: nothing).
    pub fn short_writes(&self, on: bool) {
        self.inner.lock().short_writes = on;
    }

    /// No more injected failures.
    pub fn heal(&self) {
        self.inner.lock().fail_at = None;
    }

    /// A power cut: every byte and name not yet made durable is lost, and
    /// every lock is released (the process is gone).
    pub fn power_cut(&self) {
        let mut disk = self.inner.lock();
        disk.live_names = disk.durable_names.clone();
        for inode in disk.inodes.values_mut() {
            inode.live = inode.durable.clone();
        }
        disk.locked.clear();
        disk.fail_at = None;
        disk.epoch += 1;
    }

    /// A process crash (`kill -9`): what was written stays (the OS has it),
    /// every lock is released.
    pub fn process_crash(&self) {
        let mut disk = self.inner.lock();
        disk.locked.clear();
        disk.fail_at = None;
        disk.epoch += 1;
    }

    /// The files under `dir` as reads see them, by name.
    pub fn files(&self, dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let disk = self.inner.lock();
        disk.live_names
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .filter_map(|(p, ino)| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                Some((name, disk.inodes.get(ino)?.live.clone()))
            })
            .collect()
    }

    /// Writes a file as if it had always been there, durable.
    pub fn put_file(&self, path: &Path, bytes: &[u8]) {
        let mut disk = self.inner.lock();
        let ino = disk.next_inode;
        disk.next_inode += 1;
        disk.inodes.insert(
            ino,
            Inode {
                live: bytes.to_vec(),
                durable: bytes.to_vec(),
            },
        );
        disk.live_names.insert(path.to_path_buf(), ino);
        disk.durable_names.insert(path.to_path_buf(), ino);
    }
}

struct SimFile {
    disk: Arc<Mutex<Disk>>,
    inode: u64,
    epoch: u64,
}

fn gone() -> io::Error {
    io::Error::other("the simulated process crashed")
}

impl StorageFile for SimFile {
    fn append(&self, buf: &[u8]) -> io::Result<()> {
        let mut disk = self.disk.lock();
        if disk.epoch != self.epoch {
            return Err(gone());
        }
        let fail = disk.tick();
        let short = disk.short_writes;
        let inode = disk
            .inodes
            .get_mut(&self.inode)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "file removed"))?;
        if fail {
            if short {
                inode.live.extend_from_slice(&buf[..buf.len() / 2]);
            }
            return Err(injected());
        }
        inode.live.extend_from_slice(buf);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut disk = self.disk.lock();
        if disk.epoch != self.epoch {
            return Err(gone());
        }
        if disk.tick() {
            return Err(injected());
        }
        if let Some(inode) = disk.inodes.get_mut(&self.inode) {
            inode.durable = inode.live.clone();
        }
        Ok(())
    }
}

impl Storage for SimulatedDisk {
    fn now_ms(&self) -> u64 {
        // 2026-01-01T00:00:00Z.
        1_767_225_600_000
    }

    fn new_store_id(&self) -> u32 {
        0x5eed_0001
    }

    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        Ok(self.files(dir).into_keys().collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let disk = self.inner.lock();
        let ino = disk.inode_of(path)?;
        Ok(disk
            .inodes
            .get(&ino)
            .map(|i| i.live.clone())
            .unwrap_or_default())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut disk = self.inner.lock();
        if disk.tick() {
            return Err(injected());
        }
        let ino = disk.next_inode;
        disk.next_inode += 1;
        disk.inodes.insert(ino, Inode::default());
        disk.live_names.insert(path.to_path_buf(), ino);
        Ok(Box::new(SimFile {
            disk: Arc::clone(&self.inner),
            inode: ino,
            epoch: disk.epoch,
        }))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut disk = self.inner.lock();
        if disk.tick() {
            return Err(injected());
        }
        let ino = disk.inode_of(path)?;
        if let Some(inode) = disk.inodes.get_mut(&ino) {
            inode.live.truncate(len as usize);
            inode.durable = inode.live.clone();
        }
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut disk = self.inner.lock();
        if disk.tick() {
            return Err(injected());
        }
        let ino = disk.inode_of(from)?;
        disk.live_names.remove(from);
        disk.live_names.insert(to.to_path_buf(), ino);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut disk = self.inner.lock();
        if disk.tick() {
            return Err(injected());
        }
        disk.inode_of(path)?;
        disk.live_names.remove(path);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.inner.lock();
        if disk.tick() {
            return Err(injected());
        }
        let in_dir = |p: &PathBuf| p.parent() == Some(dir);
        let live: Vec<(PathBuf, u64)> = disk
            .live_names
            .iter()
            .filter(|(p, _)| in_dir(p))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        disk.durable_names.retain(|p, _| !in_dir(p));
        disk.durable_names.extend(live);
        Ok(())
    }

    fn lock(&self, dir: &Path) -> io::Result<Box<dyn std::any::Any + Send + Sync>> {
        let mut disk = self.inner.lock();
        if disk.locked.contains_key(dir) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the directory is locked by another store",
            ));
        }
        let epoch = disk.epoch;
        disk.locked.insert(dir.to_path_buf(), epoch);
        Ok(Box::new(SimLock {
            disk: Arc::clone(&self.inner),
            dir: dir.to_path_buf(),
            epoch,
        }))
    }
}

struct SimLock {
    disk: Arc<Mutex<Disk>>,
    dir: PathBuf,
    epoch: u64,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        let mut disk = self.disk.lock();
        if disk.locked.get(&self.dir) == Some(&self.epoch) {
            disk.locked.remove(&self.dir);
        }
    }
}
