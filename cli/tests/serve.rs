//! `assocstore serve` through real HTTP: every API (the conformance
//! fixture, compared envelope by envelope with the library's own replay),
//! both path forms, health and metrics, concurrent clients, the
//! `resource_watch` long poll, bad input that must not stop the server,
//! and a SIGTERM that keeps every acknowledged write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use assocstore::Store;
use assocstore::wire::handle_line;
use http::{Server, record_ids, request, setup, temp_dir, write_until_gone};
use serde_json::{Value, json};

const FIXTURE: &str = "tests/fixtures/conformance.jsonl";

/// The envelope without its request id, which must be 32 hex digits.
fn without_request_id(mut env: Value) -> Value {
    let id = env["request_id"].as_str().unwrap_or_default().to_owned();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "request_id {id:?}"
    );
    env["request_id"] = Value::Null;
    env
}

#[test]
fn every_api_of_the_conformance_fixture_answers_as_the_library_does() {
    let server = Server::start(&[]);
    let library = Store::new();
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let mut sent = 0;
    let mut apis = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        // Lines that are not a JSON request with a string `api` test the
        // replay framing, which HTTP does not have (no state changes).
        let Ok(request) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(api) = request["api"].as_str() else {
            continue;
        };
        let want: Value = serde_json::from_str(&handle_line(&library, line.as_bytes())).unwrap();
        let got = server.call(api, &request["body"]);
        assert_eq!(
            without_request_id(got),
            without_request_id(want),
            "line {}: {line}",
            n + 1
        );
        sent += 1;
        apis.insert(api.to_owned());
    }
    assert!(sent >= 135, "only {sent} fixture lines went over HTTP");
    // Every API of the wire protocol but resource_watch (its own test).
    assert_eq!(apis.len(), assocstore::wire::APIS.len() - 1 + 1, "{apis:?}"); // + no_such_api
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn both_path_forms_health_metrics_and_404() {
    let server = Server::start(&[]);
    let body = br#"{"bk_obj_id": "host", "bk_inst_id": 7}"#;
    let mut ids = Vec::new();
    for path in [
        "/api/c/compapi/v2/cc/create_inst/",
        "/api/c/compapi/v2/cc/create_inst",
        "/api/c/compapi/cc/create_inst/",
        "/api/c/compapi/cc/create_inst",
    ] {
        let (status, text) = request(server.addr, "POST", path, body).unwrap();
        assert_eq!(status, 200, "{path}");
        let env: Value = serde_json::from_str(&text).unwrap();
        ids.push((env["result"].clone(), env["code"].clone()));
    }
    // The first registers instance 7; the others find it taken.
    assert_eq!(ids[0], (json!(true), json!(0)));
    for later in &ids[1..] {
        assert_eq!(later.0, json!(false), "{ids:?}");
    }
    let env = server.call("no_such_api", &json!({}));
    assert_eq!(env["code"], 1_199_011);
    assert_eq!(
        env["message"],
        "'api' the parameter is invalid or does not exist"
    );
    // Unknown api wins over a body that is not JSON.
    let (status, text) =
        request(server.addr, "POST", "/api/c/compapi/v2/cc/nope/", b"{{{").unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("\"code\":1199011"), "{text}");
    for path in [
        "/",
        "/api/c/compapi/v3/cc/create_inst/",
        "/api/c/compapi/v2/cc/",
        "/healthz/x",
    ] {
        let (status, _) = request(server.addr, "POST", path, b"{}").unwrap();
        assert_eq!(status, 404, "{path}");
    }
    let (status, text) = request(server.addr, "GET", "/healthz", b"").unwrap();
    assert_eq!((status, text.trim()), (200, "ok"));
    let (status, metrics) = request(server.addr, "GET", "/metrics", b"").unwrap();
    assert_eq!(status, 200);
    for line in [
        "assocstore_requests_total{api=\"create_inst\"} 4",
        "assocstore_request_errors_total{api=\"create_inst\"} 3",
        "assocstore_requests_total{api=\"unknown\"} 2",
        "assocstore_request_duration_seconds_count{api=\"create_inst\"} 4",
        "assocstore_associations 0",
        "assocstore_events_retained 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
    // SIGINT stops it as SIGTERM does.
    let mut server = server;
    http::signal(&server.child, "INT");
    let status = http::wait_for(&mut server.child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn eight_clients_race_one_one_to_one_target_and_exactly_one_wins() {
    let server = Arc::new(Server::start(&[]));
    let assoc = setup(&server, "connect", "1:1", 8);
    let barrier = Arc::new(Barrier::new(8));
    let answers: Vec<Value> = (1..=8)
        .map(|src| {
            let (server, barrier, assoc) =
                (Arc::clone(&server), Arc::clone(&barrier), assoc.clone());
            thread::spawn(move || {
                barrier.wait();
                server.call(
                    "add_instance_association",
                    &json!({"bk_obj_asst_id": assoc, "bk_inst_id": src, "bk_asst_inst_id": 1}),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let winners = answers.iter().filter(|a| a["result"] == true).count();
    assert_eq!(winners, 1, "{answers:?}");
    for lost in answers.iter().filter(|a| a["result"] == false) {
        assert_eq!(lost["code"], 1_101_052, "{lost}");
    }
    let count = server.ok(
        "count_instance_associations",
        &json!({"bk_obj_id": "a", "condition": {"bk_obj_asst_id": assoc}}),
    );
    assert_eq!(count["count"], 1, "{count}");
}

#[test]
fn eight_clients_make_500_distinct_creates_each_and_all_succeed() {
    let server = Arc::new(Server::start(&[]));
    let assoc = setup(&server, "run", "n:n", 64);
    let ids: Vec<i64> = (0..8i64)
        .map(|client| {
            let (server, assoc) = (Arc::clone(&server), assoc.clone());
            thread::spawn(move || {
                (0..500i64)
                    .map(|k| {
                        // 8 × 500 distinct (source, target) pairs of 64 × 64.
                        let pair = client * 500 + k;
                        let data = server.ok(
                            "add_instance_association",
                            &json!({"bk_obj_asst_id": assoc, "bk_inst_id": pair / 64 + 1,
                                "bk_asst_inst_id": pair % 64 + 1}),
                        );
                        data["id"].as_i64().unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 4000);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 4000, "ids repeat");
    let count = server.ok(
        "count_instance_associations",
        &json!({"bk_obj_id": "a", "condition": {}}),
    );
    assert_eq!(count["count"], 4000);
}

/// Creates one record of `assoc` and returns its event's cursor, read
/// from the start of the feed (a watch that finds something answers at
/// once).
fn cursor_after_one_create(server: &Server, assoc: &str, src: i64, dst: i64) -> String {
    server.ok(
        "add_instance_association",
        &json!({"bk_obj_asst_id": assoc, "bk_inst_id": src, "bk_asst_inst_id": dst}),
    );
    let data = server.ok(
        "resource_watch",
        &json!({"bk_resource": "inst_asst", "bk_start_from": 1}),
    );
    assert_eq!(data["bk_watched"], true, "{data}");
    let events = data["bk_events"].as_array().unwrap();
    events[events.len() - 1]["bk_cursor"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn resource_watch_reports_creates_and_deletes_and_long_polls_until_a_commit() {
    let server = Arc::new(Server::start(&["--watch-timeout", "20"]));
    let assoc = setup(&server, "run", "n:n", 5);
    let cursor = cursor_after_one_create(&server, &assoc, 5, 5);
    let mut wakes = Vec::new();
    let mut at = cursor;
    for round in 0..5i64 {
        let watcher = {
            let (server, at) = (Arc::clone(&server), at.clone());
            thread::spawn(move || {
                let data = server.ok(
                    "resource_watch",
                    &json!({"bk_resource": "inst_asst", "bk_cursor": at,
                        "bk_fields": ["id", "bk_inst_id"]}),
                );
                (Instant::now(), data)
            })
        };
        // The watch is waiting (nothing to report) when the commit lands.
        thread::sleep(Duration::from_millis(300));
        assert!(
            !watcher.is_finished(),
            "the watch answered before any commit"
        );
        // From the moment the create is sent: an upper bound of the wake.
        let committed = Instant::now();
        let id = server.ok(
            "add_instance_association",
            &json!({"bk_obj_asst_id": assoc, "bk_inst_id": round + 1, "bk_asst_inst_id": 1}),
        )["id"]
            .clone();
        let (answered, data) = watcher.join().unwrap();
        wakes.push(answered.saturating_duration_since(committed));
        assert_eq!(data["bk_watched"], true, "{data}");
        let event = &data["bk_events"][0];
        assert_eq!(event["bk_event_type"], "create");
        assert_eq!(
            event["bk_detail"],
            json!({"id": id, "bk_inst_id": round + 1})
        );
        at = event["bk_cursor"].as_str().unwrap().to_owned();
    }
    wakes.sort();
    println!(
        "figures: serve long-poll wake after a commit, median {:?}, max {:?}",
        wakes[2], wakes[4]
    );
    assert!(
        wakes[2] < Duration::from_millis(100),
        "long polls woke {wakes:?} after their commits"
    );
    // A delete, then the whole history from the start.
    server.ok(
        "delete_instance_association",
        &json!({"bk_obj_id": "a", "id": 2}),
    );
    let data = server.ok(
        "resource_watch",
        &json!({"bk_resource": "inst_asst", "bk_cursor": at}),
    );
    assert_eq!(data["bk_events"][0]["bk_event_type"], "delete", "{data}");
    assert_eq!(data["bk_events"][0]["bk_detail"]["id"], 2);
    // An expired or foreign cursor is 1103007.
    let env = server.call(
        "resource_watch",
        &json!({"bk_resource": "inst_asst", "bk_cursor": "not-a-cursor"}),
    );
    assert_eq!(
        (env["code"].clone(), env["message"].clone()),
        (
            json!(1_103_007),
            json!("the event cursor does not exist or has expired")
        )
    );
}

#[test]
fn a_shutdown_answers_a_waiting_long_poll_at_once() {
    let server = Server::start(&["--watch-timeout", "30"]);
    let addr = server.addr;
    let watcher = thread::spawn(move || {
        // From now: nothing to report, so it waits.
        let body = json!({"bk_resource": "inst_asst"}).to_string();
        request(
            addr,
            "POST",
            "/api/c/compapi/v2/cc/resource_watch/",
            body.as_bytes(),
        )
    });
    thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let status = server.terminate();
    let (code, text) = watcher.join().unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(code, 200);
    assert!(text.contains("\"bk_watched\":false"), "{text}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        asked.elapsed()
    );
}

#[test]
fn bad_input_gets_its_answer_or_loses_its_connection_and_the_server_goes_on() {
    let server = Server::start(&["--body-limit", "1024"]);
    let addr = server.addr;
    let healthy = |why: &str| {
        let env = server.call("find_object_association", &json!({"condition": {}}));
        assert_eq!(env["result"], true, "after {why}: {env}");
    };
    // A connection that sends nothing stays open beside the others.
    let idle = TcpStream::connect(addr).unwrap();
    healthy("an idle connection");
    // Not JSON: the decode error envelope.
    for body in [&b"not json"[..], b"{\"bk_obj_id\": ", b"[1, 2", b"{} {}"] {
        let (status, text) =
            request(addr, "POST", "/api/c/compapi/v2/cc/create_inst/", body).unwrap();
        assert_eq!(status, 200);
        let env: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(env["code"], 1_199_000, "{body:?}: {env}");
        assert_eq!(env["message"], "Deserializing JSON data failed");
    }
    healthy("bodies that are not JSON");
    // No body at all (what BlueKing's client sends for `{}`) is an empty
    // body, as a replay line without one.
    for body in [&b""[..], b"  \r\n"] {
        let (status, text) = request(
            addr,
            "POST",
            "/api/c/compapi/v2/cc/find_object_association/",
            body,
        )
        .unwrap();
        assert_eq!(status, 200);
        let env: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(env["result"], true, "{body:?}: {env}");
    }
    // Over the limit: 413.
    let big = format!("{{\"bk_obj_id\": \"{}\"}}", "x".repeat(2000));
    let (status, _) = request(
        addr,
        "POST",
        "/api/c/compapi/v2/cc/create_inst/",
        big.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 413);
    healthy("an oversized body");
    // Cut off half way: headers promise 100 bytes, 10 come, then the
    // client goes away.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /api/c/compapi/v2/cc/create_inst/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"bk_obj_i").unwrap();
    }
    // Cut off inside the headers.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /api/c/compapi/v2/cc/crea").unwrap();
    }
    // Not HTTP at all: answered with an error or closed, never a hang.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"\x16\x03\x01 hello\r\n\r\n").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert!(
            out.is_empty() || out.starts_with(b"HTTP/1.1 4"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
    }
    healthy("broken connections");
    // Nothing registered by any of the bad requests.
    let env = server.call(
        "create_inst",
        &json!({"bk_obj_id": "host", "bk_inst_id": 1}),
    );
    assert_eq!(env["result"], true, "{env}");
    drop(idle);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn sigterm_under_load_then_restart_keeps_every_acknowledged_write() {
    for level in ["immediate", "eventual"] {
        let dir = temp_dir(&format!("sigterm-{level}"));
        let server = Server::durable(&dir, level, &[]);
        let assoc = setup(&server, "run", "n:n", 100);
        let server = Arc::new(server);
        let writers = write_until_gone(&server, &assoc, 2500);
        // Stop the server while the clients are writing.
        thread::sleep(Duration::from_millis(300));
        http::signal(&server.child, "TERM");
        let acknowledged: Vec<i64> = writers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let mut server = Arc::try_unwrap(server).ok().unwrap();
        let status = http::wait_for(&mut server.child, Duration::from_secs(30));
        assert_eq!(status.code(), Some(0), "{level}");
        drop(server);
        let restarted = Server::durable(&dir, level, &[]);
        let kept = record_ids(&restarted, &assoc);
        let lost: Vec<_> = acknowledged
            .iter()
            .filter(|id| !kept.contains(id))
            .collect();
        assert!(lost.is_empty(), "{level}: acknowledged and lost: {lost:?}");
        println!(
            "figures: serve sigterm {level}: {} acknowledged, {} kept after restart",
            acknowledged.len(),
            kept.len()
        );
        assert_eq!(restarted.terminate().code(), Some(0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn kill_9_under_load_then_restart_keeps_every_acknowledged_write() {
    for level in ["immediate", "eventual"] {
        for round in 0..3u64 {
            let dir = temp_dir(&format!("kill9-{level}-{round}"));
            let server = Server::durable(&dir, level, &["--checkpoint-bytes", "65536"]);
            let assoc = setup(&server, "run", "n:n", 100);
            let server = Arc::new(server);
            let writers = write_until_gone(&server, &assoc, 2500);
            thread::sleep(Duration::from_millis(150 + 100 * round));
            Arc::try_unwrap(server).ok().unwrap().kill9();
            let acknowledged: Vec<i64> = writers
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            assert!(
                acknowledged.len() < 10_000,
                "{level}: the kill came after the load ended"
            );
            let restarted = Server::durable(&dir, level, &[]);
            let kept = record_ids(&restarted, &assoc);
            let lost: Vec<_> = acknowledged
                .iter()
                .filter(|id| !kept.contains(id))
                .collect();
            assert!(lost.is_empty(), "{level}: acknowledged and lost: {lost:?}");
            // At most the requests in flight at the kill were kept unanswered.
            assert!(
                kept.len() <= acknowledged.len() + 4,
                "{level}: {} kept",
                kept.len()
            );
            println!(
                "figures: serve kill -9 {level} round {round}: {} acknowledged, {} kept",
                acknowledged.len(),
                kept.len()
            );
            assert_eq!(restarted.terminate().code(), Some(0));
            let verify = std::process::Command::new(http::BIN)
                .arg("verify")
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                verify.status.success(),
                "{level}: verify: {}",
                String::from_utf8_lossy(&verify.stdout)
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[test]
fn request_logs_only_with_log_or_rust_log() {
    for (args, env, logged) in [
        (&["--log"][..], None, true),
        (&[][..], Some("info"), true),
        (&[][..], None, false),
    ] {
        let mut command = std::process::Command::new(http::BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(level) = env {
            command.env("RUST_LOG", level);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap()
            .parse()
            .unwrap();
        let (status, _) = request(
            addr,
            "POST",
            "/api/c/compapi/v2/cc/create_inst/",
            br#"{"bk_obj_id": "host"}"#,
        )
        .unwrap();
        assert_eq!(status, 200);
        http::signal(&child, "TERM");
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.contains("api=\"create_inst\"") || stderr.contains("api=create_inst"),
            logged,
            "{args:?} {env:?}: {stderr}"
        );
    }
}

#[test]
fn a_signal_right_after_the_listening_line_is_a_clean_stop() {
    for round in 0..20 {
        let server = Server::start(&[]);
        assert_eq!(server.terminate().code(), Some(0), "round {round}");
    }
}

#[test]
fn half_sent_requests_neither_block_others_nor_hold_the_shutdown() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let mut stuck = Vec::new();
    for bytes in [
        &b"G"[..],
        b"POST /api/c/compapi/v2/cc/create_inst/ HTTP/1.1\r\nHost: x\r\n",
        b"POST /api/c/compapi/v2/cc/create_inst/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(bytes).unwrap();
        stuck.push(s);
    }
    let env = server.call(
        "create_inst",
        &json!({"bk_obj_id": "host", "bk_inst_id": 1}),
    );
    assert_eq!(env["result"], true, "{env}");
    let asked = Instant::now();
    assert_eq!(server.terminate().code(), Some(0));
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "shutdown took {:?} with half-sent requests open",
        asked.elapsed()
    );
    drop(stuck);
}

#[test]
fn a_watch_from_now_reports_a_commit_made_while_it_waits() {
    let server = Arc::new(Server::start(&["--watch-timeout", "20"]));
    let assoc = setup(&server, "run", "n:n", 2);
    server.ok(
        "add_instance_association",
        &json!({"bk_obj_asst_id": assoc, "bk_inst_id": 1, "bk_asst_inst_id": 1}),
    );
    let watcher = {
        let server = Arc::clone(&server);
        thread::spawn(move || server.ok("resource_watch", &json!({"bk_resource": "inst_asst"})))
    };
    thread::sleep(Duration::from_millis(300));
    assert!(
        !watcher.is_finished(),
        "a watch from now answered with nothing new"
    );
    let id = server.ok(
        "add_instance_association",
        &json!({"bk_obj_asst_id": assoc, "bk_inst_id": 2, "bk_asst_inst_id": 2}),
    )["id"]
        .clone();
    let data = watcher.join().unwrap();
    assert_eq!(data["bk_watched"], true, "{data}");
    let events = data["bk_events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        1,
        "only what came after the watch began: {data}"
    );
    assert_eq!(events[0]["bk_detail"]["id"], id);
}

#[test]
fn many_waiting_watches_never_starve_other_calls() {
    let server = Arc::new(Server::start(&["--watch-timeout", "60"]));
    let waiting = |server: &Server| {
        let (_, text) = request(server.addr, "GET", "/metrics", b"").unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("assocstore_watches_waiting "))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap()
    };
    // More watches than the server lets wait (256).
    let watchers: Vec<_> = (0..300)
        .map(|_| {
            let addr = server.addr;
            thread::spawn(move || {
                let body = json!({"bk_resource": "inst_asst"}).to_string();
                request(
                    addr,
                    "POST",
                    "/api/c/compapi/v2/cc/resource_watch/",
                    body.as_bytes(),
                )
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while waiting(&server) < 256 {
        assert!(Instant::now() < deadline, "the watches never all waited");
        thread::sleep(Duration::from_millis(20));
    }
    // With the most watches waiting that may, other calls still go through.
    for id in 1..=5 {
        server.ok(
            "create_inst",
            &json!({"bk_obj_id": "host", "bk_inst_id": id}),
        );
    }
    assert_eq!(
        waiting(&server),
        256,
        "the watches stopped waiting before the creates ended"
    );
    let server = Arc::try_unwrap(server).ok().unwrap();
    assert_eq!(server.terminate().code(), Some(0));
    // The ones beyond the cap were answered at once; every answer is 200
    // (on a loaded machine a waiting one may be cut by the 5 s shutdown
    // grace instead).
    for w in watchers {
        if let Ok((status, text)) = w.join().unwrap() {
            assert_eq!(status, 200, "{text}");
        }
    }
}

#[test]
fn an_api_name_that_is_not_utf8_is_an_unknown_api() {
    let server = Server::start(&[]);
    let (status, text) = request(server.addr, "POST", "/api/c/compapi/v2/cc/%FF/", b"{}").unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"code\":1199011"), "{text}");
}

#[test]
fn a_watch_timeout_out_of_range_is_refused() {
    for value in ["1e20", "-1", "NaN", "86401"] {
        let out = std::process::Command::new(http::BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                &format!("--watch-timeout={value}"),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--watch-timeout"), "{value}: {stderr}");
    }
}
