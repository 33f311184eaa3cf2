//! How long the app took to show something: the time since this process was exec'd, for the
//! UI's report of its first painted Containers pane (`report_first_paint`, issue 18's "≤ 1 s
//! from exec"), logged as one line and appended to `$BERTH_FIRST_PAINT_FILE` for the benchmark.
//!
//! "From exec" is the kernel's start time of the process (field 22 of `/proc/self/stat`, in
//! clock ticks since boot: 10 ms steps) against the boot clock now, so the dynamic loader's
//! work and everything before `main` count too. An `Instant` taken first thing in `main`
//! ([`mark_main`]) says how much of that came before `main`.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static MAIN: OnceLock<(Instant, Option<Duration>)> = OnceLock::new();
static MARKS: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

/// Notes that a step of the start-up is done (the engine opened, the window built, the page
/// began to load...), at its time since exec, for the first paint's log line.
pub fn mark(what: &'static str) {
    if let Some(at) = since_exec() {
        MARKS.lock().unwrap_or_else(|e| e.into_inner()).push((what, at));
    }
}

/// The steps marked so far, in order.
pub fn marks() -> Vec<(&'static str, Duration)> {
    MARKS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Notes when `main` began (and how long after exec that was): call first thing in `main`.
pub fn mark_main() {
    MAIN.get_or_init(|| (Instant::now(), since_exec()));
}

/// The time since this process was exec'd, by the kernel's clocks; None where /proc or the
/// boot clock cannot say.
pub fn since_exec() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let ticks = start_ticks(&stat)?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().filter(|&h| h > 0)? as u64;
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME).ok()?;
    let now = Duration::new(now.tv_sec() as u64, now.tv_nsec() as u32);
    now.checked_sub(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// When `main` began, after exec (None before [`mark_main`] or where the clocks cannot say).
pub fn main_after_exec() -> Option<Duration> {
    MAIN.get().and_then(|(_, d)| *d)
}

/// The time since `main` began (None before [`mark_main`]).
pub fn since_main() -> Option<Duration> {
    MAIN.get().map(|(at, _)| at.elapsed())
}

/// Field 22 of a `/proc/PID/stat` line (the start time in clock ticks after boot); the command
/// name before it is in parentheses and may hold spaces and parentheses of its own.
fn start_ticks(stat: &str) -> Option<u64> {
    stat[stat.rfind(')')? + 2..].split(' ').nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_time_is_field_22_whatever_the_command_name() {
        let rest = "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 99 100";
        assert_eq!(start_ticks(&format!("123 (berth-desktop) {rest}")), Some(4242));
        assert_eq!(start_ticks(&format!("123 (a) (b c) {rest}")), Some(4242));
        assert_eq!(start_ticks("123 (x) S 1 2"), None);
    }

    #[test]
    fn this_process_started_before_now() {
        mark_main();
        let exec = since_exec().expect("/proc/self/stat and the boot clock");
        // The test binary has run for a while, and not for a day.
        assert!(exec < Duration::from_secs(24 * 3600), "{exec:?}");
        assert!(since_main().is_some());
        mark("a step");
        mark("the next");
        let m = marks();
        let at = |what| m.iter().find(|(w, _)| *w == what).unwrap().1;
        assert!(at("a step") <= at("the next"));
    }
}
