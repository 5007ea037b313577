//! What the HTTP tests share: the `assocstore serve` process and a minimal
//! HTTP/1.1 client over `std::net` (one request per connection unless a
//! test drives the bytes itself), so the tests need no HTTP crate.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_assocstore");

/// A running `assocstore serve`.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    /// Lines on standard output after the `listening on` one (there must
    /// be none).
    extra: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `assocstore serve --listen 127.0.0.1:0` with `args` and waits
    /// for its `listening on` line.
    pub(crate) fn start(args: &[&str]) -> Server {
        Server::spawn("serve", args)
    }

    /// Starts `assocstore follow --nats <url> --data <dir> <extra>` on a
    /// free port.
    pub(crate) fn follow(url: &str, dir: &Path, extra: &[&str]) -> Server {
        let dir = dir.to_str().expect("UTF-8 path");
        let mut args = vec!["--nats", url, "--data", dir];
        args.extend_from_slice(extra);
        Server::spawn("follow", &args)
    }

    /// Starts `assocstore <command> --listen 127.0.0.1:0 <args>` and waits
    /// for its `listening on` line.
    pub(crate) fn spawn(command: &str, args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args([command, "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn assocstore serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let extra = Arc::new(Mutex::new(Vec::new()));
        let more = Arc::clone(&extra);
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            for line in lines.map_while(Result::ok) {
                more.lock().unwrap().push(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a listening line within 30 s")
            .expect("serve ended before listening");
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("not a listening line: {line}"))
            .parse()
            .expect("an address");
        Server { child, addr, extra }
    }

    /// Starts a durable server on `dir` at `level`.
    pub(crate) fn durable(dir: &Path, level: &str, extra: &[&str]) -> Server {
        let dir = dir.to_str().expect("UTF-8 path");
        let mut args = vec!["--data", dir, "--durability", level];
        args.extend_from_slice(extra);
        Server::start(&args)
    }

    /// POSTs `body` to `api` (the v2 path form) and returns the envelope.
    pub(crate) fn call(&self, api: &str, body: &Value) -> Value {
        let path = format!("/api/c/compapi/v2/cc/{api}/");
        let (status, text) = request(self.addr, "POST", &path, body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{api}: {e}"));
        assert_eq!(status, 200, "{api}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{api}: not JSON ({e}): {text}"))
    }

    /// `call`, asserting success, returning `data`.
    pub(crate) fn ok(&self, api: &str, body: &Value) -> Value {
        let env = self.call(api, body);
        assert_eq!(env["result"], true, "{api} {body}: {env}");
        env["data"].clone()
    }

    /// Sends SIGTERM and waits (up to 30 s) for the exit; standard output
    /// must have held the `listening on` line only.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        signal(&self.child, "TERM");
        let status = wait_for(&mut self.child, Duration::from_secs(30));
        let extra = self.extra.lock().unwrap();
        assert!(extra.is_empty(), "more than one line on stdout: {extra:?}");
        status
    }

    /// SIGKILL, then reaps it.
    pub(crate) fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `kill -<sig>` to `child`.
pub(crate) fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{sig}");
}

/// Waits for `child` to exit, panicking after `limit`.
pub(crate) fn wait_for(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`):
/// the status and the body.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_mins(1)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// The status and body of one whole HTTP/1.1 response (Content-Length or
/// chunked).
pub(crate) fn parse_response(raw: &[u8]) -> std::io::Result<(u16, String)> {
    let bad =
        |why: &str| std::io::Error::other(format!("{why}: {:?}", String::from_utf8_lossy(raw)));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| bad("bad chunk"))?;
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    Ok((status, String::from_utf8_lossy(&body).to_string()))
}

/// A fresh, unique temporary directory.
pub(crate) fn temp_dir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("assocstore-http-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Defines `a_<kind>_b` from model `a` to model `b` with `mapping` and
/// registers instances `1..=n` of both.
pub(crate) fn setup(server: &Server, kind: &str, mapping: &str, n: i64) -> String {
    let name = format!("a_{kind}_b");
    server.ok(
        "create_object_association",
        &serde_json::json!({"bk_obj_asst_id": name, "bk_obj_id": "a", "bk_asst_obj_id": "b",
            "bk_asst_id": kind, "mapping": mapping}),
    );
    for model in ["a", "b"] {
        for id in 1..=n {
            server.ok(
                "create_inst",
                &serde_json::json!({"bk_obj_id": model, "bk_inst_id": id}),
            );
        }
    }
    name
}

/// Four clients creating `per_client` distinct pairs each (of instances
/// 1..=100 of `a` and `b`), each on a fresh connection, until done or the
/// server goes away; the ids acknowledged.
pub(crate) fn write_until_gone(
    server: &Server,
    assoc: &str,
    per_client: i64,
) -> Vec<thread::JoinHandle<Vec<i64>>> {
    (0..4i64)
        .map(|client| {
            let (addr, assoc) = (server.addr, assoc.to_owned());
            thread::spawn(move || {
                let mut ids = Vec::new();
                for k in 0..per_client {
                    let pair = client * per_client + k;
                    let body = json!({"bk_obj_asst_id": assoc, "bk_inst_id": pair / 100 + 1,
                        "bk_asst_inst_id": pair % 100 + 1})
                    .to_string();
                    let Ok((200, text)) = request(
                        addr,
                        "POST",
                        "/api/c/compapi/v2/cc/add_instance_association/",
                        body.as_bytes(),
                    ) else {
                        break;
                    };
                    let env: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(env["result"], true, "{env}");
                    ids.push(env["data"]["id"].as_i64().unwrap());
                }
                ids
            })
        })
        .collect()
}

/// [`write_until_gone`], returning once the writers are 100 ms into
/// their work (and asserting they are not done yet).
pub(crate) fn load_under_way(
    server: &Server,
    assoc: &str,
    per_client: i64,
) -> Vec<thread::JoinHandle<Vec<i64>>> {
    let writers = write_until_gone(server, assoc, per_client);
    thread::sleep(Duration::from_millis(100));
    assert!(
        writers.iter().any(|t| !t.is_finished()),
        "the load ended first"
    );
    writers
}

/// The ids the writers had acknowledged when they stopped.
pub(crate) fn acknowledged(writers: Vec<thread::JoinHandle<Vec<i64>>>) -> Vec<i64> {
    writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

/// Every record id of `assoc` (from model `a`) the server holds.
pub(crate) fn record_ids(server: &Server, assoc: &str) -> std::collections::HashSet<i64> {
    let all = server.ok(
        "find_instance_association",
        &json!({"bk_obj_id": "a", "condition": {"bk_obj_asst_id": assoc}}),
    );
    all.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}
