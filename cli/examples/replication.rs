//! Replication over NATS JetStream across processes, measured end to end:
//! one `nats-server -js`, one leader (`assocstore serve --data DIR
//! --durability eventual --publish URL`) and one follower (`assocstore
//! follow`), each a separate process on this machine, driven over HTTP by
//! this program (std only: a minimal keep-alive HTTP/1.1 client, with
//! `serde_json` to read the answers).
//!
//! Setup (not timed): an `n:n` model association `host_run_app` and the
//! instances every phase needs, registered one `create_inst` at a time: the
//! associations are the pairs of a sources × targets grid, source by
//! source (about √total × √total, so 1,150,000 pairs need 2,145 instances;
//! `--fan-out F` gives each source F targets instead). The grid's degrees
//! are high (about 1,070 records per instance at the default sizes), a
//! heavy case: every create (on the leader, in a follower's apply, in a
//! journal replay) checks for a duplicate by scanning the shorter of its
//! two instances' record lists; `--fan-out 20` shows a light one.
//!
//! 1. **Bulk load and publishing.** `--n` associations (default 1,000,000)
//!    by `batch_create_instance_association`, 200 pairs a request, over
//!    `--connections` keep-alive connections (default 4); every answer must
//!    report all 200 created. Reported: the leader's load rate
//!    (associations/s, first request sent to last answer), then the
//!    **publish throughput**: the time from the load's start until the
//!    leader's `assocstore_publish_position` (the last position NATS
//!    acknowledged) reaches its `assocstore_feed_position`, and the events
//!    published in that time per second.
//! 2. **Catch-up from an empty store.** A fresh follower on an empty
//!    directory; the time from its spawn until its `assocstore_follow_position`
//!    equals the leader's feed position (polled every 10 ms), in seconds and
//!    events/s, with its progress second by second and the CPU time the
//!    follower and NATS used meanwhile.
//! 3. **Catch-up from its own store plus the tail.** The follower is
//!    stopped with SIGTERM (it must exit 0; its directory's files are
//!    listed), `--tail` more associations (default 50,000) are written to
//!    the leader and published (waited for, so the follower's time is its
//!    own), then the follower is restarted on the same directory; the time
//!    from its spawn (reopening its store included; its `listening on` line
//!    is timed too) until it holds the leader's feed position. At the
//!    default sizes the follower's store holds no checkpoint yet (its
//!    journal, about 5 bytes an event, stays under the store's 64 MiB
//!    checkpoint threshold, which `follow` does not expose), so the reopen
//!    replays the journal.
//! 4. **Lag under a steady load.** With the follower running, the leader
//!    is driven at `--rate` creates/s (default 10,000) for `--seconds`
//!    (default 10): one connection sends `batch_create_instance_association`
//!    with `min(200, rate / 50)` pairs, at instants fixed in advance
//!    (`start + i × batch / rate`, so a late request is followed at once by
//!    the next and the rate does not drift; 200 pairs 50 times a second by
//!    default). Single `add_instance_association` calls were not chosen:
//!    10,000 of them a second need several connections and 10,000 HTTP
//!    round trips a second (`serve_load` measures 33,000–40,000 creates/s
//!    at `Eventual` with both cores busy, so a quarter or more of this
//!    2-core machine, which the follower and NATS share), measuring CPU
//!    contention more than replication. Two lags are measured:
//!    * **lag in events**: about every 20 ms (each interval drawn from
//!      15–25 ms, so the samples do not lock onto the writer's period) a
//!      sampler reads the follower's
//!      `assocstore_follow_position` F, then the leader's
//!      `assocstore_feed_position` P, and records P − F (follower first, so
//!      an event committed between the two reads counts as lag:
//!      conservative);
//!    * **lag in milliseconds**: for every batch, from the moment its
//!      answer (the acknowledgement) reached this client until the
//!      follower first showed a position ≥ P, P being the leader's feed
//!      position read right after that answer (the writer is the only
//!      one, so P is the batch's last event). The follower is polled every
//!      2 ms by a thread of its own and the time taken is when the poll's
//!      answer arrived, so each figure is an upper bound, late by at most
//!      one poll period plus one `/metrics` round trip. This is the time a
//!      client that wrote to the leader waits before a follower shows its
//!      write.
//!
//!    Reported: the median and 99th percentile of both, the achieved write
//!    rate (pairs created / first request to last answer) and the CPU the
//!    processes used.
//! 5. **Verification.** Once the follower has caught up, its answers to
//!    `find_instance_association` for a few sources and to
//!    `count_instance_associations` (`{"bk_obj_id": "host"}` and `"app"`)
//!    must equal the leader's (the `data` of each envelope), and the count
//!    must be every association written; exit status 1 otherwise, or if
//!    any request failed, a wait timed out, or a process did not exit 0
//!    when stopped (SIGTERM for assocstore, SIGINT for nats-server, which
//!    exits 1 on SIGTERM).
//!
//! Output: human lines, and machine lines `figures: replication <name>
//! <value>`.
//!
//! Run: `cargo build --release && cargo run --release -p assocstore-cli
//! --example replication -- [--n 1000000] [--rate 10000] [--seconds 10]
//! [--tail 50000] [--connections 4] [--fan-out F]`. The binary is taken
//! next to this example's executable (`target/release/assocstore`),
//! `nats-server` at
//! `/usr/sbin/nats-server` or on `PATH`. Everything lives in one temporary
//! directory, removed at the end; every process started is stopped at the
//! end, or killed if the run fails or panics.
//!
//! Everything shares the machine's cores (on the 2-core development VM:
//! NATS, leader, follower and this client), so a concurrent build or test
//! run skews every figure: the load average is printed first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The source model, the target model and the model association.
const SRC: &str = "host";
const DST: &str = "app";
const OBJ_ASST: &str = "host_run_app";
/// The most pairs one batch request carries (bk-cmdb's limit).
const BATCH: u64 = 200;
/// How often, on average, the lag in events is sampled during the steady
/// load: each interval is drawn uniformly from 15–25 ms, so the samples do
/// not lock onto the writer's 20 ms period (they would all land at the same
/// phase of it, e.g. always just before a batch, showing no lag at all).
const SAMPLE: Duration = Duration::from_millis(20);
/// How often the follower's position is polled during the steady load.
const FOLLOWER_POLL: Duration = Duration::from_millis(2);
/// How often a catch-up or the publisher is polled.
const CATCH_UP_POLL: Duration = Duration::from_millis(10);

struct Args {
    n: u64,
    rate: u64,
    seconds: f64,
    tail: u64,
    connections: usize,
    /// Targets per source (`None`: the square grid).
    fan_out: Option<u64>,
}

fn usage() -> ! {
    eprintln!(
        "usage: replication [--n N] [--rate CREATES_PER_S] [--seconds S] [--tail N] [--connections C] [--fan-out TARGETS_PER_SOURCE]"
    );
    std::process::exit(2);
}

fn args() -> Args {
    let mut a = Args {
        n: 1_000_000,
        rate: 10_000,
        seconds: 10.0,
        tail: 50_000,
        connections: 4,
        fan_out: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let Some(value) = pair.get(1) else { usage() };
        match pair[0].as_str() {
            "--n" => a.n = value.parse().unwrap_or_else(|_| usage()),
            "--rate" => a.rate = value.parse().unwrap_or_else(|_| usage()),
            "--tail" => a.tail = value.parse().unwrap_or_else(|_| usage()),
            "--seconds" => a.seconds = value.parse().unwrap_or_else(|_| usage()),
            "--connections" => a.connections = value.parse().unwrap_or_else(|_| usage()),
            "--fan-out" => a.fan_out = Some(value.parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if a.n == 0
        || a.rate == 0
        || !(a.seconds > 0.0 && a.seconds.is_finite())
        || a.connections == 0
        || a.fan_out == Some(0)
    {
        usage();
    }
    a
}

/// `target/release/assocstore`, next to `target/release/examples/`.
fn binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate this example: {e}"))?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected example path {}", exe.display()))?;
    let bin = dir.join(format!("assocstore{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} not found: run `cargo build --release` at the repository root first",
            bin.display()
        ))
    }
}

/// `/usr/sbin/nats-server`, else the first `nats-server` on `PATH`.
fn nats_binary() -> Result<PathBuf, String> {
    let mut candidates = vec![PathBuf::from("/usr/sbin/nats-server")];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("nats-server")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| "nats-server not found (apt-get install nats-server)".to_owned())
}

fn figure(name: &str, value: impl std::fmt::Display) {
    println!("figures: replication {name} {value}");
}

// ---------------------------------------------------------------------------
// Processes and the temporary directory.

/// A directory removed on drop (declared before the processes using it, so
/// they are dropped, and killed, first).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let dir =
            std::env::temp_dir().join(format!("assocstore-replication-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process, killed (SIGKILL) on drop unless it was stopped.
struct Proc {
    name: &'static str,
    child: Child,
    /// What stops it cleanly: SIGTERM for assocstore; SIGINT for
    /// nats-server (which exits 1 on SIGTERM, 0 on SIGINT).
    signal: &'static str,
    /// The HTTP address an assocstore process announced.
    addr: SocketAddr,
}

impl Proc {
    /// Starts `assocstore <args> --listen 127.0.0.1:0` and waits (up to a
    /// minute) for its `listening on` line; the time that took.
    fn assocstore(bin: &Path, name: &'static str, args: &[&str]) -> Result<(Proc, f64), String> {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the first line, then drains the rest so the pipe stays open.
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            for line in lines.map_while(Result::ok) {
                println!("    {name} said on stdout: {line}");
            }
        });
        let line = rx.recv_timeout(Duration::from_mins(1));
        let addr = line.as_ref().ok().and_then(|l| {
            l.as_deref()?
                .strip_prefix("listening on http://")?
                .parse::<SocketAddr>()
                .ok()
        });
        let Some(addr) = addr else {
            let _ = child.kill();
            let status = child.wait();
            return Err(format!(
                "{name} did not announce its address (first line {line:?}; exit {status:?})"
            ));
        };
        Ok((
            Proc {
                name,
                child,
                signal: "TERM",
                addr,
            },
            started.elapsed().as_secs_f64(),
        ))
    }

    /// Starts `nats-server -js` on a free loopback port storing under `dir`
    /// and waits (up to 20 s) until it accepts connections.
    fn nats(dir: &Path) -> Result<(Proc, u16), String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let bin = nats_binary()?;
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let proc = Proc {
            name: "nats-server",
            child,
            signal: "INT",
            addr,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                return Err(format!("nats-server did not listen on {port} within 20 s"));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok((proc, port))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds it has used so far (user + system, all threads).
    fn cpu(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.pid())).unwrap_or(f64::NAN)
    }

    /// Its stop signal (`kill -TERM`, or `-INT`), then waits up to a minute
    /// for exit status 0; the time the exit took.
    fn stop(mut self) -> Result<f64, String> {
        let pid = self.pid().to_string();
        let sent = Instant::now();
        let killed = Command::new("kill")
            .args([&format!("-{}", self.signal), &pid])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !killed.success() {
            return Err(format!(
                "kill -{} {pid} ({}) failed",
                self.signal, self.name
            ));
        }
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(sent.elapsed().as_secs_f64()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "{} exited with {status} after SIG{}",
                        self.name, self.signal
                    ));
                }
                Ok(None) if sent.elapsed() > Duration::from_mins(1) => {
                    return Err(format!(
                        "{} did not exit within 60 s of SIG{}",
                        self.name, self.signal
                    ));
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("waiting for {}: {e}", self.name)),
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User + system CPU seconds in a `/proc/<pid>/stat` file (all threads),
/// at Linux's 100 clock ticks a second.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

fn own_cpu() -> f64 {
    cpu_seconds("/proc/self/stat").unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 keep-alive client (as in `serve_load`).

struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
    line: Vec<u8>,
    body: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Result<Conn, String> {
        Ok(Conn {
            addr,
            reader: BufReader::with_capacity(64 * 1024, Conn::connect(addr)?),
            request: Vec::with_capacity(512),
            line: Vec::with_capacity(256),
            body: Vec::with_capacity(16 * 1024),
        })
    }

    fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
        let stream =
            TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(Duration::from_mins(1))))
            .map_err(|e| format!("socket options: {e}"))?;
        Ok(stream)
    }

    /// POSTs `body` to bk-cmdb's path for `api`; the answer's body.
    fn post(&mut self, api: &str, body: &[u8]) -> Result<&[u8], String> {
        self.request("POST", &format!("/api/c/compapi/v2/cc/{api}/"), body)
            .map_err(|e| format!("{api}: {e}"))
    }

    /// `post`, decoded; the envelope's `data` if `result` is true.
    fn ok(&mut self, api: &str, body: &Value) -> Result<Value, String> {
        let answer = self.post(api, body.to_string().as_bytes())?;
        let mut env: Value =
            serde_json::from_slice(answer).map_err(|e| format!("{api}: not JSON: {e}"))?;
        if env["result"] != true {
            return Err(format!("{api} {body}: {env}"));
        }
        Ok(env["data"].take())
    }

    /// `GET /metrics`: the values of `names`, in order.
    fn gauges<const N: usize>(&mut self, names: [&str; N]) -> Result<[f64; N], String> {
        let text = self.request("GET", "/metrics", b"")?;
        let text = std::str::from_utf8(text).map_err(|e| format!("/metrics: {e}"))?;
        let mut out = [f64::NAN; N];
        for line in text.lines() {
            for (i, name) in names.iter().enumerate() {
                if let Some(v) = line.strip_prefix(name).and_then(|r| r.strip_prefix(' ')) {
                    out[i] = v.trim().parse().unwrap_or(f64::NAN);
                }
            }
        }
        match names.iter().zip(out).find(|(_, v)| v.is_nan()) {
            Some((name, _)) => Err(format!("no {name} in {}'s /metrics", self.addr)),
            None => Ok(out),
        }
    }

    /// One position gauge.
    fn position(&mut self, name: &str) -> Result<u64, String> {
        Ok(self.gauges([name])?[0] as u64)
    }

    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<&[u8], String> {
        self.request.clear();
        write!(
            self.request,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        self.request.extend_from_slice(body);
        self.reader
            .get_mut()
            .write_all(&self.request)
            .map_err(|e| format!("sending: {e}"))?;
        let status = {
            let line = self.read_line()?;
            let mut parts = line.splitn(3, |&b| b == b' ');
            let version = parts.next().unwrap_or_default();
            let code = parts.next().unwrap_or_default();
            if !version.starts_with(b"HTTP/1.") {
                return Err(format!(
                    "not an HTTP status line: {:?}",
                    String::from_utf8_lossy(line)
                ));
            }
            std::str::from_utf8(code)
                .ok()
                .and_then(|c| c.parse::<u16>().ok())
                .ok_or_else(|| format!("bad status line {:?}", String::from_utf8_lossy(line)))?
        };
        let mut length = None;
        let mut close = false;
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                return Err(format!("bad header {:?}", String::from_utf8_lossy(line)));
            };
            let name = &line[..colon];
            let value = String::from_utf8_lossy(&line[colon + 1..]);
            let value = value.trim();
            if name.eq_ignore_ascii_case(b"content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| format!("bad content-length {value:?}"))?,
                );
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                return Err(format!(
                    "the server sent transfer-encoding {value:?}; this client reads content-length only"
                ));
            } else if name.eq_ignore_ascii_case(b"connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let length = length.ok_or("an answer without content-length")?;
        self.body.resize(length, 0);
        self.reader
            .read_exact(&mut self.body)
            .map_err(|e| format!("reading the body: {e}"))?;
        if close {
            self.reader = BufReader::with_capacity(64 * 1024, Conn::connect(self.addr)?);
        }
        if status != 200 {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&self.body)
            ));
        }
        Ok(&self.body)
    }

    /// One header line, without its CRLF.
    fn read_line(&mut self) -> Result<&[u8], String> {
        self.line.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| format!("reading the answer: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".to_owned());
        }
        let mut end = self.line.len();
        while end > 0 && matches!(self.line[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        Ok(&self.line[..end])
    }
}

// ---------------------------------------------------------------------------
// The workload.

/// The pairs: pair `k` is source `k / targets + 1`, target `k % targets + 1`.
#[derive(Clone, Copy)]
struct Shape {
    sources: u64,
    targets: u64,
}

impl Shape {
    /// `fan_out` targets a source, or about √total sources × √total
    /// targets.
    fn for_pairs(total: u64, fan_out: Option<u64>) -> Shape {
        let targets = fan_out.unwrap_or_else(|| (total as f64).sqrt().ceil() as u64);
        let targets = targets.clamp(1, total.max(1));
        Shape {
            sources: total.div_ceil(targets).max(1),
            targets,
        }
    }

    fn pair(self, k: u64) -> (u64, u64) {
        (k / self.targets + 1, k % self.targets + 1)
    }
}

/// The body of one `batch_create_instance_association` with pairs `ks`.
fn batch_body(shape: Shape, ks: Range<u64>, buf: &mut Vec<u8>) {
    buf.clear();
    let _ = write!(
        buf,
        r#"{{"bk_obj_id":"{SRC}","bk_asst_obj_id":"{DST}","bk_obj_asst_id":"{OBJ_ASST}","details":["#
    );
    for k in ks.clone() {
        if k > ks.start {
            buf.push(b',');
        }
        let (src, dst) = shape.pair(k);
        let _ = write!(buf, r#"{{"bk_inst_id":{src},"bk_asst_inst_id":{dst}}}"#);
    }
    buf.extend_from_slice(b"]}");
}

/// Checks a batch answer: `result` true and all `want` pairs created.
fn check_batch(answer: &[u8], want: usize) -> Result<(), String> {
    let v: Value = serde_json::from_slice(answer).map_err(|e| format!("not JSON: {e}"))?;
    if v["result"] != true {
        return Err(format!("result false: code {} {}", v["code"], v["message"]));
    }
    let created = v["data"]["success_created"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    let errors = &v["data"]["error_msg"];
    if created != want || errors.as_object().is_some_and(|e| !e.is_empty()) {
        return Err(format!("{created} of {want} created; errors {errors}"));
    }
    Ok(())
}

/// The model association and every instance of `shape`, over `conns`
/// connections.
fn setup(addr: SocketAddr, conns: usize, shape: Shape) -> Result<(), String> {
    Conn::open(addr)?.ok(
        "create_object_association",
        &json!({"bk_obj_asst_id": OBJ_ASST, "bk_obj_asst_name": "runs", "bk_obj_id": SRC,
            "bk_asst_obj_id": DST, "bk_asst_id": "run", "mapping": "n:n"}),
    )?;
    let instances: Vec<(&str, u64)> = (1..=shape.sources)
        .map(|id| (SRC, id))
        .chain((1..=shape.targets).map(|id| (DST, id)))
        .collect();
    let chunk = instances.len().div_ceil(conns).max(1);
    thread::scope(|s| {
        let workers: Vec<_> = instances
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<(), String> {
                    let mut conn = Conn::open(addr)?;
                    let mut body = Vec::with_capacity(128);
                    for &(model, id) in part {
                        body.clear();
                        let _ = write!(body, r#"{{"bk_obj_id":"{model}","bk_inst_id":{id}}}"#);
                        let answer = conn.post("create_inst", &body)?;
                        if !answer.starts_with(br#"{"result":true,"#) {
                            return Err(format!(
                                "create_inst {model} {id}: {}",
                                String::from_utf8_lossy(answer)
                            ));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| "a setup thread panicked".to_owned())?)
    })
}

/// What a bulk load did.
struct Load {
    seconds: f64,
    requests: u64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Creates pairs `ks` in batches of [`BATCH`] over `conns` connections,
/// each batch checked.
fn bulk_load(addr: SocketAddr, conns: usize, shape: Shape, ks: Range<u64>) -> Result<Load, String> {
    let next = AtomicU64::new(ks.start);
    let failed = AtomicBool::new(false);
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        opened.push(Conn::open(addr)?);
    }
    let start = Instant::now();
    let results: Vec<Result<Vec<u64>, String>> = thread::scope(|s| {
        let workers: Vec<_> = opened
            .into_iter()
            .map(|mut conn| {
                let (next, failed, end) = (&next, &failed, ks.end);
                s.spawn(move || {
                    let mut latencies = Vec::new();
                    let mut body = Vec::with_capacity(64 * 1024);
                    while !failed.load(Ordering::Relaxed) {
                        let first = next.fetch_add(BATCH, Ordering::Relaxed);
                        if first >= end {
                            break;
                        }
                        let last = (first + BATCH).min(end);
                        batch_body(shape, first..last, &mut body);
                        let sent = Instant::now();
                        let outcome = conn
                            .post("batch_create_instance_association", &body)
                            .and_then(|a| check_batch(a, (last - first) as usize));
                        if let Err(e) = outcome {
                            failed.store(true, Ordering::Relaxed);
                            return Err(format!("batch of pairs {first}..{last}: {e}"));
                        }
                        latencies.push(sent.elapsed().as_nanos() as u64);
                    }
                    Ok(latencies)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a load thread panicked".into()))
            })
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r?);
    }
    latencies.sort_unstable();
    Ok(Load {
        seconds,
        requests: latencies.len() as u64,
        p50_ms: quantile(&latencies, 0.5) as f64 / 1e6,
        p99_ms: quantile(&latencies, 0.99) as f64 / 1e6,
    })
}

/// The `q` quantile of sorted `values` (0 when empty).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Polls `conn`'s gauge `name` every `every` until it reaches `target`,
/// for at most `limit`; every (time, value) seen, the last at or past
/// `target`.
fn wait_position(
    conn: &mut Conn,
    name: &str,
    target: u64,
    every: Duration,
    limit: Duration,
) -> Result<Vec<(Instant, u64)>, String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let value = conn.position(name)?;
        seen.push((Instant::now(), value));
        if value >= target {
            return Ok(seen);
        }
        if start.elapsed() > limit {
            return Err(format!(
                "{name} at {}: {value} of {target} after {:.0} s",
                conn.addr,
                limit.as_secs_f64()
            ));
        }
        thread::sleep(every);
    }
}

/// How long to wait for `events` to be published or applied.
fn patience(events: u64) -> Duration {
    Duration::from_secs(60 + events / 10_000)
}

/// The events gained in each second since `start` (the last one partial),
/// in thousands, from a poll trace of positions.
fn per_second(start: Instant, seen: &[(Instant, u64)]) -> String {
    let Some(&(end, _)) = seen.last() else {
        return String::new();
    };
    let seconds = end.duration_since(start).as_secs_f64().ceil() as u64;
    let mut before = 0;
    (1..=seconds)
        .map(|s| {
            let at = start + Duration::from_secs(s);
            let now = seen
                .iter()
                .take_while(|&&(t, _)| t <= at)
                .last()
                .map_or(before, |&(_, v)| v);
            let gained = now - before;
            before = now;
            format!("{}k", gained / 1000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// The steady load.

/// What the steady load measured.
struct Steady {
    seconds: f64,
    /// Per batch: when its answer arrived, the leader's position then.
    acks: Vec<(Instant, u64)>,
    batch_p50_ms: f64,
    batch_p99_ms: f64,
    /// The follower's position each time it changed, with when.
    follower: Vec<(Instant, u64)>,
    /// Leader position minus follower position, every [`SAMPLE`].
    lag_events: Vec<u64>,
    cpu: [f64; 4],
}

/// What the paced writer did.
struct Written {
    /// Per batch: when its answer arrived, the leader's position then.
    acks: Vec<(Instant, u64)>,
    /// Per batch: nanoseconds from sending to the answer.
    latencies: Vec<u64>,
    /// From the start to the last answer.
    seconds: f64,
}

/// Pairs `ks` at `rate` a second, paced; per batch, the answer's arrival
/// and the leader's feed position right after.
fn paced_writer(
    addr: SocketAddr,
    shape: Shape,
    ks: Range<u64>,
    rate: u64,
) -> Result<Written, String> {
    let mut writes = Conn::open(addr)?;
    let mut metrics = Conn::open(addr)?;
    let batch = (rate / 50).clamp(1, BATCH);
    let interval = Duration::from_secs_f64(batch as f64 / rate as f64);
    let mut acks = Vec::new();
    let mut latencies = Vec::new();
    let mut body = Vec::with_capacity(16 * 1024);
    let start = Instant::now();
    let mut first = ks.start;
    let mut i = 0u32;
    while first < ks.end {
        let last = (first + batch).min(ks.end);
        let due = start + interval * i;
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        batch_body(shape, first..last, &mut body);
        let sent = Instant::now();
        let answer = writes.post("batch_create_instance_association", &body)?;
        let acked = Instant::now();
        check_batch(answer, (last - first) as usize)
            .map_err(|e| format!("batch of pairs {first}..{last}: {e}"))?;
        let position = metrics.position("assocstore_feed_position")?;
        acks.push((acked, position));
        latencies.push((acked - sent).as_nanos() as u64);
        first = last;
        i += 1;
    }
    let seconds = acks.last().map_or(0.0, |&(t, _)| (t - start).as_secs_f64());
    Ok(Written {
        acks,
        latencies,
        seconds,
    })
}

/// The follower's position each time it changes, polled every
/// [`FOLLOWER_POLL`] until `stop`.
fn follower_watch(addr: SocketAddr, stop: &AtomicBool) -> Result<Vec<(Instant, u64)>, String> {
    let mut conn = Conn::open(addr)?;
    let mut seen: Vec<(Instant, u64)> = Vec::with_capacity(100_000);
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let value = conn.position("assocstore_follow_position")?;
        let now = Instant::now();
        if seen.last().is_none_or(|&(_, v)| value > v) {
            seen.push((now, value));
        }
        next += FOLLOWER_POLL;
        if next > now {
            thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    Ok(seen)
}

/// Leader position minus follower position (the follower read first),
/// about every [`SAMPLE`] (jittered ±25 %) until `stop`.
fn lag_sampler(
    leader: SocketAddr,
    follower: SocketAddr,
    stop: &AtomicBool,
) -> Result<Vec<u64>, String> {
    let (mut l, mut f) = (Conn::open(leader)?, Conn::open(follower)?);
    let mut lags = Vec::new();
    let mut next = Instant::now();
    let mut random = 0x9E37_79B9_7F4A_7C15_u64;
    while !stop.load(Ordering::Relaxed) {
        let have = f.position("assocstore_follow_position")?;
        let want = l.position("assocstore_feed_position")?;
        lags.push(want.saturating_sub(have));
        // xorshift: an interval of 0.75–1.25 × SAMPLE.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        next += SAMPLE.mul_f64(0.75 + (random % 1001) as f64 / 2000.0);
        let now = Instant::now();
        if next > now {
            thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    Ok(lags)
}

fn steady(
    leader: &Proc,
    follower: &Proc,
    nats: &Proc,
    shape: Shape,
    ks: Range<u64>,
    rate: u64,
) -> Result<Steady, String> {
    let stop = AtomicBool::new(false);
    let cpu_before = [leader.cpu(), follower.cpu(), nats.cpu(), own_cpu()];
    let (written, watched, sampled, caught) = thread::scope(|s| {
        let stop = &stop;
        let watcher = s.spawn(move || follower_watch(follower.addr, stop));
        let sampler = s.spawn(move || lag_sampler(leader.addr, follower.addr, stop));
        // The watchers' first polls before the first write.
        thread::sleep(Duration::from_millis(50));
        let writer = s.spawn(move || paced_writer(leader.addr, shape, ks, rate));
        let written = writer
            .join()
            .unwrap_or_else(|_| Err("the writer panicked".into()));
        // The tail of the load, until the follower holds everything.
        let caught = Conn::open(leader.addr).and_then(|mut l| {
            let target = l.position("assocstore_feed_position")?;
            let mut f = Conn::open(follower.addr)?;
            wait_position(
                &mut f,
                "assocstore_follow_position",
                target,
                CATCH_UP_POLL,
                patience(target),
            )
        });
        // Then a few more follower polls past the end.
        thread::sleep(Duration::from_millis(20));
        stop.store(true, Ordering::Relaxed);
        let watched = watcher
            .join()
            .unwrap_or_else(|_| Err("the follower watcher panicked".into()));
        let sampled = sampler
            .join()
            .unwrap_or_else(|_| Err("the lag sampler panicked".into()));
        (written, watched, sampled, caught)
    });
    let cpu_after = [leader.cpu(), follower.cpu(), nats.cpu(), own_cpu()];
    let Written {
        acks,
        mut latencies,
        seconds,
    } = written?;
    caught?;
    latencies.sort_unstable();
    let mut cpu = [0.0; 4];
    for (c, (a, b)) in cpu.iter_mut().zip(cpu_after.iter().zip(cpu_before)) {
        *c = a - b;
    }
    Ok(Steady {
        seconds,
        batch_p50_ms: quantile(&latencies, 0.5) as f64 / 1e6,
        batch_p99_ms: quantile(&latencies, 0.99) as f64 / 1e6,
        acks,
        follower: watched?,
        lag_events: sampled?,
        cpu,
    })
}

/// Per batch: from its acknowledgement to the first follower poll at or
/// past its position, in microseconds (0 if the follower was there first).
fn lag_micros(acks: &[(Instant, u64)], follower: &[(Instant, u64)]) -> Result<Vec<u64>, String> {
    let mut out = Vec::with_capacity(acks.len());
    for &(acked, position) in acks {
        let i = follower.partition_point(|&(_, v)| v < position);
        let Some(&(seen, _)) = follower.get(i) else {
            return Err(format!("the follower never showed position {position}"));
        };
        out.push(seen.saturating_duration_since(acked).as_micros() as u64);
    }
    out.sort_unstable();
    Ok(out)
}

// ---------------------------------------------------------------------------
// Verification.

/// The reads that must answer the same on both.
fn reads(conn: &mut Conn, shape: Shape) -> Result<Vec<(String, Value)>, String> {
    let mut sources = vec![1, shape.sources.div_ceil(2), shape.sources];
    sources.dedup();
    let mut out = Vec::new();
    for src in sources {
        let body =
            json!({"bk_obj_id": SRC, "condition": {"bk_obj_asst_id": OBJ_ASST, "bk_inst_id": src}});
        out.push((
            format!("find_instance_association {body}"),
            conn.ok("find_instance_association", &body)?,
        ));
    }
    for model in [SRC, DST] {
        let body = json!({"bk_obj_id": model});
        out.push((
            format!("count_instance_associations {body}"),
            conn.ok("count_instance_associations", &body)?,
        ));
    }
    Ok(out)
}

/// Whether the follower answers as the leader, and the leader's count is
/// `expected`.
fn verify(leader: &Proc, follower: &Proc, shape: Shape, expected: u64) -> Result<bool, String> {
    let want = reads(&mut Conn::open(leader.addr)?, shape)?;
    let have = reads(&mut Conn::open(follower.addr)?, shape)?;
    let mut same = true;
    for ((what, w), (_, h)) in want.iter().zip(&have) {
        let records = w
            .as_array()
            .map_or(String::new(), |a| format!(" ({} records)", a.len()));
        if w == h {
            println!("verify: {what}: equal{records}");
        } else {
            println!("verify: {what}: DIFFERENT: leader {w}, follower {h}");
            same = false;
        }
    }
    let count = want
        .iter()
        .find(|(what, _)| what.starts_with("count_instance_associations"))
        .and_then(|(_, v)| v["count"].as_u64());
    if count != Some(expected) {
        println!("verify: the leader counts {count:?} associations, {expected} were written");
        same = false;
    }
    Ok(same)
}

// ---------------------------------------------------------------------------
// The run.

/// The files under `dir` with their sizes, largest first (`name 12.3 MB`).
fn files(dir: &Path) -> String {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(path),
                Ok(m) => found.push((m.len(), path)),
                Err(_) => {}
            }
        }
    }
    found.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = found.iter().map(|(len, _)| len).sum();
    let shown: Vec<String> = found
        .iter()
        .take(6)
        .map(|(len, path)| {
            let name = path.strip_prefix(dir).unwrap_or(path).display();
            format!("{name} {:.1} MB", *len as f64 / 1e6)
        })
        .collect();
    format!(
        "{} files, {:.1} MB: {}",
        found.len(),
        total as f64 / 1e6,
        shown.join(", ")
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn run(args: &Args) -> Result<bool, String> {
    let bin = binary()?;
    let steady_pairs = (args.rate as f64 * args.seconds).round() as u64;
    let total = args.n + args.tail + steady_pairs;
    let shape = Shape::for_pairs(total, args.fan_out);
    println!(
        "replication: n {}, tail {}, steady {} creates/s for {} s, {} load connections; {} cores, load average {}",
        args.n,
        args.tail,
        args.rate,
        args.seconds,
        args.connections,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        loadavg()
    );
    let root = TempDir::new()?;
    let data = |name: &str| root.0.join(name).to_string_lossy().into_owned();
    let (nats, port) = Proc::nats(&root.0.join("nats"))?;
    let url = format!("nats://127.0.0.1:{port}");
    let (leader, _) = Proc::assocstore(
        &bin,
        "leader",
        &[
            "serve",
            "--data",
            &data("leader"),
            "--durability",
            "eventual",
            "--publish",
            &url,
            "--watch-timeout",
            "0",
        ],
    )?;
    println!(
        "processes: nats-server pid {} ({url}), leader pid {} (http://{}), data under {}",
        nats.pid(),
        leader.pid(),
        leader.addr,
        root.0.display()
    );
    let started = Instant::now();
    setup(leader.addr, args.connections.max(4), shape)?;
    println!(
        "setup: 1 model association, {} sources x {} targets = {} instances in {:.2} s",
        shape.sources,
        shape.targets,
        shape.sources + shape.targets,
        started.elapsed().as_secs_f64()
    );

    // 1. Bulk load, then publishing.
    let mut lm = Conn::open(leader.addr)?;
    let published_before = lm.position("assocstore_publish_position")?;
    let cpu_before = [leader.cpu(), nats.cpu()];
    let load_start = Instant::now();
    let load = bulk_load(leader.addr, args.connections, shape, 0..args.n)?;
    let [feed, published_at_end] =
        lm.gauges(["assocstore_feed_position", "assocstore_publish_position"])?;
    let (feed, published_at_end) = (feed as u64, published_at_end as u64);
    let load_rate = args.n as f64 / load.seconds;
    println!(
        "bulk load: {} associations in {:.2} s: {load_rate:.0} associations/s ({} requests of {BATCH}, latency median {:.2} ms, p99 {:.2} ms); leader feed at {feed}, published to {published_at_end} at the load's end",
        args.n, load.seconds, load.requests, load.p50_ms, load.p99_ms
    );
    figure("load_assoc_per_s", format!("{load_rate:.0}"));
    let seen = wait_position(
        &mut lm,
        "assocstore_publish_position",
        feed,
        CATCH_UP_POLL,
        patience(feed),
    )?;
    let publish_seconds = seen
        .last()
        .map_or(0.0, |&(t, _)| (t - load_start).as_secs_f64());
    let cpu_after = [leader.cpu(), nats.cpu()];
    let publish_rate = (feed - published_before) as f64 / publish_seconds;
    println!(
        "publish: {} events acknowledged by NATS {publish_seconds:.2} s after the load began ({:.2} s after it ended): {publish_rate:.0} events/s; CPU during load + publish: leader {:.2} s, nats-server {:.2} s",
        feed - published_before,
        publish_seconds - load.seconds,
        cpu_after[0] - cpu_before[0],
        cpu_after[1] - cpu_before[1],
    );
    figure("publish_seconds", format!("{publish_seconds:.3}"));
    figure("publish_events_per_s", format!("{publish_rate:.0}"));
    if lm.position("assocstore_publish_gap_lost")? != 0 {
        return Err("the leader reports assocstore_publish_gap_lost 1".into());
    }

    // 2. A fresh follower from an empty store.
    let follower_dir = data("follower");
    let follow_args = ["follow", "--nats", &url, "--data", &follower_dir];
    let nats_cpu = nats.cpu();
    let spawned = Instant::now();
    let (follower, listening) = Proc::assocstore(&bin, "follower", &follow_args)?;
    let mut fm = Conn::open(follower.addr)?;
    let seen = wait_position(
        &mut fm,
        "assocstore_follow_position",
        feed,
        CATCH_UP_POLL,
        patience(feed),
    )?;
    let catch_up = seen
        .last()
        .map_or(0.0, |&(t, _)| (t - spawned).as_secs_f64());
    let (follower_cpu, nats_cpu) = (follower.cpu(), nats.cpu() - nats_cpu);
    let catch_up_rate = feed as f64 / catch_up;
    println!(
        "catch-up from empty: follower pid {} listening after {listening:.2} s, at position {feed} after {catch_up:.2} s: {catch_up_rate:.0} events/s (target 1,000,000 in under 10 s: {}); CPU: follower {follower_cpu:.2} s ({:.2} us/event), nats-server {nats_cpu:.2} s",
        follower.pid(),
        if catch_up_rate >= 100_000.0 {
            "met"
        } else {
            "MISSED"
        },
        follower_cpu * 1e6 / feed as f64,
    );
    println!(
        "    events applied in each second since the spawn (the last second partial): {}",
        per_second(spawned, &seen)
    );
    figure("catchup_events", feed);
    figure("catchup_seconds", format!("{catch_up:.3}"));
    figure("catchup_events_per_s", format!("{catch_up_rate:.0}"));

    // 3. Stop it, write the tail, restart it on its directory.
    let stopped = follower.stop()?;
    println!(
        "tail: follower stopped by SIGTERM (exit 0 after {stopped:.2} s); its directory: {}",
        files(Path::new(&follower_dir))
    );
    let tail = args.n..args.n + args.tail;
    let tail_load = bulk_load(leader.addr, args.connections, shape, tail)?;
    let feed_tail = lm.position("assocstore_feed_position")?;
    wait_position(
        &mut lm,
        "assocstore_publish_position",
        feed_tail,
        CATCH_UP_POLL,
        patience(feed_tail),
    )?;
    println!(
        "tail: {} more associations written in {:.2} s and published (leader feed at {feed_tail})",
        args.tail, tail_load.seconds
    );
    let spawned = Instant::now();
    let (follower, listening) = Proc::assocstore(&bin, "follower", &follow_args)?;
    let mut fm = Conn::open(follower.addr)?;
    let seen = wait_position(
        &mut fm,
        "assocstore_follow_position",
        feed_tail,
        CATCH_UP_POLL,
        patience(feed_tail),
    )?;
    let tail_seconds = seen
        .last()
        .map_or(0.0, |&(t, _)| (t - spawned).as_secs_f64());
    let resumed_at = seen.first().map_or(0, |&(_, v)| v);
    let tail_events = feed_tail - feed;
    let tail_rate = tail_events as f64 / tail_seconds;
    println!(
        "catch-up of the tail: follower pid {} restarted on its store, listening after {listening:.2} s (first seen at position {resumed_at}), at {feed_tail} after {tail_seconds:.2} s: {tail_events} events, {tail_rate:.0} events/s",
        follower.pid()
    );
    figure("tail_reopen_seconds", format!("{listening:.3}"));
    figure("tail_events", tail_events);
    figure("tail_seconds", format!("{tail_seconds:.3}"));
    figure("tail_events_per_s", format!("{tail_rate:.0}"));

    // 4. Steady load.
    let first = args.n + args.tail;
    let s = steady(
        &leader,
        &follower,
        &nats,
        shape,
        first..first + steady_pairs,
        args.rate,
    )?;
    let write_rate = steady_pairs as f64 / s.seconds;
    let mut lags = s.lag_events.clone();
    lags.sort_unstable();
    let lag_us = lag_micros(&s.acks, &s.follower)?;
    let batch = (args.rate / 50).clamp(1, BATCH);
    println!(
        "steady load: {} associations in batches of {batch} in {:.2} s: {write_rate:.0} creates/s achieved (target {}); batch latency median {:.2} ms, p99 {:.2} ms",
        steady_pairs, s.seconds, args.rate, s.batch_p50_ms, s.batch_p99_ms
    );
    println!(
        "    lag in events ({} samples about every {} ms): median {}, p99 {}, max {}",
        lags.len(),
        SAMPLE.as_millis(),
        quantile(&lags, 0.5),
        quantile(&lags, 0.99),
        lags.last().copied().unwrap_or(0)
    );
    let (p50_ms, p99_ms) = (
        quantile(&lag_us, 0.5) as f64 / 1e3,
        quantile(&lag_us, 0.99) as f64 / 1e3,
    );
    println!(
        "    lag in ms (acknowledgement -> follower shows it; {} batches, follower polled every {} ms): median {p50_ms:.1}, p99 {p99_ms:.1}, max {:.1} (target p99 under 100 ms: {})",
        lag_us.len(),
        FOLLOWER_POLL.as_millis(),
        lag_us.last().copied().unwrap_or(0) as f64 / 1e3,
        if p99_ms < 100.0 { "met" } else { "MISSED" }
    );
    println!(
        "    CPU over the steady load: leader {:.2} s, follower {:.2} s, nats-server {:.2} s, this client {:.2} s (of {:.2} s x {} cores)",
        s.cpu[0],
        s.cpu[1],
        s.cpu[2],
        s.cpu[3],
        s.seconds,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    figure("steady_creates_per_s", format!("{write_rate:.0}"));
    figure("lag_events_p50", quantile(&lags, 0.5));
    figure("lag_events_p99", quantile(&lags, 0.99));
    figure("lag_ms_p50", format!("{p50_ms:.1}"));
    figure("lag_ms_p99", format!("{p99_ms:.1}"));

    // 5. Verification.
    let target = lm.position("assocstore_feed_position")?;
    wait_position(
        &mut fm,
        "assocstore_follow_position",
        target,
        CATCH_UP_POLL,
        patience(target),
    )?;
    let same = verify(&leader, &follower, shape, total)?;
    figure("verified", u8::from(same));

    let mut clean = same;
    for proc in [follower, leader, nats] {
        let (name, signal) = (proc.name, proc.signal);
        match proc.stop() {
            Ok(took) => println!("stop: {name} exited 0 {took:.2} s after SIG{signal}"),
            Err(e) => {
                println!("stop: {e}");
                clean = false;
            }
        }
    }
    drop(root);
    Ok(clean)
}

fn main() -> ExitCode {
    let args = args();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("replication: FAILED (see above)");
            ExitCode::from(1)
        }
        Err(e) => {
            println!("replication: failed: {e}");
            ExitCode::from(1)
        }
    }
}
