//! `--init`: the container's pid 1 stays Berth's process (named `berth-init`) and the command
//! runs as its child, Podman's catatonit role without a binary in the container. It reaps
//! every child that exits (orphans are re-parented to it), forwards every signal it can take to
//! the command, and exits with the command's exit code (128 plus the signal when a signal ended
//! it). It runs as the container's user, with its capabilities and seccomp filter.

use nix::libc;
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use crate::sys::Syscall;

/// The spec annotation that asks for the init: `"true"`.
pub const ANNOTATION: &str = "run.berth.init";

/// The init's process name, as `ps` shows it.
pub const NAME: &str = "berth-init";

/// The spec annotation that makes the container's process a pause process (`"true"`): a pod's
/// infra container, which only holds its namespaces. Its pid 1 stays Berth's process (named
/// [`PAUSE_NAME`]) and runs no command, so no binary is put in the container (catatonit -P's
/// role): it reaps what is re-parented to it and exits 0 on SIGTERM, SIGINT, SIGHUP or SIGQUIT.
pub const PAUSE_ANNOTATION: &str = "run.berth.pause";

/// The pause process's name, as `ps` shows it.
pub const PAUSE_NAME: &str = "berth-pause";

/// Whether `spec` asks for a pause process instead of its command.
pub fn pause_asked(spec: &Spec) -> bool {
    spec.annotations().as_ref().and_then(|a| a.get(PAUSE_ANNOTATION)).is_some_and(|v| v == "true")
}

/// The pause process's loop, with every signal blocked: returns its exit code once asked to end.
pub fn pause(sys: &dyn Syscall) -> isize {
    loop {
        match sys.wait_signal() {
            Ok(libc::SIGCHLD) => while let Ok(Some(_)) = sys.reap_any() {},
            Ok(libc::SIGTERM | libc::SIGINT | libc::SIGHUP | libc::SIGQUIT) => return 0,
            Ok(_) => {}
            Err(_) => return 1,
        }
    }
}

/// Whether `spec` asks for the init.
pub fn asked(spec: &Spec) -> bool {
    spec.annotations().as_ref().and_then(|a| a.get(ANNOTATION)).is_some_and(|v| v == "true")
}

/// The init's loop, with every signal blocked: returns the command's exit code once it exited.
pub fn serve(sys: &dyn Syscall, command: Pid) -> isize {
    loop {
        match sys.wait_signal() {
            Ok(libc::SIGCHLD) => loop {
                match sys.reap_any() {
                    Ok(Some((pid, code))) if pid == command => return code as isize,
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            },
            Ok(signo) => {
                let _ = sys.send_signal(command, signo);
            }
            // nothing to wait for any more (it can't happen with every signal blocked)
            Err(_) => return 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::TestSyscall;

    #[test]
    fn the_init_returns_the_commands_exit_code() {
        // the fake reports SIGCHLD and pid 1000 exited 0
        let sys = TestSyscall::new();
        assert_eq!(serve(&sys, Pid::from_raw(1000)), 0);
        assert_eq!(sys.calls(), ["wait_signal", "reap_any"]);
    }
}
