//! Subordinate ids: the ranges in `/etc/subuid` and `/etc/subgid`, and how the user and its
//! ranges map into the user namespace (the user is 0, the ranges follow).

use nix::unistd::Uid;

use crate::{real_uid, which};

/// One range of subordinate ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRange {
    pub start: u32,
    pub count: u32,
}

/// The ranges of `user` (by name or number) in a `/etc/subuid`-style file.
pub fn parse_sub_ranges(text: &str, name: &str, id: u32) -> Vec<SubRange> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            if who != name && who.parse::<u32>().ok() != Some(id) {
                return None;
            }
            Some(SubRange { start: start.trim().parse().ok()?, count: count.trim().parse().ok()? })
        })
        .filter(|r| r.count > 0)
        .collect()
}

/// The user's own id and sub-ids, in the order they are mapped: the user is 0, the ranges are
/// 1, 2, ... The ranges are empty when there are none or `newuidmap`/`newgidmap` are missing.
#[derive(Debug, Clone)]
pub struct IdMaps {
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub uids: Vec<SubRange>,
    pub gids: Vec<SubRange>,
    pub helpers: bool,
}

impl IdMaps {
    pub fn of_current_user() -> IdMaps {
        let uid = real_uid();
        let gid = nix::unistd::getgid().as_raw();
        let user = nix::unistd::User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        let read = |f: &str| std::fs::read_to_string(f).unwrap_or_default();
        let helpers = which("newuidmap").is_some() && which("newgidmap").is_some();
        IdMaps {
            uid,
            gid,
            uids: parse_sub_ranges(&read("/etc/subuid"), &user, uid),
            gids: parse_sub_ranges(&read("/etc/subgid"), &user, uid),
            user,
            helpers,
        }
    }

    /// Whether containers get more ids than root.
    pub fn has_sub_ids(&self) -> bool {
        self.helpers && !self.uids.is_empty() && !self.gids.is_empty()
    }

    /// The arguments of `newuidmap PID ...`: `0 UID 1` and each range after it.
    pub fn map_args(own: u32, ranges: &[SubRange]) -> Vec<String> {
        let mut args = vec!["0".to_string(), own.to_string(), "1".to_string()];
        let mut next = 1u64;
        for r in ranges {
            args.extend([next.to_string(), r.start.to_string(), r.count.to_string()]);
            next += r.count as u64;
        }
        args
    }

    /// The host uid that container uid `id` is, if it is mapped.
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        host_id(self.uid, &self.uids, id)
    }
}

fn host_id(own: u32, ranges: &[SubRange], id: u32) -> Option<u32> {
    if id == 0 {
        return Some(own);
    }
    let mut first = 1u32;
    for r in ranges {
        if id >= first && id - first < r.count {
            return Some(r.start + (id - first));
        }
        first = first.checked_add(r.count)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_ranges_by_name_or_id() {
        let text = "alice:100000:65536\nbob:165536:65536\n1001:300000:10\n# x\nbad\n";
        assert_eq!(parse_sub_ranges(text, "alice", 1000), vec![SubRange { start: 100000, count: 65536 }]);
        assert_eq!(parse_sub_ranges(text, "carol", 1001), vec![SubRange { start: 300000, count: 10 }]);
        assert!(parse_sub_ranges(text, "dave", 1002).is_empty());
    }

    #[test]
    fn maps_put_the_user_at_zero_and_ranges_after() {
        let ranges = [SubRange { start: 100000, count: 10 }, SubRange { start: 500000, count: 5 }];
        assert_eq!(IdMaps::map_args(1000, &ranges), ["0", "1000", "1", "1", "100000", "10", "11", "500000", "5"]);
        assert_eq!(host_id(1000, &ranges, 0), Some(1000));
        assert_eq!(host_id(1000, &ranges, 1), Some(100000));
        assert_eq!(host_id(1000, &ranges, 10), Some(100009));
        assert_eq!(host_id(1000, &ranges, 11), Some(500000));
        assert_eq!(host_id(1000, &ranges, 16), None);
    }
}
