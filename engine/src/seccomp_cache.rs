//! Compiled seccomp filters, kept in the run root by what they were compiled from (the profile,
//! libseccomp's version, the architecture): every container of the default profile would
//! otherwise pay libseccomp's compile (about 12 ms here) at each start and each exec.
//!
//! A kept filter is only ever what `compile` gave for the same key; one that cannot be read
//! back is compiled again. The run root does not survive a reboot, and a new libseccomp gives
//! new keys.

use std::path::Path;

use oci_spec::runtime::LinuxSeccomp;
use sha2::{Digest, Sha256};

use crate::runtime::seccomp::{compile, CompiledFilter, SeccompError};

/// The filter of `profile`: the one kept under `run_root`, or compiled now (and kept).
pub fn compiled(run_root: &Path, profile: &LinuxSeccomp) -> Result<CompiledFilter, SeccompError> {
    let Some(path) = key(profile).map(|k| run_root.join("seccomp").join(format!("{k}.bpf"))) else {
        return compile(profile);
    };
    if let Some(kept) = std::fs::read(&path).ok().and_then(|b| CompiledFilter::from_bytes(&b)) {
        return Ok(kept);
    }
    let filter = compile(profile)?;
    // Kept for the next start, whole or not at all (a rename); failing to keep it costs only time.
    if let Some(dir) = path.parent() {
        let tmp =
            dir.join(format!(".{}.{}", std::process::id(), path.file_name().unwrap_or_default().to_string_lossy()));
        let kept = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, filter.to_bytes()))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if kept.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(filter)
}

fn key(profile: &LinuxSeccomp) -> Option<String> {
    let json = serde_json::to_vec(profile).ok()?;
    let v = libseccomp::ScmpVersion::current().ok()?;
    let mut h = Sha256::new();
    h.update(format!("libseccomp {}.{}.{} {}\n", v.major, v.minor, v.micro, std::env::consts::ARCH));
    h.update(&json);
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_compiled_once_and_kept_by_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let profile = crate::runtime::seccomp::default_profile(crate::runtime::seccomp::DEFAULT_CAPABILITIES);
        let first = compiled(dir.path(), &profile).unwrap();
        let kept: Vec<_> = std::fs::read_dir(dir.path().join("seccomp")).unwrap().flatten().collect();
        assert_eq!(kept.len(), 1, "one file, no temporary left");
        assert_eq!(std::fs::read(kept[0].path()).unwrap(), first.to_bytes());
        assert_eq!(compiled(dir.path(), &profile).unwrap().to_bytes(), first.to_bytes());
        // Another profile is another file; a damaged one is compiled again and replaced.
        let mut other = profile.clone();
        other.set_syscalls(None);
        let small = compiled(dir.path(), &other).unwrap();
        assert!(small.len() < first.len());
        assert_eq!(std::fs::read_dir(dir.path().join("seccomp")).unwrap().count(), 2);
        std::fs::write(kept[0].path(), b"not a filter").unwrap();
        assert_eq!(compiled(dir.path(), &profile).unwrap().to_bytes(), first.to_bytes());
        assert_eq!(std::fs::read(kept[0].path()).unwrap(), first.to_bytes());
    }
}
