//! The container's user: `-u`/image `User` (name or id, optionally `:group`) resolved against
//! the image's own /etc/passwd and /etc/group, with supplementary groups, as Podman does.

use std::path::PathBuf;

use berth_image::layers::view::{LayerView, ViewError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    #[error("the '--group-add keep-groups' option is not allowed with any other --group-add options")]
    KeepGroupsWithOthers,
    #[error("--group-add keep-groups: berth does not keep the caller's groups (it would need a runtime that leaves them in place); name the groups with --group-add GROUP instead")]
    KeepGroups,
}

/// The most of /etc/passwd or /etc/group read: far more than any real image has.
pub const ACCOUNTS_CAP: u64 = 8 << 20;

/// Reads a file of the image from its layers (top first) as the container would see it:
/// whiteouts and opaque directories honoured, links followed inside the image only, and a
/// device, a FIFO or a file over [`ACCOUNTS_CAP`] refused.
pub fn read_image_file(layer_dirs_top_first: &[PathBuf], rel: &str) -> Result<Option<String>, ViewError> {
    let bytes = LayerView::new(layer_dirs_top_first).read_file(rel, ACCOUNTS_CAP)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Whether resolving `spec` needs the image's account files: a name, not only numbers.
pub fn needs_lookup(spec: &str) -> bool {
    spec.split(':').any(|part| !part.is_empty() && part.parse::<u32>().is_err())
}

/// Resolves `spec` ("", "name", "uid", "name:group", "uid:gid") with the image's passwd/group.
pub fn resolve(spec: &str, passwd: Option<&str>, group: Option<&str>) -> Result<ExecUser, UserError> {
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let users: Vec<Vec<&str>> =
        passwd.unwrap_or("").lines().filter(|l| !l.starts_with('#')).map(|l| l.split(':').collect()).collect();
    let groups: Vec<Vec<&str>> =
        group.unwrap_or("").lines().filter(|l| !l.starts_with('#')).map(|l| l.split(':').collect()).collect();
    let entry = users.iter().find(|f| f.len() >= 4 && (f[0] == user || f[2] == user));
    let (uid, mut gid, name, home) = match (entry, user.parse::<u32>()) {
        (Some(f), _) => (
            f[2].parse().map_err(|_| UserError::NoUser(user.into()))?,
            f[3].parse().unwrap_or(0),
            Some(f[0]),
            f.get(5).copied().unwrap_or("/").to_string(),
        ),
        (None, Ok(uid)) => (uid, 0, None, "/".to_string()),
        (None, Err(_)) => return Err(UserError::NoUser(user.into())),
    };
    if let Some(g) = grp {
        gid = match groups.iter().find(|f| f.len() >= 3 && (f[0] == g || f[2] == g)) {
            Some(f) => f[2].parse().map_err(|_| UserError::NoGroup(g.into()))?,
            None => g.parse().map_err(|_| UserError::NoGroup(g.into()))?,
        };
    }
    // Supplementary groups: those listing the user by name (only when no group was forced).
    let mut additional_gids = Vec::new();
    if let (Some(name), None) = (name, grp) {
        for f in &groups {
            if f.len() >= 4 && f[3].split(',').any(|m| m == name) {
                if let Ok(g) = f[2].parse::<u32>() {
                    if g != gid && !additional_gids.contains(&g) {
                        additional_gids.push(g);
                    }
                }
            }
        }
    }
    Ok(ExecUser { uid, gid, additional_gids, home })
}

/// `--group-add`: each a gid, or a group's name in the image's /etc/group, added to the user's
/// supplementary groups. `keep-groups` (the caller's own groups) is refused: it keeps the groups
/// of a rootless user's login, and root has none to keep that a container should get.
pub fn add_groups(user: &mut ExecUser, asked: &[String], group: Option<&str>) -> Result<(), UserError> {
    if asked.len() > 1 && asked.iter().any(|g| g == "keep-groups") {
        return Err(UserError::KeepGroupsWithOthers);
    }
    for g in asked {
        if g == "keep-groups" {
            return Err(UserError::KeepGroups);
        }
        let gid = match group
            .unwrap_or("")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 3 && f[0] == g)
        {
            Some(f) => f[2].parse().map_err(|_| UserError::NoGroup(g.clone()))?,
            None => g.parse().map_err(|_| UserError::NoGroup(g.clone()))?,
        };
        if !user.additional_gids.contains(&gid) {
            user.additional_gids.push(gid);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:app\napp:x:1000:\nwheel:x:10:root,app\n";

    fn check(spec: &str, expected: Result<(u32, u32, Vec<u32>), &str>) {
        let got = resolve(spec, Some(PASSWD), Some(GROUP))
            .map(|u| (u.uid, u.gid, u.additional_gids))
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_string), "{spec:?}");
    }

    #[test]
    fn only_names_need_the_account_files() {
        assert!(!needs_lookup(""));
        assert!(!needs_lookup("1000"));
        assert!(!needs_lookup("1000:50"));
        assert!(needs_lookup("app"));
        assert!(needs_lookup("1000:staff"));
    }

    #[test]
    fn resolves_like_podman() {
        check("", Ok((0, 0, vec![10])));
        check("root", Ok((0, 0, vec![10])));
        check("app", Ok((1000, 1000, vec![50, 10])));
        check("1000", Ok((1000, 1000, vec![50, 10])));
        check("app:staff", Ok((1000, 50, vec![])));
        check("1000:7", Ok((1000, 7, vec![])));
        check("4242", Ok((4242, 0, vec![])));
        check("nobody", Err("unable to find user nobody: no matching entries in passwd file"));
        check("app:nogroup", Err("unable to find group nogroup: no matching entries in group file"));
    }
}
