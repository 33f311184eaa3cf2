//! COPY and ADD: the files a source names (in the build context, or in another stage's or
//! image's root), and copying them into a step's root.
//!
//! Every path written in the step's root is resolved inside it ([`resolve_in_root`]): a link
//! in the image, absolute or not, leads to somewhere in the same root, never to the host.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;

use crate::runtime::sys::LinuxSyscall;

use super::ignore::Ignore;

/// One file or directory a source names.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    /// Where it is read (on the host).
    pub path: PathBuf,
    /// The name it is copied under (the last component of what the source named).
    pub name: OsString,
}

/// How copied files are owned and moded.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CopyHow {
    /// `--chown`: every copied file and created directory gets these; None keeps `keep_owner`'s.
    pub chown: Option<(u32, u32)>,
    /// `--chmod`.
    pub chmod: Option<u32>,
    /// Keep the source's owners (a copy from a stage or image); else root's (the context).
    pub keep_owner: bool,
}

/// `p` relative to a root, `..` and `.` taken out; None when it climbs above the root.
pub(crate) fn clean_relative(p: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The files `pattern` names in the build context `context`, sorted, without what the ignore
/// file excludes. A link the source names is followed, but only inside the context.
pub(crate) fn context_sources(context: &Path, ignore: &Ignore, pattern: &str) -> Result<Vec<Source>, String> {
    let outside = || format!("\"{pattern}\" is outside the build context: only files in the context can be copied");
    let rel = clean_relative(pattern).ok_or_else(outside)?;
    let canonical_context =
        fs::canonicalize(context).map_err(|e| format!("build context {}: {e}", context.display()))?;
    let named = if has_glob(pattern) {
        glob_in(context, &rel)?
    } else {
        let p = context.join(&rel);
        if fs::symlink_metadata(&p).is_err() {
            return Err(format!("\"{pattern}\": no such file or directory in the build context {}", context.display()));
        }
        vec![rel.clone()]
    };
    let mut out = Vec::new();
    for rel in named {
        let text = rel.to_string_lossy();
        if !text.is_empty() && ignore.excluded(&text) {
            if has_glob(pattern) {
                continue;
            }
            return Err(format!(
                "\"{pattern}\" is excluded by the build context's .containerignore/.dockerignore: take it out of that file to copy it"
            ));
        }
        let host = context.join(&rel);
        let meta = fs::symlink_metadata(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        let path = if meta.file_type().is_symlink() {
            let target = fs::canonicalize(&host).map_err(|e| {
                format!("\"{}\" is a symbolic link that leads nowhere ({e}): copy the file it should name", text)
            })?;
            if !target.starts_with(&canonical_context) {
                return Err(format!(
                    "\"{text}\" is a symbolic link to {}, outside the build context: put the file itself in the context",
                    target.display()
                ));
            }
            target
        } else {
            host
        };
        let name = rel.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("."));
        out.push(Source { path, name });
    }
    if out.is_empty() {
        return Err(format!("\"{pattern}\": no file in the build context matches it"));
    }
    Ok(out)
}

/// The files `pattern` names in a stage's or an image's root (`COPY --from`), links resolved
/// inside that root.
pub(crate) fn root_sources(root: &Path, pattern: &str, from: &str) -> Result<Vec<Source>, String> {
    let rel = clean_relative(pattern).unwrap_or_default();
    let named = if has_glob(pattern) { glob_in(root, &rel)? } else { vec![rel] };
    let mut out = Vec::new();
    for rel in named {
        let path = resolve(root, &rel).map_err(|e| format!("{pattern} in {from}: {e}"))?;
        if fs::symlink_metadata(&path).is_err() {
            return Err(format!("\"{pattern}\": no such file or directory in {from}"));
        }
        let name = rel.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("."));
        out.push(Source { path, name });
    }
    if out.is_empty() {
        return Err(format!("\"{pattern}\": no file in {from} matches it"));
    }
    Ok(out)
}

/// The paths below `root` that the glob `rel` matches, relative to it, sorted.
fn glob_in(root: &Path, rel: &Path) -> Result<Vec<PathBuf>, String> {
    let pattern = format!("{}/{}", glob::Pattern::escape(&root.to_string_lossy()), rel.to_string_lossy());
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let paths = glob::glob_with(&pattern, options).map_err(|e| format!("bad pattern \"{}\": {e}", rel.display()))?;
    let mut out: Vec<PathBuf> =
        paths.filter_map(|p| p.ok()).filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf)).collect();
    out.sort();
    Ok(out)
}

/// `path` (absolute, in the image's terms) as a host path under `root`, links followed inside it.
pub(crate) fn resolve(root: &Path, path: &Path) -> io::Result<PathBuf> {
    crate::runtime::resolve_in_root(&LinuxSyscall, root, path).map_err(io::Error::from)
}

/// Creates the directory `path` (in the image's terms) under `root` and what is missing above
/// it, each new one owned by `owner` and mode 0755; returns its host path.
pub(crate) fn make_dirs(root: &Path, path: &Path, owner: (u32, u32)) -> io::Result<PathBuf> {
    let mut here = PathBuf::from("/");
    for c in path.components() {
        if let Component::Normal(n) = c {
            here.push(n);
            let host = resolve(root, &here)?;
            match fs::symlink_metadata(&host) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(io::Error::other(format!("{} exists and is not a directory", here.display())));
                }
                Err(_) => {
                    fs::create_dir(&host)?;
                    fs::set_permissions(&host, fs::Permissions::from_mode(0o755))?;
                    std::os::unix::fs::lchown(&host, Some(owner.0), Some(owner.1))?;
                }
            }
        }
    }
    resolve(root, path)
}

/// The files a step copied that have more links, by device and inode: a second link to one of
/// them is made as a hard link to the first copy.
pub(crate) type Links = HashMap<(u64, u64), PathBuf>;

/// Copies `src` (a file, link, directory or special file on the host) to `dest` (in the image's
/// terms) under `root`: a directory's entries are merged into an existing directory there.
pub(crate) fn copy_into(src: &Path, root: &Path, dest: &Path, how: &CopyHow, links: &mut Links) -> io::Result<u64> {
    let mut count = 0;
    copy_entry(src, root, dest, how, links, &mut count)?;
    Ok(count)
}

fn copy_entry(
    src: &Path,
    root: &Path,
    dest: &Path,
    how: &CopyHow,
    links: &mut HashMap<(u64, u64), PathBuf>,
    count: &mut u64,
) -> io::Result<()> {
    let meta = fs::symlink_metadata(src)?;
    let ft = meta.file_type();
    let host = resolve_parent(root, dest)?;
    let owner = how.chown.unwrap_or(if how.keep_owner { (meta.uid(), meta.gid()) } else { (0, 0) });
    let mode = how.chmod.unwrap_or(meta.mode() & 0o7777);
    *count += 1;
    if ft.is_dir() {
        match fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                fs::remove_file(&host)?;
                fs::create_dir(&host)?;
            }
            Err(_) => fs::create_dir(&host)?,
        }
        copy_xattrs(src, &host);
        let mut entries: Vec<_> = fs::read_dir(src)?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            copy_entry(&e.path(), root, &dest.join(e.file_name()), how, links, count)?;
        }
        std::os::unix::fs::lchown(&host, Some(owner.0), Some(owner.1))?;
        fs::set_permissions(&host, fs::Permissions::from_mode(mode))?;
        set_times(&host, &meta);
        return Ok(());
    }
    remove_non_dir(&host)?;
    if meta.nlink() > 1 {
        if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
            fs::hard_link(first, &host)?;
            return Ok(());
        }
        links.insert((meta.dev(), meta.ino()), host.clone());
    }
    if ft.is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(src)?, &host)?;
        std::os::unix::fs::lchown(&host, Some(owner.0), Some(owner.1))?;
        set_times(&host, &meta);
        return Ok(());
    }
    if ft.is_file() {
        fs::copy(src, &host)?;
    } else if ft.is_fifo() || ft.is_char_device() || ft.is_block_device() {
        let kind = if ft.is_fifo() {
            SFlag::S_IFIFO
        } else if ft.is_char_device() {
            SFlag::S_IFCHR
        } else {
            SFlag::S_IFBLK
        };
        nix::sys::stat::mknod(&host, kind, Mode::from_bits_truncate(mode), meta.rdev())?;
    } else {
        // a socket: nothing to copy
        *count -= 1;
        return Ok(());
    }
    copy_xattrs(src, &host);
    std::os::unix::fs::lchown(&host, Some(owner.0), Some(owner.1))?;
    fs::set_permissions(&host, fs::Permissions::from_mode(mode))?;
    set_times(&host, &meta);
    Ok(())
}

/// The host path of `dest`: its parent resolved inside `root` (links followed), its own name
/// not (a link there is replaced, not written through).
fn resolve_parent(root: &Path, dest: &Path) -> io::Result<PathBuf> {
    match (dest.parent(), dest.file_name()) {
        (Some(parent), Some(name)) => Ok(resolve(root, parent)?.join(name)),
        _ => resolve(root, dest),
    }
}

fn remove_non_dir(host: &Path) -> io::Result<()> {
    match fs::symlink_metadata(host) {
        Ok(m) if m.is_dir() => Err(io::Error::other(format!(
            "cannot copy a file over the directory {}",
            host.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        ))),
        Ok(_) => fs::remove_file(host),
        Err(_) => Ok(()),
    }
}

fn copy_xattrs(src: &Path, dst: &Path) {
    if let Ok(names) = xattr::list(src) {
        for name in names {
            if let Ok(Some(value)) = xattr::get(src, &name) {
                let _ = xattr::set(dst, &name, &value);
            }
        }
    }
}

fn set_times(path: &Path, meta: &fs::Metadata) {
    let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    let _ = nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &atime,
        &mtime,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    );
}

/// What kind of archive a file is, by its first bytes (ADD extracts these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Archive {
    Tar,
    Gzip,
    Zstd,
    Xz,
}

pub(crate) fn sniff_archive(path: &Path) -> Option<Archive> {
    use std::io::Read;
    let mut head = [0u8; 512];
    let mut f = fs::File::open(path).ok()?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    let head = &head[..n];
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Archive::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Archive::Zstd)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Archive::Xz)
    } else if n >= 262 && &head[257..262] == b"ustar" {
        Some(Archive::Tar)
    } else {
        None
    }
}

/// Unpacks the archive at `path` into the fresh, empty directory `into`, owners kept.
pub(crate) fn unpack_archive(path: &Path, kind: Archive, into: &Path) -> io::Result<()> {
    let mut file = io::BufReader::new(fs::File::open(path)?);
    let reader: Box<dyn io::Read> = match kind {
        Archive::Tar => Box::new(file),
        Archive::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Archive::Zstd => Box::new(zstd::Decoder::with_buffer(file)?),
        Archive::Xz => {
            // decompressed into an unnamed file first: the decoder writes, tar reads
            let mut tar = tempfile::tempfile_in(into.parent().unwrap_or(into))?;
            lzma_rs::xz_decompress(&mut file, &mut io::BufWriter::new(&mut tar))
                .map_err(|e| io::Error::other(format!("not a valid xz archive: {e}")))?;
            use std::io::Seek;
            tar.seek(io::SeekFrom::Start(0))?;
            Box::new(io::BufReader::new(tar))
        }
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.into_owned();
        if name.as_os_str().as_bytes().is_empty() {
            continue;
        }
        entry.unpack_in(into)?;
    }
    Ok(())
}

/// `user[:group]` of `--chown`, names looked up in the step's /etc/passwd and /etc/group.
pub(crate) fn parse_chown(spec: &str, root: &Path) -> Result<(u32, u32), String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let lookup = |file: &str, name: &str, field: usize| -> Result<(u32, Option<u32>), String> {
        if let Ok(n) = name.parse::<u32>() {
            return Ok((n, None));
        }
        let text = resolve(root, Path::new(file)).ok().and_then(|p| fs::read_to_string(p).ok()).unwrap_or_default();
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(field).and_then(|g| g.parse().ok()))))
            .ok_or_else(|| {
                format!(
                    "--chown={spec}: no {} named \"{name}\" in the image's {file}",
                    if field == 3 { "user" } else { "group" }
                )
            })
    };
    if user.is_empty() {
        return Err(format!("--chown={spec}: give a user (name or id), and a group after a colon if you want one"));
    }
    let (uid, primary) = lookup("/etc/passwd", user, 3)?;
    let gid = match group {
        Some(g) if !g.is_empty() => lookup("/etc/group", g, 99)?.0,
        _ => primary.unwrap_or(uid),
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_relative_paths() {
        assert_eq!(clean_relative("a/./b/../c"), Some(PathBuf::from("a/c")));
        assert_eq!(clean_relative("/abs/x"), Some(PathBuf::from("abs/x")));
        assert_eq!(clean_relative("../x"), None);
        assert_eq!(clean_relative("a/../../x"), None);
        assert_eq!(clean_relative("."), Some(PathBuf::new()));
    }

    #[test]
    fn a_source_outside_the_context_or_linking_out_of_it_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().join("ctx");
        fs::create_dir(&ctx).unwrap();
        fs::write(dir.path().join("secret"), "s").unwrap();
        fs::write(ctx.join("ok"), "o").unwrap();
        std::os::unix::fs::symlink("../secret", ctx.join("out")).unwrap();
        std::os::unix::fs::symlink("ok", ctx.join("in")).unwrap();
        let none = Ignore::parse("");
        let e = context_sources(&ctx, &none, "../secret").unwrap_err();
        assert!(e.contains("outside the build context"), "{e}");
        let e = context_sources(&ctx, &none, "out").unwrap_err();
        assert!(e.contains("symbolic link") && e.contains("outside the build context"), "{e}");
        let s = context_sources(&ctx, &none, "in").unwrap();
        assert_eq!(s[0].name, "in");
        assert_eq!(fs::read_to_string(&s[0].path).unwrap(), "o");
        let e = context_sources(&ctx, &none, "missing").unwrap_err();
        assert!(e.contains("no such file"), "{e}");
    }

    #[test]
    fn globs_and_the_ignore_file_pick_the_sources() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.txt", "b.txt", "c.md", "sub/d.txt"] {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        let ignore = Ignore::parse("b.txt\n");
        let names: Vec<_> =
            context_sources(dir.path(), &ignore, "*.txt").unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["a.txt"]);
        let e = context_sources(dir.path(), &ignore, "b.txt").unwrap_err();
        assert!(e.contains("excluded"), "{e}");
        let e = context_sources(dir.path(), &ignore, "*.rs").unwrap_err();
        assert!(e.contains("no file"), "{e}");
    }

    #[test]
    fn a_copy_stays_in_the_root_through_absolute_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("/real", root.join("link")).unwrap();
        let src = dir.path().join("f");
        fs::write(&src, "x").unwrap();
        copy_into(
            &src,
            &root,
            Path::new("/link/f"),
            &CopyHow { chmod: Some(0o640), ..CopyHow::default() },
            &mut Links::new(),
        )
        .unwrap();
        let landed = root.join("real/f");
        assert_eq!(fs::read_to_string(&landed).unwrap(), "x");
        assert_eq!(fs::metadata(&landed).unwrap().mode() & 0o7777, 0o640);
    }

    #[test]
    fn chown_names_come_from_the_image() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
            .unwrap();
        fs::write(dir.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        assert_eq!(parse_chown("app", dir.path()).unwrap(), (1000, 1001));
        assert_eq!(parse_chown("app:staff", dir.path()).unwrap(), (1000, 50));
        assert_eq!(parse_chown("7", dir.path()).unwrap(), (7, 7));
        assert_eq!(parse_chown("7:8", dir.path()).unwrap(), (7, 8));
        let e = parse_chown("nobody", dir.path()).unwrap_err();
        assert!(e.contains("no user named \"nobody\""), "{e}");
    }
}
