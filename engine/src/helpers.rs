//! The one dispatcher of the helper re-executions. Every binary that links the engine calls
//! [`run_if_helper`] first thing in `main`: when the process was started as a helper (argument 1
//! is one of `berth_userns::reexec`'s names), it runs that helper and exits; otherwise it
//! returns and the binary goes on.
//!
//! | argument          | helper                                                          |
//! |-------------------|-----------------------------------------------------------------|
//! | `__berth-monitor` | the per-container supervisor (`monitor`)                        |
//! | `__berth-exec`    | a process in a running container (`exec`)                      |
//! | `__berth-health`  | a running container's periodic healthchecks (`health`)         |
//! | `__berth-dns`     | a user-defined network's name server (`network::dns`)          |
//! | `__berth-cp`      | a tar stream into or out of a container's root (`copy`)         |
//! | `__berth-pause`   | rootless: holds the user's namespace open                       |
//! | `__berth-userns`  | rootless: unpack a layer, fill a volume, remove trees, inside it |
//!
//! This module sits above every module whose helper it runs; none of them imports another's
//! helper, nor this one.

use std::io::Write;
use std::path::{Path, PathBuf};

use berth_userns::reexec::{COPY_ARG, DNS_ARG, EXEC_ARG, HEALTH_ARG, MONITOR_ARG, PAUSE_ARG, USERNS_ARG};

pub use berth_userns::reexec::set_helper_env;

/// Runs the helper this process was started as, and exits; returns when it is none.
pub fn run_if_helper() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.get(1).map(String::as_str) {
        Some(PAUSE_ARG) => berth_userns::pause_main(),
        Some(USERNS_ARG) => match berth_userns::join().and_then(|()| userns_helper(&args[2..])) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        // Rootless, the helpers that make or enter containers work inside the user's namespace.
        Some(EXEC_ARG | COPY_ARG) => match berth_userns::join() {
            Err(e) => {
                eprintln!("Error: {e}");
                crate::monitor::EXIT_START_FAILED
            }
            Ok(()) if args[1] == EXEC_ARG => crate::exec::helper_main(&args),
            Ok(()) => crate::copy::helper_main(&args),
        },
        Some(MONITOR_ARG) => crate::monitor::monitor_main(&args[2..]),
        // started by a monitor: already where the container's namespaces are
        Some(HEALTH_ARG) => crate::health::helper_main(&args[2..]),
        Some(DNS_ARG) => crate::network::dns::helper_main(&args[2..]),
        _ => return,
    };
    std::process::exit(code);
}

/// The operations of `__berth-userns`, inside the namespace.
fn userns_helper(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("rm") => berth_userns::reexec::remove_trees(&args[1..]),
        Some("unpack") => {
            let dest = args.get(1).ok_or("unpack: DEST missing")?;
            let got =
                crate::layers::unpack_stream(std::io::stdin().lock(), Path::new(dest)).map_err(|e| e.to_string())?;
            let line = format!("{} {} {} {}\n", got.diff_id, got.size, got.stats.size, got.stats.entries);
            std::io::stdout().write_all(line.as_bytes()).map_err(|e| e.to_string())
        }
        Some("layer-tar") => crate::commit::layer_tar_helper(args.get(1).ok_or("layer-tar: UPPER missing")?),
        Some("merged-tar") => crate::export::merged_tar_helper(&args[1..]),
        Some("copy-up") => match args {
            [_, target, dest, layers @ ..] => {
                let layers: Vec<PathBuf> = layers.iter().map(PathBuf::from).collect();
                crate::volume::copy_up(&layers, dest, Path::new(target)).map_err(|e| format!("{target}: {e}"))
            }
            _ => Err("copy-up: TARGET DEST LAYER... missing".into()),
        },
        other => Err(format!("{USERNS_ARG}: unknown operation {other:?}")),
    }
}
