//! SPEC §4: the wire layer and the `assocstore replay` binary.
//!
//! * The conformance fixture (`tests/fixtures/conformance.jsonl`) is replayed
//!   in order through one store, by the library and by the binary; line `i`
//!   of `conformance.expected.jsonl` is the envelope SPEC gives line `i`. The
//!   expected lines were written from SPEC (and the README's documented
//!   decisions where SPEC is silent), never recorded from the program.
//!   Their `request_id` is a placeholder: the actual one must be 32 hex
//!   digits and unique in the run, and is then ignored. Everything else is
//!   compared as text after a parse and re-serialization with key order
//!   kept, so key order counts.
//! * Bad input through the spawned binary: each bad line gets exactly one
//!   error envelope and the next line is served normally.
//! * The command line: streaming stdin, `replay -`, `--help`, an unreadable
//!   file, CRLF line endings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use assocstore::Store;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_assocstore");
const FIXTURE: &str = "tests/fixtures/conformance.jsonl";
const EXPECTED: &str = "tests/fixtures/conformance.expected.jsonl";

/// The envelope's keys, in bk-cmdb's order (SPEC §4).
const ENVELOPE_KEYS: [&str; 6] = [
    "result",
    "code",
    "message",
    "data",
    "permission",
    "request_id",
];

/// The APIs of SPEC §4.
const SPEC_APIS: [&str; 16] = [
    "create_association_type",
    "create_object_association",
    "delete_object_association",
    "find_object_association",
    "create_inst",
    "delete_inst",
    "batch_delete_inst",
    "add_instance_association",
    "batch_create_instance_association",
    "find_instance_association",
    "search_instance_associations",
    "count_instance_associations",
    "delete_instance_association",
    "delete_related_inst_asso",
    "search_related_inst_asso",
    "search_inst_association_topo",
];

/// The error codes of SPEC §2.
const SPEC_CODES: [i64; 21] = [
    1_199_000, 1_199_003, 1_199_006, 1_199_009, 1_199_010, 1_199_011, 1_199_014, 1_199_035,
    1_199_038, 1_199_059, 1_101_038, 1_101_043, 1_101_045, 1_101_046, 1_101_052, 1_101_061,
    1_101_072, 1_101_073, 1_101_074, 1_101_075, 1_101_082,
];

const DECODE: &str = "Deserializing JSON data failed";
const ADD: &str = "add_instance_association";
const BATCH: &str = "batch_create_instance_association";
const NO_SOURCE: &str = "the association inst is not exist";
const NO_TARGET: &str = "the  inst to asst  is not exist";

/// The request examples of the seed pages (`reference/seeds/`), as printed there.
const SEEDS: [(&str, &str); 4] = [
    (
        // 000 (English) and 002 (Chinese) add_instance_association
        "add_instance_association",
        r#"{
    "bk_app_code": "esb_test",
    "bk_app_secret": "xxx",
    "bk_username": "xxx",
    "bk_token": "xxx",
    "bk_obj_asst_id": "bk_switch_belong_bk_host",
    "bk_inst_id": 11,
    "bk_asst_inst_id": 21,
    "metadata":{
        "label":{
            "bk_biz_id":"1"
        }
    }
}"#,
    ),
    (
        // 001 add_instance_association
        "add_instance_association",
        r#"{
    "bk_app_code": "esb_test",
    "bk_app_secret": "xxx",
    "bk_username": "xxx",
    "bk_token": "xxx",
    "bk_obj_asst_id": "bk_switch_belong_bk_host",
    "bk_inst_id": 11,
    "bk_asst_inst_id": 21
}"#,
    ),
    (
        // 003 batch_create_instance_association
        "batch_create_instance_association",
        r#"{
     "bk_app_code": "esb_test",
     "bk_app_secret": "xxx",
     "bk_username": "xxx",
     "bk_token": "xxx",
     "bk_obj_id": "bk_switch",
     "bk_asst_obj_id": "host",
     "bk_obj_asst_id": "bk_switch_belong_host",
     "details":[
         {
             "bk_inst_id": 11,
             "bk_asst_inst_id": 21
         },
         {
             "bk_inst_id": 12,
             "bk_asst_inst_id": 22
         }
     ]
}"#,
    ),
    (
        // 004 find_instance_association
        "find_instance_association",
        r#"{
     "bk_app_code": "esb_test",
     "bk_app_secret": "xxx",
     "bk_username": "xxx",
     "bk_token": "xxx",
     "condition": {
         "bk_obj_asst_id": "bk_switch_belong_bk_host",
         "bk_asst_id": "",
         "bk_asst_obj_id": ""
     },
     "bk_obj_id": "xxx"
}"#,
    ),
];

// ------------------------------------------------------------------ helpers

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_lines(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(manifest_dir().join(path)).expect("fixture readable");
    text.lines().map(str::to_owned).collect()
}

/// A JSON value as text with its key order (`serde_json` keeps it here:
/// the crate enables `preserve_order`), so two texts are equal only when
/// keys, values and key order are.
fn canonical(value: &Value) -> String {
    serde_json::to_string(value).expect("serializable")
}

/// At most `max` bytes of `text` (on a char boundary), for messages.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

fn is_request_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses one output line as an envelope: an object with exactly the six
/// keys in bk-cmdb's order and a fresh 32-hex-digit `request_id`.
fn envelope(line: &str, seen_ids: &mut HashSet<String>) -> Result<Value, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let keys: Vec<&str> = value
        .as_object()
        .ok_or("not an object")?
        .keys()
        .map(String::as_str)
        .collect();
    if keys != ENVELOPE_KEYS {
        return Err(format!("envelope keys {keys:?}, want {ENVELOPE_KEYS:?}"));
    }
    let id = value["request_id"]
        .as_str()
        .ok_or("request_id not a string")?;
    if !is_request_id(id) {
        return Err(format!("request_id {id:?} is not 32 hex digits"));
    }
    if !seen_ids.insert(id.to_owned()) {
        return Err(format!("request_id {id} repeats an earlier one"));
    }
    Ok(value)
}

/// Compares one actual output line with the expected envelope (whose
/// `request_id` is ignored); `None` when they agree.
fn mismatch(actual: &str, expected: &Value, seen_ids: &mut HashSet<String>) -> Option<String> {
    let mut actual = match envelope(actual, seen_ids) {
        Ok(value) => value,
        Err(why) => return Some(why),
    };
    actual["request_id"] = expected["request_id"].clone();
    let (a, e) = (canonical(&actual), canonical(expected));
    (a != e).then(|| "envelope differs".to_owned())
}

/// Checks a whole run's output against the expected envelopes; returns a
/// report of every mismatching line (empty when all agree).
fn diff_run(inputs: &[String], expected: &[Value], output: &str) -> String {
    let mut report = String::new();
    let Some(body) = output.strip_suffix('\n') else {
        return format!("output does not end with a newline: {}", clip(output, 300));
    };
    let actual: Vec<&str> = body.split('\n').collect();
    if actual.len() != inputs.len() {
        let _ = writeln!(
            report,
            "{} output lines for {} input lines",
            actual.len(),
            inputs.len()
        );
    }
    let mut seen = HashSet::new();
    for (i, ((input, want), got)) in inputs.iter().zip(expected).zip(&actual).enumerate() {
        if let Some(why) = mismatch(got, want, &mut seen) {
            let _ = write!(
                report,
                "\nline {}: {why}\n   input: {}\nexpected: {}\n  actual: {}\n",
                i + 1,
                clip(input, 400),
                canonical(want),
                clip(got, 400)
            );
        }
    }
    report
}

fn expected_envelopes() -> Vec<Value> {
    read_lines(EXPECTED)
        .iter()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("expected line {} is not JSON: {e}", i + 1))
        })
        .collect()
}

/// Runs the binary with `args` in the crate directory, feeding `input` on
/// stdin from another thread (so a large input cannot deadlock against a
/// full stdout pipe).
fn run_binary(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(manifest_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn assocstore");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for assocstore");
    writer
        .join()
        .expect("writer thread")
        .expect("the binary reads all of its input");
    output
}

// ------------------------------------------------------------------ scripts

/// What one request line should get back.
enum Want {
    Ok(Value),
    Err(i64, String),
}

fn ok(data: Value) -> Want {
    Want::Ok(data)
}

fn err(code: i64, message: &str) -> Want {
    Want::Err(code, message.to_owned())
}

impl Want {
    fn envelope(&self) -> Value {
        match self {
            Want::Ok(data) => json!({"result": true, "code": 0, "message": "success",
                "data": data, "permission": null, "request_id": "*"}),
            Want::Err(code, message) => json!({"result": false, "code": code,
                "message": message, "data": null, "permission": null, "request_id": "*"}),
        }
    }
}

/// Request lines with the response each should get, replayed in order
/// through one store.
#[derive(Default)]
struct Script {
    lines: Vec<Vec<u8>>,
    wants: Vec<Want>,
}

impl Script {
    /// A raw input line (without its line ending).
    fn line(&mut self, line: impl Into<Vec<u8>>, want: Want) {
        self.lines.push(line.into());
        self.wants.push(want);
    }

    /// A request line `{"api": api, "body": body}`.
    fn call(&mut self, api: &str, body: &Value, want: Want) {
        self.line(canonical(&json!({"api": api, "body": body})), want);
    }

    /// The input, each line ended by `ending`.
    fn input(&self, ending: &str) -> Vec<u8> {
        let mut input = Vec::new();
        for line in &self.lines {
            input.extend_from_slice(line);
            input.extend_from_slice(ending.as_bytes());
        }
        input
    }

    /// Runs the script through `assocstore replay` on stdin with `ending`
    /// after every line, and checks: exit status 0, exactly one envelope
    /// per line, each the expected one.
    fn run(&self, ending: &str) {
        let output = run_binary(&["replay"], self.input(ending));
        assert!(
            output.status.success(),
            "exit status {:?}, stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let inputs: Vec<String> = self
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let expected: Vec<Value> = self.wants.iter().map(Want::envelope).collect();
        let report = diff_run(&inputs, &expected, &stdout);
        assert!(report.is_empty(), "{report}");
    }
}

/// A store with model association `bk_switch_belong_host` (`bk_switch` →
/// `host`, `n:n`), switch 11 and hosts 1..=`hosts`.
fn setup(script: &mut Script, hosts: i64) {
    script.call(
        "create_object_association",
        &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_obj_id": "bk_switch",
            "bk_asst_obj_id": "host", "bk_asst_id": "belong", "mapping": "n:n"}),
        ok(json!({"id": 1})),
    );
    script.call(
        "create_inst",
        &json!({"bk_obj_id": "bk_switch", "bk_inst_id": 11}),
        ok(json!({"bk_inst_id": 11})),
    );
    for id in 1..=hosts {
        script.call(
            "create_inst",
            &json!({"bk_obj_id": "host", "bk_inst_id": id}),
            ok(json!({"bk_inst_id": id})),
        );
    }
}

/// A valid add of switch 11 → host `host`, which must create record `id`.
fn add(script: &mut Script, host: i64, id: i64) {
    script.call(
        "add_instance_association",
        &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 11, "bk_asst_inst_id": host}),
        ok(json!({"id": id})),
    );
}

/// The record switch 11 → host `host` with id `id`.
fn record(id: i64, host: i64) -> Value {
    json!({"id": id, "bk_inst_id": 11, "bk_obj_id": "bk_switch", "bk_asst_inst_id": host,
        "bk_asst_obj_id": "host", "bk_obj_asst_id": "bk_switch_belong_host", "bk_asst_id": "belong"})
}

// ------------------------------------------------------------------ (a) conformance

#[test]
fn conformance_fixture_through_the_library() {
    let inputs = read_lines(FIXTURE);
    let expected = expected_envelopes();
    assert_eq!(
        inputs.len(),
        expected.len(),
        "fixture and expected differ in length"
    );
    let file = std::fs::File::open(manifest_dir().join(FIXTURE)).expect("fixture");
    let mut output = Vec::new();
    let stats = assocstore::wire::replay(&Store::new(), file, &mut output).expect("replay");
    let output = String::from_utf8(output).expect("UTF-8 output");
    let report = diff_run(&inputs, &expected, &output);
    assert!(report.is_empty(), "library replay:{report}");
    let failures = expected.iter().filter(|e| e["result"] == false).count();
    assert_eq!(stats.lines, inputs.len() as u64);
    assert_eq!(stats.failures, failures as u64);
}

#[test]
fn conformance_fixture_through_the_binary() {
    let inputs = read_lines(FIXTURE);
    let expected = expected_envelopes();
    let output = Command::new(BIN)
        .args(["replay", FIXTURE])
        .current_dir(manifest_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run assocstore");
    assert!(
        output.status.success(),
        "exit status {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let report = diff_run(&inputs, &expected, &stdout);
    assert!(report.is_empty(), "binary replay:{report}");
}

#[test]
fn fixture_covers_every_api_every_error_code_and_the_seeds() {
    let inputs = read_lines(FIXTURE);
    let expected = expected_envelopes();
    assert!(inputs.len() >= 60, "only {} pairs", inputs.len());
    let requests: Vec<Value> = inputs
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let apis: HashSet<&str> = requests.iter().filter_map(|r| r["api"].as_str()).collect();
    for api in SPEC_APIS {
        assert!(apis.contains(api), "no line calls {api}");
    }
    let codes: HashSet<i64> = expected.iter().filter_map(|e| e["code"].as_i64()).collect();
    for code in SPEC_CODES {
        assert!(codes.contains(&code), "no line expects error {code}");
    }
    for (api, seed) in SEEDS {
        let seed: Value = serde_json::from_str(seed).expect("seed example is JSON");
        let verbatim = requests
            .iter()
            .any(|r| r["api"] == api && canonical(&r["body"]) == canonical(&seed));
        assert!(
            verbatim,
            "the seed body {} is not in the fixture",
            canonical(&seed)
        );
    }
}

/// The comparison must see key order (SPEC §1 and §4 fix it); it relies on
/// `serde_json`'s `preserve_order`, which the crate enables.
#[test]
fn the_comparison_sees_key_order() {
    let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": 3}}"#).expect("JSON");
    let b: Value = serde_json::from_str(r#"{"b": 1, "a": {"c": 3, "d": 2}}"#).expect("JSON");
    assert_eq!(canonical(&a), r#"{"b":1,"a":{"d":2,"c":3}}"#);
    assert_ne!(canonical(&a), canonical(&b));
}

#[test]
fn the_fixture_replays_the_same_from_stdin_as_from_a_file() {
    let input = std::fs::read(manifest_dir().join(FIXTURE)).expect("fixture");
    let output = run_binary(&["replay", "-"], input);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let report = diff_run(&read_lines(FIXTURE), &expected_envelopes(), &stdout);
    assert!(report.is_empty(), "replay - :{report}");
}

// ------------------------------------------------------------------ (b) bad input

#[test]
fn lines_that_are_not_json_get_1199000_and_the_next_line_is_served() {
    let mut s = Script::default();
    setup(&mut s, 10);
    let bad: [&[u8]; 8] = [
        b"this is not JSON",
        br#"{"api": "add_instance_association", "body": {"bk_obj_asst_id": "#,
        b"",
        b"   \t ",
        br#"{"api": "create_inst", "body": {"bk_obj_id": "host"}} trailing"#,
        br#"{"api": "create_inst", "body": {"bk_obj_id": "host",}}"#,
        b"\xff\xfe{\"api\": \"create_inst\"}",
        b"\r",
    ];
    for (i, line) in (1..).zip(bad) {
        s.line(line, err(1_199_000, DECODE));
        add(&mut s, i, i);
    }
    s.run("\n");
}

#[test]
fn unknown_or_missing_api_gets_1199011_and_the_next_line_is_served() {
    let mut s = Script::default();
    setup(&mut s, 10);
    let unknown = "'api' the parameter is invalid or does not exist";
    let bad = [
        json!({"api": "no_such_api", "body": {}}),
        json!({"api": "Add_Instance_Association", "body": {}}),
        json!({"api": "", "body": {}}),
        json!({"body": {"bk_obj_asst_id": "bk_switch_belong_host"}}),
        json!({"api": 7, "body": {}}),
    ];
    for (i, line) in (1..).zip(&bad) {
        s.line(canonical(line), err(1_199_011, unknown));
        add(&mut s, i, i);
    }
    s.run("\n");
}

/// bk-cmdb decodes a body into a Go struct: a JSON array or scalar where an
/// object belongs fails the decode (SPEC §4; bkcmdb-semantics §0.3), with
/// the API's decode error (1199006 re-wrapped for add, find and
/// delete-many; 1199000 for batch and instances).
#[test]
fn arrays_or_scalars_in_place_of_objects_get_the_apis_decode_error() {
    let mut s = Script::default();
    setup(&mut s, 0);
    let wrapped = || err(1_199_006, DECODE);
    let plain = || err(1_199_000, DECODE);
    let related = "'Deserializing JSON data failed' data parameter verification does not pass";
    let cases = [
        (ADD, json!([]), wrapped()),
        (ADD, json!(["bk_switch_belong_host", 11, 1]), wrapped()),
        (ADD, json!(11), wrapped()),
        (ADD, json!("bk_switch_belong_host"), wrapped()),
        (ADD, json!(true), wrapped()),
        (BATCH, json!([]), plain()),
        (BATCH, json!(200), plain()),
        (BATCH, json!("details"), plain()),
        ("find_instance_association", json!(["host"]), wrapped()),
        ("delete_related_inst_asso", json!([1, 2]), wrapped()),
        (
            "search_related_inst_asso",
            json!("host"),
            err(1_199_006, related),
        ),
        ("create_inst", json!([]), plain()),
        ("create_inst", json!(["host", "web", 3]), plain()),
        // nested: an array where the body has an object
        (
            BATCH,
            json!({"bk_obj_id": "bk_switch", "bk_asst_obj_id": "host",
                "bk_obj_asst_id": "bk_switch_belong_host", "details": [[11, 1]]}),
            plain(),
        ),
        (
            "search_related_inst_asso",
            json!({"condition": ["host", 1], "fields": ["id"]}),
            err(1_199_006, related),
        ),
    ];
    // After each bad line a valid one: register host 1, 2, ... in turn.
    for (id, (api, body, want)) in (1..).zip(cases) {
        s.call(api, &body, want);
        s.call(
            "create_inst",
            &json!({"bk_obj_id": "host", "bk_inst_id": id}),
            ok(json!({"bk_inst_id": id})),
        );
    }
    // None of the bad lines created anything.
    s.call(
        "find_instance_association",
        &json!({"bk_obj_id": "host", "condition": {}}),
        ok(json!([])),
    );
    s.call(
        "create_inst",
        &json!({"bk_obj_id": "host"}),
        ok(json!({"bk_inst_id": 16})),
    );
    s.run("\n");
}

/// An add body for switch `src` → host `dst` (any JSON values).
fn link(src: &Value, dst: &Value) -> Value {
    json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": src, "bk_asst_inst_id": dst})
}

/// A batch body with one detail `src` → `dst` (any JSON values).
fn batch_of(src: &Value, dst: &Value) -> Value {
    json!({"bk_obj_id": "bk_switch", "bk_asst_obj_id": "host", "bk_obj_asst_id": "bk_switch_belong_host",
        "details": [{"bk_inst_id": src, "bk_asst_inst_id": dst}]})
}

/// Replays `cases`, each followed by a valid add that must create the next
/// record id (so a bad line that inserted something shows up at once).
fn bad_then_good(cases: Vec<(&str, Value, Want)>) {
    let mut s = Script::default();
    setup(&mut s, 30);
    for (id, (api, body, want)) in (1..).zip(cases) {
        s.call(api, &body, want);
        add(&mut s, id, id);
    }
    s.run("\n");
}

#[test]
fn wrong_field_types_and_ids_beyond_int64_get_the_apis_decode_error() {
    let too_big: Value = serde_json::from_str("9223372036854775808").expect("u64");
    let too_small: Value = serde_json::from_str("-9223372036854775809").expect("f64");
    let wrapped = || err(1_199_006, DECODE);
    let plain = || err(1_199_000, DECODE);
    bad_then_good(vec![
        (ADD, link(&json!("11"), &json!(1)), wrapped()),
        (ADD, link(&json!(11), &json!("1")), wrapped()),
        (ADD, link(&too_big, &json!(1)), wrapped()),
        (ADD, link(&json!(11), &too_small), wrapped()),
        (ADD, link(&json!(11), &json!(1.5)), wrapped()),
        (
            ADD,
            json!({"bk_obj_asst_id": 5, "bk_inst_id": 11, "bk_asst_inst_id": 1}),
            wrapped(),
        ),
        (BATCH, batch_of(&json!("11"), &json!(1)), plain()),
        (BATCH, batch_of(&json!(11), &too_big), plain()),
        (
            BATCH,
            json!({"bk_obj_id": "bk_switch", "bk_asst_obj_id": "host",
                "bk_obj_asst_id": "bk_switch_belong_host", "details": {"bk_inst_id": 11}}),
            plain(),
        ),
        (
            "create_inst",
            json!({"bk_obj_id": "host", "bk_inst_id": too_big}),
            plain(),
        ),
        (
            "find_instance_association",
            json!({"bk_obj_id": "host", "condition": [1]}),
            wrapped(),
        ),
        (
            "delete_related_inst_asso",
            json!({"bk_obj_id": "host", "id": [too_small]}),
            wrapped(),
        ),
    ]);
}

/// Ids ≤ 0 (and `i64::MIN`) are int64s that are never registered, and a
/// missing field is its zero value (bkcmdb-semantics §0.3, §2.2): SPEC
/// §3.2's existence checks answer them.
#[test]
fn ids_not_above_zero_and_missing_fields_fail_the_existence_checks() {
    let unassigned = "'bk_obj_asst_id' the parameter is invalid or does not exist";
    bad_then_good(vec![
        (ADD, link(&json!(0), &json!(1)), err(1_101_073, NO_SOURCE)),
        (ADD, link(&json!(-1), &json!(1)), err(1_101_073, NO_SOURCE)),
        (
            ADD,
            link(&json!(i64::MIN), &json!(1)),
            err(1_101_073, NO_SOURCE),
        ),
        (ADD, link(&json!(11), &json!(0)), err(1_101_074, NO_TARGET)),
        (ADD, link(&json!(11), &json!(-7)), err(1_101_074, NO_TARGET)),
        (
            ADD,
            json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_asst_inst_id": 1}),
            err(1_101_073, NO_SOURCE),
        ),
        (
            ADD,
            json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 11}),
            err(1_101_074, NO_TARGET),
        ),
        (
            ADD,
            json!({"bk_inst_id": 11, "bk_asst_inst_id": 1}),
            err(1_101_046, "object association does not exist."),
        ),
        (
            BATCH,
            json!({"bk_obj_id": "bk_switch", "bk_asst_obj_id": "host",
                "details": [{"bk_inst_id": 11, "bk_asst_inst_id": 1}]}),
            err(1_199_011, unassigned),
        ),
        // A batch with ids ≤ 0: the call succeeds, those items fail.
        (
            BATCH,
            json!({"bk_obj_id": "bk_switch", "bk_asst_obj_id": "host",
                "bk_obj_asst_id": "bk_switch_belong_host",
                "details": [{"bk_inst_id": 0, "bk_asst_inst_id": 30}, {"bk_inst_id": 11, "bk_asst_inst_id": -30}]}),
            ok(json!({"success_created": {}, "error_msg": {"0": NO_SOURCE, "1": NO_TARGET}})),
        ),
        (
            "find_instance_association",
            json!({"condition": {}}),
            err(1_199_010, "'bk_obj_id' unassigned"),
        ),
        (
            "delete_instance_association",
            json!({"bk_obj_id": "host"}),
            err(1_199_009, "'association_id' parameters must be integral"),
        ),
        (
            "search_related_inst_asso",
            json!({"condition": {"bk_inst_id": 11}, "fields": ["id"]}),
            err(1_199_010, "''bk_inst_id' & 'bk_obj_id'' unassigned"),
        ),
    ]);
}

/// A valid JSON line is served whatever its nesting: common arguments and
/// `metadata` are accepted and ignored (SPEC §4), and only a line that is
/// not valid JSON is 1199000. (bk-cmdb's Go decoder nests up to 10000 deep,
/// replay up to 1000; 200 is inside both.)
#[test]
fn deeply_nested_ignored_metadata_is_still_ignored() {
    let mut s = Script::default();
    setup(&mut s, 2);
    let mut nested = json!({"bk_biz_id": "1"});
    for _ in 0..200 {
        nested = json!([nested]);
    }
    s.call(
        ADD,
        &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 11, "bk_asst_inst_id": 1,
            "metadata": {"label": nested}}),
        ok(json!({"id": 1})),
    );
    add(&mut s, 2, 2);
    s.run("\n");
}

#[test]
fn ten_megabyte_lines_are_one_request_each() {
    const TEN_MB: usize = 10 << 20;
    let mut s = Script::default();
    setup(&mut s, 5);
    let huge = "x".repeat(TEN_MB);
    s.call(
        "add_instance_association",
        &json!({"bk_obj_asst_id": huge, "bk_inst_id": 11, "bk_asst_inst_id": 1}),
        err(1_101_046, "object association does not exist."),
    );
    add(&mut s, 1, 1);
    s.line(huge.clone().into_bytes(), err(1_199_000, DECODE));
    add(&mut s, 2, 2);
    let mut garbage = vec![b'{'; TEN_MB];
    garbage.extend_from_slice(b"\x00\x01 not json");
    s.line(garbage, err(1_199_000, DECODE));
    add(&mut s, 3, 3);
    // Ignored common arguments may be large too.
    s.call(
        "add_instance_association",
        &json!({"bk_obj_asst_id": "bk_switch_belong_host", "bk_inst_id": 11, "bk_asst_inst_id": 4,
            "metadata": {"label": {"bk_biz_id": huge}}}),
        ok(json!({"id": 4})),
    );
    s.call(
        "find_instance_association",
        &json!({"bk_obj_id": "host", "condition": {"bk_asst_inst_id": {"$gte": 3}}}),
        ok(json!([record(3, 3), record(4, 4)])),
    );
    s.run("\n");
}

// ------------------------------------------------------------------ the command line

#[test]
fn crlf_line_endings_are_accepted() {
    let mut s = Script::default();
    setup(&mut s, 3);
    add(&mut s, 1, 1);
    s.line("", err(1_199_000, DECODE));
    add(&mut s, 2, 2);
    s.call(
        "find_instance_association",
        &json!({"bk_obj_id": "bk_switch", "condition": {"bk_asst_inst_id": 2}}),
        ok(json!([record(2, 2)])),
    );
    s.run("\r\n");
}

#[test]
fn a_last_line_without_a_newline_is_served() {
    let mut s = Script::default();
    setup(&mut s, 1);
    add(&mut s, 1, 1);
    let mut input = s.input("\n");
    input.pop();
    let output = run_binary(&["replay"], input);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let inputs: Vec<String> = s
        .lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let expected: Vec<Value> = s.wants.iter().map(Want::envelope).collect();
    let report = diff_run(&inputs, &expected, &stdout);
    assert!(report.is_empty(), "{report}");
}

#[test]
fn stdin_is_streamed_one_response_per_request_in_order() {
    for args in [&["replay"][..], &["replay", "-"][..]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn assocstore");
        let mut stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.expect("UTF-8 output")).is_err() {
                    break;
                }
            }
        });
        let mut s = Script::default();
        setup(&mut s, 2);
        add(&mut s, 1, 1);
        s.line("not json", err(1_199_000, DECODE));
        add(&mut s, 2, 2);
        let mut seen = HashSet::new();
        for (i, (line, want)) in s.lines.iter().zip(&s.wants).enumerate() {
            stdin.write_all(line).expect("write request");
            stdin.write_all(b"\n").expect("write newline");
            stdin.flush().expect("flush request");
            // The answer must come before the next request is sent.
            let got = rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    panic!(
                        "{args:?}: no response to request {} while stdin is open",
                        i + 1
                    )
                });
            let why = mismatch(&got, &want.envelope(), &mut seen);
            assert!(why.is_none(), "{args:?} line {}: {why:?}: {got}", i + 1);
        }
        drop(stdin);
        let status = child.wait().expect("wait");
        reader.join().expect("reader thread");
        assert!(status.success(), "{args:?}: exit status {status:?}");
        assert!(
            rx.try_recv().is_err(),
            "{args:?}: extra output after the last response"
        );
    }
}

#[test]
fn help_prints_the_format_with_an_example_and_exits_zero() {
    let output = Command::new(BIN)
        .args(["replay", "--help"])
        .output()
        .expect("run replay --help");
    assert!(
        output.status.success(),
        "--help exit status {:?}",
        output.status
    );
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    for needle in [
        "replay",
        "\"api\"",
        "\"body\"",
        "request_id",
        "add_instance_association",
    ] {
        assert!(
            help.contains(needle),
            "--help does not mention {needle}:\n{help}"
        );
    }
    // The example holds at least one complete request line in the replay format.
    let example = help.lines().any(|line| {
        let line = line.trim_matches(|c: char| c == '\'' || c == '\\' || c.is_whitespace());
        serde_json::from_str::<Value>(line)
            .is_ok_and(|v| v["api"].is_string() && v["body"].is_object())
    });
    assert!(example, "--help shows no example request line:\n{help}");
}

#[test]
fn the_top_level_help_lists_every_command() {
    let output = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["replay", "serve", "verify"] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
}

#[test]
fn an_unknown_command_or_option_is_named_and_exits_2() {
    for args in [
        &["frobnicate"][..],
        &["replay", "--nope"],
        &["serve", "--listen", "nowhere"],
    ] {
        let output = Command::new(BIN)
            .args(args)
            .output()
            .expect("run assocstore");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let named = args.last().copied().unwrap_or_default();
        assert!(
            stderr.contains(named),
            "{args:?}: stderr does not name {named}: {stderr}"
        );
    }
}

#[test]
fn an_unreadable_file_exits_non_zero_with_a_message() {
    let missing = Path::new("tests/fixtures/no-such-dir/requests.jsonl");
    for path in [missing, Path::new("tests/fixtures")] {
        let output = Command::new(BIN)
            .arg("replay")
            .arg(path)
            .current_dir(manifest_dir())
            .stdin(Stdio::null())
            .output()
            .expect("run assocstore");
        assert!(
            !output.status.success(),
            "{path:?}: exit status {:?}",
            output.status
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&*path.to_string_lossy()),
            "{path:?}: stderr does not name it: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{path:?}: output on stdout");
    }
}

#[test]
fn a_replay_ends_with_a_summary_line_unless_quiet() {
    for quiet in [false, true] {
        let mut child = Command::new(BIN)
            .arg("replay")
            .args(quiet.then_some("--quiet"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run assocstore");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(
                b"{\"api\":\"create_inst\",\"body\":{\"bk_obj_id\":\"host\"}}\nnot json\n{}\n",
            )
            .expect("write");
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        if quiet {
            assert!(stderr.is_empty(), "quiet: {stderr}");
        } else {
            assert!(
                stderr.starts_with("assocstore: 3 lines, 2 errors, ")
                    && stderr.contains(" lines/s"),
                "{stderr}"
            );
            assert_eq!(
                stderr.lines().count(),
                1,
                "one line, no progress bar off a terminal"
            );
        }
    }
}
