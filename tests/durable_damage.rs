//! Damage to a durable store's files, exhaustively: every single-byte flip
//! (three bit patterns) at every offset and every truncation of a journal
//! segment and of a snapshot, each written into an otherwise unchanged
//! directory on a [`SimulatedDisk`] and opened.
//!
//! Each open must either succeed with exactly the state of the store after
//! the records before the damage (damage in the last record of the last
//! segment is a torn tail: cut and reported), or refuse with 1199031 whose
//! [`OpenFailure`] names the damaged file at an offset inside it, leaving
//! every file byte-identical. A successful open must then continue the id
//! sequences where that state left them and reopen to the same state.
//!
//! The expected states are computed up front by replaying every prefix of
//! the scenario's calls on an in-memory store. `figures: damage` lines give
//! the number of cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/fuzz_targets/recovery.rs"]
mod recovery;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use assocstore::storage::SimulatedDisk;
use assocstore::{
    AssociationKind, BatchCreate, Error, Mapping, NewModelAssociation, OpenFailure, Store,
};
use recovery::{check_refusal, crc32, dump, open_on};

/// The directory every case opens.
const DIR: &str = "/sim/damage";
const JOURNAL_1: &str = "journal-0000000000000001.wal";
const JOURNAL_2: &str = "journal-0000000000000002.wal";
const SNAPSHOT_2: &str = "snapshot-0000000000000002.snap";
/// Models the dumps read (besides those the model associations name).
const MODELS: [&str; 5] = ["switch", "host", "app", "db", "rack"];
/// Bytes in a segment header.
const SEGMENT_HEADER: usize = 32;
/// The checkpointed scenario checkpoints before this call.
const CHECKPOINT_AT: usize = 20;
/// Bit patterns xor-ed into the damaged byte.
const FLIPS: [u8; 3] = [0xFF, 0x01, 0x80];

type Call = fn(&Store) -> Result<String, Error>;

fn shown<T: std::fmt::Debug>(r: Result<T, Error>) -> Result<String, Error> {
    r.map(|v| format!("{v:?}"))
}

/// The scenario: a custom kind, a model display, four model associations
/// (one deleted), instances (one with an auto id, one deleted), and 20
/// association records from single creates and two batches, with deletes
/// and refused calls (which journal nothing) in between.
fn calls() -> Vec<Call> {
    vec![
        |s| shown(s.create_association_kind(AssociationKind::new("backup", "backup of"))),
        |s| shown(s.define_model("host", "Host", "icon-host")),
        |s| {
            let new = NewModelAssociation::new("switch", "connect", "host", Mapping::OneToMany);
            shown(s.create_model_association(&new))
        },
        |s| {
            let new = NewModelAssociation::new("host", "backup", "app", Mapping::ManyToMany);
            shown(s.create_model_association(&new))
        },
        |s| {
            let new = NewModelAssociation::new("app", "belong", "db", Mapping::OneToOne);
            shown(s.create_model_association(&new))
        },
        |s| {
            let new = NewModelAssociation::new("host", "run", "rack", Mapping::ManyToMany);
            shown(s.create_model_association(&new))
        },
        |s| shown(s.register_instances("switch", 1..=3)),
        |s| shown(s.register_instance("host", Some(10), Some("web-10"))),
        |s| shown(s.register_instances("host", 11..=14)),
        |s| shown(s.register_instances("app", 1..=4)),
        |s| shown(s.register_instances("db", [1, 2, 3])),
        |s| shown(s.register_instance("app", None, Some("auto-app"))),
        |s| shown(s.create_instance_association("switch_connect_host", 1, 10)),
        |s| shown(s.create_instance_association("switch_connect_host", 1, 11)),
        |s| shown(s.create_instance_association("switch_connect_host", 2, 12)),
        // Refused: the triple exists.
        |s| shown(s.create_instance_association("switch_connect_host", 2, 12)),
        |s| {
            let batch = BatchCreate::new(
                "host",
                "app",
                "host_backup_app",
                [(10, 1), (10, 2), (11, 1), (12, 3), (13, 4)],
            );
            shown(s.batch_create_instance_associations(&batch))
        },
        |s| shown(s.create_instance_association("app_belong_db", 1, 1)),
        |s| shown(s.create_instance_association("app_belong_db", 2, 2)),
        // Refused: 1:1, db 1 already has a source.
        |s| shown(s.create_instance_association("app_belong_db", 3, 1)),
        // (The checkpointed scenario checkpoints here.)
        |s| shown(s.delete_model_association(4)),
        |s| shown(s.create_instance_association("host_backup_app", 14, 5)),
        |s| shown(s.create_instance_association("switch_connect_host", 3, 13)),
        |s| shown(s.delete_instance_association("switch", 2)),
        |s| shown(s.delete_instance_associations("host", &[4, 5])),
        // Refused: host 14 is linked.
        |s| shown(s.delete_instance("host", 14)),
        |s| shown(s.delete_instance("db", 3)),
        |s| shown(s.create_instance_association("switch_connect_host", 3, 14)),
        |s| shown(s.create_instance_association("host_backup_app", 13, 1)),
        |s| {
            // Refused as a whole: host 13 already has a source under 1:n.
            let batch =
                BatchCreate::new("switch", "host", "switch_connect_host", [(2, 11), (2, 13)])
                    .atomic(true);
            shown(s.batch_create_instance_associations(&batch))
        },
        |s| {
            let batch = BatchCreate::new(
                "host",
                "app",
                "host_backup_app",
                [(14, 1), (14, 2), (12, 4), (10, 2)],
            );
            shown(s.batch_create_instance_associations(&batch))
        },
        // Refused: db 3 was deleted.
        |s| shown(s.create_instance_association("app_belong_db", 3, 3)),
        |s| shown(s.register_instance("db", Some(4), Some("db-4"))),
        |s| shown(s.create_instance_association("app_belong_db", 4, 4)),
        |s| shown(s.create_instance_association("host_backup_app", 11, 5)),
        |s| shown(s.delete_instance_associations_of("app", 3)),
        |s| shown(s.create_instance_association("host_backup_app", 13, 3)),
        |s| shown(s.delete_instance_association("host", 16)),
        |s| {
            let batch = BatchCreate::new(
                "host",
                "app",
                "host_backup_app",
                [(11, 2), (11, 3), (13, 2), (14, 3)],
            );
            shown(s.batch_create_instance_associations(&batch))
        },
    ]
}

/// Writes after a recovery that show where the id sequences continue:
/// model association ids, auto instance ids, record ids.
fn probe(s: &Store) -> String {
    let new = NewModelAssociation::new("probe_src", "connect", "probe_dst", Mapping::ManyToMany);
    let assoc = s.create_model_association(&new);
    let auto = s.register_instance("host", None, None);
    let src = s.register_instance("probe_src", Some(1), None);
    let dst = s.register_instance("probe_dst", Some(1), None);
    let link = s.create_instance_association("probe_src_connect_probe_dst", 1, 1);
    format!("{assoc:?} {auto:?} {src:?} {dst:?} {link:?}")
}

/// What a reader sees after a prefix of the calls, and after the probe.
struct Prefix {
    dump: String,
    probe: String,
    after_probe: String,
}

/// The in-memory reference: every prefix's state, and each call's result.
struct Reference {
    prefixes: Vec<Prefix>,
    results: Vec<String>,
}

fn reference() -> Reference {
    let calls = calls();
    let mut prefixes = Vec::with_capacity(calls.len() + 1);
    for k in 0..=calls.len() {
        let store = Store::new();
        for call in &calls[..k] {
            let _ = call(&store);
        }
        let dump = dump_all(&store);
        let probe = probe(&store);
        let after_probe = dump_all(&store);
        prefixes.push(Prefix {
            dump,
            probe,
            after_probe,
        });
    }
    let store = Store::new();
    let results: Vec<String> = calls.iter().map(|c| format!("{:?}", c(&store))).collect();
    store.check_invariants().unwrap();
    assert_eq!(store.len(), 20, "the scenario leaves 20 records");
    Reference { prefixes, results }
}

fn dump_all(store: &Store) -> String {
    dump(store, &MODELS)
}

/// A store directory written by the scenario, and where its journal's
/// records end.
struct Image {
    files: BTreeMap<String, Vec<u8>>,
    /// The journal segment that follows the snapshot (or the only one).
    journal: &'static str,
    /// The snapshot, if the scenario checkpointed.
    snapshot: Option<&'static str>,
    /// The prefix the journal's first record applies to.
    base: usize,
    /// Each record of the journal: its end offset and the prefix after it.
    frames: Vec<(usize, usize)>,
}

impl Image {
    /// The prefix whose state is recovered when the journal is cut to
    /// `len` bytes (only whole records count).
    fn prefix_at(&self, len: usize) -> (usize, usize) {
        self.frames
            .iter()
            .rev()
            .find(|&&(end, _)| end <= len)
            .copied()
            .unwrap_or((SEGMENT_HEADER, self.base))
    }
}

/// Runs the scenario on a simulated disk (checkpointing before call
/// `checkpoint_at`, if any), checking each result against the reference.
fn build(reference: &Reference, checkpoint_at: Option<usize>) -> Image {
    let disk = SimulatedDisk::new();
    let dir = Path::new(DIR);
    let store = open_on(&disk, DIR).unwrap();
    let (journal, snapshot, base) = match checkpoint_at {
        Some(at) => (JOURNAL_2, Some(SNAPSHOT_2), at),
        None => (JOURNAL_1, None, 0),
    };
    let mut frames = Vec::new();
    let mut last_len = SEGMENT_HEADER;
    for (i, call) in calls().iter().enumerate() {
        if checkpoint_at == Some(i) {
            store.checkpoint().unwrap();
            last_len = disk.files(dir)[journal].len();
            assert_eq!(last_len, SEGMENT_HEADER);
        }
        assert_eq!(
            format!("{:?}", call(&store)),
            reference.results[i],
            "call {i}"
        );
        assert_eq!(dump_all(&store), reference.prefixes[i + 1].dump, "call {i}");
        let len = disk.files(dir).get(journal).map_or(0, Vec::len);
        if i >= base && len != last_len {
            frames.push((len, i + 1));
            last_len = len;
        }
    }
    store.close().unwrap();
    let files = disk.files(dir);
    let mut expected: Vec<&str> = snapshot.into_iter().chain([journal]).collect();
    expected.sort_unstable();
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    Image {
        files,
        journal,
        snapshot,
        base,
        frames,
    }
}

/// What opening a damaged directory must do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Refuse, naming this file (and this offset, when given).
    Refuse { file: String, offset: Option<u64> },
    /// Open with the state of this prefix, having cut this many bytes.
    Open { prefix: usize, cut: Option<u64> },
}

/// Tallies of the cases run.
#[derive(Debug, Default)]
struct Tally {
    cases: u64,
    refused: u64,
    opened: u64,
    cut: u64,
}

/// Opens `image` with `file` replaced by `damaged` and checks the outcome.
fn check_case(reference: &Reference, image: &Image, file: &str, damaged: &[u8], expect: &Expect) {
    let disk = SimulatedDisk::new();
    let dir = Path::new(DIR);
    let mut before = image.files.clone();
    before.insert(file.to_owned(), damaged.to_vec());
    for (name, bytes) in &before {
        disk.put_file(&dir.join(name), bytes);
    }
    let opened = open_on(&disk, DIR);
    match (opened, expect) {
        (Err(err), Expect::Refuse { file, offset }) => {
            let cause = check_refusal(&err, DIR, &before);
            let (named, at) = match &cause {
                OpenFailure::Corrupt { file, offset, .. } => (file, Some(*offset)),
                OpenFailure::UnsupportedVersion { file, .. } => (file, None),
                other => panic!("unexpected cause {other}"),
            };
            assert_eq!(named, &dir.join(file), "names another file: {cause}");
            if let Some(len) = at {
                let size = before[file.as_str()].len() as u64;
                assert!(len < size.max(1), "offset {len} outside the file: {cause}");
            }
            if offset.is_some() {
                assert_eq!(at, *offset, "{cause}");
            }
            assert!(
                disk.files(dir) == before,
                "a refused open changed the files"
            );
        }
        (Ok(store), Expect::Open { prefix, cut }) => {
            let report = store.open_report().unwrap().clone();
            assert_eq!(
                report.bytes_cut,
                cut.unwrap_or(0),
                "bytes cut, report: {report}"
            );
            let cut_file = cut.map(|_| dir.join(image.journal));
            assert_eq!(report.cut_file, cut_file, "report: {report}");
            if let Err(e) = store.check_invariants() {
                panic!("recovered state breaks an invariant: {e}");
            }
            let want = &reference.prefixes[*prefix];
            assert!(
                dump_all(&store) == want.dump,
                "recovered state is not that of prefix {prefix}:\n{}\nexpected:\n{}",
                dump_all(&store),
                want.dump
            );
            assert_eq!(probe(&store), want.probe, "ids continue elsewhere");
            assert!(
                dump_all(&store) == want.after_probe,
                "state after the probe"
            );
            drop(store);
            reopen_matches(&disk, &want.after_probe);
        }
        (Err(err), Expect::Open { .. }) => panic!(
            "refused ({err}: {:?}), expected {expect:?}",
            std::error::Error::source(&err).map(ToString::to_string)
        ),
        (Ok(store), Expect::Refuse { .. }) => panic!(
            "opened ({:?}), expected {expect:?}",
            store.open_report().map(ToString::to_string)
        ),
    }
}

/// Reopens after a successful open and writes: same state, nothing cut.
fn reopen_matches(disk: &SimulatedDisk, want: &str) {
    let again = match open_on(disk, DIR) {
        Ok(store) => store,
        Err(err) => panic!(
            "reopening after a successful open fails: {err}: {:?}",
            std::error::Error::source(&err).map(ToString::to_string)
        ),
    };
    assert_eq!(again.open_report().unwrap().bytes_cut, 0);
    again.check_invariants().unwrap();
    assert!(dump_all(&again) == want, "reopening changed the state");
}

/// Runs one case, turning a panic into a test failure that names the case.
fn run_case(
    reference: &Reference,
    image: &Image,
    file: &str,
    damaged: &[u8],
    expect: &Expect,
    label: &str,
    tally: &mut Tally,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        check_case(reference, image, file, damaged, expect);
    }));
    if let Err(payload) = outcome {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        panic!("case {file} {label} (expected {expect:?}) failed: {message}");
    }
    tally.cases += 1;
    match expect {
        Expect::Refuse { .. } => tally.refused += 1,
        Expect::Open { cut, .. } => {
            tally.opened += 1;
            tally.cut += u64::from(cut.is_some());
        }
    }
}

/// What damage at `offset` of the journal (the last segment) must do.
fn journal_flip_expect(image: &Image, offset: usize) -> Expect {
    let refuse = |at: usize| Expect::Refuse {
        file: image.journal.to_owned(),
        offset: Some(at as u64),
    };
    if (28..SEGMENT_HEADER).contains(&offset) {
        // The header's last 4 bytes are padding no checksum covers: its
        // damage changes nothing.
        let &(_, prefix) = image.frames.last().expect("records");
        return Expect::Open { prefix, cut: None };
    }
    if offset < SEGMENT_HEADER {
        // Valid records follow a damaged header: not a torn tail.
        assert!(!image.frames.is_empty());
        return refuse(0);
    }
    let index = image
        .frames
        .iter()
        .position(|&(end, _)| offset < end)
        .expect("an offset inside a record");
    let (start, prefix) = match index {
        0 => (SEGMENT_HEADER, image.base),
        i => image.frames[i - 1],
    };
    if index + 1 == image.frames.len() {
        let end = image.frames[index].0;
        Expect::Open {
            prefix,
            cut: Some((end - start) as u64),
        }
    } else {
        refuse(start)
    }
}

/// What cutting the journal to `len` bytes must do.
fn journal_cut_expect(image: &Image, len: usize) -> Expect {
    if len < SEGMENT_HEADER {
        // A torn header: the whole segment is cut.
        return Expect::Open {
            prefix: image.base,
            cut: Some(len as u64),
        };
    }
    let (end, prefix) = image.prefix_at(len);
    Expect::Open {
        prefix,
        cut: (len > end).then_some((len - end) as u64),
    }
}

/// Every flip and every truncation of the journal of `image`.
fn damage_journal(reference: &Reference, image: &Image, tally: &mut Tally) {
    let bytes = &image.files[image.journal];
    for offset in 0..bytes.len() {
        let expect = journal_flip_expect(image, offset);
        for pattern in FLIPS {
            let mut damaged = bytes.clone();
            damaged[offset] ^= pattern;
            let label = format!("flip {pattern:#04x} at {offset}");
            run_case(
                reference,
                image,
                image.journal,
                &damaged,
                &expect,
                &label,
                tally,
            );
        }
    }
    for len in 0..=bytes.len() {
        let expect = journal_cut_expect(image, len);
        let label = format!("cut to {len} bytes");
        run_case(
            reference,
            image,
            image.journal,
            &bytes[..len],
            &expect,
            &label,
            tally,
        );
    }
}

/// Every flip and every truncation of the snapshot of `image`: a snapshot
/// has no torn tail, so every one refuses.
fn damage_snapshot(reference: &Reference, image: &Image, tally: &mut Tally) {
    let name = image.snapshot.expect("a checkpointed image");
    let bytes = &image.files[name];
    let expect = Expect::Refuse {
        file: name.to_owned(),
        offset: None,
    };
    for offset in 0..bytes.len() {
        for pattern in FLIPS {
            let mut damaged = bytes.clone();
            damaged[offset] ^= pattern;
            let label = format!("flip {pattern:#04x} at {offset}");
            run_case(reference, image, name, &damaged, &expect, &label, tally);
        }
    }
    for len in 0..bytes.len() {
        let label = format!("cut to {len} bytes");
        run_case(
            reference,
            image,
            name,
            &bytes[..len],
            &expect,
            &label,
            tally,
        );
    }
}

#[test]
fn every_flip_and_cut_of_the_journal() {
    let reference = reference();
    let image = build(&reference, None);
    assert_eq!(
        image.frames.len(),
        34,
        "one record per call that took effect"
    );
    let mut tally = Tally::default();
    damage_journal(&reference, &image, &mut tally);
    println!(
        "figures: damage journal ({} bytes, {} records): {} cases, {} refused, {} opened ({} cut)",
        image.files[image.journal].len(),
        image.frames.len(),
        tally.cases,
        tally.refused,
        tally.opened,
        tally.cut
    );
}

#[test]
fn every_flip_and_cut_of_a_checkpointed_store() {
    let reference = reference();
    let image = build(&reference, Some(CHECKPOINT_AT));
    assert!(!image.frames.is_empty());
    let mut journal = Tally::default();
    damage_journal(&reference, &image, &mut journal);
    let mut snapshot = Tally::default();
    damage_snapshot(&reference, &image, &mut snapshot);
    println!(
        "figures: damage checkpointed: snapshot ({} bytes) {} cases, all refused; journal after it ({} bytes, {} records) {} cases, {} refused, {} opened ({} cut)",
        image.files[SNAPSHOT_2].len(),
        snapshot.cases,
        image.files[image.journal].len(),
        image.frames.len(),
        journal.cases,
        journal.refused,
        journal.opened,
        journal.cut
    );
    assert_eq!(snapshot.refused, snapshot.cases);
}

#[test]
fn a_flip_inside_a_middle_record_refuses() {
    let reference = reference();
    let image = build(&reference, None);
    let (start, _) = image.frames[9];
    let (end, _) = image.frames[10];
    let mut damaged = image.files[JOURNAL_1].clone();
    damaged[usize::midpoint(start, end)] ^= 0x10;
    let disk = SimulatedDisk::new();
    let mut files = image.files.clone();
    files.insert(JOURNAL_1.to_owned(), damaged);
    for (name, bytes) in &files {
        disk.put_file(&Path::new(DIR).join(name), bytes);
    }
    let err = open_on(&disk, DIR).unwrap_err();
    let cause = check_refusal(&err, DIR, &files);
    assert_eq!(
        cause,
        OpenFailure::Corrupt {
            file: Path::new(DIR).join(JOURNAL_1),
            offset: start as u64,
            what: "record does not verify, and valid records follow it".into(),
        }
    );
    assert!(disk.files(Path::new(DIR)) == files, "nothing changed");
}

#[test]
fn a_cut_inside_the_last_record_is_a_torn_tail() {
    let reference = reference();
    let image = build(&reference, None);
    let &[.., (start, prefix), (end, _)] = image.frames.as_slice() else {
        panic!("records expected");
    };
    let cut_at = start + (end - start) / 2;
    let disk = SimulatedDisk::new();
    disk.put_file(
        &Path::new(DIR).join(JOURNAL_1),
        &image.files[JOURNAL_1][..cut_at],
    );
    let store = open_on(&disk, DIR).unwrap();
    let report = store.open_report().unwrap();
    assert!(report.bytes_cut > 0);
    assert_eq!(report.bytes_cut, (cut_at - start) as u64);
    assert_eq!(report.cut_file, Some(PathBuf::from(DIR).join(JOURNAL_1)));
    assert_eq!(report.records_replayed, image.frames.len() as u64 - 1);
    assert!(dump_all(&store) == reference.prefixes[prefix].dump);
    drop(store);
    assert_eq!(
        disk.files(Path::new(DIR))[JOURNAL_1].len(),
        start,
        "cut to the last whole record"
    );
}

/// `bytes` with its format version (u32 LE at 8) set to 2 and its header
/// CRC (over `0..crc_at`, stored at `crc_at`) recomputed.
fn with_version_99(bytes: &[u8], crc_at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[8..12].copy_from_slice(&99u32.to_le_bytes());
    let crc = crc32(&out[..crc_at]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn an_unknown_format_version_refuses() {
    let reference = reference();
    for (image, name, crc_at) in [
        (build(&reference, None), JOURNAL_1, 24),
        (build(&reference, Some(CHECKPOINT_AT)), JOURNAL_2, 24),
        (build(&reference, Some(CHECKPOINT_AT)), SNAPSHOT_2, 28),
    ] {
        let mut files = image.files.clone();
        files.insert(name.to_owned(), with_version_99(&files[name], crc_at));
        let disk = SimulatedDisk::new();
        for (n, bytes) in &files {
            disk.put_file(&Path::new(DIR).join(n), bytes);
        }
        let err = open_on(&disk, DIR).unwrap_err();
        let cause = check_refusal(&err, DIR, &files);
        assert_eq!(
            cause,
            OpenFailure::UnsupportedVersion {
                file: Path::new(DIR).join(name),
                version: 99
            }
        );
        assert!(disk.files(Path::new(DIR)) == files, "nothing changed");
    }
}

#[test]
fn the_crc_matches_the_files() {
    // The table-less CRC the tests and the fuzz target reseal with is the
    // one the files are written with.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let reference = reference();
    let image = build(&reference, Some(CHECKPOINT_AT));
    for name in [JOURNAL_2, SNAPSHOT_2] {
        let mut resealed = image.files[name].clone();
        if recovery::has_extension(name, "wal") {
            recovery::reseal_frames(&mut resealed);
            recovery::reseal_segment_header(&mut resealed);
        } else {
            recovery::reseal_snapshot(&mut resealed);
        }
        assert!(resealed == image.files[name], "{name} resealed differs");
    }
}

/// The journal segment that `calls` write on a fresh store.
fn journal_of(calls: &[Call]) -> Vec<u8> {
    let disk = SimulatedDisk::new();
    let store = open_on(&disk, DIR).unwrap();
    for call in calls {
        call(&store).unwrap();
    }
    store.close().unwrap();
    disk.files(Path::new(DIR))[JOURNAL_1].clone()
}

/// The frames of a journal segment, whole.
fn frames_of(journal: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = SEGMENT_HEADER;
    while at < journal.len() {
        let len = u32::from_le_bytes(journal[at..at + 4].try_into().unwrap()) as usize;
        out.push(journal[at..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

/// `frame` renumbered as record `lsn`, its CRC recomputed: a record no
/// checksum can tell from a genuine one.
fn renumbered(frame: &[u8], lsn: u64) -> Vec<u8> {
    let mut out = frame.to_vec();
    out[8..16].copy_from_slice(&lsn.to_le_bytes());
    let crc = crc32(&out[8..]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The journal of `base` followed by the last record of `other`,
/// renumbered to follow: each record verifies, but the last one is one
/// that the state before it could not have produced.
fn spliced(base: &[Call], other: &[Call]) -> Vec<u8> {
    let mut journal = journal_of(base);
    let next = frames_of(&journal).len() as u64 + 1;
    let last = frames_of(&journal_of(other)).pop().unwrap();
    journal.extend_from_slice(&renumbered(&last, next));
    journal
}

/// Opens a directory holding only `journal` as segment 1.
fn open_journal(journal: &[u8]) -> (SimulatedDisk, Result<Store, Error>) {
    let disk = SimulatedDisk::new();
    disk.put_file(&Path::new(DIR).join(JOURNAL_1), journal);
    let opened = open_on(&disk, DIR);
    (disk, opened)
}

fn model_association_a_b(s: &Store) -> Result<String, Error> {
    let new = NewModelAssociation::new("a", "connect", "b", Mapping::ManyToMany);
    shown(s.create_model_association(&new))
}

/// A checksum-valid record that the state before it could not have
/// produced must refuse the open, naming the record.
fn assert_refuses_the_last_record(journal: &[u8]) {
    let start = {
        let frames = frames_of(journal);
        journal.len() - frames.last().unwrap().len()
    };
    let (disk, opened) = open_journal(journal);
    match opened {
        Err(err) => {
            let files = disk.files(Path::new(DIR));
            let cause = check_refusal(&err, DIR, &files);
            let OpenFailure::Corrupt { file, offset, .. } = &cause else {
                panic!("{cause}");
            };
            assert_eq!(file, &Path::new(DIR).join(JOURNAL_1));
            assert_eq!(*offset, start as u64, "{cause}");
        }
        Ok(store) => panic!(
            "opened: {:?}; check_invariants: {:?}",
            store.open_report().map(ToString::to_string),
            store.check_invariants()
        ),
    }
}

/// A checksum-valid record that unregisters an instance which still has
/// records (no call could have written it) refuses: 1199031, `Corrupt`
/// naming the journal at the record's offset.
#[test]
fn a_valid_record_unregistering_a_linked_instance_refuses() {
    let setup: [Call; 3] = [
        model_association_a_b,
        |s| shown(s.register_instance("a", Some(1), None)),
        |s| shown(s.register_instance("b", Some(1), None)),
    ];
    let linked: Vec<Call> = setup
        .iter()
        .copied()
        .chain([(|s: &Store| shown(s.create_instance_association("a_connect_b", 1, 1))) as Call])
        .collect();
    let unregistered: Vec<Call> = setup
        .iter()
        .copied()
        .chain([(|s: &Store| shown(s.delete_instance("a", 1))) as Call])
        .collect();
    assert_refuses_the_last_record(&spliced(&linked, &unregistered));
}

#[test]
fn a_valid_record_linking_under_a_deleted_model_association_refuses() {
    let setup: [Call; 3] = [
        model_association_a_b,
        |s| shown(s.register_instance("a", Some(1), None)),
        |s| shown(s.register_instance("b", Some(1), None)),
    ];
    let deleted: Vec<Call> = setup
        .iter()
        .copied()
        .chain([(|s: &Store| shown(s.delete_model_association(1))) as Call])
        .collect();
    let linked: Vec<Call> = setup
        .iter()
        .copied()
        .chain([(|s: &Store| shown(s.create_instance_association("a_connect_b", 1, 1))) as Call])
        .collect();
    assert_refuses_the_last_record(&spliced(&deleted, &linked));
}

/// A last segment whose header is torn (here: an empty
/// `journal-0000000000000001.wal`, as a crash between creating a segment
/// and syncing its header can leave) is removed and its number reused, so
/// later opens find no gap and keep the writes acknowledged since.
#[test]
fn torn_segment_header_then_reopen() {
    let (disk, opened) = open_journal(&[]);
    let store = opened.unwrap();
    let report = store.open_report().unwrap().clone();
    assert_eq!(report.cut_file, Some(Path::new(DIR).join(JOURNAL_1)));
    store.register_instance("host", Some(1), None).unwrap();
    drop(store);
    match open_on(&disk, DIR) {
        Ok(again) => assert!(again.instance_exists("host", 1), "an acknowledged write"),
        Err(err) => panic!(
            "{err}: {:?}; files {:?}",
            std::error::Error::source(&err).map(ToString::to_string),
            disk.files(Path::new(DIR)).keys().collect::<Vec<_>>()
        ),
    }
}

/// The seed corpus of the fuzz target `recovery`: valid directory images
/// (and one with a torn tail) in its input format.
fn recovery_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use recovery::{CHECKPOINT, RESEAL_FRAMES, RESEAL_HEADERS, RESEAL_SNAPSHOTS, encode_image};
    let reference = reference();
    let journal = build(&reference, None);
    let checkpointed = build(&reference, Some(CHECKPOINT_AT));
    // Two segments: the scenario's first part, a reopen, the rest.
    let disk = SimulatedDisk::new();
    let calls = calls();
    let (first, rest) = calls.split_at(CHECKPOINT_AT);
    for part in [first, rest] {
        let store = open_on(&disk, DIR).unwrap();
        for call in part {
            let _ = call(&store);
        }
        store.close().unwrap();
    }
    let two = disk.files(Path::new(DIR));
    assert_eq!(two.len(), 2);
    let mut torn = journal.files.clone();
    let cut_at = journal.files[JOURNAL_1].len() - 3;
    torn.get_mut(JOURNAL_1).unwrap().truncate(cut_at);
    vec![
        (
            "seed-journal",
            encode_image(RESEAL_FRAMES | RESEAL_HEADERS, &journal.files),
        ),
        (
            "seed-checkpointed",
            encode_image(RESEAL_SNAPSHOTS | CHECKPOINT, &checkpointed.files),
        ),
        ("seed-two-segments", encode_image(CHECKPOINT, &two)),
        ("seed-torn-tail", encode_image(0, &torn)),
    ]
}

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/recovery")
}

/// Rewrites `fuzz/corpus/recovery/seed-*` (after a format change):
/// `cargo test --test durable_damage -- --ignored write_recovery_seeds`.
#[test]
#[ignore = "writes the fuzz seeds; run by hand"]
fn write_recovery_seeds() {
    std::fs::create_dir_all(seed_dir()).unwrap();
    for (name, bytes) in recovery_seeds() {
        assert!(bytes.len() < 10_000, "{name}: {} bytes", bytes.len());
        std::fs::write(seed_dir().join(name), bytes).unwrap();
    }
}

/// The committed seeds are the images the scenario writes today, and each
/// opens (the torn one with a cut).
#[test]
fn the_recovery_seeds_are_current_and_open() {
    for (name, bytes) in recovery_seeds() {
        let path = seed_dir().join(name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} is stale: rerun write_recovery_seeds",
            path.display()
        );
        let (_, files) = recovery::decode_image(&bytes);
        let disk = SimulatedDisk::new();
        for (n, b) in &files {
            disk.put_file(&Path::new(DIR).join(n), b);
        }
        let store = open_on(&disk, DIR).unwrap();
        let cut = store.open_report().unwrap().bytes_cut;
        assert_eq!(cut > 0, name == "seed-torn-tail", "{name}");
        // The torn tail loses the last record, a batch of four.
        let len = if name == "seed-torn-tail" { 16 } else { 20 };
        assert_eq!(store.len(), len, "{name}");
        drop(store);
        recovery::run(&bytes);
    }
}
