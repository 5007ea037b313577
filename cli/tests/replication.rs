//! Replication over a real NATS JetStream: a leader (`serve --publish`)
//! and followers (`follow`), with the leader, a follower or NATS itself
//! killed with SIGKILL mid-stream. Every scenario ends with every follower
//! answering every read as the leader does.
//!
//! Needs `nats-server` (Debian's package; `.ci/run` installs it). Sizes:
//! `ASSOCSTORE_REPLICATION_WRITES` creates per scenario (default 2,000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use http::{Server, acknowledged, load_under_way, record_ids, setup, temp_dir, write_until_gone};
use serde_json::{Value, json};

/// Watches answer at once: the tests read whole feeds to their end.
const NO_WAIT: &[&str] = &["--watch-timeout", "0"];

/// Creates per scenario, in four clients.
fn writes() -> i64 {
    std::env::var("ASSOCSTORE_REPLICATION_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn nats_server() -> PathBuf {
    for candidate in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("nats-server not found: install it (apt-get install nats-server; .ci/run does)");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `nats-server -js` on a loopback port, storing under `dir`.
struct Nats {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Nats {
    fn start(dir: &Path) -> Nats {
        Nats::start_on(dir, free_port())
    }

    fn start_on(dir: &Path, port: u16) -> Nats {
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        Nats::wait_listening(child, port, dir)
    }

    /// Node `i` of three routed to each other (`ports[j]` client ports,
    /// `routes[j]` cluster ports).
    fn node(dir: &Path, i: usize, ports: [u16; 3], routes: [u16; 3]) -> Nats {
        let others: Vec<String> = (0..3)
            .filter(|&j| j != i)
            .map(|j| format!("nats://127.0.0.1:{}", routes[j]))
            .collect();
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &ports[i].to_string()])
            .args([
                "-n",
                &format!("node-{i}"),
                "--cluster_name",
                "assocstore-test",
            ])
            .args(["--cluster", &format!("nats://127.0.0.1:{}", routes[i])])
            .args(["--routes", &others.join(",")])
            .arg("-sd")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        Nats::wait_listening(child, ports[i], dir)
    }

    fn wait_listening(child: Child, port: u16, dir: &Path) -> Nats {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        Nats {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, `down` without it, then the same server again on the same
    /// port and files.
    fn kill9_and_restart(mut self, down: Duration) -> Nats {
        let _ = self.child.kill();
        let _ = self.child.wait();
        thread::sleep(down);
        Nats::start_on(&self.dir.clone(), self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A metric's value from `/metrics`.
fn metric(server: &Server, name: &str) -> u64 {
    let (_, text) = http::request(server.addr, "GET", "/metrics", b"").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// Waits until `follower` has applied everything `leader` committed.
fn caught_up(leader: &Server, follower: &Server) {
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let want = metric(leader, "assocstore_feed_position");
        let have = metric(follower, "assocstore_follow_position");
        if have == want {
            return;
        }
        assert!(have < want, "the follower is ahead: {have} > {want}");
        assert!(
            Instant::now() < deadline,
            "the follower stands at {have} of {want} after 60 s"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until NATS has acknowledged everything `leader` committed.
fn published(leader: &Server) {
    let deadline = Instant::now() + Duration::from_mins(1);
    while metric(leader, "assocstore_publish_position") < metric(leader, "assocstore_feed_position")
    {
        assert!(
            Instant::now() < deadline,
            "the leader published nothing for 60 s"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// The reads every follower must answer as the leader does.
fn reads(server: &Server, assoc: &str) -> Vec<Value> {
    let mut out = vec![
        server.ok("find_object_association", &json!({"condition": {}})),
        server.ok(
            "find_instance_association",
            &json!({"bk_obj_id": "a", "condition": {"bk_obj_asst_id": assoc}}),
        ),
        server.ok("count_instance_associations", &json!({"bk_obj_id": "b"})),
        server.ok(
            "search_instance_associations",
            &json!({"bk_obj_id": "b", "page": {"start": 0, "limit": 500, "sort": "-id"}}),
        ),
        json!(http::request(server.addr, "GET", "/digest", b"").unwrap().1),
    ];
    for inst in [1, 37, 100] {
        out.push(server.ok(
            "search_related_inst_asso",
            &json!({"condition": {"bk_obj_id": "a", "bk_inst_id": inst}, "fields": ["id", "bk_inst_id", "bk_asst_inst_id", "bk_obj_asst_id"], "page": {"start": 0, "limit": 0}}),
        ));
        out.push(server.ok(
            "search_inst_association_topo",
            &json!({"bk_obj_id": "a", "bk_inst_id": inst}),
        ));
    }
    out
}

/// The instance-association events of a store's feed from the start, by
/// position (each must appear once).
fn record_events(server: &Server) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut body = json!({"bk_resource": "inst_asst", "bk_start_from": 1});
    loop {
        let data = server.ok("resource_watch", &body);
        if data["bk_watched"] == false {
            return out;
        }
        let events = data["bk_events"].as_array().unwrap();
        for e in events {
            out.push((
                e["bk_event_type"].as_str().unwrap().to_owned(),
                e["bk_detail"]["id"].as_i64().unwrap(),
            ));
        }
        let last = events.last().unwrap()["bk_cursor"].clone();
        body = json!({"bk_resource": "inst_asst", "bk_cursor": last});
    }
}

struct Cluster {
    nats: Option<Nats>,
    leader: Server,
    followers: Vec<Server>,
    root: PathBuf,
    assoc: String,
}

impl Cluster {
    fn start(tag: &str, followers: usize) -> Cluster {
        let root = temp_dir(tag);
        std::fs::create_dir_all(&root).unwrap();
        let nats = Nats::start(&root.join("nats"));
        let leader = Cluster::leader(&root, &nats.url());
        // Sources 1..=writes/100, targets 1..=100 (write_until_gone's pairs).
        let assoc = setup(&leader, "run", "n:n", (writes() / 100).max(100));
        let followers = (0..followers)
            .map(|i| Server::follow(&nats.url(), &root.join(format!("follower-{i}")), NO_WAIT))
            .collect();
        Cluster {
            nats: Some(nats),
            leader,
            followers,
            root,
            assoc,
        }
    }

    fn url(&self) -> String {
        self.nats.as_ref().map(Nats::url).unwrap_or_default()
    }

    fn leader(root: &Path, url: &str) -> Server {
        let dir = root.join("leader");
        Server::durable(
            &dir,
            "immediate",
            &["--publish", url, NO_WAIT[0], NO_WAIT[1]],
        )
    }

    /// Every follower caught up and answering as the leader.
    fn converged(&self) {
        let want = reads(&self.leader, &self.assoc);
        for (i, f) in self.followers.iter().enumerate() {
            caught_up(&self.leader, f);
            assert!(
                reads(f, &self.assoc) == want,
                "follower {i} answers differently"
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs the writers to the end (or until the leader goes).
fn write(leader: &Server, assoc: &str, per_client: i64) -> Vec<i64> {
    write_until_gone(leader, assoc, per_client)
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

#[test]
fn a_leader_and_two_followers_converge_and_followers_refuse_writes() {
    let c = Cluster::start("converge", 2);
    let acknowledged = write(&c.leader, &c.assoc, writes() / 4);
    assert_eq!(acknowledged.len() as i64, writes() / 4 * 4);
    c.converged();
    let env = c.followers[0].call("create_inst", &json!({"bk_obj_id": "a", "bk_inst_id": 999}));
    assert_eq!(
        (env["code"].clone(), env["message"].clone()),
        (
            json!(1_199_061),
            json!("commit transcation failed, error:read-only follower")
        )
    );
    let (status, health) = http::request(c.followers[0].addr, "GET", "/healthz", b"").unwrap();
    assert_eq!(status, 200);
    assert!(health.contains("lag 0 events"), "{health}");
    // Each record event once, in the leader's order.
    assert_eq!(record_events(&c.followers[1]), record_events(&c.leader));
}

#[test]
fn a_follower_killed_mid_stream_resumes_and_applies_nothing_twice() {
    let mut c = Cluster::start("follower-kill", 1);
    let writers = load_under_way(&c.leader, &c.assoc, writes() / 4);
    let dir = c.root.join("follower-0");
    c.followers.pop().unwrap().kill9();
    let acknowledged = acknowledged(writers);
    assert_eq!(acknowledged.len() as i64, writes() / 4 * 4);
    c.followers.push(Server::follow(&c.url(), &dir, NO_WAIT));
    c.converged();
    assert_eq!(record_events(&c.followers[0]), record_events(&c.leader));
}

#[test]
fn nats_killed_mid_stream_loses_nothing_the_leader_acknowledged() {
    let mut c = Cluster::start("nats-kill", 1);
    let writers = load_under_way(&c.leader, &c.assoc, writes() / 4);
    // The leader goes on acknowledging writes while NATS is down.
    let nats = c.nats.take().unwrap();
    c.nats = Some(nats.kill9_and_restart(Duration::from_millis(300)));
    let acknowledged = acknowledged(writers);
    assert_eq!(
        acknowledged.len() as i64,
        writes() / 4 * 4,
        "a write was refused"
    );
    c.converged();
    let kept = record_ids(&c.followers[0], &c.assoc);
    assert!(acknowledged.iter().all(|id| kept.contains(id)));
}

#[test]
fn a_leader_killed_mid_stream_republishes_what_nats_lacked() {
    let mut c = Cluster::start("leader-kill", 1);
    let writers = write_until_gone(&c.leader, &c.assoc, writes() / 4);
    thread::sleep(Duration::from_millis(200));
    let leader = std::mem::replace(&mut c.leader, Server::start(&[]));
    leader.kill9();
    let acknowledged = acknowledged(writers);
    assert!(
        (acknowledged.len() as i64) < writes() / 4 * 4,
        "the kill came after the load ended"
    );
    c.leader = Cluster::leader(&c.root, &c.url());
    // More writes after the restart, of another model association.
    let other = c.leader.ok(
        "create_object_association",
        &json!({"bk_obj_asst_id": "a_connect_b", "bk_obj_id": "a", "bk_asst_obj_id": "b",
            "bk_asst_id": "connect", "mapping": "n:n"}),
    );
    assert!(other["id"].is_i64());
    assert_eq!(write(&c.leader, "a_connect_b", 10).len(), 40);
    c.converged();
    let kept = record_ids(&c.followers[0], &c.assoc);
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !kept.contains(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    assert_eq!(record_events(&c.followers[0]), record_events(&c.leader));
}

#[test]
fn a_three_node_nats_cluster_keeps_followers_converging_when_a_node_is_killed() {
    let root = temp_dir("nats-cluster");
    let (ports, routes) = (
        [free_port(), free_port(), free_port()],
        [free_port(), free_port(), free_port()],
    );
    let mut nodes: Vec<Option<Nats>> = (0..3)
        .map(|i| {
            Some(Nats::node(
                &root.join(format!("node-{i}")),
                i,
                ports,
                routes,
            ))
        })
        .collect();
    let url = ports
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let leader = Server::durable(
        &root.join("leader"),
        "immediate",
        &["--publish", &url, "--replicas", "3", NO_WAIT[0], NO_WAIT[1]],
    );
    let assoc = setup(&leader, "run", "n:n", (writes() / 100).max(100));
    // The three-copy stream exists (which needs all three nodes) before a
    // node is lost: wait until the setup is published.
    published(&leader);
    let followers: Vec<Server> = (0..2)
        .map(|i| Server::follow(&url, &root.join(format!("follower-{i}")), NO_WAIT))
        .collect();
    let writers = load_under_way(&leader, &assoc, writes() / 4);
    // A node dies for good; the stream's other two copies carry on.
    drop(nodes[0].take());
    let acknowledged = acknowledged(writers);
    assert_eq!(
        acknowledged.len() as i64,
        writes() / 4 * 4,
        "a write was refused"
    );
    let want = reads(&leader, &assoc);
    for (i, f) in followers.iter().enumerate() {
        caught_up(&leader, f);
        assert!(reads(f, &assoc) == want, "follower {i} answers differently");
    }
    drop((followers, leader, nodes));
    let _ = std::fs::remove_dir_all(&root);
}
