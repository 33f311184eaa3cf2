//! The spec's capability sets as the kernel's bit masks, and the order in which they are
//! applied around the change of user.

use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities};

use crate::error::{Failure, Stage};
use crate::sys::{CapSets, Syscall};

/// The kernel's number for a capability (linux/capability.h).
pub fn number(cap: Capability) -> u32 {
    use Capability::*;
    match cap {
        Chown => 0,
        DacOverride => 1,
        DacReadSearch => 2,
        Fowner => 3,
        Fsetid => 4,
        Kill => 5,
        Setgid => 6,
        Setuid => 7,
        Setpcap => 8,
        LinuxImmutable => 9,
        NetBindService => 10,
        NetBroadcast => 11,
        NetAdmin => 12,
        NetRaw => 13,
        IpcLock => 14,
        IpcOwner => 15,
        SysModule => 16,
        SysRawio => 17,
        SysChroot => 18,
        SysPtrace => 19,
        SysPacct => 20,
        SysAdmin => 21,
        SysBoot => 22,
        SysNice => 23,
        SysResource => 24,
        SysTime => 25,
        SysTtyConfig => 26,
        Mknod => 27,
        Lease => 28,
        AuditWrite => 29,
        AuditControl => 30,
        Setfcap => 31,
        MacOverride => 32,
        MacAdmin => 33,
        Syslog => 34,
        WakeAlarm => 35,
        BlockSuspend => 36,
        AuditRead => 37,
        Perfmon => 38,
        Bpf => 39,
        CheckpointRestore => 40,
    }
}

/// Every capability, in the kernel's order.
pub const ALL: [Capability; 41] = {
    use Capability::*;
    [
        Chown,
        DacOverride,
        DacReadSearch,
        Fowner,
        Fsetid,
        Kill,
        Setgid,
        Setuid,
        Setpcap,
        LinuxImmutable,
        NetBindService,
        NetBroadcast,
        NetAdmin,
        NetRaw,
        IpcLock,
        IpcOwner,
        SysModule,
        SysRawio,
        SysChroot,
        SysPtrace,
        SysPacct,
        SysAdmin,
        SysBoot,
        SysNice,
        SysResource,
        SysTime,
        SysTtyConfig,
        Mknod,
        Lease,
        AuditWrite,
        AuditControl,
        Setfcap,
        MacOverride,
        MacAdmin,
        Syslog,
        WakeAlarm,
        BlockSuspend,
        AuditRead,
        Perfmon,
        Bpf,
        CheckpointRestore,
    ]
};

pub fn mask(caps: Option<&Capabilities>) -> u64 {
    caps.into_iter().flatten().fold(0, |m, &c| m | 1 << number(c))
}

/// Removes from the bounding set every capability the spec does not list. Needs CAP_SETPCAP in
/// the effective set, so it runs before the change of user clears that set.
pub(crate) fn drop_bounding(sys: &dyn Syscall, caps: Option<&LinuxCapabilities>, last_cap: u32) -> Result<(), Failure> {
    let keep = mask(caps.and_then(|c| c.bounding().as_ref()));
    for cap in (0..=last_cap.min(63)).filter(|c| keep & (1 << c) == 0) {
        sys.drop_bounding_cap(cap).stage(|| format!("dropping capability {cap} from the bounding set"))?;
    }
    Ok(())
}

/// Sets effective, permitted and inheritable, then the ambient set. Runs after the change of
/// user (PR_SET_KEEPCAPS kept the permitted set across it). No capabilities in the spec means
/// none at all.
pub(crate) fn apply(sys: &dyn Syscall, caps: Option<&LinuxCapabilities>) -> Result<(), Failure> {
    let set = |f: fn(&LinuxCapabilities) -> &Option<Capabilities>| mask(caps.and_then(|c| f(c).as_ref()));
    let sets = CapSets {
        effective: set(LinuxCapabilities::effective),
        permitted: set(LinuxCapabilities::permitted),
        inheritable: set(LinuxCapabilities::inheritable),
    };
    sys.capset(sets).stage(|| "setting capabilities".into())?;
    sys.clear_ambient_caps().stage(|| "clearing ambient capabilities".into())?;
    let ambient = set(LinuxCapabilities::ambient);
    for cap in (0..64).filter(|c| ambient & (1 << c) != 0) {
        sys.raise_ambient_cap(cap).stage(|| format!("raising ambient capability {cap}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_default_set_is_its_known_mask() {
        use Capability::*;
        let podman =
            [Chown, DacOverride, Fowner, Fsetid, Kill, NetBindService, Setfcap, Setgid, Setpcap, Setuid, SysChroot];
        assert_eq!(mask(Some(&podman.into_iter().collect())), 0x8004_05fb);
        // Docker's set adds MKNOD, NET_RAW and AUDIT_WRITE.
        let docker: Capabilities = podman.into_iter().chain([Mknod, NetRaw, AuditWrite]).collect();
        assert_eq!(mask(Some(&docker)), 0xa804_25fb);
        assert_eq!(mask(None), 0);
    }
}
