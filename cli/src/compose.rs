//! `berth compose`: runs a compose provider (Debian's `docker-compose`, or the program
//! `BERTH_COMPOSE_PROVIDER` names) against Berth's Docker-compatible socket, as `podman
//! compose` does with Podman's. A service already listening on the default socket (the
//! desktop app's, `berth system service`) is used; otherwise one is served from this process
//! on a socket of its own for as long as the provider runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use berth_engine::Engine;

#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct ComposeArgs {
    /// What the compose provider is given (`up -d`, `-f FILE ps`, `down -v`, `--help`, ...)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// The environment variable that names the provider.
pub const PROVIDER_ENV: &str = "BERTH_COMPOSE_PROVIDER";

/// The provider: `BERTH_COMPOSE_PROVIDER` (a path, or a name looked up on PATH), else
/// `docker-compose` on PATH.
pub fn provider(from_env: Option<&str>, path: Option<&std::ffi::OsStr>) -> anyhow::Result<PathBuf> {
    let find = |name: &str| -> Option<PathBuf> {
        if name.contains('/') {
            return Path::new(name).is_file().then(|| PathBuf::from(name));
        }
        std::env::split_paths(path?).map(|d| d.join(name)).find(|p| p.is_file())
    };
    match from_env.filter(|p| !p.is_empty()) {
        Some(p) => find(p).with_context(|| {
            format!("{PROVIDER_ENV}={p}: no such program: give the path of a compose provider, or a name on PATH")
        }),
        None => find("docker-compose").context(
            "no compose provider found: install docker-compose (apt install docker-compose), or set BERTH_COMPOSE_PROVIDER to one",
        ),
    }
}

pub async fn run(engine: Engine, args: &ComposeArgs) -> anyhow::Result<ExitCode> {
    let program = provider(std::env::var(PROVIDER_ENV).ok().as_deref(), std::env::var_os("PATH").as_deref())?;
    let default = crate::service::default_socket(&engine);
    let (socket, served) = if std::os::unix::net::UnixStream::connect(&default).is_ok() {
        (default, None)
    } else {
        // a socket of this process's own, served here until the provider is done
        let socket = engine.config().run_root.join(format!("compose-{}.sock", std::process::id()));
        let service_args = crate::service::ServiceArgs { socket: Some(socket.clone()), timeout: 0 };
        let task = tokio::spawn(async move { crate::service::run(engine, &service_args).await });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if task.is_finished() || std::time::Instant::now() > deadline {
                let why = match task.await {
                    Ok(Err(e)) => e.to_string(),
                    _ => "it did not start listening".into(),
                };
                anyhow::bail!("serving Berth's API for the compose provider on {}: {why}", socket.display());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        (socket.clone(), Some((task, socket)))
    };
    eprintln!(
        ">>>> Executing external compose provider \"{}\" against unix://{} <<<<",
        program.display(),
        socket.display()
    );
    let status = tokio::process::Command::new(&program)
        .args(&args.args)
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env_remove("DOCKER_CONTEXT")
        .status()
        .await
        .with_context(|| format!("running {}", program.display()))?;
    if let Some((task, socket)) = served {
        task.abort();
        let _ = std::fs::remove_file(socket);
    }
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_the_named_one_or_docker_compose_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("docker-compose");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(provider(None, Some(path)).unwrap(), bin);
        assert_eq!(provider(Some(bin.to_str().unwrap()), None).unwrap(), bin);
        let e = provider(Some("nosuch-compose"), Some(path)).unwrap_err().to_string();
        assert!(e.contains("BERTH_COMPOSE_PROVIDER=nosuch-compose"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = provider(None, Some(empty.path().as_os_str())).unwrap_err().to_string();
        assert!(e.contains("install docker-compose"), "{e}");
    }
}
