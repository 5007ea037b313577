//! Load on `assocstore serve`: starts the release binary once per
//! configuration (in memory; `--data DIR --durability eventual`; `--data DIR
//! --durability immediate`), sets up an `n:n` model association `host` →
//! `app` and registers the instances it needs (not timed), then drives it
//! with keep-alive HTTP/1.1 connections, one thread each, for a fixed time
//! per phase:
//!
//! 1. `add_instance_association`: every connection creates its own distinct
//!    (host, app) pairs (host `h` runs [`FAN_OUT`] apps), so every create
//!    must succeed;
//! 2. `find_instance_association` and 3. `search_related_inst_asso` for
//!    random fully loaded hosts of that store, each answer checked to hold
//!    the host's [`FAN_OUT`] records. The reads run in every configuration
//!    (they never touch the journal, so they should not depend on it).
//!
//! Every answer is checked (HTTP 200 and `"result":true`, plus the record
//! count for reads); anything else is an error. For each phase it prints
//! requests, requests/s, median and 99th percentile latency (measured by
//! the client, so the client's own time is included), errors, the CPU time
//! the server and this client used, and a `figures:` line for scripts.
//! Each server is stopped with SIGTERM and must exit 0; the data
//! directories (under the temporary directory) are removed. Exit status 1
//! if any request failed or a server did not exit cleanly.
//!
//! `cargo build --release && cargo run --release -p assocstore-cli --example
//! serve_load` (`-- --seconds S` per phase, default 5; `--connections C`,
//! default 16; `--config memory|eventual|immediate`, repeatable, default
//! all three).
//!
//! The client is std only: a minimal HTTP/1.1 client over `TcpStream`
//! (requests with `Content-Length`, answers read by `Content-Length`; the
//! server never sends chunked answers, and one that did is reported as an
//! error).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Apps each host runs: a host's reads answer this many records.
const FAN_OUT: u64 = 20;
/// Registered apps (targets); ids `1..=APPS`.
const APPS: u64 = 10_000;
/// Creates per second all connections together are sized for (pairs are
/// registered up front): four times the in-memory target.
const SIZED_RATE: u64 = 80_000;
/// The model association every create uses.
const OBJ_ASST: &str = "host_run_app";

struct Args {
    seconds: f64,
    connections: usize,
    configs: Vec<Config>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Config {
    Memory,
    Eventual,
    Immediate,
}

impl Config {
    fn name(self) -> &'static str {
        match self {
            Config::Memory => "memory",
            Config::Eventual => "eventual",
            Config::Immediate => "immediate",
        }
    }

    fn parse(s: &str) -> Option<Config> {
        [Config::Memory, Config::Eventual, Config::Immediate]
            .into_iter()
            .find(|c| c.name() == s)
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: serve_load [--seconds S] [--connections C] [--config memory|eventual|immediate]..."
    );
    std::process::exit(2);
}

fn args() -> Args {
    let mut a = Args {
        seconds: 5.0,
        connections: 16,
        configs: Vec::new(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str);
        match (pair[0].as_str(), value) {
            ("--seconds", Some(v)) => match v.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => a.seconds = s,
                _ => usage(),
            },
            ("--connections", Some(v)) => match v.parse::<usize>() {
                Ok(c) if c > 0 => a.connections = c,
                _ => usage(),
            },
            ("--config", Some(v)) => match Config::parse(v) {
                Some(c) if !a.configs.contains(&c) => a.configs.push(c),
                Some(_) => {}
                None => usage(),
            },
            _ => usage(),
        }
    }
    if a.configs.is_empty() {
        a.configs = vec![Config::Memory, Config::Eventual, Config::Immediate];
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

// ---------------------------------------------------------------------------
// The server process.

struct Server {
    child: Child,
    addr: SocketAddr,
    dir: Option<PathBuf>,
    /// Kept open so the server's standard output stays a live pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(bin: &Path, config: Config) -> Result<Server, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        let dir = match config {
            Config::Memory => None,
            Config::Eventual | Config::Immediate => {
                let dir = std::env::temp_dir().join(format!(
                    "assocstore-serve-load-{}-{}",
                    std::process::id(),
                    config.name()
                ));
                let _ = std::fs::remove_dir_all(&dir);
                cmd.arg("--data")
                    .arg(&dir)
                    .args(["--durability", config.name()]);
                Some(dir)
            }
        };
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let addr = line
            .trim_end()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse::<SocketAddr>().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let status = child.wait();
            return Err(format!(
                "the server did not announce its address (read {read:?}: {line:?}; exit {status:?})"
            ));
        };
        Ok(Server {
            child,
            addr,
            dir,
            _stdout: stdout,
        })
    }

    /// CPU seconds the server has used so far (user + system).
    fn cpu(&self) -> Option<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// SIGTERM, then waits (up to a minute) for exit status 0.
    fn stop(mut self) -> Result<Duration, String> {
        let pid = self.child.id().to_string();
        let sent = Instant::now();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !killed.success() {
            return Err(format!("kill -TERM {pid} failed: {killed}"));
        }
        let result = loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => break Ok(sent.elapsed()),
                Ok(Some(status)) => break Err(format!("the server exited with {status}")),
                Ok(None) if sent.elapsed() > Duration::from_mins(1) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break Err("the server did not exit within 60 s of SIGTERM".to_owned());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => break Err(format!("waiting for the server: {e}")),
            }
        };
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }
}

impl Drop for Server {
    /// Only on an early return: `stop` has reaped the child already.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// User + system CPU seconds in a `/proc/<pid>/stat` file (all threads).
/// Clock ticks are taken as 100 per second (Linux's `USER_HZ`).
fn cpu_seconds(stat: &str) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14, 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 keep-alive client.

struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
    line: Vec<u8>,
    body: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Result<Conn, String> {
        let reader = BufReader::with_capacity(64 * 1024, Conn::connect(addr)?);
        Ok(Conn {
            addr,
            reader,
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

    fn reconnect(&mut self) -> Result<(), String> {
        self.reader = BufReader::with_capacity(64 * 1024, Conn::connect(self.addr)?);
        Ok(())
    }

    /// POSTs `body` to bk-cmdb's path for `api`; the answer's body, if the
    /// status is 200.
    fn post(&mut self, api: &str, body: &[u8]) -> Result<&[u8], String> {
        self.request.clear();
        write!(
            self.request,
            "POST /api/c/compapi/v2/cc/{api}/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
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
            self.reconnect()?;
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

/// What an answer must hold besides `"result":true`.
#[derive(Clone, Copy)]
enum Expect {
    Success,
    Records(usize),
}

/// Checks an envelope: the server writes `result` first, so a success
/// starts `{"result":true`; records start `{"id":`.
fn check(body: &[u8], expect: Expect) -> Result<(), String> {
    if !body.starts_with(br#"{"result":true,"#) {
        let described = serde_json::from_slice::<serde_json::Value>(body).map_or_else(
            |_| String::from_utf8_lossy(body).into_owned(),
            |v| format!("code {} {}", v["code"], v["message"]),
        );
        return Err(format!("result false: {described}"));
    }
    if let Expect::Records(want) = expect {
        let got = body.windows(6).filter(|w| w == br#"{"id":"#).count();
        if got != want {
            return Err(format!("expected {want} records, got {got}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Setup and timed phases.

/// Hosts each connection owns: `c * hosts .. (c + 1) * hosts` (ids from 1).
fn hosts_per_connection(args: &Args) -> u64 {
    let per_conn_rate = (SIZED_RATE / args.connections as u64).max(5_000);
    ((args.seconds * per_conn_rate as f64) as u64).div_ceil(FAN_OUT) + 1
}

/// The `i`-th create of connection `c`: host `i / FAN_OUT` of its range
/// runs `FAN_OUT` distinct apps (191 is prime to `APPS`).
fn pair(c: usize, i: u64, hosts: u64) -> Option<(u64, u64)> {
    let k = i / FAN_OUT;
    if k >= hosts {
        return None;
    }
    let host = c as u64 * hosts + k + 1;
    let app = (host * 37 + (i % FAN_OUT) * 191) % APPS + 1;
    Some((host, app))
}

/// The model association and every instance, over `conns` connections.
fn setup(addr: SocketAddr, conns: usize, hosts: u64) -> Result<(), String> {
    let mut conn = Conn::open(addr)?;
    let body = format!(
        r#"{{"bk_obj_asst_id":"{OBJ_ASST}","bk_obj_asst_name":"runs","bk_obj_id":"host","bk_asst_obj_id":"app","bk_asst_id":"run","mapping":"n:n"}}"#
    );
    check(
        conn.post("create_object_association", body.as_bytes())?,
        Expect::Success,
    )?;
    let instances: Vec<(&str, u64)> = (1..=APPS)
        .map(|id| ("app", id))
        .chain((1..=hosts).map(|id| ("host", id)))
        .collect();
    let chunk = instances.len().div_ceil(conns).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = instances
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<(), String> {
                    let mut conn = Conn::open(addr)?;
                    let mut body = Vec::with_capacity(128);
                    for &(model, id) in part {
                        body.clear();
                        write!(
                            body,
                            r#"{{"bk_obj_id":"{model}","bk_inst_name":"{model}-{id}","bk_inst_id":{id}}}"#
                        )
                        .map_err(|e| e.to_string())?;
                        check(conn.post("create_inst", &body)?, Expect::Success)
                            .map_err(|e| format!("create_inst {model} {id}: {e}"))?;
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

/// What one connection did in a timed phase.
struct Run {
    /// Nanoseconds per answered request.
    latencies: Vec<u64>,
    /// Requests sent (answered or not).
    sent: u64,
    errors: u64,
    first_error: Option<String>,
    /// It ran out of prepared work before the deadline.
    exhausted: bool,
    /// When its last request was answered.
    end: Instant,
}

/// What a timed phase measured, over every connection.
struct Phase {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    exhausted: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    /// Requests sent by each connection.
    per_conn: Vec<u64>,
}

/// Runs `conns` connections against `api` for `seconds`; `next(c, i, buf)`
/// writes connection `c`'s `i`-th body into `buf` and says what its answer
/// must hold, or `None` when it has no more work.
fn timed<F>(
    server: &Server,
    api: &str,
    conns: usize,
    seconds: f64,
    next: F,
) -> Result<Phase, String>
where
    F: Fn(usize, u64, &mut Vec<u8>) -> Option<Expect> + Sync,
{
    let mut opened = Vec::with_capacity(conns);
    for _ in 0..conns {
        opened.push(Conn::open(server.addr)?);
    }
    let barrier = Barrier::new(conns + 1);
    let duration = Duration::from_secs_f64(seconds);
    let (runs, start, server_cpu, client_cpu) = std::thread::scope(|s| {
        let workers: Vec<_> = opened
            .into_iter()
            .enumerate()
            .map(|(c, mut conn)| {
                let barrier = &barrier;
                let next = &next;
                s.spawn(move || {
                    let mut run = Run {
                        latencies: Vec::with_capacity(200_000),
                        sent: 0,
                        errors: 0,
                        first_error: None,
                        exhausted: false,
                        end: Instant::now(),
                    };
                    let mut body = Vec::with_capacity(512);
                    barrier.wait();
                    let deadline = Instant::now() + duration;
                    let mut i = 0u64;
                    loop {
                        body.clear();
                        let Some(expect) = next(c, i, &mut body) else {
                            run.exhausted = true;
                            break;
                        };
                        i += 1;
                        let began = Instant::now();
                        let outcome = conn.post(api, &body).and_then(|b| check(b, expect));
                        let now = Instant::now();
                        run.sent += 1;
                        run.end = now;
                        match outcome {
                            Ok(()) => run.latencies.push((now - began).as_nanos() as u64),
                            Err(e) => {
                                run.errors += 1;
                                if e.starts_with("result false") || e.starts_with("expected") {
                                    run.latencies.push((now - began).as_nanos() as u64);
                                } else if let Err(again) = conn.reconnect() {
                                    run.first_error.get_or_insert(format!("{e}; {again}"));
                                    break;
                                }
                                run.first_error.get_or_insert(e);
                            }
                        }
                        if now >= deadline {
                            break;
                        }
                    }
                    run
                })
            })
            .collect();
        let cpu_before = (server.cpu(), cpu_seconds("/proc/self/stat"));
        barrier.wait();
        let start = Instant::now();
        let runs: Vec<Run> = workers
            .into_iter()
            .map(|w| w.join().expect("a load thread panicked"))
            .collect();
        let cpu_after = (server.cpu(), cpu_seconds("/proc/self/stat"));
        let server_cpu = cpu_before.0.zip(cpu_after.0).map(|(a, b)| b - a);
        let client_cpu = cpu_before.1.zip(cpu_after.1).map(|(a, b)| b - a);
        (runs, start, server_cpu, client_cpu)
    });
    let end = runs.iter().map(|r| r.end).max().unwrap_or(start);
    let mut latencies: Vec<u64> = runs
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let quantile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1] as f64 / 1e6
    };
    Ok(Phase {
        requests: runs.iter().map(|r| r.sent).sum(),
        errors: runs.iter().map(|r| r.errors).sum(),
        first_error: runs.iter().find_map(|r| r.first_error.clone()),
        exhausted: runs.iter().filter(|r| r.exhausted).count(),
        seconds: end.duration_since(start).as_secs_f64(),
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
        server_cpu,
        client_cpu,
        per_conn: runs.iter().map(|r| r.sent).collect(),
    })
}

fn report(config: Config, api: &str, p: &Phase) {
    let rps = p.requests as f64 / p.seconds.max(1e-9);
    println!(
        "serve {} {api}: {} requests in {:.2} s: {rps:.0} requests/s, latency median {:.3} ms, p99 {:.3} ms, {} errors",
        config.name(),
        p.requests,
        p.seconds,
        p.p50_ms,
        p.p99_ms,
        p.errors
    );
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if let (Some(server), Some(client)) = (p.server_cpu, p.client_cpu) {
        println!(
            "    cpu: server {server:.2} s ({:.2} cores), client {client:.2} s ({:.2} cores), of {cores} cores; server {:.1} us/request",
            server / p.seconds,
            client / p.seconds,
            server * 1e6 / p.requests.max(1) as f64
        );
    }
    if let Some(e) = &p.first_error {
        println!("    first error: {e}");
    }
    if p.exhausted > 0 {
        println!(
            "    warning: {} connections ran out of prepared pairs before the deadline: the rate is understated",
            p.exhausted
        );
    }
    println!(
        "figures: serve {} {api} rps={rps:.0} p50_ms={:.3} p99_ms={:.3}",
        config.name(),
        p.p50_ms,
        p.p99_ms
    );
}

/// A small xorshift generator: picks the hosts the reads ask for.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// One configuration: start, set up, the three phases, stop. Whether every
/// request succeeded and the server exited 0.
fn run_config(bin: &Path, config: Config, args: &Args) -> Result<bool, String> {
    let server = Server::start(bin, config)?;
    let hosts = hosts_per_connection(args);
    let conns = args.connections;
    let setup_start = Instant::now();
    setup(server.addr, conns.max(16), hosts * conns as u64)?;
    println!(
        "serve {}: pid {} at {}{}; setup: 1 model association, {} instances in {:.2} s",
        config.name(),
        server.child.id(),
        server.addr,
        server
            .dir
            .as_ref()
            .map(|d| format!(", data {}", d.display()))
            .unwrap_or_default(),
        APPS + hosts * conns as u64,
        setup_start.elapsed().as_secs_f64()
    );
    let mut clean = true;

    let api = "add_instance_association";
    let adds = timed(&server, api, conns, args.seconds, |c, i, buf| {
        let (host, app) = pair(c, i, hosts)?;
        write!(
            buf,
            r#"{{"bk_obj_asst_id":"{OBJ_ASST}","bk_inst_id":{host},"bk_asst_inst_id":{app}}}"#
        )
        .ok()?;
        Some(Expect::Success)
    })?;
    report(config, api, &adds);
    clean &= adds.errors == 0;

    // Fully loaded hosts (every create succeeded): connection c's first
    // sent / FAN_OUT hosts.
    let loaded: Vec<(u64, u64)> = adds
        .per_conn
        .iter()
        .enumerate()
        .map(|(c, &sent)| (c as u64 * hosts + 1, sent / FAN_OUT))
        .filter(|&(_, n)| n > 0)
        .collect();
    if adds.errors > 0 || loaded.is_empty() {
        println!(
            "serve {}: reads skipped (the creates failed or loaded no host fully)",
            config.name()
        );
    } else {
        let pick = |c: usize, i: u64| -> u64 {
            let mut state = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
            xorshift(&mut state);
            let r = xorshift(&mut state);
            let (first, n) = loaded[(r % loaded.len() as u64) as usize];
            first + (r >> 32) % n
        };
        let api = "find_instance_association";
        let finds = timed(&server, api, conns, args.seconds, |c, i, buf| {
            let host = pick(c, i);
            write!(
                buf,
                r#"{{"bk_obj_id":"host","condition":{{"bk_obj_asst_id":"{OBJ_ASST}","bk_inst_id":{host}}}}}"#
            )
            .ok()?;
            Some(Expect::Records(FAN_OUT as usize))
        })?;
        report(config, api, &finds);
        clean &= finds.errors == 0;

        let api = "search_related_inst_asso";
        let related = timed(&server, api, conns, args.seconds, |c, i, buf| {
            let host = pick(c, i);
            write!(
                buf,
                r#"{{"condition":{{"bk_obj_id":"host","bk_inst_id":{host}}},"fields":["id","bk_inst_id","bk_obj_id","bk_asst_inst_id","bk_asst_obj_id","bk_obj_asst_id","bk_asst_id"],"page":{{"start":0,"limit":0}}}}"#
            )
            .ok()?;
            Some(Expect::Records(FAN_OUT as usize))
        })?;
        report(config, api, &related);
        clean &= related.errors == 0;
    }

    match server.stop() {
        Ok(took) => println!(
            "serve {}: SIGTERM, exit 0 after {:.2} s",
            config.name(),
            took.as_secs_f64()
        ),
        Err(e) => {
            println!("serve {}: {e}", config.name());
            clean = false;
        }
    }
    Ok(clean)
}

fn main() -> ExitCode {
    let args = args();
    let bin = match binary() {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("serve_load: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "serve_load: {} connections, {} s per phase, {} cores, server {}",
        args.connections,
        args.seconds,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        bin.display()
    );
    let mut clean = true;
    for &config in &args.configs {
        match run_config(&bin, config, &args) {
            Ok(ok) => clean &= ok,
            Err(e) => {
                println!("serve {}: failed: {e}", config.name());
                clean = false;
            }
        }
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
