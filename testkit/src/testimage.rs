//! A stand-in for Podman's system-test image (`quay.io/libpod/testimage`), built from Debian's
//! busybox-static with what Podman's `build-testimage` puts into the real one: the image id
//! file and the pause script under `/home/podman`, Alpine's users and groups, an Alpine
//! `/etc/os-release`, `WORKDIR /home/podman`, the `created_by`/`created_at` labels and the CMD.
//! Podman's own tests (`../shared/podman-system-tests`) run against it, on Podman and on Berth.

use anyhow::Result;
use serde_json::json;

use crate::busybox::{busybox_rootfs_with, PATH};
use crate::image::{Compression, ImageSpec};

/// Alpine 3.16's `/etc/passwd`, which the tests' `--user` cases name users of.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/ash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
man:x:13:15:man:/usr/man:/sbin/nologin
postmaster:x:14:12:postmaster:/var/mail:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
at:x:25:25:at:/var/spool/cron/atjobs:/sbin/nologin
squid:x:31:31:Squid:/var/cache/squid:/sbin/nologin
xfs:x:33:33:X Font Server:/etc/X11/fs:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
cyrus:x:85:12::/usr/cyrus:/sbin/nologin
vpopmail:x:89:89::/var/vpopmail:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
smmsp:x:209:209:smmsp:/var/spool/mqueue:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
";

/// Alpine 3.16's `/etc/group`.
pub const GROUP: &str = "root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin,adm
adm:x:4:root,adm,daemon
tty:x:5:
disk:x:6:root,adm
lp:x:7:lp
mem:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
man:x:15:man
cron:x:16:cron
console:x:17:
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
at:x:25:at
tape:x:26:root
video:x:27:root
netdev:x:28:
readproc:x:30:
squid:x:31:squid
xfs:x:33:xfs
kvm:x:34:kvm
games:x:35:
shadow:x:42:
cdrw:x:80:
www-data:x:82:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
";

const OS_RELEASE: &str = "NAME=\"Alpine Linux\"
ID=alpine
VERSION_ID=3.16.0
PRETTY_NAME=\"Alpine Linux v3.16\"
";

/// The start of Alpine's /etc/services (netbase's list).
const SERVICES: &str = "# Network services, Internet style
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
echo\t\t7/tcp
echo\t\t7/udp
ftp\t\t21/tcp
ssh\t\t22/tcp
telnet\t\t23/tcp
smtp\t\t25/tcp\t\tmail
domain\t\t53/tcp
domain\t\t53/udp
http\t\t80/tcp\t\twww
https\t\t443/tcp
";

/// Alpine's busybox has `printenv`; Debian's busybox-static has not: a script does its work.
const PRINTENV: &str = "#!/bin/sh
[ $# -eq 0 ] && exec env
rc=0
for name; do
    if env | grep -q \"^$name=\"; then env | sed -n \"s/^$name=//p\"; else rc=1; fi
done
exit $rc
";

/// The pause script the pod tests use as an infra command.
const PAUSE: &str = "echo Confirmed: testimage pause invoked as $0
while :; do
    sleep 0.1
done
";

/// The test image for `tag`: `/home/podman/testimage-id` holds the tag, as in the real image.
pub fn podman_testimage(tag: &str) -> Result<ImageSpec> {
    let mut root = busybox_rootfs_with(PASSWD, GROUP, OS_RELEASE)?;
    // 2020-09-13, the time the real build gives the id file
    root.mtime(1_600_000_000);
    root.file("etc/alpine-release", "3.16.0\n", 0o644)
        // Alpine's base has it (the diff tests delete it)
        .file("etc/services", SERVICES, 0o644)
        .dir("home/podman", 0o755)
        .file("home/podman/testimage-id", format!("{tag}\n"), 0o644)
        .file("home/podman/pause", PAUSE, 0o755)
        .file("usr/bin/printenv", PRINTENV, 0o755)
        // Alpine's busybox-extras (httpd and the other servers): busybox runs argv[1] as the
        // applet when its own name starts with "busybox"
        .symlink("bin/busybox-extras", "busybox");
    let mut spec = ImageSpec::new().layer(root.build(), Compression::Gzip).with_config(json!({
        "Env": [format!("PATH={PATH}")],
        "Cmd": ["/bin/echo", "This container is intended for podman CI testing"],
        "WorkingDir": "/home/podman",
        "Labels": {
            "created_by": "test/system/build-testimage",
            "created_at": "2022-10-18T00:00:00Z",
        },
    }));
    spec.created = "2022-10-18T00:00:00Z".into();
    spec.history = Some(vec![json!({
        "created": spec.created,
        "created_by": "/bin/sh -c #(nop) ADD testimage rootfs",
    })]);
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_file_holds_the_tag_and_the_workdir_is_home_podman() {
        let spec = podman_testimage("20221018").unwrap();
        assert_eq!(spec.config["WorkingDir"], "/home/podman");
        let mut ar = tar::Archive::new(&spec.layers[0].0[..]);
        let mut id = None;
        let mut passwd = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            let body = String::from_utf8_lossy(&bytes).into_owned();
            match path.as_str() {
                "home/podman/testimage-id" => id = Some(body),
                "etc/passwd" => passwd.push(body),
                _ => {}
            }
        }
        assert_eq!(id.as_deref(), Some("20221018\n"));
        // Alpine's passwd in place of busybox's, not a second entry of the same path
        assert_eq!(passwd.len(), 1, "one /etc/passwd in the layer");
        assert!(passwd[0].starts_with("root:x:0:0:root:/root:/bin/ash\n"));
    }
}
