//! `berth-desktop`: the app's window and tray, or `--serve [ADDR]` for a browser.

use std::process::ExitCode;

use clap::Parser;

/// Berth, the desktop container manager.
#[derive(Parser)]
#[command(name = "berth-desktop", version)]
struct Cli {
    /// Serve the UI and its API over HTTP instead of opening a window (ADDR: HOST:PORT or a
    /// port; loopback unless said otherwise; a free port when omitted)
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    serve: Option<String>,
    /// With --serve: HTTPS even on loopback (beyond loopback it always is), with a self-signed
    /// certificate kept in $XDG_CONFIG_HOME/berth/serve
    #[arg(long, requires = "serve")]
    tls: bool,
}

fn main() -> ExitCode {
    // Containers are supervised by re-executions of this binary: that must come first.
    berth_engine::helpers::run_if_helper();
    berth_desktop::startup::mark_main();
    // WebKit's JavaScriptCore starts its allocator's scavenger thread before `main` unless its
    // heap is the system's (`Malloc=1`): the monitors and helpers, re-executions of this binary,
    // must be single-threaded.
    berth_engine::helpers::set_helper_env(vec![("Malloc".into(), "1".into())]);
    // Two malloc arenas, not eight a core: the lists of 10 000 containers made on the runtime's
    // threads at start left each thread's arena holding its freed memory (the idle `--serve`
    // kept 310 MiB where 112 MiB was in use). Before the app's threads start.
    // SAFETY: mallopt sets a parameter of glibc's allocator, under its lock.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let cli = Cli::parse();
    let result = match cli.serve {
        Some(addr) => tauri::async_runtime::block_on(berth_desktop::serve::run(&addr, cli.tls)),
        None => berth_desktop::app::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth-desktop: {e:#}");
            ExitCode::FAILURE
        }
    }
}
