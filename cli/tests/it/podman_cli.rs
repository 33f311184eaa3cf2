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
