//! Fuzz target `recovery`: arbitrary bytes as a store directory's files,
//! opened on a [`SimulatedDisk`]. The open must never panic; a refusal must
//! be 1199031 with an [`OpenFailure`] naming a file of the directory and
//! must leave every file byte-identical; a successful open must pass
//! `check_invariants`, take a few writes, and reopen to the same state.
//!
//! This file is also a module of `tests/fuzz_corpus.rs` (which replays
//! `fuzz/corpus/recovery/` on stable) and of `tests/durable_damage.rs`
//! (which writes the seeds and shares the image format and the checks):
//! there, under `cfg(test)`, it has no `fuzz_target!` and no `no_main`.
//!
//! # Input format (a "directory image")
//!
//! ```text
//! flags: u8 | file* ; file = name: u8 | len: u16 LE | len bytes (cut short at the end of the input)
//! ```
//!
//! `name % 8` picks from [`NAMES`]; at most [`MAX_FILES`] files are read,
//! and a later file of the same name replaces the earlier one. Flags:
//!
//! * [`RESEAL_FRAMES`]: recompute the CRC of every journal frame (walking
//!   the frames by their length fields), so that mutated payloads get past
//!   the checksums and reach the decoder and the replay checks;
//! * [`RESEAL_HEADERS`]: recompute the CRC of every segment header;
//! * [`RESEAL_SNAPSHOTS`]: recompute a snapshot's body length, body CRC and
//!   header CRC;
//! * [`CHECKPOINT`]: after a successful open and the writes, checkpoint
//!   before reopening (a snapshot written from a recovered state).
#![cfg_attr(not(test), no_main)]
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use assocstore::storage::SimulatedDisk;
use assocstore::{Condition, Mapping, NewModelAssociation, OpenFailure, Store};

#[cfg(not(test))]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

/// The file names an image can use.
pub(crate) const NAMES: [&str; 8] = [
    "journal-0000000000000001.wal",
    "journal-0000000000000002.wal",
    "journal-0000000000000003.wal",
    "snapshot-0000000000000001.snap",
    "snapshot-0000000000000002.snap",
    "snapshot-0000000000000003.snap",
    "snapshot-0000000000000003.snap.tmp",
    "LOCK",
];
/// Files read from one input at most.
pub(crate) const MAX_FILES: usize = 6;
/// Flag: recompute every journal frame's CRC.
pub(crate) const RESEAL_FRAMES: u8 = 1;
/// Flag: recompute every segment header's CRC.
pub(crate) const RESEAL_HEADERS: u8 = 2;
/// Flag: recompute every snapshot's length and CRCs.
pub(crate) const RESEAL_SNAPSHOTS: u8 = 4;
/// Flag: checkpoint before reopening.
pub(crate) const CHECKPOINT: u8 = 8;

/// The directory the target opens.
pub(crate) const DIR: &str = "/fuzz/store";

/// Models every dump reads, besides those named by model associations.
const MODELS: [&str; 7] = ["switch", "host", "app", "db", "rack", "fz_a", "fz_b"];

/// CRC-32 (IEEE), bit by bit: the checksum of journal frames, segment
/// headers and snapshots.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Recomputes a segment header's CRC (bytes 24..28, over 0..24).
pub(crate) fn reseal_segment_header(bytes: &mut [u8]) {
    if bytes.len() >= 32 {
        let crc = crc32(&bytes[..24]);
        bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Recomputes the CRC of every whole frame after the segment header,
/// following the length fields.
pub(crate) fn reseal_frames(bytes: &mut [u8]) {
    let mut at = 32;
    while at + 16 <= bytes.len() {
        let len = u32_at(bytes, at) as usize;
        let Some(end) = (at + 16).checked_add(len).filter(|&e| e <= bytes.len()) else {
            break;
        };
        let crc = crc32(&bytes[at + 8..end]);
        bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        at = end;
    }
}

/// Recomputes a snapshot's body length (16..24), body CRC (24..28) and
/// header CRC (28..32, over 0..28).
pub(crate) fn reseal_snapshot(bytes: &mut [u8]) {
    if bytes.len() >= 32 {
        let body_len = (bytes.len() - 32) as u64;
        bytes[16..24].copy_from_slice(&body_len.to_le_bytes());
        let body = crc32(&bytes[32..]);
        bytes[24..28].copy_from_slice(&body.to_le_bytes());
        let header = crc32(&bytes[..28]);
        bytes[28..32].copy_from_slice(&header.to_le_bytes());
    }
}

/// Whether file `name` ends in `.<ext>`.
pub(crate) fn has_extension(name: &str, ext: &str) -> bool {
    Path::new(name).extension().is_some_and(|e| e == ext)
}

/// Serialises files (by name, which must be one of [`NAMES`]) as an image.
pub(crate) fn encode_image(flags: u8, files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut out = vec![flags];
    for (name, bytes) in files {
        let index = NAMES.iter().position(|n| n == name).expect("a known name");
        out.push(index as u8);
        let len = u16::try_from(bytes.len()).expect("a file under 64 KiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The flags and files of an image, resealed as its flags ask.
pub(crate) fn decode_image(data: &[u8]) -> (u8, BTreeMap<String, Vec<u8>>) {
    let mut files = BTreeMap::new();
    let Some((&flags, mut rest)) = data.split_first() else {
        return (0, files);
    };
    for _ in 0..MAX_FILES {
        let [name, lo, hi, tail @ ..] = rest else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let name = NAMES[usize::from(*name) % NAMES.len()];
        files.insert(name.to_owned(), tail[..len].to_vec());
        rest = &tail[len..];
    }
    for (name, bytes) in &mut files {
        if has_extension(name, "wal") {
            if flags & RESEAL_FRAMES != 0 {
                reseal_frames(bytes);
            }
            if flags & RESEAL_HEADERS != 0 {
                reseal_segment_header(bytes);
            }
        } else if has_extension(name, "snap") && flags & RESEAL_SNAPSHOTS != 0 {
            reseal_snapshot(bytes);
        }
    }
    (flags, files)
}

/// Opens the store in `dir` on `disk` (a checkpoint threshold no test
/// reaches).
pub(crate) fn open_on(disk: &SimulatedDisk, dir: &str) -> assocstore::Result<Store> {
    Store::builder()
        .path(dir)
        .shards(4)
        .checkpoint_bytes(1 << 40)
        .storage(Arc::new(disk.clone()))
        .open()
}

/// Checks a refused open: 1199031 naming `dir`, with a cause that names a
/// file of `dir` and an offset within it (`files`: the directory as the
/// open found it). Returns the cause.
pub(crate) fn check_refusal(
    err: &assocstore::Error,
    dir: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> OpenFailure {
    assert_eq!(err.code(), 1_199_031, "{err}");
    assert_eq!(err.to_string(), format!("'{dir}' initialization failed"));
    let cause = std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<OpenFailure>())
        .expect("the cause is an OpenFailure")
        .clone();
    let (file, offset) = match &cause {
        OpenFailure::Corrupt { file, offset, .. } => (file, Some(*offset)),
        OpenFailure::UnsupportedVersion { file, version } => {
            // The journal and snapshot formats are both at version 2.
            assert_ne!(*version, 2, "version 2 is supported: {cause}");
            (file, None)
        }
        other => panic!("unexpected cause of a refused open: {other}"),
    };
    assert_eq!(file.parent(), Some(Path::new(dir)), "{cause}");
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match (files.get(name), offset) {
        (Some(bytes), Some(offset)) => assert!(
            offset <= bytes.len() as u64,
            "offset past the end of a {}-byte file: {cause}",
            bytes.len()
        ),
        (Some(_), None) => {}
        // Only a missing journal segment may be named without being there.
        (None, _) => assert!(
            matches!(&cause, OpenFailure::Corrupt { what, offset: 0, .. } if what == "journal segment missing"),
            "names a file that is not in the directory: {cause}"
        ),
    }
    cause
}

/// Everything a reader can see of `store`, for the models in `models` and
/// those the model associations name, as text.
pub(crate) fn dump(store: &Store, models: &[&str]) -> String {
    let mut out = String::new();
    let assocs = store.model_associations();
    let mut names: Vec<String> = models.iter().map(|m| (*m).to_owned()).collect();
    for a in &assocs {
        names.push(a.bk_obj_id.clone());
        names.push(a.bk_asst_obj_id.clone());
    }
    names.sort();
    names.dedup();
    writeln!(out, "len {}", store.len()).unwrap();
    writeln!(out, "kinds {:?}", store.association_kinds()).unwrap();
    writeln!(out, "model associations {assocs:?}").unwrap();
    for model in names.iter().filter(|m| !m.is_empty()) {
        let insts = store.instances(model);
        writeln!(out, "model {model:?}: instances {insts:?}").unwrap();
        for &inst in insts.iter().take(64) {
            let name = store.instance_name(model, inst);
            let topology = store
                .instance_topology(model, inst)
                .map(|t| serde_json::to_string(&t).unwrap());
            writeln!(out, "  {inst} {name:?} {topology:?}").unwrap();
        }
        let found = store.find_instance_associations(model, &Condition::all());
        writeln!(out, "  associations {found:?}").unwrap();
    }
    out
}

/// A write that must not fail with 1199061 (the simulated disk never
/// fails) and leaves the store consistent.
fn check_write<T>(store: &Store, what: &str, result: assocstore::Result<T>) -> Option<T> {
    if let Err(e) = &result {
        assert_ne!(e.code(), 1_199_061, "{what}: {e}");
    }
    assert!(!store.is_read_only(), "{what} turned the store read-only");
    result.ok()
}

/// A few writes on a recovered store.
fn exercise(store: &Store) {
    let new = NewModelAssociation::new("fz_a", "connect", "fz_b", Mapping::ManyToMany);
    check_write(
        store,
        "model association",
        store.create_model_association(&new),
    );
    check_write(store, "register", store.register_instances("fz_a", [1, 2]));
    check_write(
        store,
        "register",
        store.register_instance("fz_b", Some(1), None),
    );
    check_write(
        store,
        "auto id",
        store.register_instance("host", None, Some("fz")),
    );
    let first = check_write(
        store,
        "link",
        store.create_instance_association("fz_a_connect_fz_b", 1, 1),
    );
    check_write(
        store,
        "link",
        store.create_instance_association("fz_a_connect_fz_b", 2, 1),
    );
    if let Some(id) = first {
        check_write(
            store,
            "unlink",
            store.delete_instance_association("fz_a", id),
        );
    }
}

/// The fuzz target: see the module docs.
pub(crate) fn run(data: &[u8]) {
    let (flags, files) = decode_image(data);
    let disk = SimulatedDisk::new();
    let dir = Path::new(DIR);
    for (name, bytes) in &files {
        disk.put_file(&dir.join(name), bytes);
    }
    let store = match open_on(&disk, DIR) {
        Ok(store) => store,
        Err(err) => {
            check_refusal(&err, DIR, &files);
            assert_eq!(disk.files(dir), files, "a refused open changed the files");
            return;
        }
    };
    if let Err(e) = store.check_invariants() {
        panic!("recovered state breaks an invariant: {e}");
    }
    let report = store.open_report().expect("a durable store").clone();
    if let Some(cut) = &report.cut_file {
        let name = cut.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            has_extension(name, "wal"),
            "cut a file that is not a journal"
        );
        let len = files.get(name).map_or(0, Vec::len) as u64;
        assert!(report.bytes_cut <= len, "{report}");
    }
    exercise(&store);
    if let Err(e) = store.check_invariants() {
        panic!("writes after recovery break an invariant: {e}");
    }
    if flags & CHECKPOINT != 0 {
        check_write(&store, "checkpoint", store.checkpoint());
        check_write(
            &store,
            "register",
            store.register_instance("fz_b", Some(2), None),
        );
    }
    let expected = dump(&store, &MODELS);
    if let Err(e) = store.close() {
        panic!("close: {e}");
    }
    let again = match open_on(&disk, DIR) {
        Ok(again) => again,
        Err(err) => panic!(
            "reopening after a successful open and writes fails: {err}: {:?} (first open: {report})",
            std::error::Error::source(&err).map(ToString::to_string)
        ),
    };
    let second = again.open_report().expect("a durable store");
    assert_eq!(second.bytes_cut, 0, "a clean close left a torn tail");
    if let Err(e) = again.check_invariants() {
        panic!("reopened state breaks an invariant: {e}");
    }
    assert_eq!(
        dump(&again, &MODELS),
        expected,
        "reopening changed the state"
    );
}
