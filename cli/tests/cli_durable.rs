//! The binary on a durable store: `assocstore replay --data DIR` and
//! `assocstore verify DIR`.
//!
//! * A directory is held by one store at a time, across processes: while a
//!   replay runs on it, `Store::open` in this process and a second replay
//!   process are refused at once with 1199031, the cause saying it is
//!   locked.
//! * `verify` exits 0 on a good directory and prints the counts; on a
//!   journal with a flipped byte inside its first record it exits 1 naming
//!   the file and byte offset, and leaves the directory as it was.
//! * A second replay on the same directory sees what the first one wrote.
//!
//! No timing assertions: a deadline only turns a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use assocstore::Store;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_assocstore");
/// How long the test waits before calling a hang a failure.
const DEADLINE: Duration = Duration::from_mins(1);

/// A directory under the system's temp dir, removed when the test passes.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        TempDir(std::env::temp_dir().join(format!(
            "assocstore-cli-{label}-{}-{nanos}",
            std::process::id()
        )))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("cli_durable: keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn request(api: &str, body: &Value) -> String {
    json!({"api": api, "body": body}).to_string()
}

/// A model association `bk_switch_belong_host`, two switches, three hosts
/// and three associations.
fn setup_lines() -> Vec<String> {
    let mut lines = vec![request(
        "create_object_association",
        &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_obj_id": "bk_switch",
                "bk_asst_obj_id": "host", "bk_asst_id": "belong", "mapping": "1:n"}),
    )];
    for (model, id) in [
        ("bk_switch", 11),
        ("bk_switch", 12),
        ("host", 21),
        ("host", 22),
        ("host", 23),
    ] {
        lines.push(request(
            "create_inst",
            &json!({"bk_obj_id": model, "bk_inst_id": id}),
        ));
    }
    for (src, dst) in [(11, 21), (11, 22), (12, 23)] {
        lines.push(request(
            "add_instance_association",
            &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": src,
                    "bk_asst_inst_id": dst}),
        ));
    }
    lines
}

fn find_line() -> String {
    request(
        "find_instance_association",
        &json!({"bk_obj_id": "bk_switch",
                "condition": {"bk_obj_asst_id": "bk_switch_belong_host"}}),
    )
}

/// Runs `assocstore ARGS` with `lines` on standard input, to the end.
fn run(args: &[&str], dir: &Path, lines: &[String]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn assocstore");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = lines.iter().fold(String::new(), |s, l| s + l + "\n");
    // A small input fits the pipe; the child reads it all.
    stdin.write_all(input.as_bytes()).expect("write input");
    drop(stdin);
    child.wait_with_output().expect("wait")
}

/// Runs `assocstore replay --data DIR` over `lines` and returns the parsed
/// envelopes, one per line, after checking the run exited 0.
fn replay(dir: &Path, lines: &[String]) -> Vec<Value> {
    let out = run(&["replay", "--data"], dir, lines);
    assert!(
        out.status.success(),
        "replay exit {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let envelopes: Vec<Value> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an envelope per line"))
        .collect();
    assert_eq!(envelopes.len(), lines.len());
    envelopes
}

/// A replay that keeps running: its stdin stays open until `finish`.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
}

impl Running {
    fn start(dir: &Path) -> Running {
        let mut child = Command::new(BIN)
            .args(["replay", "--data"])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn assocstore");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stdin,
            answers,
        }
    }

    /// Sends one request and waits for its answer: once it is there, the
    /// store is open and holds the directory.
    fn ask(&mut self, line: &str) -> Value {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write request");
        stdin.flush().expect("flush");
        let answer = self
            .answers
            .recv_timeout(DEADLINE)
            .expect("an answer while stdin is open");
        serde_json::from_str(&answer).expect("an envelope")
    }

    /// Closes stdin and waits for a clean exit.
    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "replay exit {status:?}");
    }
}

/// Waits for `child` to exit by itself, without closing its stdin.
fn exits_by_itself(child: &mut Child) -> ExitStatus {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            Instant::now() < until,
            "still running with its stdin open: it should have refused at once"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_running_replay_locks_its_directory_against_store_open_in_another_process() {
    let dir = TempDir::new("lock-open");
    let mut running = Running::start(dir.path());
    let answer = running.ask(&request(
        "create_inst",
        &json!({"bk_obj_id": "host", "bk_inst_id": 1}),
    ));
    assert_eq!(answer["result"], true, "{answer}");

    let err = Store::open(dir.path()).expect_err("the directory is held by the replay");
    assert_eq!(err.code(), 1_199_031);
    assert_eq!(
        err.to_string(),
        format!("'{}' initialization failed", dir.path().display())
    );
    let cause = std::error::Error::source(&err)
        .expect("a cause")
        .to_string();
    assert!(cause.contains("locked"), "cause: {cause}");

    running.finish();
    // Released at exit, with what was acknowledged in it.
    let store = Store::open(dir.path()).expect("free after the replay ended");
    assert!(store.instance_exists("host", 1));
}

#[test]
fn a_second_replay_on_a_locked_directory_exits_1_at_once() {
    let dir = TempDir::new("lock-replay");
    let mut first = Running::start(dir.path());
    let answer = first.ask(&request(
        "create_inst",
        &json!({"bk_obj_id": "host", "bk_inst_id": 1}),
    ));
    assert_eq!(answer["result"], true, "{answer}");

    // Its stdin stays open: it must not wait for input to refuse.
    let mut second = Command::new(BIN)
        .args(["replay", "--data"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn assocstore");
    let status = exits_by_itself(&mut second);
    let out = second.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = format!("'{}' initialization failed", dir.path().display());
    assert!(
        stderr.starts_with(&format!("assocstore: {message}: ")),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("locked"), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);

    // The first one goes on serving.
    let answer = first.ask(&request(
        "create_inst",
        &json!({"bk_obj_id": "host", "bk_inst_id": 2}),
    ));
    assert_eq!(answer["result"], true, "{answer}");
    first.finish();
}

#[test]
fn verify_on_a_good_directory_exits_0_and_prints_the_counts() {
    let dir = TempDir::new("verify-good");
    let answers = replay(dir.path(), &setup_lines());
    assert!(answers.iter().all(|a| a["result"] == true), "{answers:?}");

    let out = run(&["verify"], dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "associations: 3",
        "model associations: 1",
        "instances of bk_switch: 2",
        "instances of host: 3",
        "invariants: ok",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no line {line:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("opened: ") && l.contains("9 journal records replayed")),
        "no open report in:\n{stdout}"
    );
}

#[test]
fn verify_names_the_file_and_offset_of_a_flipped_byte_and_changes_nothing() {
    let dir = TempDir::new("verify-flip");
    replay(dir.path(), &setup_lines());
    let journals: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "wal")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("journal-"))
        })
        .collect();
    assert_eq!(journals.len(), 1, "one run, one segment: {journals:?}");
    let journal = &journals[0];
    let mut bytes = std::fs::read(journal).expect("read journal");
    // A 32-byte segment header, then frames: len u32 LE, crc u32 LE, lsn
    // u64 LE, payload (src/durable/journal.rs).
    let len = u32::from_le_bytes(bytes[32..36].try_into().expect("4 bytes")) as usize;
    let first_end = 32 + 16 + len;
    assert!(first_end < bytes.len(), "more records follow the first one");
    bytes[32 + 16 + len / 2] ^= 0x5a;
    std::fs::write(journal, &bytes).expect("write damaged journal");
    let listing = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = listing(dir.path());

    let out = run(&["verify"], dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let message = format!("'{}' initialization failed", dir.path().display());
    assert!(
        stderr.starts_with(&format!("assocstore: {message}: ")),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains(&*journal.to_string_lossy()),
        "stderr does not name {}: {stderr}",
        journal.display()
    );
    let offset: usize = stderr
        .split("byte offset ")
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no byte offset in: {stderr}"));
    assert!(
        (32..first_end).contains(&offset),
        "offset {offset} is not in the first record (32..{first_end}): {stderr}"
    );

    // An open that refuses leaves the directory as it found it.
    assert_eq!(listing(dir.path()), before);
    assert_eq!(std::fs::read(journal).expect("read journal"), bytes);
}

#[test]
fn verify_refuses_a_missing_directory_without_creating_it() {
    let dir = TempDir::new("verify-missing");
    let out = run(&["verify"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stderr.is_empty());
    assert!(!dir.path().exists());
}

#[test]
fn a_second_replay_on_the_same_directory_sees_the_first_ones_data() {
    let dir = TempDir::new("reopen");
    let mut lines = setup_lines();
    lines.push(find_line());
    let first = replay(dir.path(), &lines);
    let found = &first.last().expect("the find")["data"];
    assert_eq!(found.as_array().map(Vec::len), Some(3), "{found}");

    let second = replay(
        dir.path(),
        &[
            find_line(),
            request(
                "create_inst",
                &json!({"bk_obj_id": "host", "bk_inst_id": 21}),
            ),
            request(
                "add_instance_association",
                &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 12,
                        "bk_asst_inst_id": 21}),
            ),
            request(
                "create_inst",
                &json!({"bk_obj_id": "host", "bk_inst_id": 24}),
            ),
            request(
                "add_instance_association",
                &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 12,
                        "bk_asst_inst_id": 24}),
            ),
        ],
    );
    assert_eq!(&second[0]["data"], found, "the same answer after reopening");
    // The instance is still there, and host 21 still has its 1:n source.
    assert_eq!(second[1]["code"], 1_199_014, "{}", second[1]);
    assert_eq!(second[2]["code"], 1_101_061, "{}", second[2]);
    // Record ids go on from the first run's.
    assert_eq!(second[3]["result"], true, "{}", second[3]);
    assert_eq!(second[4]["data"], json!({"id": 4}), "{}", second[4]);
}
