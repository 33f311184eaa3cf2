//! Real containers, launched as root from a busybox root filesystem on an overlay.
//!
//! `launch` may only run in a single-threaded process, so this binary has its own runner
//! (`harness = false`): every test runs on the main thread, one after the other.

mod containers;
mod fixture;

use std::panic::{catch_unwind, AssertUnwindSafe};

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("\n*** the runtime's integration tests need root (they mount, pivot_root and create namespaces): run them with sudo ***\n");
        std::process::exit(1);
    }
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let tests: Vec<_> = containers::TESTS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let ran = tests.len();
    println!("\nrunning {ran} tests");
    let mut failed = Vec::new();
    for (name, test) in tests {
        let ok = catch_unwind(AssertUnwindSafe(test)).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(*name);
        }
    }
    let (passed, failed_n) = (ran - failed.len(), failed.len());
    if !failed.is_empty() {
        println!("\nfailures: {failed:?}");
        println!("\ntest result: FAILED. {passed} passed; {failed_n} failed; 0 ignored; 0 measured; 0 filtered out");
        std::process::exit(1);
    }
    println!("\ntest result: ok. {passed} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
