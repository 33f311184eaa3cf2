//! Every syscall the runtime makes, behind one trait, and the only `unsafe` of the runtime.
//!
//! [`LinuxSyscall`] is the real thing. [`TestSyscall`] records each call as one line of text
//! (`mount "proc" /r/proc proc NOSUID|NODEV|NOEXEC -`) and pretends it succeeded, so unit tests
//! can check what the runtime would do, and in which order, without root. The implementation is
//! always passed in explicitly (`&dyn Syscall`).

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::resource::Resource;
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, SFlag};
use nix::unistd::{AccessFlags, Gid, Pid, Uid};

pub type Result<T> = std::result::Result<T, Errno>;

/// What a path names, as `stat` (or `lstat`) sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    Other,
}

/// The three capability sets `capset` sets, one bit per capability number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

pub trait Syscall {
    // Processes.
    /// Runs `child` in a new process created with `flags` (its exit signal is SIGCHLD); the
    /// child exits with what `child` returns.
    fn clone(&self, child: &mut dyn FnMut() -> isize, flags: CloneFlags) -> Result<Pid>;
    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> Result<()>;
    fn unshare(&self, flags: CloneFlags) -> Result<()>;
    fn setsid(&self) -> Result<()>;
    fn kill(&self, pid: Pid, signal: Signal) -> Result<()>;
    /// Waits for `pid` to exit and reaps it.
    fn waitpid(&self, pid: Pid) -> Result<()>;
    /// Every signal back to its default action and none blocked, as a new program expects
    /// (the caller may ignore SIGPIPE, as Rust programs do, and exec keeps ignored signals).
    fn reset_signals(&self) -> Result<()>;
    /// Blocks every signal, so that `wait_signal` takes them (an init's loop).
    fn block_signals(&self) -> Result<()>;
    /// Waits for a blocked signal and takes it: its number (real-time signals included).
    fn wait_signal(&self) -> Result<i32>;
    /// `kill` with a signal number, real-time signals included.
    fn send_signal(&self, pid: Pid, signo: i32) -> Result<()>;
    /// Reaps a child that exited, without waiting: its pid and exit code (128 plus the signal
    /// when a signal ended it); none when no child has exited.
    fn reap_any(&self) -> Result<Option<(Pid, i32)>>;
    /// `PR_SET_NAME` (at most 15 bytes), and `name` over the process's arguments (where
    /// /proc/PID/cmdline reads them), as setproctitle does: what `ps` shows.
    fn set_name(&self, name: &str) -> Result<()>;
    /// Replaces the process; returns only on failure.
    fn execve(&self, path: &CStr, args: &[CString], env: &[CString]) -> Errno;
    /// Runs a helper program to completion (fuse-overlayfs); Err carries what it printed.
    fn run_program(&self, program: &str, args: &[String]) -> std::result::Result<(), String>;

    // File descriptors.
    /// A close-on-exec pipe: (read end, write end).
    fn pipe(&self) -> Result<(RawFd, RawFd)>;
    fn open(&self, path: &Path, flags: OFlag) -> Result<RawFd>;
    fn read(&self, fd: RawFd, buf: &mut [u8]) -> Result<usize>;
    fn write(&self, fd: RawFd, buf: &[u8]) -> Result<usize>;
    fn close(&self, fd: RawFd) -> Result<()>;
    /// A close-on-exec duplicate of `fd` numbered `min` or above.
    fn dup_above(&self, fd: RawFd, min: RawFd) -> Result<RawFd>;
    /// `dup2`: `new` becomes `old`, without close-on-exec.
    fn dup2(&self, old: RawFd, new: RawFd) -> Result<()>;
    /// Marks every descriptor from `first` up close-on-exec.
    fn cloexec_from(&self, first: RawFd) -> Result<()>;

    // Mounts and the filesystem.
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()>;
    fn umount2(&self, target: &Path, flags: MntFlags) -> Result<()>;
    /// The flags of the mount at `path` that a user namespace may not clear on a remount
    /// (read-only, nosuid, nodev, noexec), from `statvfs`.
    fn locked_flags(&self, path: &Path) -> Result<MsFlags>;
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> Result<()>;
    fn chdir(&self, path: &Path) -> Result<()>;
    /// `stat` (`follow`) or `lstat`.
    fn file_kind(&self, path: &Path, follow: bool) -> Result<FileKind>;
    /// `readlink`: EINVAL when `path` is not a symlink.
    fn read_link(&self, path: &Path) -> Result<PathBuf>;
    fn mkdir(&self, path: &Path, mode: u32) -> Result<()>;
    /// Creates an empty regular file; EEXIST when something is there.
    fn create_file(&self, path: &Path, mode: u32) -> Result<()>;
    fn symlink(&self, target: &Path, link: &Path) -> Result<()>;
    fn mknod(&self, path: &Path, kind: SFlag, mode: u32, dev: u64) -> Result<()>;
    fn chown(&self, path: &Path, uid: Option<Uid>, gid: Option<Gid>) -> Result<()>;
    /// Copies the directory open at `from` into `to`: directories, files and links with their
    /// modes and owners; other kinds are skipped (crun's `tmpcopyup`).
    fn copy_tree(&self, from: RawFd, to: &Path) -> Result<()>;
    fn access(&self, path: &Path, mode: AccessFlags) -> Result<()>;
    fn umask(&self, mask: u32);

    // Identity and limits.
    fn sethostname(&self, name: &str) -> Result<()>;
    /// (soft, hard)
    fn getrlimit(&self, resource: Resource) -> Result<(u64, u64)>;
    fn setrlimit(&self, resource: Resource, soft: u64, hard: u64) -> Result<()>;
    fn setgroups(&self, groups: &[Gid]) -> Result<()>;
    fn setresgid(&self, gid: Gid) -> Result<()>;
    fn setresuid(&self, uid: Uid) -> Result<()>;

    // Capabilities.
    /// The highest capability number this kernel knows.
    fn last_cap(&self) -> Result<u32>;
    /// `PR_SET_KEEPCAPS`: keep the permitted set across a change away from uid 0.
    fn set_keep_caps(&self, keep: bool) -> Result<()>;
    /// `PR_CAPBSET_DROP`
    fn drop_bounding_cap(&self, cap: u32) -> Result<()>;
    fn capset(&self, sets: CapSets) -> Result<()>;
    fn clear_ambient_caps(&self) -> Result<()>;
    fn raise_ambient_cap(&self, cap: u32) -> Result<()>;
    fn set_no_new_privs(&self) -> Result<()>;

    // Network.
    /// Sets `IFF_UP` on the interface `name` of the current network namespace.
    fn set_link_up(&self, name: &str) -> Result<()>;

    // Terminals.
    /// Makes the terminal open on `fd` the calling session leader's controlling terminal.
    fn set_controlling_terminal(&self, fd: RawFd) -> Result<()>;
    /// Puts the caller in a process group of its own and makes that group the foreground one
    /// of the terminal on `fd` (SIGTTOU must be blocked).
    fn foreground_group(&self, fd: RawFd) -> Result<()>;
    /// A new pseudo-terminal from the `/dev/ptmx` of the current root: (master, slave).
    fn open_console(&self) -> Result<(RawFd, RawFd)>;
    /// Sends `fd` over the unix socket `socket` (SCM_RIGHTS).
    fn send_fd(&self, socket: RawFd, fd: RawFd) -> Result<()>;
}

/// The kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscall;

/// The child's stack: the closure runs on it until execve, and formats error messages.
const CHILD_STACK: usize = 8 * 1024 * 1024;

impl Syscall for LinuxSyscall {
    fn clone(&self, child: &mut dyn FnMut() -> isize, flags: CloneFlags) -> Result<Pid> {
        let mut stack = vec![0u8; CHILD_STACK];
        // SAFETY: without CLONE_VM the child runs on its own copy of this address space, and the
        // callers of `launch` are single-threaded, so no lock is held by a thread that the child
        // does not have.
        unsafe { nix::sched::clone(Box::new(child), &mut stack, flags, Some(libc::SIGCHLD)) }
    }

    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> Result<()> {
        // SAFETY: the caller owns `fd` for the duration of the call.
        nix::sched::setns(unsafe { BorrowedFd::borrow_raw(fd) }, nstype)
    }

    fn unshare(&self, flags: CloneFlags) -> Result<()> {
        nix::sched::unshare(flags)
    }

    fn setsid(&self) -> Result<()> {
        nix::unistd::setsid().map(drop)
    }

    fn kill(&self, pid: Pid, signal: Signal) -> Result<()> {
        nix::sys::signal::kill(pid, signal)
    }

    fn waitpid(&self, pid: Pid) -> Result<()> {
        loop {
            match nix::sys::wait::waitpid(pid, None) {
                Err(Errno::EINTR) => continue,
                other => return other.map(drop),
            }
        }
    }

    fn reset_signals(&self) -> Result<()> {
        for sig in 1..=libc::SIGRTMAX() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                // SAFETY: SIG_DFL installs no handler. The C library refuses the real-time
                // signals it reserves (EINVAL); those are not ours to reset.
                unsafe { libc::signal(sig, libc::SIG_DFL) };
            }
        }
        nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_SETMASK,
            Some(&nix::sys::signal::SigSet::empty()),
            None,
        )
    }

    fn block_signals(&self) -> Result<()> {
        use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), None)
    }

    fn wait_signal(&self) -> Result<i32> {
        // nix's SigSet::wait knows no real-time signals: sigwait itself
        let all = nix::sys::signal::SigSet::all();
        let mut signo: libc::c_int = 0;
        loop {
            // SAFETY: both pointers are to live values of the types sigwait takes.
            match unsafe { libc::sigwait(all.as_ref(), &mut signo) } {
                0 => return Ok(signo),
                libc::EINTR => continue,
                e => return Err(Errno::from_raw(e)),
            }
        }
    }

    fn send_signal(&self, pid: Pid, signo: i32) -> Result<()> {
        // SAFETY: kill(2) takes any pid and signal number; it touches no memory of ours.
        Errno::result(unsafe { libc::kill(pid.as_raw(), signo) }).map(drop)
    }

    fn reap_any(&self) -> Result<Option<(Pid, i32)>> {
        use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
        loop {
            return match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) | Ok(WaitStatus::StillAlive) => Ok(None),
                Ok(WaitStatus::Exited(pid, code)) => Ok(Some((pid, code))),
                Ok(WaitStatus::Signaled(pid, sig, _)) => Ok(Some((pid, 128 + sig as i32))),
                Ok(_) => continue,
                Err(e) => Err(e),
            };
        }
    }

    fn set_name(&self, name: &str) -> Result<()> {
        let c_name = std::ffi::CString::new(name).map_err(|_| Errno::EINVAL)?;
        nix::sys::prctl::set_name(&c_name)?;
        // arg_start and arg_end: fields 48 and 49 of /proc/self/stat, counted after the
        // parenthesised command name (field 2), which may hold spaces
        let stat = std::fs::read_to_string("/proc/self/stat").map_err(|_| Errno::EIO)?;
        let rest = stat.get(stat.rfind(')').ok_or(Errno::EIO)? + 2..).ok_or(Errno::EIO)?;
        let fields: Vec<&str> = rest.split(' ').collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.trim().parse::<usize>().ok()).ok_or(Errno::EIO);
        let (start, end) = (field(48)?, field(49)?);
        if end <= start {
            return Err(Errno::EINVAL);
        }
        let len = end - start;
        let bytes = &name.as_bytes()[..name.len().min(len - 1)];
        // SAFETY: [arg_start, arg_end) is this process's own argument area, on its stack and
        // writable; nothing reads the arguments through Rust after this (an init that never
        // returns to main), and the area keeps its length, ending in a NUL.
        unsafe {
            let area = start as *mut u8;
            std::ptr::write_bytes(area, 0, len);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), area, bytes.len());
        }
        Ok(())
    }

    fn execve(&self, path: &CStr, args: &[CString], env: &[CString]) -> Errno {
        match nix::unistd::execve(path, args, env) {
            Err(e) => e,
            Ok(never) => match never {},
        }
    }

    fn run_program(&self, program: &str, args: &[String]) -> std::result::Result<(), String> {
        let out = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(String::from_utf8_lossy(&out.stderr).trim().replace('\n', "; "))
    }

    fn pipe(&self) -> Result<(RawFd, RawFd)> {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        Ok((r.into_raw_fd(), w.into_raw_fd()))
    }

    fn open(&self, path: &Path, flags: OFlag) -> Result<RawFd> {
        nix::fcntl::open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).map(|fd| fd.into_raw_fd())
    }

    fn read(&self, fd: RawFd, buf: &mut [u8]) -> Result<usize> {
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            match Errno::result(n) {
                Err(Errno::EINTR) => continue,
                other => return other.map(|n| n as usize),
            }
        }
    }

    fn write(&self, fd: RawFd, buf: &[u8]) -> Result<usize> {
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes.
            let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
            match Errno::result(n) {
                Err(Errno::EINTR) => continue,
                other => return other.map(|n| n as usize),
            }
        }
    }

    fn close(&self, fd: RawFd) -> Result<()> {
        // SAFETY: closing a number has no memory effects; the caller owns it.
        Errno::result(unsafe { libc::close(fd) }).map(drop)
    }

    fn dup_above(&self, fd: RawFd, min: RawFd) -> Result<RawFd> {
        // SAFETY: F_DUPFD_CLOEXEC takes an int argument.
        Errno::result(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
    }

    fn dup2(&self, old: RawFd, new: RawFd) -> Result<()> {
        // SAFETY: plain descriptor numbers.
        Errno::result(unsafe { libc::dup2(old, new) }).map(drop)
    }

    fn cloexec_from(&self, first: RawFd) -> Result<()> {
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
        let r = unsafe {
            libc::syscall(libc::SYS_close_range, first as libc::c_uint, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC)
        };
        Errno::result(r).map(drop)
    }

    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()> {
        nix::mount::mount(source, target, fstype, flags, data)
    }

    fn umount2(&self, target: &Path, flags: MntFlags) -> Result<()> {
        nix::mount::umount2(target, flags)
    }

    fn locked_flags(&self, path: &Path) -> Result<MsFlags> {
        use nix::sys::statvfs::FsFlags;
        let st = nix::sys::statvfs::statvfs(path)?;
        let f = st.flags();
        let mut out = MsFlags::empty();
        for (from, to) in [
            (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        ] {
            if f.contains(from) {
                out |= to;
            }
        }
        Ok(out)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> Result<()> {
        nix::unistd::pivot_root(new_root, put_old)
    }

    fn chdir(&self, path: &Path) -> Result<()> {
        nix::unistd::chdir(path)
    }

    fn file_kind(&self, path: &Path, follow: bool) -> Result<FileKind> {
        let st = if follow { nix::sys::stat::stat(path)? } else { nix::sys::stat::lstat(path)? };
        Ok(match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFDIR => FileKind::Dir,
            SFlag::S_IFREG => FileKind::File,
            SFlag::S_IFLNK => FileKind::Symlink,
            _ => FileKind::Other,
        })
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf> {
        nix::fcntl::readlink(path).map(PathBuf::from)
    }

    fn mkdir(&self, path: &Path, mode: u32) -> Result<()> {
        nix::unistd::mkdir(path, Mode::from_bits_truncate(mode))
    }

    fn create_file(&self, path: &Path, mode: u32) -> Result<()> {
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
        nix::fcntl::open(path, flags, Mode::from_bits_truncate(mode)).map(drop)
    }

    fn symlink(&self, target: &Path, link: &Path) -> Result<()> {
        nix::unistd::symlinkat(target, nix::fcntl::AT_FDCWD, link)
    }

    fn mknod(&self, path: &Path, kind: SFlag, mode: u32, dev: u64) -> Result<()> {
        nix::sys::stat::mknod(path, kind, Mode::from_bits_truncate(mode), dev)
    }

    fn chown(&self, path: &Path, uid: Option<Uid>, gid: Option<Gid>) -> Result<()> {
        nix::unistd::chown(path, uid, gid)
    }

    fn copy_tree(&self, from: RawFd, to: &Path) -> Result<()> {
        fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            for entry in std::fs::read_dir(from)? {
                let entry = entry?;
                let (src, dst) = (entry.path(), to.join(entry.file_name()));
                let meta = std::fs::symlink_metadata(&src)?;
                let kind = meta.file_type();
                if kind.is_dir() {
                    std::fs::create_dir(&dst)?;
                    copy(&src, &dst)?;
                } else if kind.is_symlink() {
                    std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
                } else if kind.is_file() {
                    std::fs::copy(&src, &dst)?;
                } else {
                    continue;
                }
                std::os::unix::fs::lchown(&dst, Some(meta.uid()), Some(meta.gid()))?;
                if !kind.is_symlink() {
                    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(meta.mode()))?;
                }
            }
            Ok(())
        }
        // The descriptor names the directory under the new mount.
        copy(&PathBuf::from(format!("/proc/self/fd/{from}")), to)
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    }

    fn access(&self, path: &Path, mode: AccessFlags) -> Result<()> {
        nix::unistd::access(path, mode)
    }

    fn umask(&self, mask: u32) {
        nix::sys::stat::umask(Mode::from_bits_truncate(mask));
    }

    fn sethostname(&self, name: &str) -> Result<()> {
        nix::unistd::sethostname(name)
    }

    fn getrlimit(&self, resource: Resource) -> Result<(u64, u64)> {
        nix::sys::resource::getrlimit(resource)
    }

    fn setrlimit(&self, resource: Resource, soft: u64, hard: u64) -> Result<()> {
        nix::sys::resource::setrlimit(resource, soft, hard)
    }

    fn setgroups(&self, groups: &[Gid]) -> Result<()> {
        nix::unistd::setgroups(groups)
    }

    fn setresgid(&self, gid: Gid) -> Result<()> {
        nix::unistd::setresgid(gid, gid, gid)
    }

    fn setresuid(&self, uid: Uid) -> Result<()> {
        nix::unistd::setresuid(uid, uid, uid)
    }

    fn last_cap(&self) -> Result<u32> {
        let text = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
        text.trim().parse().map_err(|_| Errno::EINVAL)
    }

    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        prctl(libc::PR_SET_KEEPCAPS, keep as libc::c_ulong, 0)
    }

    fn drop_bounding_cap(&self, cap: u32) -> Result<()> {
        prctl(libc::PR_CAPBSET_DROP, cap.into(), 0)
    }

    fn capset(&self, sets: CapSets) -> Result<()> {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: libc::c_int,
        }
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        const VERSION_3: u32 = 0x2008_0522;
        let header = Header { version: VERSION_3, pid: 0 };
        let half = |shift: u32| Data {
            effective: (sets.effective >> shift) as u32,
            permitted: (sets.permitted >> shift) as u32,
            inheritable: (sets.inheritable >> shift) as u32,
        };
        let data = [half(0), half(32)];
        // SAFETY: version 3 takes a header and two data structs, laid out as the kernel's.
        Errno::result(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) }).map(drop)
    }

    fn clear_ambient_caps(&self) -> Result<()> {
        prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0)
    }

    fn raise_ambient_cap(&self, cap: u32) -> Result<()> {
        prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap.into())
    }

    fn set_no_new_privs(&self) -> Result<()> {
        prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
    }

    fn set_controlling_terminal(&self, fd: RawFd) -> Result<()> {
        // SAFETY: TIOCSCTTY takes an int argument (0: do not steal from another session).
        let r = unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) };
        Errno::result(r).map(drop)
    }

    fn foreground_group(&self, fd: RawFd) -> Result<()> {
        nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
        // SAFETY: the caller owns `fd` for the duration of the call.
        nix::unistd::tcsetpgrp(unsafe { BorrowedFd::borrow_raw(fd) }, nix::unistd::getpgrp())
    }

    fn open_console(&self) -> Result<(RawFd, RawFd)> {
        let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let master = nix::fcntl::open(Path::new("/dev/ptmx"), flags, nix::sys::stat::Mode::empty())?;
        let unlock: libc::c_int = 0;
        // SAFETY: TIOCSPTLCK reads an int; TIOCGPTPEER takes open flags and returns a new fd.
        let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) };
        Errno::result(r)?;
        let slave = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY) };
        let slave = Errno::result(slave)?;
        Ok((master.into_raw_fd(), slave))
    }

    fn send_fd(&self, socket: RawFd, fd: RawFd) -> Result<()> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
        let fds = [fd];
        let iov = [std::io::IoSlice::new(b"t")];
        sendmsg::<()>(socket, &iov, &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None).map(drop)
    }

    fn set_link_up(&self, name: &str) -> Result<()> {
        let bytes = name.as_bytes();
        if bytes.len() >= libc::IFNAMSIZ {
            return Err(Errno::EINVAL);
        }
        let sock = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Inet,
            nix::sys::socket::SockType::Datagram,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        // SAFETY: ifreq is plain old data; all zeroes is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read and write an ifreq; the union's flags
        // member is the one both use.
        unsafe {
            Errno::result(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req))?;
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            Errno::result(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req))?;
        }
        Ok(())
    }
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> Result<()> {
    // SAFETY: the options used here take integer arguments only.
    Errno::result(unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) }).map(drop)
}

/// A fake that records every call as a line of text and succeeds, unless told otherwise.
///
/// The filesystem it pretends to have is `files` (plus what the runtime creates); `read`
/// returns the queued `reads` and then end of file; `clone` does not run the child.
#[derive(Debug, Default)]
pub struct TestSyscall {
    pub calls: RefCell<Vec<String>>,
    pub files: RefCell<HashMap<PathBuf, FileKind>>,
    pub links: RefCell<HashMap<PathBuf, PathBuf>>,
    pub reads: RefCell<VecDeque<Vec<u8>>>,
    /// (soft, hard) that getrlimit reports for every resource.
    pub rlimit: (u64, u64),
    /// The first call whose record starts with the text fails with the errno.
    pub fail: Option<(String, Errno)>,
    pub next_fd: RefCell<RawFd>,
}

impl TestSyscall {
    pub fn new() -> Self {
        TestSyscall { rlimit: (1024, 4096), next_fd: RefCell::new(100), ..Default::default() }
    }

    pub fn with_files(self, files: &[(&str, FileKind)]) -> Self {
        self.files.borrow_mut().extend(files.iter().map(|(p, k)| (PathBuf::from(p), *k)));
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    fn record(&self, call: String) -> Result<()> {
        let failed = matches!(&self.fail, Some((prefix, _)) if call.starts_with(prefix.as_str()));
        self.calls.borrow_mut().push(call);
        match &self.fail {
            Some((_, errno)) if failed => Err(*errno),
            _ => Ok(()),
        }
    }

    fn fd(&self) -> RawFd {
        let mut next = self.next_fd.borrow_mut();
        *next += 1;
        *next
    }

    fn add(&self, path: &Path, kind: FileKind) -> Result<()> {
        match self.files.borrow_mut().entry(path.to_path_buf()) {
            std::collections::hash_map::Entry::Occupied(_) => Err(Errno::EEXIST),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(kind);
                Ok(())
            }
        }
    }
}

fn show(path: Option<&Path>) -> String {
    path.map_or("-".into(), |p| p.display().to_string())
}

impl Syscall for TestSyscall {
    fn clone(&self, _child: &mut dyn FnMut() -> isize, flags: CloneFlags) -> Result<Pid> {
        self.record(format!("clone {flags:?}"))?;
        Ok(Pid::from_raw(4242))
    }
    fn setns(&self, fd: RawFd, nstype: CloneFlags) -> Result<()> {
        self.record(format!("setns {fd} {nstype:?}"))
    }
    fn unshare(&self, flags: CloneFlags) -> Result<()> {
        self.record(format!("unshare {flags:?}"))
    }
    fn setsid(&self) -> Result<()> {
        self.record("setsid".into())
    }
    fn kill(&self, pid: Pid, signal: Signal) -> Result<()> {
        self.record(format!("kill {pid} {signal}"))
    }
    fn waitpid(&self, pid: Pid) -> Result<()> {
        self.record(format!("waitpid {pid}"))
    }
    fn reset_signals(&self) -> Result<()> {
        self.record("reset_signals".into())
    }
    fn run_program(&self, program: &str, args: &[String]) -> std::result::Result<(), String> {
        self.record(format!("run {program} {}", args.join(" "))).map_err(|e| e.to_string())
    }
    fn block_signals(&self) -> Result<()> {
        self.record("block_signals".into())
    }
    fn wait_signal(&self) -> Result<i32> {
        self.record("wait_signal".into())?;
        Ok(libc::SIGCHLD)
    }
    fn send_signal(&self, pid: Pid, signo: i32) -> Result<()> {
        self.record(format!("send_signal {pid} {signo}"))
    }
    fn reap_any(&self) -> Result<Option<(Pid, i32)>> {
        self.record("reap_any".into())?;
        Ok(Some((Pid::from_raw(1000), 0)))
    }
    fn set_name(&self, name: &str) -> Result<()> {
        self.record(format!("set_name {name}"))
    }
    fn execve(&self, path: &CStr, args: &[CString], _env: &[CString]) -> Errno {
        let args: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        self.record(format!("execve {} {args:?}", path.to_string_lossy())).err().unwrap_or(Errno::ENOSYS)
    }
    fn pipe(&self) -> Result<(RawFd, RawFd)> {
        let fds = (self.fd(), self.fd());
        self.record(format!("pipe {} {}", fds.0, fds.1))?;
        Ok(fds)
    }
    fn open(&self, path: &Path, _flags: OFlag) -> Result<RawFd> {
        self.record(format!("open {}", path.display()))?;
        Ok(self.fd())
    }
    fn read(&self, fd: RawFd, buf: &mut [u8]) -> Result<usize> {
        self.record(format!("read {fd}"))?;
        let Some(mut chunk) = self.reads.borrow_mut().pop_front() else { return Ok(0) };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.reads.borrow_mut().push_front(chunk.split_off(n));
        }
        Ok(n)
    }
    fn write(&self, fd: RawFd, buf: &[u8]) -> Result<usize> {
        self.record(format!("write {fd} {:?}", String::from_utf8_lossy(buf)))?;
        Ok(buf.len())
    }
    fn close(&self, fd: RawFd) -> Result<()> {
        self.record(format!("close {fd}"))
    }
    fn dup_above(&self, fd: RawFd, min: RawFd) -> Result<RawFd> {
        self.record(format!("dup_above {fd} {min}"))?;
        Ok(self.fd())
    }
    fn dup2(&self, old: RawFd, new: RawFd) -> Result<()> {
        self.record(format!("dup2 {old} {new}"))
    }
    fn cloexec_from(&self, first: RawFd) -> Result<()> {
        self.record(format!("cloexec_from {first}"))
    }
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> Result<()> {
        let (fstype, data) = (fstype.unwrap_or("-"), data.unwrap_or("-"));
        self.record(format!("mount {} {} {fstype} {flags:?} {data}", show(source), target.display()))
    }
    fn umount2(&self, target: &Path, flags: MntFlags) -> Result<()> {
        self.record(format!("umount2 {} {flags:?}", target.display()))
    }
    fn locked_flags(&self, _path: &Path) -> Result<MsFlags> {
        Ok(MsFlags::empty())
    }
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> Result<()> {
        self.record(format!("pivot_root {} {}", new_root.display(), put_old.display()))
    }
    fn chdir(&self, path: &Path) -> Result<()> {
        self.record(format!("chdir {}", path.display()))
    }
    fn file_kind(&self, path: &Path, follow: bool) -> Result<FileKind> {
        let mut path = path.to_path_buf();
        if follow {
            while let Some(target) = self.links.borrow().get(&path) {
                path = target.clone();
            }
        } else if self.links.borrow().contains_key(&path) {
            return Ok(FileKind::Symlink);
        }
        self.files.borrow().get(&path).copied().ok_or(Errno::ENOENT)
    }
    fn read_link(&self, path: &Path) -> Result<PathBuf> {
        match self.links.borrow().get(path) {
            Some(target) => Ok(target.clone()),
            None if self.files.borrow().contains_key(path) => Err(Errno::EINVAL),
            None => Err(Errno::ENOENT),
        }
    }
    fn mkdir(&self, path: &Path, mode: u32) -> Result<()> {
        self.record(format!("mkdir {} {mode:o}", path.display()))?;
        self.add(path, FileKind::Dir)
    }
    fn create_file(&self, path: &Path, mode: u32) -> Result<()> {
        self.record(format!("create_file {} {mode:o}", path.display()))?;
        self.add(path, FileKind::File)
    }
    fn symlink(&self, target: &Path, link: &Path) -> Result<()> {
        self.record(format!("symlink {} {}", target.display(), link.display()))?;
        self.links.borrow_mut().insert(link.to_path_buf(), target.to_path_buf());
        Ok(())
    }
    fn mknod(&self, path: &Path, kind: SFlag, mode: u32, dev: u64) -> Result<()> {
        self.record(format!("mknod {} {kind:?} {mode:o} {dev}", path.display()))?;
        self.add(path, FileKind::Other)
    }
    fn chown(&self, path: &Path, uid: Option<Uid>, gid: Option<Gid>) -> Result<()> {
        self.record(format!("chown {} {uid:?} {gid:?}", path.display()))
    }
    fn copy_tree(&self, from: RawFd, to: &Path) -> Result<()> {
        self.record(format!("copy_tree {from} {}", to.display()))
    }
    fn access(&self, path: &Path, mode: AccessFlags) -> Result<()> {
        self.record(format!("access {} {mode:?}", path.display()))
    }
    fn umask(&self, mask: u32) {
        let _ = self.record(format!("umask {mask:o}"));
    }
    fn sethostname(&self, name: &str) -> Result<()> {
        self.record(format!("sethostname {name}"))
    }
    fn getrlimit(&self, resource: Resource) -> Result<(u64, u64)> {
        self.record(format!("getrlimit {resource:?}"))?;
        Ok(self.rlimit)
    }
    fn setrlimit(&self, resource: Resource, soft: u64, hard: u64) -> Result<()> {
        self.record(format!("setrlimit {resource:?} {soft} {hard}"))?;
        if hard > self.rlimit.1 {
            return Err(Errno::EPERM);
        }
        Ok(())
    }
    fn setgroups(&self, groups: &[Gid]) -> Result<()> {
        let groups: Vec<_> = groups.iter().map(|g| g.as_raw()).collect();
        self.record(format!("setgroups {groups:?}"))
    }
    fn setresgid(&self, gid: Gid) -> Result<()> {
        self.record(format!("setresgid {gid}"))
    }
    fn setresuid(&self, uid: Uid) -> Result<()> {
        self.record(format!("setresuid {uid}"))
    }
    fn last_cap(&self) -> Result<u32> {
        Ok(40)
    }
    fn set_keep_caps(&self, keep: bool) -> Result<()> {
        self.record(format!("set_keep_caps {keep}"))
    }
    fn drop_bounding_cap(&self, cap: u32) -> Result<()> {
        self.record(format!("drop_bounding_cap {cap}"))
    }
    fn capset(&self, sets: CapSets) -> Result<()> {
        self.record(format!("capset {:#x} {:#x} {:#x}", sets.effective, sets.permitted, sets.inheritable))
    }
    fn clear_ambient_caps(&self) -> Result<()> {
        self.record("clear_ambient_caps".into())
    }
    fn raise_ambient_cap(&self, cap: u32) -> Result<()> {
        self.record(format!("raise_ambient_cap {cap}"))
    }
    fn set_no_new_privs(&self) -> Result<()> {
        self.record("set_no_new_privs".into())
    }
    fn set_link_up(&self, name: &str) -> Result<()> {
        self.record(format!("set_link_up {name}"))
    }
    fn set_controlling_terminal(&self, fd: RawFd) -> Result<()> {
        self.record(format!("set_controlling_terminal {fd}"))
    }
    fn foreground_group(&self, fd: RawFd) -> Result<()> {
        self.record(format!("foreground_group {fd}"))
    }
    fn open_console(&self) -> Result<(RawFd, RawFd)> {
        self.record("open_console".into())?;
        Ok((60, 61))
    }
    fn send_fd(&self, socket: RawFd, fd: RawFd) -> Result<()> {
        self.record(format!("send_fd {socket} {fd}"))
    }
}
