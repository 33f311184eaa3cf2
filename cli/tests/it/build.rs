//! `build`: Containerfiles built by the engine over busybox from the test registry, every
//! instruction checked in the image's config and in a container of it; the cache; errors that
//! name the line and leave nothing behind.

use std::io::{Read, Write};
use std::path::PathBuf;

use serde_json::Value;

use crate::World;

/// A context directory with `files` (path, contents) and the Containerfile `text`.
fn context(w: &World, name: &str, text: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = w.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Containerfile"), text).unwrap();
    for (p, body) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

/// busybox, pulled: its reference.
fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn config(w: &World, image: &str) -> Value {
    let out = w.ok(&["image", "inspect", image]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0]["Config"].clone()
}

/// Nothing a build leaves behind: no container, no mount or directory of its own.
fn nothing_left(w: &World) {
    assert_eq!(w.ok(&["ps", "-aq"]).trim(), "", "no build container is left");
    let build = w.root().join("build");
    let left: Vec<String> = crate::list_dir(&build);
    assert!(left.is_empty(), "the build's scratch directories are gone: {left:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&build.to_string_lossy().to_string()), "no mount under {}", build.display());
}

#[test]
fn builds_every_instruction_into_the_config_and_the_files() {
    let w = World::new();
    let base = busybox(&w);
    // a tar for ADD to unpack
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o640);
    h.set_uid(5);
    h.set_gid(6);
    h.set_cksum();
    tar.append_data(&mut h, "unpacked/inner.txt", &b"inner\n"[..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let text = format!(
        r#"ARG BASE={base}
FROM $BASE
ARG GREETING=hello
ENV APP_HOME=/srv/app \
    MODE="two words"
LABEL org.example.name="berth test" version=1
WORKDIR $APP_HOME
COPY --chmod=750 *.sh ./
COPY --chown=7:8 data/ data/
ADD files.tar /opt/
RUN echo "$GREETING from $(pwd)" > made.txt && echo "$MODE" >> made.txt
SHELL ["/bin/sh", "-c"]
RUN <<EOF
echo heredoc one > /srv/app/doc.txt
echo heredoc two >> /srv/app/doc.txt
EOF
EXPOSE 8080 53/udp
VOLUME /srv/data
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --retries=2 CMD ["true"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /srv/app/made.txt"]
"#
    );
    let ctx = context(
        &w,
        "ctx",
        &text,
        &[("run.sh", "#!/bin/sh\necho run\n"), ("data/a.txt", "a\n"), ("data/sub/b.txt", "b\n")],
    );
    std::fs::write(ctx.join("files.tar"), &tar).unwrap();
    let out = w.berth(&["build", "-t", "every", "--build-arg", "GREETING=hi", ctx.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("STEP 1/19: FROM $BASE\n"), "{stdout}");
    assert!(stdout.contains("STEP 9/19: RUN echo \"$GREETING from $(pwd)\""), "{stdout}");
    assert!(stdout.contains("COMMIT every\n"), "{stdout}");
    assert!(stdout.contains("Successfully tagged localhost/every:latest\n"), "{stdout}");
    let id = stdout.lines().last().unwrap();
    assert_eq!(id.len(), 64, "the last line is the image id: {stdout}");

    let c = config(&w, "every");
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["StopSignal"], "SIGTERM");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(c["Cmd"], serde_json::json!(["cat /srv/app/made.txt"]));
    assert_eq!(c["Labels"]["org.example.name"], "berth test");
    assert_eq!(c["Labels"]["version"], "1");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object() && c["ExposedPorts"]["53/udp"].is_object(), "{c}");
    assert!(c["Volumes"]["/srv/data"].is_object(), "{c}");
    assert_eq!(c["OnBuild"], serde_json::json!(["RUN echo child"]));
    assert_eq!(c["Healthcheck"]["Test"], serde_json::json!(["CMD", "true"]));
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000u64);
    let env: Vec<String> = serde_json::from_value(c["Env"].clone()).unwrap();
    assert!(env.contains(&"APP_HOME=/srv/app".to_string()) && env.contains(&"MODE=two words".to_string()), "{env:?}");
    assert!(!env.iter().any(|e| e.starts_with("GREETING=")), "an ARG is not kept in the image: {env:?}");

    // the default command, as the image's user
    assert_eq!(w.ok(&["run", "--rm", "every"]), "hi from /srv/app\ntwo words\n");
    let seen = w.ok(&[
        "run",
        "--rm",
        "--user",
        "0",
        "every",
        "stat -c '%n %a %u:%g' run.sh data/a.txt data/sub/b.txt /opt/unpacked/inner.txt; cat doc.txt; id -u",
    ]);
    assert_eq!(
        seen,
        "run.sh 750 0:0\ndata/a.txt 644 7:8\ndata/sub/b.txt 644 7:8\n/opt/unpacked/inner.txt 640 5:6\nheredoc one\nheredoc two\n0\n"
    );
    // a RUN's layer holds what the command changed, not what the runtime mounted there
    assert_eq!(w.ok(&["image", "diff", "every"]), "C /srv\nC /srv/app\nA /srv/app/doc.txt\n");
    // the history, as Podman writes it: a layer for each RUN, COPY and ADD
    let history = w.ok(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", "every"]);
    assert!(history.contains("/bin/sh -c #(nop) ENV APP_HOME=/srv/app MODE=two words"), "{history}");
    assert!(history.contains("|1 GREETING=hi /bin/sh -c echo \"$GREETING from $(pwd)\""), "{history}");
    assert!(history.contains("COPY *.sh in /srv/app"), "{history}");
    nothing_left(&w);
}

#[test]
fn a_second_build_comes_from_the_cache_and_a_changed_file_rebuilds_from_its_copy() {
    let w = World::new();
    let base = busybox(&w);
    let text =
        format!("FROM {base}\nRUN echo one > /one\nCOPY f /f\nRUN cat /f > /copied\nCMD [\"cat\", \"/copied\"]\n");
    let ctx = context(&w, "ctx", &text, &[("f", "first\n")]);
    let first = w.ok(&["build", "-t", "cached", ctx.to_str().unwrap()]);
    assert!(!first.contains("Using cache"), "{first}");
    let again = w.ok(&["build", "-t", "cached", ctx.to_str().unwrap()]);
    assert_eq!(again.matches("--> Using cache").count(), 4, "every step a hit: {again}");
    assert_eq!(first.lines().last(), again.lines().last(), "the same image: {first}\n{again}");
    // a changed file: the RUN before it still comes from the cache, what follows it not
    std::fs::write(ctx.join("f"), "second\n").unwrap();
    let changed = w.ok(&["build", "-t", "cached", ctx.to_str().unwrap()]);
    assert_eq!(changed.matches("--> Using cache").count(), 1, "{changed}");
    assert_eq!(w.ok(&["run", "--rm", "cached"]), "second\n");
    // --no-cache runs everything again
    let fresh = w.ok(&["build", "--no-cache", "-t", "cached", ctx.to_str().unwrap()]);
    assert!(!fresh.contains("Using cache"), "{fresh}");
    // the intermediate images stay out of `images`, and are listed with -a
    let listed = w.ok(&["images", "-q"]);
    let all = w.ok(&["images", "-aq"]);
    assert!(all.lines().count() > listed.lines().count(), "images:\n{listed}\nimages -a:\n{all}");
    nothing_left(&w);
}

#[test]
fn stages_copy_from_each_other_and_target_stops_early() {
    let w = World::new();
    let base = busybox(&w);
    let text = format!(
        "FROM {base} AS builder\nRUN mkdir /out && echo built > /out/artifact && echo extra > /out/extra\n\
         FROM {base} AS unused\nRUN exit 1\n\
         FROM scratch\nCOPY --from=builder /bin/busybox /bin/busybox\nCOPY --from=0 /out/artifact /artifact\n\
         COPY --from=builder /out/ /all/\nENTRYPOINT [\"/bin/busybox\"]\nCMD [\"cat\", \"/artifact\"]\n"
    );
    let ctx = context(&w, "ctx", &text, &[]);
    let out = w.ok(&["build", "-t", "multi", ctx.to_str().unwrap()]);
    assert!(
        out.contains("[1/2] STEP 1/2: FROM") && out.contains("[2/2] STEP 1/6: FROM scratch"),
        "the unused stage is skipped: {out}"
    );
    assert_eq!(w.ok(&["run", "--rm", "multi"]), "built\n");
    assert_eq!(w.ok(&["run", "--rm", "multi", "ls", "/all"]), "artifact\nextra\n");
    // --target: the builder stage is the image
    w.ok(&["build", "--target", "builder", "-t", "builder-only", ctx.to_str().unwrap()]);
    assert_eq!(w.ok(&["run", "--rm", "builder-only", "cat", "/out/extra"]), "extra\n");
    let e = w.fails(&["build", "--target", "nope", ctx.to_str().unwrap()]);
    assert!(e.contains("--target nope") && e.contains("no stage named nope"), "{e}");
    nothing_left(&w);
}

#[test]
fn the_ignore_file_keeps_files_out_and_add_downloads_from_a_url() {
    let w = World::new();
    let base = busybox(&w);
    // a one-shot HTTP server on loopback
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 2048];
        let _ = s.read(&mut buf).unwrap();
        let body = "downloaded\n";
        write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    });
    let text = format!("FROM {base}\nCOPY . /ctx/\nADD http://127.0.0.1:{port}/files/got.txt /dl/\n");
    let ctx = context(
        &w,
        "ctx",
        &text,
        &[
            (".dockerignore", "secret*\nlogs/\n!logs/keep.log\n"),
            ("app.txt", "app\n"),
            ("secret.key", "k\n"),
            ("logs/a.log", "a\n"),
            ("logs/keep.log", "keep\n"),
        ],
    );
    w.ok(&["build", "-t", "ignored", ctx.to_str().unwrap()]);
    server.join().unwrap();
    let seen = w.ok(&[
        "run",
        "--rm",
        "ignored",
        "sh",
        "-c",
        "cd /ctx && find . -type f | sort; cat /dl/got.txt; stat -c %a /dl/got.txt",
    ]);
    assert_eq!(seen, "./.dockerignore\n./Containerfile\n./app.txt\n./logs/keep.log\ndownloaded\n600\n");
    nothing_left(&w);
}

#[test]
fn bad_input_names_the_problem_and_leaves_nothing_behind() {
    let w = World::new();
    let base = busybox(&w);
    let images_before = w.ok(&["images", "-aq"]);
    let check = |name: &str, text: &str, files: &[(&str, &str)], want: &[&str]| {
        let ctx = context(&w, name, text, files);
        let e = w.fails(&["build", ctx.to_str().unwrap()]);
        for piece in want {
            assert!(e.contains(piece), "{name}: wanted {piece:?} in:\n{e}");
        }
    };
    check("unknown", &format!("FROM {base}\nRUN true\nFROB x\n"), &[], &["Containerfile:3", "FROB"]);
    check(
        "outside",
        &format!("FROM {base}\nCOPY ../secret /x\n"),
        &[],
        &["Containerfile:2", "outside the build context"],
    );
    let linked = context(&w, "linked", &format!("FROM {base}\nCOPY link /x\n"), &[]);
    std::os::unix::fs::symlink("/etc/hostname", linked.join("link")).unwrap();
    let e = w.fails(&["build", linked.to_str().unwrap()]);
    assert!(
        e.contains("Containerfile:2") && e.contains("symbolic link") && e.contains("outside the build context"),
        "{e}"
    );
    check("missing", &format!("FROM {base}\nCOPY nothere /x\n"), &[], &["Containerfile:2", "nothere"]);
    check(
        "failing",
        &format!("FROM {base}\nRUN echo ok > /f\nRUN exit 3\n"),
        &[],
        &["Containerfile:3", "exited with 3"],
    );
    check(
        "unpullable",
        &format!("FROM {}/no/such:image\n", w.registry.addr()),
        &[],
        &["Containerfile:1", "no/such:image"],
    );
    let e = w.fails(&["build", w.dir.path().join("no-such-dir").to_str().unwrap()]);
    assert!(e.contains("no-such-dir") && e.contains("no such directory"), "{e}");
    // nothing half made: no image, container, mount or scratch directory
    assert_eq!(
        w.ok(&["images", "-aq"]).lines().count(),
        images_before.lines().count() + 1,
        "only the first RUN of `failing` is stored"
    );
    nothing_left(&w);
}

/// The real docker client's `docker build` and Debian's `docker-compose build`, through the
/// API service: the context as a tar, build args, the stream they print, the image usable.
#[test]
fn docker_build_and_compose_build_work_through_the_socket() {
    use crate::docker_api::{docker_cmd, ok, service};
    let w = World::new();
    let base = busybox(&w);
    let s = service(&w);
    let ctx = context(
        &w,
        "ctx",
        &format!("FROM {base}\nARG WHO\nCOPY hello.txt /hello.txt\nRUN echo \"built for $WHO\" > /who\nCMD cat /hello.txt /who\n"),
        &[("hello.txt", "hello\n")],
    );
    // Dockerfile is the name docker's client sends; ours is Containerfile
    std::fs::rename(ctx.join("Containerfile"), ctx.join("Dockerfile")).unwrap();
    let out = docker_cmd(&w, &s)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", "dockerbuilt", "--build-arg", "WHO=docker", ctx.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Step 1/5 : FROM") && text.contains("Step 4/5 : RUN echo"), "{text}");
    assert!(text.contains("Successfully built ") && text.contains("Successfully tagged dockerbuilt:latest"), "{text}");
    assert_eq!(ok(&w, &s, &["run", "--rm", "dockerbuilt"]), "hello\nbuilt for docker\n");
    // docker commit: the container's change and a new CMD
    ok(&w, &s, &["run", "--name", "changed", "dockerbuilt", "sh", "-c", "echo changed > /hello.txt"]);
    let id = ok(
        &w,
        &s,
        &["commit", "-c", "CMD [\"cat\", \"/hello.txt\"]", "-m", "by docker", "changed", "dockercommitted:1"],
    );
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(ok(&w, &s, &["run", "--rm", "dockercommitted:1"]), "changed\n");
    ok(&w, &s, &["rm", "changed"]);
    // a mistake in the Dockerfile: the client shows the line
    std::fs::write(ctx.join("Dockerfile"), format!("FROM {base}\nRUN exit 7\n")).unwrap();
    let out = docker_cmd(&w, &s).env("DOCKER_BUILDKIT", "0").args(["build", ctx.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("Dockerfile:2") && err.contains("exited with 7"), "{err}");

    // compose builds a service's image from its build: section
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {base}\nARG WHO=compose\nRUN echo \"built by $WHO\" > /who\nCMD cat /who\n"),
    )
    .unwrap();
    let proj = w.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(
        proj.join("docker-compose.yml"),
        format!(
            "version: \"3\"\nservices:\n  app:\n    build:\n      context: {}\n    image: composed:1\n",
            ctx.display()
        ),
    )
    .unwrap();
    let out = crate::docker_api::compose_cmd(&w, &s, &proj).arg("build").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "docker-compose build failed:\n{text}");
    assert_eq!(w.ok(&["run", "--rm", "composed:1"]), "built by compose\n");
    nothing_left(&w);
}

/// Ctrl-C during a RUN: the build stops at once, and its container, mounts and scratch go.
#[test]
fn a_cancelled_build_leaves_nothing_behind() {
    let w = World::new();
    let base = busybox(&w);
    let ctx = context(&w, "ctx", &format!("FROM {base}\nRUN echo started && sleep 60\n"), &[]);
    let images_before = w.ok(&["images", "-aq"]);
    let mut child =
        w.cmd().args(["build", ctx.to_str().unwrap()]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("started\n") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the build ended before its RUN started: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let began = std::time::Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "a cancelled build fails");
    assert!(began.elapsed() < std::time::Duration::from_secs(20), "it stopped without waiting for the RUN");
    assert_eq!(w.ok(&["images", "-aq"]), images_before, "no image was stored");
    nothing_left(&w);
}

/// RUN --mount: the context bound read-only, a cache kept between builds, a tmpfs; none of
/// them end up in the image.
#[test]
fn run_mounts_bind_the_context_keep_a_cache_and_stay_out_of_the_image() {
    let w = World::new();
    let base = busybox(&w);
    let text = format!(
        "FROM {base}\n\
         RUN --mount=type=bind,source=data,target=/mnt cat /mnt/in.txt > /copied && ! touch /mnt/x 2>/dev/null\n\
         RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/runs && wc -l < /var/cache/app/runs > /runs\n\
         RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && cat /scratch/t > /tmpfs-worked\n"
    );
    let ctx = context(&w, "ctx", &text, &[("data/in.txt", "from the context\n")]);
    w.ok(&["build", "-t", "mounted", ctx.to_str().unwrap()]);
    w.ok(&["build", "--no-cache", "-t", "mounted", ctx.to_str().unwrap()]);
    let seen = w.ok(&[
        "run",
        "--rm",
        "mounted",
        "sh",
        "-c",
        "cat /copied /runs /tmpfs-worked; ls -A /mnt; [ -e /scratch ] || echo no scratch; [ -e /var/cache/app ] || echo no cache",
    ]);
    assert_eq!(seen, "from the context\n2\nt\nno scratch\nno cache\n", "the cache kept the first build's line");
    // a changed file under the bound directory is a new build of that step
    std::fs::write(ctx.join("data/in.txt"), "changed\n").unwrap();
    let out = w.ok(&["build", "-t", "mounted", ctx.to_str().unwrap()]);
    assert!(!out.contains("Using cache"), "the bind's content is part of the first RUN's key: {out}");
    assert_eq!(w.ok(&["run", "--rm", "mounted", "cat", "/copied"]), "changed\n");
    let e = w.fails(&["build", "-f", "/dev/null", ctx.to_str().unwrap()]);
    assert!(e.contains("no FROM"), "{e}");
    let bad = context(&w, "bad", &format!("FROM {base}\nRUN --mount=type=secret,id=x true\n"), &[]);
    let e = w.fails(&["build", bad.to_str().unwrap()]);
    assert!(e.contains("Containerfile:2") && e.contains("type=secret is not supported"), "{e}");
    nothing_left(&w);
}

/// A Debian bookworm root with gcc, made once with debootstrap from the machine's Debian
/// mirror and kept in /var/cache/berth-tests (a lock serialises test binaries).
fn debian_gcc_rootfs() -> PathBuf {
    let cache = PathBuf::from("/var/cache/berth-tests");
    std::fs::create_dir_all(&cache).unwrap();
    let root = cache.join("bookworm-gcc");
    let lock = std::fs::File::create(cache.join("bookworm-gcc.lock")).unwrap();
    let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .inspect(|_| {
            if !root.join("usr/bin/gcc").exists() {
                let sources = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
                let mirror = sources
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("URIs:").map(|u| u.split_whitespace().next().unwrap_or("").to_string())
                    })
                    .or_else(|| {
                        std::fs::read_to_string("/etc/apt/sources.list").ok()?.lines().find_map(|l| {
                            l.strip_prefix("deb ")
                                .and_then(|r| r.split_whitespace().find(|w| w.contains("://")))
                                .map(String::from)
                        })
                    })
                    .expect("a Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list");
                let tmp = cache.join("bookworm-gcc.tmp");
                let _ = std::fs::remove_dir_all(&tmp);
                let out = std::process::Command::new("debootstrap")
                    .args(["--variant=minbase", "--include=gcc,libc6-dev", "bookworm"])
                    .arg(&tmp)
                    .arg(&mirror)
                    .output()
                    .expect("debootstrap is needed for this test: scripts/deps installs it");
                assert!(out.status.success(), "debootstrap failed:\n{}", String::from_utf8_lossy(&out.stdout));
                let _ = std::fs::remove_dir_all(tmp.join("var/cache/apt/archives"));
                std::fs::rename(&tmp, &root).unwrap();
            }
        })
        .map_err(|(_, e)| e)
        .unwrap();
    root
}

/// The issue's multi-stage build: a C program compiled by Debian's gcc in a debootstrap stage,
/// copied alone into a busybox stage that runs it.
#[test]
fn a_multi_stage_build_compiles_c_with_debians_gcc_and_ships_it_on_busybox() {
    let rootfs = debian_gcc_rootfs();
    let w = World::new();
    let base = busybox(&w);
    // the Debian root as an image: a tarball through `import`
    let tarball = w.dir.path().join("bookworm-gcc.tar");
    let st =
        std::process::Command::new("tar").arg("-C").arg(&rootfs).arg("-cf").arg(&tarball).arg(".").status().unwrap();
    assert!(st.success());
    w.ok(&["import", tarball.to_str().unwrap(), "debian-gcc:bookworm"]);
    let text = format!(
        "FROM debian-gcc:bookworm AS compile\n\
         COPY hello.c /src/\n\
         RUN gcc -static -O2 -o /src/hello /src/hello.c && /src/hello > /src/ran.txt\n\
         FROM {base}\n\
         COPY --from=compile /src/hello /usr/local/bin/hello\n\
         CMD [\"hello\"]\n"
    );
    let program = "#include <stdio.h>\nint main(void) { printf(\"hello from gcc, %d\\n\", 6 * 7); return 0; }\n";
    let ctx = context(&w, "ctx", &text, &[("hello.c", program)]);
    let out = w.ok(&["build", "-t", "hello-c", ctx.to_str().unwrap()]);
    assert!(out.contains("[1/2] STEP 3/3: RUN gcc") && out.contains("[2/2] STEP 2/3: COPY --from=compile"), "{out}");
    assert_eq!(w.ok(&["run", "--rm", "hello-c"]), "hello from gcc, 42\n");
    // the shipped image is busybox and the program: no compiler in it
    let size: u64 = w.ok(&["image", "inspect", "--format", "{{.Size}}", "hello-c"]).trim().parse().unwrap();
    assert!(size < 20_000_000, "the result holds busybox and one static program, not gcc: {size} bytes");
    assert!(w.berth(&["run", "--rm", "hello-c", "sh", "-c", "command -v gcc"]).status.code() != Some(0));
    nothing_left(&w);
}

/// An image's VOLUME is an anonymous volume of each container (gone with `run --rm`), and
/// `--volumes-from` mounts another container's volumes, read-only with `:ro`.
#[test]
fn image_volumes_are_anonymous_volumes_and_volumes_from_shares_them() {
    let w = World::new();
    let base = busybox(&w);
    let ctx =
        context(&w, "ctx", &format!("FROM {base}\nRUN mkdir /vol && echo from-image > /vol/seed\nVOLUME /vol\n"), &[]);
    w.ok(&["build", "-t", "withvol", ctx.to_str().unwrap()]);
    // the volume is filled from the image, and writable
    assert_eq!(
        w.ok(&[
            "run",
            "--rm",
            "withvol",
            "sh",
            "-c",
            "cat /vol/seed && touch /vol/new && grep -c ' /vol ' /proc/self/mountinfo"
        ]),
        "from-image\n1\n"
    );
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "", "run --rm removed its anonymous volume");
    w.ok(&["run", "-d", "--name", "holder", "withvol", "sh", "-c", "echo shared > /vol/f; exec sleep 100"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = w.berth(&["run", "--rm", "--volumes-from", "holder", &base, "cat", "/vol/f"]);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), "shared\n");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let e = w.fails(&["run", "--rm", "--volumes-from", "holder:ro", &base, "touch", "/vol/g"]);
    assert!(e.contains("Read-only file system"), "{e}");
    assert_eq!(w.ok(&["volume", "ls", "-q"]).lines().count(), 1, "the holder's volume is still there, once");
    let e = w.fails(&["run", "--rm", "--volumes-from", "nobody", &base, "true"]);
    assert!(e.contains("--volumes-from nobody") && e.contains("no container named nobody"), "{e}");
}

/// `--timestamp`: two builds without the cache, at different times, make the same image.
#[test]
fn a_build_with_a_timestamp_is_reproducible() {
    let w = World::new();
    let base = busybox(&w);
    let text = format!("FROM {base}\nCOPY f /f\nRUN echo made > /made && mkdir -p /d/e\nENV X=1\n");
    let ctx = context(&w, "ctx", &text, &[("f", "file\n")]);
    let build = || {
        let out = w.ok(&["build", "--no-cache", "--timestamp", "1700000000", "-q", ctx.to_str().unwrap()]);
        out.trim().to_string()
    };
    let first = build();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(ctx.join("f"), "file\n").unwrap(); // a new mtime, the same bytes
    let second = build();
    assert_eq!(first, second, "the same image from both builds");
    let created = w.ok(&["image", "inspect", "--format", "{{.Created}}", &first]);
    assert!(created.starts_with("2023-11-14") && created.contains("22:13:20"), "{created}");
    assert_eq!(
        w.ok(&["run", "--rm", &first, "stat", "-c", "%Y", "/made", "/f", "/d/e"]),
        "1700000000\n1700000000\n1700000000\n"
    );
}

/// `--compression-format zstd`: the build's own layers are zstd (the base image's stay as
/// they are), and the image runs.
#[test]
fn a_build_can_write_zstd_layers() {
    let w = World::new();
    let base = busybox(&w);
    let ctx = context(&w, "ctx", &format!("FROM {base}\nRUN echo zstd > /z\nCMD [\"cat\", \"/z\"]\n"), &[]);
    w.ok(&["build", "--compression-format", "zstd", "-t", "zimg", ctx.to_str().unwrap()]);
    assert_eq!(w.ok(&["run", "--rm", "zimg"]), "zstd\n");
    let dir = w.dir.path().join("pushed");
    w.ok(&["push", "zimg", &format!("dir:{}", dir.display())]);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let media: Vec<&str> =
        manifest["layers"].as_array().unwrap().iter().map(|l| l["mediaType"].as_str().unwrap()).collect();
    assert_eq!(media.last(), Some(&"application/vnd.oci.image.layer.v1.tar+zstd"), "{manifest}");
    let e = w.fails(&["build", "--compression-format", "lz4", ctx.to_str().unwrap()]);
    assert!(e.contains("\"lz4\"") && e.contains("gzip or zstd"), "{e}");
}

/// A RUN that deletes files and replaces a directory: the layer's whiteouts and opaque
/// directory hide what lies below, in the built image and in a container of it.
#[test]
fn deletions_and_replaced_directories_hide_what_lies_below() {
    let w = World::new();
    let base = busybox(&w);
    let text = format!(
        "FROM {base}\nRUN mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b && echo keep > /keep\n\
         RUN rm -rf /data && mkdir /data && echo c > /data/c && rm /keep\n"
    );
    let ctx = context(&w, "ctx", &text, &[]);
    w.ok(&["build", "-t", "hidden", ctx.to_str().unwrap()]);
    assert_eq!(
        w.ok(&["run", "--rm", "hidden", "sh", "-c", "find /data | sort; [ -e /keep ] || echo no keep"]),
        "/data\n/data/c\nno keep\n"
    );
    let diff = w.ok(&["image", "diff", "hidden"]);
    assert!(diff.contains("D /keep") && diff.contains("A /data/c"), "{diff}");
    // the layer directories carry none of overlay's own bookkeeping but the opaque mark
    for dir in w.layer_dirs() {
        let out = std::process::Command::new("getfattr")
            .args(["-R", "-d", "-m", "trusted.overlay", "--absolute-names"])
            .arg(w.layer_dir(&dir))
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!text.contains("trusted.overlay.origin") && !text.contains("trusted.overlay.impure"), "{text}");
        }
    }
}
