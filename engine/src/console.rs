//! The console socket's receiving end: with a terminal, the container's init (or an exec'd
//! process) opens its pseudo-terminal inside the container and sends the master over a unix
//! socket pair (SCM_RIGHTS), as crun's `--console-socket` does; the monitor or the exec helper
//! holds it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// One descriptor sent with SCM_RIGHTS.
pub(crate) fn receive_fd(socket: &OwnedFd) -> Result<OwnedFd, String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| e.to_string())?;
    for c in msg.cmsgs().map_err(|e| e.to_string())? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel just gave us this descriptor.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    Err("the container sent no terminal".into())
}
