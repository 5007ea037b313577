//! `assocstore verify DIR`: open a durable store, say what opening found,
//! count what it holds, and run its invariant check. It makes no writes of
//! its own; opening itself recovers (cuts a torn journal tail, removes
//! superseded files, starts a new journal segment), as any open does.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use assocstore::Store;

use super::open_failed;

/// Runs `assocstore verify DIR`: exit 0 when the store opens and every
/// invariant holds, 1 otherwise.
pub(crate) fn run(dir: &Path) -> ExitCode {
    // Opening would create a missing directory; verifying must not.
    if !dir.is_dir() {
        eprintln!("assocstore: '{}': not a directory", dir.display());
        return ExitCode::from(1);
    }
    let store = match Store::open(dir) {
        Ok(store) => store,
        Err(e) => return open_failed(&e),
    };
    println!("store: {}", dir.display());
    if let Some(report) = store.open_report() {
        println!("opened: {report}");
    }
    let assocs = store.model_associations();
    println!("associations: {}", store.len());
    println!("model associations: {}", assocs.len());
    println!("association kinds: {}", store.association_kinds().len());
    let models: BTreeSet<&str> = assocs
        .iter()
        .flat_map(|a| [&*a.bk_obj_id, &*a.bk_asst_obj_id])
        .collect();
    for model in models {
        println!("instances of {model}: {}", store.instances(model).len());
    }
    let checked = store.check_invariants();
    let status = match &checked {
        Ok(()) => {
            println!("invariants: ok");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("invariants: FAILED: {why}");
            eprintln!(
                "assocstore: '{}': an invariant does not hold: {why}",
                dir.display()
            );
            ExitCode::from(1)
        }
    };
    match store.close() {
        Ok(()) => status,
        Err(e) => {
            eprintln!("assocstore: closing '{}': {e}", dir.display());
            ExitCode::from(1)
        }
    }
}
