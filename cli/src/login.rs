//! `berth login` / `berth logout`: credentials in the containers auth file.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use berth_engine::registry::{auth::AuthError, Registry};
use berth_engine::{AuthFiles, Credentials, Engine};
use clap::Args;

#[derive(Args)]
pub struct LoginArgs {
    /// Registry host, e.g. registry.example:5000
    pub registry: String,
    #[arg(short, long)]
    pub username: Option<String>,
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// Registry host
    #[arg(required_unless_present = "all")]
    pub registry: Option<String>,
    /// Remove the credentials of every registry
    #[arg(short, long)]
    pub all: bool,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
}

/// `docker.io/library` or `https://host/v2/` → the host part.
fn registry_host(input: &str) -> String {
    let s = input.trim_start_matches("https://").trim_start_matches("http://");
    s.split('/').next().unwrap_or(s).to_string()
}

fn prompt(label: &str, hide: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    eprint!("{label}: ");
    std::io::stderr().flush()?;
    let tty = stdin.is_terminal();
    let saved = if hide && tty {
        let t = nix::sys::termios::tcgetattr(&stdin).ok();
        if let Some(mut raw) = t.clone() {
            raw.local_flags.remove(nix::sys::termios::LocalFlags::ECHO);
            let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &raw);
        }
        t
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &t);
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn login(engine: Engine, args: &LoginArgs) -> anyhow::Result<ExitCode> {
    let host = registry_host(&args.registry);
    let files = AuthFiles::new(args.authfile.clone());
    let username = match &args.username {
        Some(u) => u.clone(),
        None => prompt("Username", false)?,
    };
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\r', '\n']).to_string()
    } else {
        match &args.password {
            Some(p) => p.clone(),
            None => prompt("Password", true)?,
        }
    };
    if username.is_empty() {
        bail!("username must not be empty: pass it with --username");
    }
    let creds = Credentials { username, password };
    Registry::verify_login(&host, &creds, &engine.config().registries).await?;
    let path = files.store(&host, &creds).with_context(|| format!("saving credentials for {host}"))?;
    eprintln!("Credentials saved to {}", path.display());
    println!("Login Succeeded!");
    Ok(ExitCode::SUCCESS)
}

pub fn logout(_engine: &Engine, args: &LogoutArgs) -> anyhow::Result<ExitCode> {
    let files = AuthFiles::new(args.authfile.clone());
    if args.all {
        for (key, _) in berth_engine::registry::auth::registries_in(&files) {
            let _ = files.remove(&key);
        }
        println!("Removed login credentials for all registries");
        return Ok(ExitCode::SUCCESS);
    }
    let host = registry_host(args.registry.as_deref().unwrap_or_default());
    match files.remove(&host) {
        Ok(_) => {
            println!("Removed login credentials for {host}");
            Ok(ExitCode::SUCCESS)
        }
        Err(AuthError::NotLoggedIn(h)) => bail!("not logged into {h}"),
        Err(e) => Err(e.into()),
    }
}
