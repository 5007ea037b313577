//! `assocstore`: replays bk-cmdb API traffic through a store, serves
//! bk-cmdb's HTTP API from one, and verifies a durable store's directory.
//! The store is in memory, or durable in a directory (`--data`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod replicate;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The long help of `replay`.
const REPLAY_HELP: &str = r#"FORMAT:
    Each input line is one request, {"api": "<bk-cmdb api name>", "body": {...}},
    with bk-cmdb's request body (bk_app_code, bk_username, metadata ... are
    accepted and ignored). Each line gets exactly one response line on standard
    output, in order, in bk-cmdb's envelope:
    {"result", "code", "message", "data", "permission": null, "request_id"}.
    A line that is not JSON, or an unknown api, gets an error envelope and the
    run goes on. Without --data the store starts empty and lives for the run.

    With --data, each response line is written and flushed only after the
    change it reports is durable at the chosen level, so a line read from
    standard output is a promise. A line never answered (the process was
    killed first) may or may not have taken effect. At the end of the input
    the journal is synced and the directory released; a failure there is
    reported on standard error with exit status 1. Another process that has
    DIR open makes this one exit at once with code 1199031 in the message.

    On a terminal, standard error shows the progress through FILE; at the end
    it gets one summary line (lines, errors, seconds, lines/s). --quiet drops
    both.

EXAMPLE:
    $ printf '%s\n' \
      '{"api":"create_object_association","body":{"bk_obj_asst_id":"bk_switch_belong_host","bk_obj_id":"bk_switch","bk_asst_obj_id":"host","bk_asst_id":"belong","mapping":"1:n"}}' \
      '{"api":"create_inst","body":{"bk_obj_id":"bk_switch","bk_inst_id":11}}' \
      '{"api":"create_inst","body":{"bk_obj_id":"host","bk_inst_id":21}}' \
      '{"api":"add_instance_association","body":{"bk_obj_asst_id":"bk_switch_belong_host","bk_inst_id":11,"bk_asst_inst_id":21}}' \
      | assocstore replay --data ./cmdb-data
    {"result":true,"code":0,"message":"success","data":{"id":1},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"bk_inst_id":11},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"bk_inst_id":21},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"id":1},"permission":null,"request_id":"..."}
    $ assocstore verify ./cmdb-data

APIS:
    create_association_type, create_object_association,
    delete_object_association, find_object_association, create_inst,
    delete_inst, batch_delete_inst, add_instance_association,
    batch_create_instance_association, find_instance_association,
    search_instance_associations, count_instance_associations,
    delete_instance_association, delete_related_inst_asso,
    search_related_inst_asso, search_inst_association_topo, resource_watch
"#;

/// The long help of `serve`.
const SERVE_HELP: &str = r#"ROUTES:
    POST /api/c/compapi/v2/cc/<api>/ and POST /api/c/compapi/cc/<api>/
    (trailing slash optional), for every api `assocstore replay --help`
    lists: the body is bk-cmdb's request body, the answer bk-cmdb's envelope
    with HTTP 200 whatever its result. An unknown <api> gets the 1199011
    envelope, any other path 404, a body over --body-limit 413.
    GET /healthz answers 200 while the store is open; GET /metrics gives
    requests, errors and latency by api, associations and retained events in
    the Prometheus text format.

    Prints one line, `listening on http://ADDR`, once it accepts connections.
    resource_watch with nothing to report waits up to --watch-timeout for an
    event. With --data, a success answer is sent only once its change is
    durable at the chosen level. SIGINT or SIGTERM: stop accepting, finish the
    requests in flight, sync and close the store, exit 0.

EXAMPLE:
    $ assocstore serve --listen 127.0.0.1:8080 --data ./cmdb-data &
    $ curl -s -X POST http://127.0.0.1:8080/api/c/compapi/v2/cc/create_inst/ \
        -d '{"bk_obj_id": "host", "bk_inst_id": 21}'
    {"result":true,"code":0,"message":"success","data":{"bk_inst_id":21},"permission":null,"request_id":"..."}
"#;

/// The long help of `follow`.
const FOLLOW_HELP: &str = r"Applies the events a leader (`assocstore serve --data DIR --publish URL`)
publishes to the JetStream stream, in cursor order, into the store in --data,
and serves every read of `assocstore serve` from it. A restart resumes after the
last event the store holds: no event is applied twice. Writes are refused with
1199061 `commit transcation failed, error:read-only follower`. GET /healthz
answers with the applied cursor and the lag; GET /metrics exports the lag in
events and seconds.

EXAMPLE:
    $ nats-server -js -sd /var/lib/nats &
    $ assocstore serve --data ./leader --publish nats://127.0.0.1:4222 &
    $ assocstore follow --nats nats://127.0.0.1:4222 --data ./replica --listen 127.0.0.1:8081
";

/// The long help of `verify`.
const VERIFY_HELP: &str = r"Opens the store in DIR as replay --data would, prints what opening found
(snapshot, journal records replayed, bytes cut), the counts (associations,
model associations, association kinds, instances of the models the model
associations name) and the result of the store's invariant check, and writes
nothing itself. Opening does recover: it cuts a torn journal tail (a write cut
short by a crash, never acknowledged), removes files a finished checkpoint
superseded, and starts a new, empty journal segment. A missing DIR is an error,
not created.

Exit status 0 when the store opens and every invariant holds; 1 when it does
not open (a file does not verify: the message names the file and byte offset;
or another process has DIR open) or an invariant fails.
";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(replay) => cli::replay::run(&replay),
        Command::Serve(serve) => serve::run_leader(&serve),
        Command::Follow(follow) => serve::run_follower(&follow),
        Command::Verify { dir } => cli::verify::run(&dir),
    }
}
