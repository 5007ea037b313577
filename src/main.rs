//! `assocstore`: replays bk-cmdb API traffic through an in-memory store.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;

use assocstore::Store;
use assocstore::wire::{APIS, replay};

const HELP: &str = r#"assocstore: bk-cmdb instance associations, in memory

USAGE:
    assocstore replay [FILE]    replay JSON lines from FILE (or standard input)
    assocstore --help           this text
    assocstore --version        the version

REPLAY FORMAT:
    Each input line is one request, {"api": "<bk-cmdb api name>", "body": {...}},
    with bk-cmdb's request body (bk_app_code, bk_username, metadata ... are
    accepted and ignored). Each line gets exactly one response line on standard
    output, in order, in bk-cmdb's envelope:
    {"result", "code", "message", "data", "permission": null, "request_id"}.
    A line that is not JSON, or an unknown api, gets an error envelope and the
    run goes on. The store starts empty and lives for the run.

EXAMPLE:
    $ printf '%s\n' \
      '{"api":"create_object_association","body":{"bk_obj_asst_id":"bk_switch_belong_host","bk_obj_id":"bk_switch","bk_asst_obj_id":"host","bk_asst_id":"belong","mapping":"1:n"}}' \
      '{"api":"create_inst","body":{"bk_obj_id":"bk_switch","bk_inst_id":11}}' \
      '{"api":"create_inst","body":{"bk_obj_id":"host","bk_inst_id":21}}' \
      '{"api":"add_instance_association","body":{"bk_obj_asst_id":"bk_switch_belong_host","bk_inst_id":11,"bk_asst_inst_id":21}}' \
      | assocstore replay
    {"result":true,"code":0,"message":"success","data":{"id":1},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"bk_inst_id":11},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"bk_inst_id":21},"permission":null,"request_id":"..."}
    {"result":true,"code":0,"message":"success","data":{"id":1},"permission":null,"request_id":"..."}

APIS:
"#;

fn usage() -> ExitCode {
    eprintln!("usage: assocstore replay [FILE]   (assocstore --help for more)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--help" | "-h" | "help"] | ["replay", "--help" | "-h"] => {
            print!("{HELP}");
            for api in APIS {
                println!("    {api}");
            }
            ExitCode::SUCCESS
        }
        ["--version" | "-V"] => {
            println!("assocstore {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        ["replay"] | ["replay", "-"] => run(io::stdin().lock()),
        ["replay", path] => match File::open(path) {
            Ok(file) => run(file),
            Err(e) => {
                eprintln!("assocstore: cannot open {path}: {e}");
                ExitCode::from(1)
            }
        },
        _ => usage(),
    }
}

fn run(input: impl io::Read) -> ExitCode {
    let store = Store::new();
    let stdout = io::stdout().lock();
    match replay(&store, input, io::BufWriter::with_capacity(1 << 16, stdout)) {
        Ok(_) => ExitCode::SUCCESS,
        // A closed pipe downstream (`| head`) ends the run quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "assocstore: {e}");
            ExitCode::from(1)
        }
    }
}
