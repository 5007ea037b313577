//! `assocstore`: replays bk-cmdb API traffic through a store, in memory or
//! durable in a directory, and verifies a durable store's directory.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

use std::process::ExitCode;

use assocstore::wire::APIS;

use crate::cli::Command;

const HELP: &str = r#"assocstore: bk-cmdb instance associations, in memory or durable

USAGE:
    assocstore replay [OPTIONS] [FILE]
                                replay JSON lines from FILE (or standard input)
    assocstore verify DIR       check the durable store in DIR and print what it holds
    assocstore --help           this text
    assocstore --version        the version

REPLAY OPTIONS:
    --data DIR                  serve a durable store kept in DIR (created if
                                missing) instead of one in memory: the state
                                of earlier runs on DIR is there at the start,
                                and what this run acknowledges is kept. One
                                process at a time may have DIR open; another
                                exits at once with code 1199031.
    --durability LEVEL          with --data: when a write counts as done
                                (default: immediate):
        immediate               its journal record is synced to disk before
                                its response line is written: an
                                acknowledged write survives a power cut.
        eventual                its journal record is handed to the OS
                                (write) before its response line is written:
                                an acknowledged write survives the process
                                being killed (kill -9), not a power cut; the
                                journal is synced at checkpoints and at the
                                end of the run.
    --checkpoint-bytes N        with --data: checkpoint (write a snapshot and
                                drop the journal it covers) whenever the
                                journal passes N bytes (default: 64 MiB).

    With --data, each response line is written and flushed only after the
    change it reports is durable at the chosen level, so a line read from
    standard output is a promise. A line never answered (the process was
    killed first) may or may not have taken effect. At the end of the input
    the journal is synced and the directory released; a failure there is
    reported on standard error with exit status 1.

VERIFY:
    assocstore verify DIR opens the store in DIR as replay --data would,
    prints what opening found (snapshot, journal records replayed, bytes
    cut), the counts (associations, model associations, association kinds,
    instances of the models the model associations name) and the result of
    the store's invariant check, and writes nothing itself. Opening does
    recover: it cuts a torn journal tail (a write cut short by a crash,
    never acknowledged), removes files a finished checkpoint superseded, and
    starts a new, empty journal segment. A missing DIR is an error, not
    created. Exit status 0 when the store opens and every invariant holds;
    1 when it does not open (a file does not verify: the message names the
    file and byte offset; or another process has DIR open) or an invariant
    fails.

REPLAY FORMAT:
    Each input line is one request, {"api": "<bk-cmdb api name>", "body": {...}},
    with bk-cmdb's request body (bk_app_code, bk_username, metadata ... are
    accepted and ignored). Each line gets exactly one response line on standard
    output, in order, in bk-cmdb's envelope:
    {"result", "code", "message", "data", "permission": null, "request_id"}.
    A line that is not JSON, or an unknown api, gets an error envelope and the
    run goes on. Without --data the store starts empty and lives for the run.

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
"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            for api in APIS {
                println!("    {api}");
            }
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("assocstore {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Replay(replay)) => cli::replay::run(&replay),
        Ok(Command::Verify(dir)) => cli::verify::run(&dir),
        Err(why) => {
            eprintln!("assocstore: {why}");
            eprintln!(
                "usage: assocstore replay [--data DIR [--durability immediate|eventual]] [FILE]\n       assocstore verify DIR   (assocstore --help for more)"
            );
            ExitCode::from(2)
        }
    }
}
