//! The command line, parsed by hand (no argument-parsing dependency), and
//! the commands behind it.

pub(crate) mod replay;
pub(crate) mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use assocstore::{Durability, Error};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Version,
    Replay(Replay),
    Verify(PathBuf),
}

/// `assocstore replay [--data DIR] [--durability LEVEL] [--checkpoint-bytes N] [FILE]`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Replay {
    /// The input file; `None` (or `-`) is standard input.
    pub(crate) input: Option<PathBuf>,
    /// The durable store's directory; `None` keeps the store in memory.
    pub(crate) data: Option<PathBuf>,
    pub(crate) durability: Durability,
    pub(crate) checkpoint_bytes: Option<u64>,
}

/// Parses the arguments after the program name; `Err` says what is wrong.
pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err("no command".to_owned());
    };
    match first.as_str() {
        "--help" | "-h" | "help" if rest.is_empty() => Ok(Command::Help),
        "--version" | "-V" if rest.is_empty() => Ok(Command::Version),
        "replay" => parse_replay(rest),
        "verify" => match rest {
            [flag] if flag == "--help" || flag == "-h" => Ok(Command::Help),
            [dir] if !dir.starts_with('-') => Ok(Command::Verify(PathBuf::from(dir))),
            [] => Err("verify needs a directory".to_owned()),
            _ => Err("verify takes one directory".to_owned()),
        },
        other => Err(format!("unknown command '{other}'")),
    }
}

fn parse_replay(args: &[String]) -> Result<Command, String> {
    let mut replay = Replay::default();
    let (mut durability, mut input) = (None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // `--flag value` and `--flag=value` both work.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "--help" | "-h" => return Ok(Command::Help),
            "--data" => replay.data = Some(PathBuf::from(value("--data")?)),
            "--durability" => {
                durability = Some(match value("--durability")?.as_str() {
                    "immediate" => Durability::Immediate,
                    "eventual" => Durability::Eventual,
                    other => {
                        return Err(format!(
                            "--durability is immediate or eventual, not '{other}'"
                        ));
                    }
                });
            }
            "--checkpoint-bytes" => {
                let n = value("--checkpoint-bytes")?;
                let n = n.parse::<u64>().map_err(|_| {
                    format!("--checkpoint-bytes takes a number of bytes, not '{n}'")
                })?;
                replay.checkpoint_bytes = Some(n);
            }
            "-" if input.is_none() => input = Some(None),
            path if !path.starts_with('-') && input.is_none() && inline.is_none() => {
                input = Some(Some(PathBuf::from(path)));
            }
            _ if input.is_some() && !arg.starts_with('-') => {
                return Err("replay reads one file".to_owned());
            }
            _ => return Err(format!("unknown option '{arg}'")),
        }
    }
    if replay.data.is_none() && (durability.is_some() || replay.checkpoint_bytes.is_some()) {
        return Err("--durability and --checkpoint-bytes need --data DIR".to_owned());
    }
    replay.durability = durability.unwrap_or_default();
    replay.input = input.flatten();
    Ok(Command::Replay(replay))
}

/// Reports a store that did not open: `assocstore: <message>: <cause>` on
/// standard error (the cause names the file and byte offset of damage, or
/// says the directory is locked), and exit status 1.
pub(crate) fn open_failed(e: &Error) -> ExitCode {
    match std::error::Error::source(e) {
        Some(cause) => eprintln!("assocstore: {e}: {cause}"),
        None => eprintln!("assocstore: {e}"),
    }
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn replay(line: &str) -> Replay {
        match parse(&args(line)) {
            Ok(Command::Replay(r)) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn replay_options_in_any_order_with_or_without_equals() {
        assert_eq!(replay("replay"), Replay::default());
        assert_eq!(replay("replay -"), Replay::default());
        let want = Replay {
            input: Some("in.jsonl".into()),
            data: Some("d".into()),
            durability: Durability::Eventual,
            checkpoint_bytes: Some(4096),
        };
        assert_eq!(
            replay("replay --data d --durability eventual --checkpoint-bytes 4096 in.jsonl"),
            want
        );
        assert_eq!(
            replay("replay in.jsonl --checkpoint-bytes=4096 --durability=eventual --data=d"),
            want
        );
        assert_eq!(replay("replay --data d").durability, Durability::Immediate);
    }

    #[test]
    fn bad_command_lines_are_refused() {
        for line in [
            "",
            "replay --durability eventual",
            "replay --data",
            "replay --data d --durability sometimes",
            "replay --data d --checkpoint-bytes lots",
            "replay a b",
            "replay --nope",
            "verify",
            "verify a b",
            "frobnicate",
        ] {
            assert!(parse(&args(line)).is_err(), "{line}");
        }
        assert_eq!(
            parse(&args("verify d")),
            Ok(Command::Verify(PathBuf::from("d")))
        );
        assert_eq!(parse(&args("replay --help")), Ok(Command::Help));
    }
}
