//! `berth` as a Podman user types it: Podman's exit codes and messages for usage errors, Go
//! templates, info and version, exists, --all and --ignore, log drivers and the run flags
//! Podman's own system tests use.

use crate::World;

fn code(w: &World, args: &[&str]) -> (i32, String, String) {
    let out = w.berth(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_are_podmans_and_create_nothing() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    let (status, _, err) = code(&w, &["run", "--no-such-flag=1", &img, "true"]);
    assert_eq!(status, 125, "{err}");
    assert!(err.starts_with("Error: unknown flag: --no-such-flag"), "{err}");
    let (status, _, err) = code(&w, &["ps", "--bogus"]);
    assert_eq!((status, err.trim()), (125, "Error: unknown flag: --bogus\nSee 'berth ps --help'"));
    let (status, _, err) = code(&w, &["run", "-h"]);
    assert_eq!((status, err.trim()), (125, "Error: flag needs an argument: 'h' in -h\nSee 'berth run --help'"));
    let (status, _, err) = code(&w, &["ps", "stray"]);
    assert_eq!((status, err.trim()), (125, "Error: `berth ps` takes no arguments (\"stray\" given)"));
    let (status, _, err) = code(&w, &["rename", "a", "b", "c"]);
    assert_eq!(status, 125);
    assert!(err.starts_with("Error: too many arguments: `berth rename` accepts at most 2"), "{err}");
    let (status, _, err) = code(&w, &["rename"]);
    assert_eq!(status, 125);
    assert!(err.starts_with("Error: `berth rename` requires CONTAINER NAME"), "{err}");
    let (status, _, err) = code(&w, &["nosuchverb"]);
    assert_eq!(status, 125);
    assert!(err.starts_with("Error: unrecognized command `berth nosuchverb`"), "{err}");
    let (status, _, err) = code(&w, &["image"]);
    assert_eq!(status, 125);
    assert!(err.contains("Error: missing command 'berth image COMMAND'"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "a refused command line creates no container");

    // An option given twice keeps the last value, as Podman's parser does.
    w.ok(&["create", "--name", "first", "--name", "second", &img, "true"]);
    assert_eq!(w.ok(&["ps", "-a", "--format", "{{.ID}}", "--format", "{{.Names}}"]), "second\n");
    let (status, _, err) = code(&w, &["--log-level=telepathic", "info"]);
    assert_eq!(status, 1);
    assert!(err.starts_with("Log Level \"telepathic\" is not supported, choose from: trace, debug"), "{err}");
    let version = w.ok(&["--version"]);
    assert!(version.starts_with("berth version "), "{version}");
}

#[test]
fn help_is_podmans_shape_and_names_the_command_as_invoked() {
    let w = World::new();
    let help = w.ok(&["help"]);
    let lines: Vec<&str> = help.lines().collect();
    let at = lines.iter().position(|l| *l == "Usage:").expect("a Usage: heading");
    assert_eq!(lines[at + 1], "  berth [options] [command]");
    let commands = help.split("Available Commands:\n").nth(1).expect("the commands").split("\n\n").next().unwrap();
    assert!(commands.lines().any(|l| l.split_whitespace().next() == Some("ps")), "{help}");
    assert!(help.contains("\nOptions:\n"), "{help}");
    for (args, synopsis) in [
        (&["rename", "--help"][..], "  berth rename [options] CONTAINER NAME"),
        (&["help", "container"][..], "  berth container [command]"),
        (&["container", "list", "--help"][..], "  berth container list [options]"),
    ] {
        let out = w.ok(args);
        let usage = out.lines().skip_while(|l| *l != "Usage:").nth(1);
        assert_eq!(usage, Some(synopsis), "{args:?}: {out}");
    }
    // linked under another name, berth says that name
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("podman");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_berth"), &link).unwrap();
    let out = std::process::Command::new(&link).args(["ps", "--bogus"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "Error: unknown flag: --bogus\nSee 'podman ps --help'");
    let out = std::process::Command::new(&link).args(["container"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("Error: missing command 'podman container COMMAND'"));
}

#[test]
fn log_levels_print_logrus_lines_and_events_backends() {
    let w = World::new();
    let stderr = |args: &[&str]| String::from_utf8_lossy(&w.berth(args).stderr).into_owned();
    let trace = stderr(&["--log-level=trace", "info"]);
    for level in [" level=trace ", " level=debug ", " level=info "] {
        assert!(trace.contains(level), "{level} in {trace}");
    }
    assert!(trace.contains(&format!("msg=\"Using graph root {}\"", w.root().display())), "{trace}");
    let debug = stderr(&["--debug", "info"]);
    assert!(debug.contains(" level=debug ") && !debug.contains(" level=trace "), "{debug}");
    let info = stderr(&["--log-level=info", "info"]);
    assert!(info.contains(" level=info ") && !info.contains(" level=debug "), "{info}");
    assert!(!stderr(&["--log-level=warn", "info"]).contains(" level="));
    let (status, _, err) = code(&w, &["--debug", "--log-level=panic", "info"]);
    assert_eq!((status, err.trim()), (1, "Setting --log-level and --debug is not allowed"));

    // none: nothing recorded, and nothing to read
    w.ok(&["--events-backend", "none", "volume", "create", "quiet"]);
    w.ok(&["volume", "create", "loud"]);
    let events = w.ok(&["events", "--stream=false", "--format", "{{.Name}}"]);
    assert_eq!(events.trim(), "loud", "{events}");
    let (status, _, err) = code(&w, &["--events-backend", "none", "events", "--stream=false"]);
    assert_eq!((status, err.trim()), (125, "Error: cannot read events with the \"none\" backend"));
    let (status, _, err) = code(&w, &["--events-backend", "journald", "events"]);
    assert_eq!(status, 125);
    assert!(err.contains("use --events-backend file"), "{err}");
}

#[test]
fn go_templates_info_version_and_exists() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["volume", "create", "data"]);
    w.ok(&["create", "--name", "web", "-l", "tier=front", "-v", "data:/data", &img, "sleep", "1"]);

    let out = w.ok(&[
        "inspect",
        "--format",
        "{{.Name}} {{.State.Status}} {{(index .Mounts 0).Type}} {{.Config.Labels.tier}} {{.ID | len}}",
        "web",
    ]);
    assert_eq!(out.trim(), "web created volume front 64");
    let out = w.ok(&["ps", "-a", "--format", "{{if eq .State \"created\"}}{{.Names}} is {{.State | upper}}{{end}}"]);
    assert_eq!(out, "web is CREATED\n");
    let out = w.ok(&["ps", "-a", "--format", "table {{.Names}}\\t{{.Image}}"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("NAMES ") && lines[0].ends_with("IMAGE"), "{out}");
    assert!(lines[1].starts_with("web ") && lines[1].ends_with(&img), "{out}");
    assert_eq!(w.ok(&["ps", "-a", "--noheading", "--format", "table {{.Names}}"]), "web\n");
    let out = w.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{json .Names}}"]);
    assert_eq!(out.trim(), format!("{img} [\"{img}\"]"));
    let (status, _, err) = code(&w, &["inspect", "--format", "{{.NoSuchField}}", "web"]);
    assert_eq!(status, 125);
    assert!(err.contains("can't evaluate field NoSuchField"), "{err}");

    let root = w.root().display().to_string();
    assert_eq!(
        w.ok(&["info", "--format", "{{.Store.GraphRoot}} {{.Store.ContainerStore.Number}} {{.Host.OS}}"]).trim(),
        format!("{root} 1 linux")
    );
    let info: serde_json::Value = serde_json::from_str(&w.ok(&["info", "--format", "json"])).unwrap();
    assert_eq!(info["store"]["graphRoot"], root.as_str());
    assert_eq!(info["store"]["imageStore"]["number"], 1);
    assert!(w.ok(&["info"]).contains("\n  graphDriverName: overlay\n"), "YAML by default");
    assert_eq!(w.ok(&["version", "--format", "{{.Client.Version}}"]).trim(), env!("CARGO_PKG_VERSION"));

    for (kind, name) in [("container", "web"), ("image", img.as_str()), ("volume", "data"), ("network", "berth")] {
        assert_eq!(code(&w, &[kind, "exists", name]).0, 0, "{kind} {name} exists");
        assert_eq!(code(&w, &[kind, "exists", "nothing-by-this-name"]).0, 1, "{kind} does not");
    }
}

#[test]
fn all_ignore_and_wait_as_podman() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    assert_eq!(w.ok(&["rm", "-t", "0", "--all", "--force", "--ignore"]), "");
    assert_eq!(w.ok(&["rm", "--ignore", "nothing-here"]), "");
    let (status, _, err) = code(&w, &["stop", "nothing-here"]);
    assert_eq!(
        (status, err.trim()),
        (125, "Error: no container with name or ID \"nothing-here\" found: no such container")
    );
    assert_eq!(w.ok(&["stop", "--ignore", "nothing-here"]), "");

    // A container that never ran has nothing to wait for.
    w.ok(&["create", "--name", "never", &img, "true"]);
    assert_eq!(w.ok(&["wait", "never"]).trim(), "0");
    w.ok(&["run", "-d", "--name", "up", &img, "sleep", "60"]);
    assert_eq!(w.ok(&["wait", "--condition", "running", "up"]).trim(), "-1", "running, no exit code yet");
    w.ok(&["rm", "-f", "-t", "0", "up"]);

    let a = w.ok(&["run", "-d", "--name", "a", &img, "sleep", "60"]).trim().to_string();
    let b = w.ok(&["run", "-d", "--name", "b", &img, "sleep", "60"]).trim().to_string();
    let stopped = w.ok(&["stop", "-a", "-t", "0"]);
    let mut ids: Vec<&str> = stopped.lines().collect();
    ids.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(ids, want, "stop --all prints the ids");
    assert_eq!(w.ok(&["ps", "-q"]), "");

    // start --all --filter: only the containers that match.
    assert_eq!(code(&w, &["run", "--name", "fails", &img, "false"]).0, 1);
    assert_eq!(w.ok(&["start", "--all", "--filter", "name=never"]).trim().len(), 64);
    let (status, _, err) = code(&w, &["start", "--all", "a"]);
    assert_eq!(status, 125);
    assert!(err.contains("either start all containers or the container(s) provided in the arguments"), "{err}");
    w.ok(&["start", "a"]);
    assert_eq!(w.ok(&["kill", "--all"]).trim(), w.ok(&["inspect", "--format", "{{.Id}}", "a"]).trim());
    assert_eq!(w.ok(&["wait", "a"]).trim(), "137");

    // A --rm container's stop succeeds, though the stop removes it.
    w.ok(&["run", "--rm", "-d", "--name", "gone", &img, "sleep", "60"]);
    assert_eq!(w.ok(&["stop", "-t", "0", "gone"]), "gone\n");
    assert_eq!(code(&w, &["container", "exists", "gone"]).0, 1);
    let names = w.ok(&["ps", "-a", "--sort", "names", "--format", "{{.Names}}"]);
    assert_eq!(names, "a\nb\nfails\nnever\n");
}

#[test]
fn log_drivers_and_run_flags() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");

    let (status, _, err) = code(&w, &["run", "--pull", "never", &img, "true"]);
    assert_eq!((status, err.trim()), (125, format!("Error: {img}: image not known").as_str()));
    assert_eq!(w.ok(&["run", "--rm", "--pull", "always", &img, "echo", "pulled"]), "pulled\n");

    assert_eq!(w.ok(&["run", "--name", "quiet", "--log-driver", "none", &img, "echo", "unseen"]), "unseen\n");
    let (status, _, err) = code(&w, &["logs", "quiet"]);
    assert_eq!(status, 125);
    assert!(err.contains("this container is using the 'none' log driver, cannot read logs"), "{err}");
    assert_eq!(
        w.ok(&["inspect", "--format", "{{.HostConfig.LogConfig.Type}}:{{.HostConfig.LogConfig.Path}}", "quiet"]).trim(),
        "none:"
    );

    w.ok(&["run", "--name", "sized", "--log-driver", "json-file", "--log-opt", "max-size=4.25m", &img, "echo", "kept"]);
    let out = w.ok(&["inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Size}}", "sized"]);
    assert_eq!(out.trim(), "json-file 4.25MB");
    assert_eq!(w.ok(&["logs", "sized"]), "kept\n");
    let (status, _, err) = code(&w, &["run", "--log-driver", "journald", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("--log-driver journald"), "{err}");
    let (status, _, err) = code(&w, &["run", "--log-opt", "path=/tmp/x", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("--log-opt \"path=/tmp/x\""), "{err}");

    // --cidfile gets the id; a second run with the same file is refused before it creates.
    let cidfile = w.root().with_file_name("cid");
    w.ok(&["create", "--cidfile", cidfile.to_str().unwrap(), "--name", "c1", &img, "true"]);
    let cid = std::fs::read_to_string(&cidfile).unwrap();
    assert_eq!(w.ok(&["inspect", "--format", "{{.Id}}", "c1"]).trim(), cid);
    let before = w.ok(&["ps", "-a", "-q"]);
    assert!(w.fails(&["create", "--cidfile", cidfile.to_str().unwrap(), &img, "true"]).contains("exists"));
    assert_eq!(w.ok(&["ps", "-a", "-q"]), before, "nothing created");

    // --replace: the old container of that name goes.
    w.ok(&["create", "--replace", "--name", "c1", "-l", "new=yes", &img, "true"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.Config.Labels.new}}", "c1"]).trim(), "yes");
    assert!(!w.ok(&["ps", "-a", "--no-trunc", "-q"]).contains(&cid), "the replaced container is gone");

    let labels = w.root().with_file_name("labels");
    std::fs::write(&labels, "# a comment\nfrom=file\n\nboth=file\n").unwrap();
    w.ok(&["create", "--name", "labelled", "--label-file", labels.to_str().unwrap(), "-l", "both=flag", &img]);
    assert_eq!(
        w.ok(&["inspect", "--format", "{{.Config.Labels.from}} {{.Config.Labels.both}}", "labelled"]).trim(),
        "file flag"
    );

    // --rmi: the image goes once the container has.
    assert_eq!(w.ok(&["run", "--rm", "--rmi", &img, "echo", "last"]), "last\n");
    assert_eq!(code(&w, &["image", "exists", &img]).0, 0, "still used by other containers");
    w.ok(&["rm", "-a", "-f"]);
    assert_eq!(w.ok(&["run", "--rm", "--rmi", &img, "echo", "last"]), "last\n");
    assert_eq!(code(&w, &["image", "exists", &img]).0, 1, "removed with its last container");
}

#[test]
fn network_prune_keeps_the_default_and_networks_in_use() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["network", "create", "unused"]);
    w.ok(&["network", "create", "used"]);
    w.ok(&["create", "--network", "used", &img, "true"]);
    assert_eq!(w.ok(&["network", "prune", "--force"]), "unused\n");
    let mut left: Vec<String> = w.ok(&["network", "ls", "--format", "{{.Name}}"]).lines().map(String::from).collect();
    left.sort();
    assert_eq!(left, ["berth", "used"]);
}

#[test]
fn events_are_filtered_and_formatted_as_podmans() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let since = chrono::Utc::now().to_rfc3339();
    w.ok(&["run", "--rm", "--name", "labelled", "-l", "team=blue", &img, "true"]);
    assert_eq!(w.berth(&["run", "--rm", "--name", "other", &img, "false"]).status.code(), Some(1));
    let id_of = |name: &str| {
        let out = w.ok(&[
            "events",
            "--stream=false",
            "--filter",
            &format!("container={name}"),
            "--filter",
            "event=create",
            "--format",
            "{{.ID}}",
        ]);
        out.trim().to_string()
    };
    let id = id_of("labelled");
    assert_eq!(id.len(), 64, "{id}");

    let out = w.ok(&[
        "events",
        "--stream=false",
        "--filter",
        "type=container",
        "--filter",
        "label=team=blue",
        "--filter",
        "event=start",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains(&format!(" container start {id} (image={img}, name=labelled, team=blue)")), "{out}");

    // event=died carries the exit code; a filter key given twice matches either value
    let out = w.ok(&[
        "events",
        "--stream=false",
        "--since",
        &since,
        "--filter",
        "event=died",
        "--filter",
        "container=labelled",
        "--filter",
        "container=other",
        "--no-trunc=false",
        "--format",
        "{{.ID}}--{{.Image}}--{{.ContainerExitCode}}",
    ]);
    let other = id_of("other");
    assert_eq!(out, format!("{id}--{img}--0\n{other}--{img}--1\n"), "a template sees the whole id");
    let line = w.ok(&[
        "events",
        "--stream=false",
        "--filter",
        "status=died",
        "--filter",
        "container=labelled",
        "--no-trunc=false",
    ]);
    assert!(line.contains(&format!(" container died {} (", &id[..12])), "{line}");
    assert_eq!(
        w.ok(&["events", "--stream=false", "--until", &since, "--filter", "container=labelled"]),
        "",
        "nothing before --until"
    );
    assert!(w.fails(&["events", "--filter", "colour=red"]).contains("invalid filter \"colour\""));
}

#[test]
fn a_script_without_a_shebang_runs_with_the_shell() {
    let w = World::new();
    let mut root = berth_testkit::busybox_rootfs().unwrap();
    root.file("usr/bin/hello", "echo hello from a script \"$1\"\n", 0o755);
    let spec = berth_testkit::ImageSpec::new().layer(root.build(), berth_testkit::Compression::Gzip);
    w.push("script:latest", &spec);
    let img = w.image_ref("script:latest");
    assert_eq!(w.ok(&["run", "--rm", &img, "hello", "there"]), "hello from a script there\n");
}

#[test]
fn mount_flags_and_image_data_in_inspect() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let host = w.root().with_file_name("shared");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("note"), "from the host\n").unwrap();
    let bind = format!("type=bind,src={},dst=/shared,ro", host.display());
    let out = w.ok(&[
        "run", "--rm", "--mount", &bind, "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", "--mount",
        "type=volume,src=kept,dst=/kept", &img, "sh", "-c",
        "cat /shared/note; grep -c ' /scratch tmpfs ' /proc/mounts; touch /shared/x 2>/dev/null || echo read-only; echo v > /kept/v",
    ]);
    assert_eq!(out, "from the host\n1\nread-only\n");
    assert_eq!(w.ok(&["run", "--rm", "-v", "kept:/k", &img, "cat", "/k/v"]), "v\n", "the volume was made and kept");
    let err = w.fails(&["run", "--mount", "type=image,src=x,dst=/x", &img, "true"]);
    assert!(err.contains("x: image not known"), "an image mount of an image that is not there: {err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");

    w.ok(&["create", "--name", "c", "--mount", &bind, &img]);
    let mounts = w.ok(&["inspect", "--format", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}", "c"]);
    assert_eq!(mounts.trim(), "bind /shared false");
    let image = w.ok(&["image", "inspect", "--format", "{{.ID}} {{.Digest}}", &img]);
    let container = w.ok(&["inspect", "--format", "{{.Image}} {{.ImageDigest}}", "c"]);
    assert_eq!(image, container);
}

#[test]
fn cp_with_relative_paths_tar_streams_and_between_containers() {
    let w = World::new();
    let mut root = berth_testkit::busybox_rootfs().unwrap();
    root.dir("srv", 0o755).file("srv/greeting", "hello\n", 0o644);
    let spec = berth_testkit::ImageSpec::new()
        .layer(root.build(), berth_testkit::Compression::Gzip)
        .with_config(serde_json::json!({"WorkingDir": "/srv", "Cmd": ["sh"]}));
    w.push("cpimg:latest", &spec);
    let img = w.image_ref("cpimg:latest");
    w.ok(&["create", "--name", "a", &img]);
    w.ok(&["create", "--name", "b", &img]);

    // relative to the container's working directory
    let host = w.root().with_file_name("out");
    std::fs::create_dir_all(&host).unwrap();
    w.ok(&["cp", "a:greeting", host.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(host.join("greeting")).unwrap(), "hello\n");

    // to stdout as a tar, and from stdin as one
    let out = w.berth(&["cp", "a:/srv/greeting", "-"]);
    assert!(out.status.success(), "{out:?}");
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let names: Vec<String> =
        archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
    assert_eq!(names, ["greeting"]);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(6);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "fromstdin", &b"piped\n"[..]).unwrap();
    let bytes = tar.into_inner().unwrap();
    let mut child = w.cmd().args(["cp", "-", "a:/tmp"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bytes).unwrap();
    assert!(child.wait().unwrap().success());

    // from one container into another
    w.ok(&["cp", "a:/tmp/fromstdin", "b:/srv"]);
    w.ok(&["cp", "b:/srv/fromstdin", host.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(host.join("fromstdin")).unwrap(), "piped\n");
    let err = w.fails(&["cp", "a:/no/such", "b:/srv"]);
    assert!(err.contains("/no/such"), "{err}");
}

#[test]
fn missing_things_and_force_and_volume_filters() {
    let w = World::new();
    for (args, want) in [
        (&["container", "rm", "bogus"][..], "Error: no container with name or ID \"bogus\" found: no such container"),
        (&["image", "rm", "bogus"][..], "Error: bogus: image not known"),
        (&["volume", "rm", "bogus"][..], "Error: no volume with name \"bogus\" found: no such volume"),
    ] {
        let (status, _, err) = code(&w, args);
        assert_eq!(status, 1, "{args:?}: {err}");
        assert!(err.starts_with(want), "{args:?}: {err}");
        let mut forced = args.to_vec();
        forced.insert(2, "--force");
        assert_eq!(code(&w, &forced), (0, String::new(), String::new()), "{forced:?}");
    }

    for name in ["cache_1a", "cache_1b", "cache_2", "other"] {
        w.ok(&["volume", "create", "-l", &format!("n={name}"), name]);
    }
    assert_eq!(w.ok(&["volume", "ls", "--filter", "name=cache_1.+", "--format", "{{.Name}}"]), "cache_1a\ncache_1b\n");
    assert_eq!(
        w.ok(&["volume", "ls", "--filter", "label=n=other", "--noheading"]).split_whitespace().last(),
        Some("other")
    );
    assert!(w.fails(&["volume", "ls", "--filter", "name=("]).contains("not a regular expression"));
    let mountpoint = w.ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", "other"]);
    assert_eq!(mountpoint.trim(), w.root().join("volumes/other/_data").display().to_string());
    assert_eq!(w.ok(&["volume", "rm", "-a"]).lines().count(), 4);
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn kill_takes_podmans_signals_real_time_ones_too() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    for (signal, says) in [
        ("0", "invalid signal: 0"),
        ("SIGBADSIG", "invalid signal: SIGBADSIG"),
        ("-SIG", "invalid signal: SIG"),
        ("65", "valid signals are 1 through 64"),
    ] {
        let (status, _, err) = code(&w, &["kill", "-s", signal, "nosuchcontainer"]);
        assert_eq!((status, err.trim()), (125, format!("Error: {says}").as_str()), "kill -s {signal}");
    }
    w.ok(&[
        "run",
        "-d",
        "--name",
        "trap",
        &img,
        "sh",
        "-c",
        "trap 'echo got 64' 64; trap 'echo got 10' 10; echo READY; while ! test -e /stop; do sleep 0.05; done",
    ]);
    let ready = |want: &str| {
        for _ in 0..200 {
            if w.ok(&["logs", "trap"]).contains(want) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("no {want:?} in: {}", w.ok(&["logs", "trap"]));
    };
    ready("READY");
    w.ok(&["kill", "-s", "64", "trap"]);
    ready("got 64");
    w.ok(&["kill", "-s", "USR1", "trap"]);
    ready("got 10");
    w.ok(&["rm", "-f", "-t", "0", "trap"]);
}

#[test]
fn system_df_and_prune() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["volume", "create", "unused"]);
    w.ok(&["run", "-d", "--name", "up", "-v", "used:/data", &img, "sleep", "60"]);
    w.ok(&["run", "--name", "done", &img, "sh", "-c", "head -c 100000 /dev/zero > /big"]);
    w.ok(&["network", "create", "spare"]);

    let df = w.ok(&["system", "df", "--format", "{{.Type}}:{{.Total}}:{{.Active}}"]);
    assert_eq!(df, "Images:1:1\nContainers:2:1\nLocal Volumes:2:1\n");
    let table = w.ok(&["system", "df"]);
    assert!(table.starts_with("TYPE "), "{table}");
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["system", "df", "--format", "json"])).unwrap();
    assert!(json[1]["RawReclaimable"].as_u64().unwrap() >= 100_000, "the exited container's 100 kB: {json}");

    let done = w.ok(&["inspect", "--format", "{{.Id}}", "done"]);
    let out = w.ok(&["system", "prune", "-f", "--volumes"]);
    assert!(out.contains(&format!("Deleted Containers\n{done}")), "{out}");
    assert!(out.contains("Deleted Networks\nspare\n"), "{out}");
    assert!(out.contains("Deleted Volumes\nunused\n"), "{out}");
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(w.ok(&["ps", "-a", "--format", "{{.Names}}"]), "up\n", "the running container stays");
    assert_eq!(w.ok(&["volume", "ls", "-q"]), "used\n");
    assert_eq!(code(&w, &["image", "exists", &img]).0, 0, "an image in use stays, even with --all");
    w.ok(&["rm", "-f", "-t", "0", "up"]);
    let out = w.ok(&["system", "prune", "-f", "-a"]);
    assert!(out.contains("Deleted Images\n"), "{out}");
    assert_eq!(code(&w, &["image", "exists", &img]).0, 1);
}

#[test]
fn stop_rm_pause_start_and_ps_as_podman() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    // A stop signal that does not work: SIGKILL after -t, with Podman's warning.
    w.ok(&["run", "-d", "--name", "stopme", &img, "sleep", "100"]);
    let (status, out, err) = code(&w, &["stop", "-t", "1", "stopme"]);
    assert_eq!((status, out.as_str()), (0, "stopme\n"));
    assert!(
        err.contains("StopSignal SIGTERM failed to stop container stopme in 1 seconds, resorting to SIGKILL"),
        "{err}"
    );
    // --stop-timeout is the stop's default; --timeout is -t's other name.
    w.ok(&["run", "-d", "--name", "quick", "--stop-timeout", "0", &img, "sleep", "100"]);
    let began = std::time::Instant::now();
    let (_, _, err) = code(&w, &["stop", "quick"]);
    assert!(began.elapsed() < std::time::Duration::from_secs(5), "--stop-timeout 0 kills at once");
    assert!(!err.contains("StopSignal"), "no warning without a wait: {err}");
    w.ok(&["start", "quick"]);
    assert_eq!(w.ok(&["stop", "--timeout", "0", "quick"]), "quick\n");

    // rm of a running container: status 2, as Podman.
    let id = w.ok(&["run", "-d", &img, "sleep", "100"]).trim().to_string();
    let (status, _, err) = code(&w, &["rm", &id]);
    assert_eq!(status, 2);
    assert!(err.contains(&format!("cannot remove container {id} as it is running")), "{err}");

    // pause --all and unpause --all: the ids of what they touched.
    w.ok(&["create", "--name", "notrunning", &img]);
    assert_eq!(w.ok(&["pause", "--all"]).trim(), id);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.Status}}", &id]).trim(), "paused");
    assert_eq!(w.ok(&["unpause", "--all"]).trim(), id);
    assert!(w.ok(&["ps", "--format", "{{.Status}}"]).starts_with("Up "));
    w.ok(&["rm", "-f", "-t", "0", &id]);

    // A command that is not there: 125 for start, 127 for run.
    w.ok(&["create", "--name", "nocmd", &img, "/no/such/command"]);
    let (status, _, err) = code(&w, &["start", "nocmd"]);
    assert_eq!(status, 125, "{err}");
    assert_eq!(code(&w, &["run", &img, "/no/such/command"]).0, 127);

    // status=stopped is exited; a status filter looks at every container; values of one key
    // are alternatives; --sort created is the oldest first.
    w.ok(&["rm", "-a", "-f", "-t", "0"]);
    w.ok(&["run", "-d", "--name", "runner", &img, "sleep", "100"]);
    w.ok(&["run", "--name", "stopped", &img, "true"]);
    assert_eq!(code(&w, &["run", "--name", "failed", &img, "false"]).0, 1);
    w.ok(&["create", "--name", "created", &img]);
    let names = w.ok(&["ps", "--filter", "status=stopped", "--format", "{{.Names}}", "--sort", "names"]);
    assert_eq!(names, "failed\nstopped\n");
    let names = w.ok(&["ps", "--filter", "status=exited", "--filter", "exited=1", "--format", "{{.Names}}"]);
    assert_eq!(names, "failed\n");
    let names = w.ok(&[
        "ps",
        "-a",
        "--filter",
        "status=exited",
        "--filter",
        "status=running",
        "--format",
        "{{.Names}}",
        "--sort",
        "created",
    ]);
    assert_eq!(names, "runner\nstopped\nfailed\n");
    let (status, _, err) = code(&w, &["ps", "--filter", "status=sleeping"]);
    assert_eq!(status, 125);
    assert!(err.contains("invalid status filter \"sleeping\""), "{err}");
    // inspect -l: the newest container
    assert_eq!(w.ok(&["inspect", "-l", "--format", "{{.Name}}"]).trim(), "created");
    let created = w.ok(&["inspect", "--format", "{{.Id}}", "created"]);
    assert_eq!(w.ok(&["rm", "-l"]), created);
}

#[test]
fn logs_of_several_containers_and_run_attach_and_timeout() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    // logs -f of two containers: each line after its container's short id, in time order.
    let c1 = w.ok(&["run", "-d", "--name", "c1", &img, "sh", "-c", "echo a; sleep 2; echo d"]).trim()[..12].to_string();
    let c2 = w.ok(&["run", "-d", "--name", "c2", &img, "sh", "-c", "sleep 1; echo b; sleep 0.3; echo c"]).trim()[..12]
        .to_string();
    let out = w.ok(&["logs", "-f", "c1", "c2"]);
    assert_eq!(out, format!("{c1} a\n{c2} b\n{c2} c\n{c1} d\n"));
    assert_eq!(w.ok(&["logs", "c2"]), "b\nc\n", "one container: no prefix");

    // --attach: only the streams named; with neither stdout nor stderr, the id.
    let out = w.berth(&["run", "--name", "att", "--attach", "stdin", &img, "echo", "hello"]);
    assert!(out.status.success());
    let id = w.ok(&["inspect", "--format", "{{.Id}}", "att"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), id);
    let out = w.berth(&["run", "--rm", "-a", "stderr", &img, "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(
        (String::from_utf8_lossy(&out.stdout).as_ref(), String::from_utf8_lossy(&out.stderr).as_ref()),
        ("", "err\n")
    );
    let (status, _, err) = code(&w, &["run", "-a", "stdall", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("invalid stream \"stdall\""), "{err}");

    // --timeout: killed when the time is up; no exit code of its own (-1, so 255).
    let began = std::time::Instant::now();
    let (status, _, _) = code(&w, &["run", "--name", "timed", "--timeout", "1", &img, "sleep", "60"]);
    assert_eq!(status, 255);
    assert!(began.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "timed"]).trim(), "exited -1");
}

#[test]
fn containerenv_tz_device_rules_and_runtimes() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    // /run/.containerenv: empty, but for a privileged container, which learns what it is.
    assert_eq!(w.ok(&["run", "--rm", &img, "stat", "-c", "%s", "/run/.containerenv"]), "0\n");
    assert_eq!(w.ok(&["run", "--rm", "--read-only", &img, "stat", "-c", "%s", "/run/.containerenv"]), "0\n");
    let out = w.ok(&[
        "run",
        "--rm",
        "--privileged",
        "--name",
        "priv",
        &img,
        "sh",
        "-c",
        ". /run/.containerenv; echo $engine; echo $name; echo $image; echo $rootless",
    ]);
    assert_eq!(out, format!("berth-{}\npriv\n{img}\n0\n", env!("CARGO_PKG_VERSION")));

    // --tz: the zone's file as /etc/localtime; the last one wins; an unknown zone is refused.
    let out = w.ok(&["run", "--rm", "--tz", "Iceland", "--tz", "Asia/Tokyo", &img, "date", "+%Z"]);
    assert_eq!(out, "JST\n");
    let (status, _, err) = code(&w, &["run", "--rm", "--tz", "Nowhere/Atlantis", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("unknown time zone \"Nowhere/Atlantis\""), "{err}");
    assert!(code(&w, &["run", "--rm", "--tz", "../../etc/passwd", &img, "true"]).2.contains("unknown time zone"));

    // --device-cgroup-rule: checked with Podman's words, kept in the spec.
    w.ok(&["create", "--name", "rules", "--device-cgroup-rule", "b 7:* rmw", "--device-cgroup-rule", "a 7 rmw", &img]);
    let devices = w.ok(&["inspect", "--format", "{{json .OCISpec.linux.resources.devices}}", "rules"]);
    let devices: serde_json::Value = serde_json::from_str(&devices).unwrap();
    assert_eq!(devices[0], serde_json::json!({"allow": true, "type": "b", "major": 7, "access": "rmw"}));
    assert_eq!(devices[1], serde_json::json!({"allow": true, "type": "a", "major": 7, "access": "rmw"}));
    for (rule, says) in [
        ("b 7:* rmX", "invalid device access in device-access-add: X"),
        ("b 7:2", "invalid device cgroup rule requires type, major:Minor, and access rules: \"b 7:2\""),
        ("x 7:* rmw", "invalid device type in device-access-add: x"),
        ("a a:* rmw", "strconv.ParseUint: parsing \"a\": invalid syntax"),
    ] {
        let (status, _, err) = code(&w, &["run", "--rm", "--device-cgroup-rule", rule, &img]);
        assert_eq!((status, err.trim()), (125, format!("Error: {says}").as_str()), "{rule}");
    }

    // Runtimes: flags for one are refused (berth's takes none); --runtime is a berth binary.
    let (status, _, err) = code(&w, &["--runtime-flag", "invalidflag", "run", "--rm", &img, "true"]);
    assert_eq!(status, 126);
    assert!(err.contains("invalidflag"), "{err}");
    let (status, _, err) = code(&w, &["run", "--rm", "--runtime", "/usr/bin/true", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("not a berth binary"), "{err}");
    let copy = w.dir.path().join("my-runtime");
    std::fs::copy(crate::BERTH, &copy).unwrap();
    let id = w.ok(&["run", "-d", "--runtime", copy.to_str().unwrap(), &img, "sleep", "60"]).trim().to_string();
    assert_eq!(w.ok(&["inspect", "--format", "{{.OCIRuntime}}", &id]).trim(), copy.to_str().unwrap());
    // the copy runs the container: its monitor is that binary
    let monitor = w.ok(&["inspect", "--format", "{{.State.ConmonPid}}", &id]).trim().to_string();
    assert_eq!(std::fs::read_link(format!("/proc/{monitor}/exe")).unwrap(), copy);
    w.ok(&["rm", "-f", "-t", "0", &id]);
    // --conmon-pidfile: the monitor's pid
    let pidfile = w.dir.path().join("monitor.pid");
    let id =
        w.ok(&["run", "-d", "--conmon-pidfile", pidfile.to_str().unwrap(), &img, "sleep", "60"]).trim().to_string();
    let written = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ConmonPid}}", &id]).trim(), written);
    w.ok(&["rm", "-f", "-t", "0", &id]);
}

#[test]
fn preserve_fds_passes_the_callers_fds_on() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let file = w.dir.path().join("given");
    std::fs::write(&file, "through fd 4\n").unwrap();
    // berth from a shell that opens fds 3 and 4, as a user's shell does
    let shell = |script: &str| {
        let berth = w.cmd();
        let mut sh = std::process::Command::new("sh");
        sh.env_clear();
        for (k, v) in berth.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        let out = sh.args(["-c", script, crate::BERTH, &img, file.to_str().unwrap()]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (status, out, err) =
        shell(r#""$0" run --rm -i --preserve-fds=2 "$1" sh -c 'cat <&4' 3</dev/null 4<"$2" </dev/null"#);
    assert_eq!((status, out.as_str()), (Some(0), "through fd 4\n"), "{err}");
    // without --preserve-fds the container gets none of them
    let (status, _, _) = shell(r#""$0" run --rm "$1" sh -c 'cat <&4' 3</dev/null 4<"$2""#);
    assert_ne!(status, Some(0));
    // an fd that was not given is refused before anything is made
    let (status, _, err) = shell(r#""$0" run --rm --preserve-fds=3 "$1" true 3</dev/null 4<"$2""#);
    assert_eq!(status, Some(125));
    assert!(err.contains("file descriptor 5 is not available"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn network_of_another_container_and_rm_depend() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);

    // --network container:NAME: the same network namespace (and hosts file) as that container.
    let dep = w.ok(&["run", "-d", "--name", "dep", &img, "sleep", "100"]).trim().to_string();
    let theirs = w.ok(&["exec", "dep", "readlink", "/proc/self/ns/net"]);
    let mine = w.ok(&["run", "--rm", "--net=container:dep", &img, "readlink", "/proc/self/ns/net"]);
    assert_eq!(mine, theirs);
    assert_eq!(
        w.ok(&["run", "--rm", "--network", "container:dep", &img, "cat", "/etc/hosts"]),
        w.ok(&["exec", "dep", "cat", "/etc/hosts"])
    );
    let child =
        w.ok(&["create", "--name", "child", "--net", &format!("container:{}", &dep[..12]), &img, "sleep", "100"]);
    let child = child.trim();
    assert_eq!(
        w.ok(&["inspect", "--format", "{{.HostConfig.NetworkMode}}", "child"]).trim(),
        format!("container:{dep}")
    );
    // starting it starts the container whose network it uses
    w.ok(&["stop", "-t", "0", "dep"]);
    w.ok(&["start", "child"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.Status}}", "dep"]).trim(), "running");
    assert_eq!(code(&w, &["run", "--rm", "--net=container:nothing", &img, "true"]).0, 125);

    // rm: not while another uses its network; --depend removes that one first.
    w.ok(&["stop", "-t", "0", "child", "dep"]);
    let (status, _, err) = code(&w, &["rm", &dep]);
    assert_eq!(status, 125);
    assert!(
        err.contains(&format!("container {dep} has dependent containers which must be removed before it: {child}")),
        "{err}"
    );
    assert_eq!(w.ok(&["rm", "--depend", &dep]), format!("{child}\n{dep}\n"));
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");

    // rm --all takes dependents first
    let dep = w.ok(&["create", &img]).trim().to_string();
    w.ok(&["create", "--net", &format!("container:{dep}"), &img]);
    assert_eq!(w.ok(&["rm", "--all"]).lines().count(), 2);
}

#[test]
fn a_workdir_given_must_exist() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    let (status, _, err) = code(&w, &["run", "--rm", "--workdir", "/i/do/not/exist", &img, "pwd"]);
    assert_eq!(status, 126);
    assert!(err.contains("workdir \"/i/do/not/exist\" does not exist on container"), "{err}");
    // a mount there, or beneath it, makes it
    let dir = w.dir.path().join("vol");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("content"), "here\n").unwrap();
    let vol = format!("{}:/NotOnTheImage", dir.display());
    assert_eq!(w.ok(&["run", "--rm", "--workdir", "/NotOnTheImage", "-v", &vol, &img, "cat", "content"]), "here\n");
    let file = format!("{}:/Parent/foo", dir.join("content").display());
    assert_eq!(w.ok(&["run", "--rm", "-w", "/Parent", "-v", &file, &img, "cat", "foo"]), "here\n");
    assert_eq!(w.ok(&["run", "--rm", "-w", "/tmp", &img, "pwd"]), "/tmp\n");
}

#[test]
fn pid_host_shares_the_hosts_processes() {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    // the host's pid namespace: this test's own process is there
    let me = std::process::id().to_string();
    let out = w.ok(&["run", "--rm", "--pid=host", &img, "sh", "-c", &format!("test -d /proc/{me} && echo seen")]);
    assert_eq!(out, "seen\n");
    assert_eq!(w.ok(&["run", "--rm", "--pid", "private", &img, "sh", "-c", "echo $$"]), "1\n");
    let (status, _, err) = code(&w, &["run", "--rm", "--pid", "container:x", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("use private or host"), "{err}");

    // exec, cp, stop and rm work as with a pid namespace of its own
    w.ok(&["run", "--pid=host", "-d", "--name", "hostpid", &img, "sleep", "100"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.HostConfig.PidMode}}", "hostpid"]).trim(), "host");
    assert_eq!(w.ok(&["exec", "hostpid", "echo", "in"]), "in\n");
    let file = w.dir.path().join("hostfile");
    std::fs::write(&file, "x").unwrap();
    w.ok(&["cp", file.to_str().unwrap(), "hostpid:/tmp/hostfile"]);
    let back = w.dir.path().join("back");
    w.ok(&["cp", "hostpid:/tmp/hostfile", back.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "x");
    let pid = w.ok(&["inspect", "--format", "{{.State.Pid}}", "hostpid"]).trim().to_string();
    w.ok(&["kill", "hostpid"]);
    assert_eq!(w.ok(&["wait", "hostpid"]).trim(), "137");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the process is gone");
    w.ok(&["rm", "-t", "0", "-f", "hostpid"]);

    // what the init leaves behind goes with it, as in a pid namespace of its own
    let began = std::time::Instant::now();
    let out = w.ok(&["run", "--rm", "--pid=host", &img, "sh", "-c", "sleep 100 & echo started"]);
    assert_eq!(out, "started\n");
    assert!(began.elapsed() < std::time::Duration::from_secs(20), "the run ends with its init");
}

#[test]
fn the_containers_root_has_the_images_root_mode() {
    use berth_testkit::{Compression, LayerBuilder};
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    // no layer sets its root: containers/storage's 0555, as Podman shows
    assert_eq!(w.ok(&["run", "--rm", &img, "stat", "-c", "%a", "/"]), "555\n");
    // a layer whose tar has an entry for its root sets it
    let mut top = LayerBuilder::new();
    top.dir(".", 0o750).file("marker", "x", 0o644);
    w.push("rooted:1", &berth_testkit::busybox_image().unwrap().layer(top.build(), Compression::Gzip));
    let rooted = w.image_ref("rooted:1");
    w.ok(&["pull", "-q", &rooted]);
    assert_eq!(w.ok(&["run", "--rm", &rooted, "stat", "-c", "%a", "/"]), "750\n");
    // and the container may still write to its root
    assert_eq!(w.ok(&["run", "--rm", &img, "sh", "-c", "touch /new && echo made"]), "made\n");
}

/// `--latest` with names, as Podman words it (its help tests match these words).
#[test]
fn latest_with_names_is_refused_in_podmans_words() {
    let w = World::new();
    for (args, want) in [
        (&["rm", "-l", "x"][..], "Error: --all, --latest and containers cannot be used together"),
        (&["rm", "--all", "--latest"][..], "Error: --all, --latest and containers cannot be used together"),
        (&["inspect", "-l", "x"][..], "Error: --latest and arguments cannot be used together"),
        (&["container", "inspect", "-l", "x"][..], "Error: --latest and arguments cannot be used together"),
    ] {
        let out = w.berth(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
}

/// A busybox world with the image pulled.
fn busybox_world() -> (World, String) {
    let w = World::new();
    let img = w.image_ref("busybox:latest");
    w.push_busybox("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    (w, img)
}

#[test]
fn stop_signal_is_what_stop_sends() {
    let (w, img) = busybox_world();
    // the shell exits on SIGUSR1 only: a stop that sent SIGTERM would wait and SIGKILL (137)
    w.ok(&[
        "run",
        "-d",
        "--name",
        "sig",
        "--stop-signal",
        "USR1",
        &img,
        "sh",
        "-c",
        "trap 'exit 3' USR1; trap '' TERM; while :; do sleep 0.1; done",
    ]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.Config.StopSignal}}", "sig"]).trim(), "10");
    std::thread::sleep(std::time::Duration::from_millis(300));
    w.ok(&["stop", "-t", "5", "sig"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ExitCode}}", "sig"]).trim(), "3");
    let (status, _, err) = code(&w, &["create", "--stop-signal=99", &img]);
    assert_eq!((status, err.trim()), (125, "Error: valid signals are 1 through 64"));
    assert_eq!(w.ok(&["inspect", "--format", "{{.Config.StopSignal}}", "sig"]).trim(), "10");
}

#[test]
fn unsetenv_drops_the_image_and_default_variables() {
    let (w, img) = busybox_world();
    let env = w.ok(&["run", "--rm", &img, "env"]);
    assert!(env.contains("TERM=xterm\n") && env.contains("PATH="), "{env}");
    let env = w.ok(&["run", "--rm", "--unsetenv", "TERM", "--unsetenv=HOSTNAME", &img, "env"]);
    assert!(!env.contains("TERM") && !env.contains("HOSTNAME") && env.contains("PATH="), "{env}");
    let env = w.ok(&["run", "--rm", "--unsetenv-all", &img, "/bin/env"]);
    assert_eq!(env, "", "nothing left");
    let env = w.ok(&["run", "--rm", "--unsetenv-all", "--env", "TERM=abc", &img, "/bin/env"]);
    assert_eq!(env, "TERM=abc\n");
}

#[test]
fn dns_opt_is_an_options_line_in_resolv_conf() {
    let (w, img) = busybox_world();
    // --dns-option is the same flag, as in Podman
    let conf =
        w.ok(&["run", "--rm", "--dns-opt", "ndots:3", "--dns-option=timeout:2", &img, "cat", "/etc/resolv.conf"]);
    assert!(conf.lines().any(|l| l == "options ndots:3 timeout:2"), "{conf}");
    assert_eq!(conf.matches("options").count(), 1, "{conf}");
}

#[test]
fn group_add_gives_supplementary_groups() {
    let (w, img) = busybox_world();
    // the test image's /etc/group names `staff` (gid 50)
    assert_eq!(w.ok(&["run", "--rm", "--group-add", "457", "--group-add", "staff", &img, "id", "-G"]), "0 50 457\n");
    let (status, _, err) = code(&w, &["run", "--rm", "--group-add", "nosuchgroup", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("unable to find group nosuchgroup"), "{err}");
    let (status, _, err) = code(&w, &["run", "--rm", "--group-add", "keep-groups", "--group-add", "457", &img, "id"]);
    assert_eq!(status, 125);
    assert!(err.contains("the '--group-add keep-groups' option is not allowed with any other --group-add options"));
    let (status, _, err) = code(&w, &["run", "--rm", "--group-add", "keep-groups", &img, "id"]);
    assert_eq!(status, 125);
    assert!(err.contains("--group-add keep-groups"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "", "refused runs create nothing");
}

#[test]
fn shm_size_sizes_dev_shm() {
    let (w, img) = busybox_world();
    let df = |args: &[&str]| {
        let mut all = vec!["run", "--rm"];
        all.extend(args);
        all.extend([img.as_str(), "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'"]);
        w.ok(&all).trim().to_string()
    };
    assert_eq!(df(&[]), "65536");
    assert_eq!(df(&["--shm-size", "0"]), "65536");
    assert_eq!(df(&["--shm-size=128m"]), "131072");
    w.ok(&["create", "--name", "shm", "--shm-size", "1g", &img, "true"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.HostConfig.ShmSize}}", "shm"]).trim(), "1073741824");
}

#[test]
fn sysctl_sets_namespaced_parameters_only() {
    let (w, img) = busybox_world();
    let out = w.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--sysctl",
        "kernel.shmmax=1234567",
        &img,
        "cat",
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/kernel/shmmax",
    ]);
    assert_eq!(out, "1\n1234567\n");
    let (status, _, err) = code(&w, &["run", "--rm", "--sysctl", "vm.swappiness=10", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("\"vm.swappiness\" is not allowed"), "{err}");
    let (status, _, err) =
        code(&w, &["run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("host's network namespace"), "{err}");
    let (status, _, err) = code(&w, &["run", "--rm", "--sysctl", "novalue", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("invalid sysctl \"novalue\""), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn ulimit_sets_the_containers_limits() {
    let (w, img) = busybox_world();
    let limits = |args: &[&str]| {
        let mut all = vec!["run", "--rm"];
        all.extend(args);
        all.extend([img.as_str(), "sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -Hu"]);
        w.ok(&all)
    };
    let out = limits(&["--ulimit", "nofile=100:200"]);
    assert!(out.starts_with("100\n200\n"), "{out}");
    let out = limits(&["--ulimit", "nofile=50"]);
    assert!(out.starts_with("50\n50\n"), "{out}");
    // above this process's hard limit: lowered to it, with a warning (without CAP_SYS_RESOURCE)
    let (hard_now, _) = {
        let s = std::fs::read_to_string("/proc/self/limits").unwrap();
        let l = s.lines().find(|l| l.starts_with("Max open files")).unwrap().to_string();
        let f: Vec<&str> = l.split_whitespace().collect();
        (f[4].to_string(), f[3].to_string())
    };
    let out = w.berth(&["run", "--rm", "--ulimit", "nofile=99999999:99999999", &img, "sh", "-c", "ulimit -Hn"]);
    assert!(out.status.success(), "{out:?}");
    let hard_seen = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    if hard_seen != "99999999" {
        assert_eq!(hard_seen, hard_now);
        assert!(err.contains("--ulimit nofile=99999999:99999999"), "{err}");
    }
    // host: this process's own limits
    let out = limits(&["--ulimit", "host"]);
    assert!(out.contains(&format!("\n{hard_now}\n")), "{out} vs {hard_now}");
    let (status, _, err) = code(&w, &["run", "--rm", "--ulimit", "nofile=20:10", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("ulimit soft limit must be less than or equal to hard limit: 20 > 10"), "{err}");
    let (status, _, err) = code(&w, &["run", "--rm", "--ulimit", "bogus=1", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("invalid ulimit type \"bogus\""), "{err}");
}

#[test]
fn memory_zero_is_unlimited_and_host_network_drops_ports() {
    let (w, img) = busybox_world();
    w.ok(&["create", "--name", "m0", "--memory", "0", &img, "true"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.HostConfig.Memory}}", "m0"]).trim(), "0");
    let out = w.berth(&["run", "--rm", "--network", "host", "-p", "8080:80", &img, "echo", "ran"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use"
    ));
}

#[test]
fn userns_is_the_host_one_and_other_modes_are_refused() {
    let (w, img) = busybox_world();
    let map = w.ok(&["run", "--rm", "--userns", "host", &img, "cat", "/proc/self/uid_map"]);
    assert_eq!(map.split_whitespace().collect::<Vec<_>>(), ["0", "0", "4294967295"]);
    let (status, _, err) = code(&w, &["run", "--rm", "--userns=keep-id", &img, "true"]);
    assert_eq!((status, err.trim()), (125, "Error: keep-id is only supported in rootless mode"));
    let (status, _, err) = code(&w, &["run", "--rm", "--userns=auto", &img, "true"]);
    assert_eq!(status, 125);
    assert!(err.contains("--userns auto"), "{err}");
    assert_eq!(w.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn a_quick_containers_terminal_output_is_never_lost() {
    let (w, img) = busybox_world();
    // A container may end before `run` attaches to its terminal: what it wrote then comes from
    // its log. Before, about one such run in seven printed nothing.
    for i in 0..20 {
        let out = w.ok(&["run", "--rm", "-t", "--network", "none", &img, "echo", &format!("hi {i}")]);
        assert_eq!(out.trim(), format!("hi {i}"), "run {i}");
    }
    // `start -a` of a terminal container likewise, each time with that start's output only.
    w.ok(&["create", "-t", "--name", "quick", "--network", "none", &img, "echo", "again"]);
    for i in 0..5 {
        assert_eq!(w.ok(&["start", "-a", "quick"]).trim(), "again", "start {i}");
    }
    w.ok(&["rm", "quick"]);
}

#[test]
fn init_is_pid_1_reaps_and_forwards_signals() {
    let (w, img) = busybox_world();
    // pid 1 is the init, the command its child
    let out = w.ok(&["run", "--rm", "--init", &img, "sh", "-c", "cat /proc/1/comm; echo $$; echo $PPID"]);
    assert_eq!(out, "berth-init\n2\n1\n");
    let ps = w.ok(&["run", "--rm", "--init", &img, "ps", "-o", "pid,args"]);
    let pid1 = ps.lines().find(|l| l.split_whitespace().next() == Some("1")).unwrap_or_default();
    assert_eq!(pid1.split_whitespace().collect::<Vec<_>>(), ["1", "berth-init"], "{ps}");
    // the command's exit code is the container's
    let out = w.berth(&["run", "--rm", "--init", &img, "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    // an orphan is reaped: no zombie is left behind
    let out = w.ok(&[
        "run",
        "--rm",
        "--init",
        &img,
        "sh",
        "-c",
        "(sleep 0.1 &) ; sleep 0.5; grep -l zombie /proc/[0-9]*/status | wc -l",
    ]);
    assert_eq!(out.trim(), "0");
    // stop's signal reaches the command through the init
    w.ok(&[
        "run",
        "-d",
        "--init",
        "--name",
        "inited",
        &img,
        "sh",
        "-c",
        "trap 'exit 5' TERM; while :; do sleep 0.1; done",
    ]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.HostConfig.Init}}", "inited"]).trim(), "true");
    std::thread::sleep(std::time::Duration::from_millis(300));
    w.ok(&["stop", "-t", "5", "inited"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ExitCode}}", "inited"]).trim(), "5");
    // with a terminal, the command's group is the terminal's foreground one (pgrp, tpgid)
    let out = w.ok(&["run", "--rm", "-t", "--init", &img, "sh", "-c", "cut -d' ' -f5,8 /proc/$$/stat"]);
    assert_eq!(out.trim(), "2 2");
    // a real-time stop signal too
    w.ok(&[
        "run",
        "-d",
        "--init",
        "--stop-signal",
        "40",
        "--name",
        "rt",
        &img,
        "sh",
        "-c",
        "trap 'exit 4' 40; while :; do sleep 0.1; done",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    w.ok(&["stop", "-t", "5", "rt"]);
    assert_eq!(w.ok(&["inspect", "--format", "{{.State.ExitCode}} {{.Config.StopSignal}}", "rt"]).trim(), "4 40");
    // a command that is not there fails as without --init
    let (status, _, err) = code(&w, &["run", "--rm", "--init", &img, "/nosuch"]);
    assert_eq!(status, 127, "{err}");
}

#[test]
fn rootfs_runs_a_host_directory_bound_or_under_an_overlay() {
    let (w, img) = busybox_world();
    let mounted = std::path::PathBuf::from(w.ok(&["image", "mount", &img]).trim());
    // `:O`: an overlay over the directory (here the image's read-only mount), which stays as it was
    let out = w.ok(&[
        "run",
        "--name",
        "over",
        "--rootfs",
        &format!("{}:O", mounted.display()),
        "sh",
        "-c",
        "echo Hello world > /note; cat /note",
    ]);
    assert_eq!(out, "Hello world\n");
    assert!(!mounted.join("note").exists(), "the overlay's writes are the container's");
    assert_eq!(
        w.ok(&["inspect", "--format", "{{.ImageDigest}}|{{.ImageName}}|{{.Rootfs}}", "over"]),
        format!("||{}\n", mounted.display())
    );
    assert_eq!(w.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).split(' ').next(), Some("over"));
    w.ok(&["rm", "over"]);

    // Bound as it is: the container writes into the directory.
    let dir = w.root().parent().unwrap().join("rootfs-copy");
    std::fs::create_dir_all(&dir).unwrap();
    let copied = std::process::Command::new("cp").args(["-a", &format!("{}/.", mounted.display())]).arg(&dir).status();
    assert!(copied.as_ref().is_ok_and(|s| s.success()), "{copied:?}");
    w.ok(&["image", "unmount", &img]);
    w.ok(&["run", "--rm", "--rootfs", dir.to_str().unwrap(), "sh", "-c", "echo kept > /made"]);
    assert_eq!(std::fs::read_to_string(dir.join("made")).unwrap(), "kept\n");
    // cp and mount see the same files
    w.ok(&["create", "--name", "bound", "--rootfs", dir.to_str().unwrap(), "cat", "/made"]);
    assert_eq!(w.ok(&["start", "-a", "bound"]), "kept\n");
    let host = w.root().parent().unwrap().join("made-out");
    w.ok(&["cp", "bound:/made", host.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&host).unwrap(), "kept\n");
    let err = w.fails(&["commit", "bound", "nope"]);
    assert!(err.contains("has no image to commit on") && err.contains("--rootfs"), "{err}");
    w.ok(&["rm", "bound"]);

    // Bad input: named, and nothing made.
    let err = w.fails(&["run", "--rootfs", "/no/such/dir", "true"]);
    assert!(err.contains("--rootfs /no/such/dir") && err.contains("is not a directory"), "{err}");
    assert_eq!(w.ok(&["ps", "-aq"]), "");
}

#[test]
fn diff_shows_what_a_container_and_an_image_change() {
    let (w, img) = busybox_world();
    w.ok(&[
        "run",
        "--name",
        "d",
        "-v",
        "vol:/data",
        &img,
        "sh",
        "-c",
        "touch /rand; mkdir -p /newdir; echo x > /newdir/f; rm /etc/os-release; touch /data/x",
    ]);
    // the runtime's own files (/etc/hosts, /run/.containerenv...) and the volume are not changes
    assert_eq!(w.ok(&["diff", "d"]), "C /etc\nD /etc/os-release\nA /newdir\nA /newdir/f\nA /rand\n");
    assert_eq!(w.ok(&["container", "diff", "-l"]), w.ok(&["diff", "d"]));
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["diff", "--format", "json", "d"])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"changed": ["/etc"], "added": ["/newdir", "/newdir/f", "/rand"], "deleted": ["/etc/os-release"]})
    );

    // A committed image: its top layer's changes, as the container's.
    w.ok(&["commit", "-q", "d", "changed:v1"]);
    let image = w.ok(&["image", "diff", "changed:v1"]);
    for line in ["C /etc", "D /etc/os-release", "A /newdir", "A /newdir/f", "A /rand"] {
        assert!(image.lines().any(|l| l == line), "{line} in {image}");
    }
    // a one-layer image is all added
    assert!(w.ok(&["diff", &img]).lines().all(|l| l.starts_with("A /")));

    let err = w.fails(&["diff", "nosuch"]);
    assert!(err.contains("nosuch: no such container or image"), "{err}");
    let err = w.fails(&["container", "diff", &img]);
    assert!(err.contains("no such container") || err.contains("no container"), "{err}");
    let err = w.fails(&["diff", "--format", "{{.Path}}", "d"]);
    assert!(err.contains("diff prints json only"), "{err}");
}

#[test]
fn export_writes_the_containers_files_as_one_tar() {
    let (w, img) = busybox_world();
    w.ok(&[
        "run",
        "--name",
        "e",
        "-v",
        "vol:/data",
        &img,
        "sh",
        "-c",
        "echo hi > /made; rm /etc/os-release; echo v > /data/in-volume",
    ]);
    let names = |tar: &[u8]| -> Vec<String> {
        tar::Archive::new(tar).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
    };
    let out_dir = w.root().parent().unwrap().join("exports");
    std::fs::create_dir_all(&out_dir).unwrap();
    let file = out_dir.join("e.tar");
    assert_eq!(w.ok(&["export", "-o", file.to_str().unwrap(), "e"]), "");
    let listed = names(&std::fs::read(&file).unwrap());
    for want in ["made", "bin/busybox", "etc/passwd", "data"] {
        assert!(listed.iter().any(|n| n == want), "{want} in {listed:?}");
    }
    // deleted in the container; a volume's content is not the container's
    assert!(!listed.iter().any(|n| n == "etc/os-release" || n == "data/in-volume"), "{listed:?}");
    // to stdout, the same archive (container export is the same verb)
    let out = w.berth(&["container", "export", "e"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(names(&out.stdout), listed);

    let err = w.fails(&["export", "-o", out_dir.join("nosuch.tar").to_str().unwrap(), "nosuch"]);
    assert!(err.contains("nosuch"), "{err}");
    assert_eq!(crate::list_dir(&out_dir), vec!["e.tar".to_string()], "nothing half-written");
}

#[test]
fn import_makes_an_image_of_an_exported_tarball() {
    let (w, img) = busybox_world();
    w.ok(&["run", "--name", "src", &img, "sh", "-c", "echo imported > /random.txt"]);
    let dir = w.root().parent().unwrap().join("imports");
    std::fs::create_dir_all(&dir).unwrap();
    let tar = dir.join("src.tar");
    w.ok(&["export", "-o", tar.to_str().unwrap(), "src"]);

    // a file, nameless: the id, which runs
    let id = w.ok(&["import", "-q", tar.to_str().unwrap()]).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(w.ok(&["run", "--rm", &id, "cat", "/random.txt"]), "imported\n");
    // from stdin, named, with a change and a message; gzip-compressed
    let gz = dir.join("src.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::copy(&mut std::fs::File::open(&tar).unwrap(), &mut enc).unwrap();
    enc.finish().unwrap();
    let out = w
        .cmd()
        .args(["import", "--change", "CMD cat /random.txt", "-m", "from a tarball", "-", "mine:v1"])
        .stdin(std::fs::File::open(&gz).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("Getting image source signatures") && err.contains("Writing manifest"), "{err}");
    assert_eq!(w.ok(&["run", "--rm", "mine:v1"]), "imported\n");
    assert_eq!(w.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}", "mine"]), "localhost/mine:v1\n");
    assert!(w.ok(&["history", "--format", "{{.Comment}}", "mine:v1"]).contains("from a tarball"));
    let events = w.ok(&["events", "--stream=false", "--filter", "event=import", "--format", "{{.Type}} {{.Status}}"]);
    assert_eq!(events, "image import\nimage import\n");

    // Bad input: named, and nothing made.
    let images = w.ok(&["images", "-q"]);
    std::fs::write(dir.join("junk.tar"), b"not a tarball at all, just words and more words").unwrap();
    let err = w.fails(&["import", dir.join("junk.tar").to_str().unwrap()]);
    assert!(err.contains("is not a tar archive"), "{err}");
    let err = w.fails(&["import", "--change", "FROBNICATE x", tar.to_str().unwrap()]);
    assert!(err.contains("invalid change \"FROBNICATE x\""), "{err}");
    let err = w.fails(&["import", dir.join("missing.tar").to_str().unwrap()]);
    assert!(err.contains("missing.tar: can't open the tarball"), "{err}");
    assert_eq!(w.ok(&["images", "-q"]), images);
    let left = crate::list_dir(&w.root().join("ingest"));
    assert!(left.iter().all(|f| f.ends_with(".lock")), "partial files left behind: {left:?}");
}
