//! `exec`: a process in a running container, on a pseudo-terminal or on this one's pipes.

use std::process::ExitCode;

use berth_engine::Engine;
use clap::Args;

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct ExecArgs {
    /// Keep stdin open
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the process a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    /// Run in the background
    #[arg(short, long)]
    pub detach: bool,
    /// User (name or uid, optionally :group)
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// The container, then the command and its arguments
    #[arg(required = true, num_args = 2.., trailing_var_arg = true, allow_hyphen_values = true, value_name = "CONTAINER COMMAND [ARG...]")]
    pub args: Vec<String>,
}

/// `berth exec`: the exit code is the process's.
pub async fn exec(engine: Engine, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    use std::process::Stdio;
    let env = args
        .env
        .iter()
        .map(|e| match e.split_once('=') {
            Some(_) => e.clone(),
            None => format!("{e}={}", std::env::var(e).unwrap_or_default()),
        })
        .collect();
    let opts = berth_engine::exec::ExecOptions {
        command: args.args[1..].to_vec(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty: args.tty,
        kill_after_ms: None,
    };
    let mut cmd = engine.exec_command(&args.args[0], &opts)?;
    let code_of = |s: std::process::ExitStatus| {
        use std::os::unix::process::ExitStatusExt;
        s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
    };
    if args.detach {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        return Ok(ExitCode::SUCCESS);
    }
    let code = if args.tty {
        let (mut child, master) = match engine.exec_tty(&args.args[0], &opts) {
            Ok(x) => x,
            Err(berth_engine::Error::StartFailed { code, message }) => {
                eprintln!("Error: {message}");
                return Ok(ExitCode::from(code.clamp(0, 255) as u8));
            }
            Err(e) => return Err(e.into()),
        };
        drop(cmd);
        if let Some(ws) = crate::tty::window_size() {
            crate::tty::set_window_size(&master, &ws);
        }
        let raw = crate::tty::RawMode::enable();
        crate::tty::relay(master, args.interactive).await?;
        let status = tokio::task::spawn_blocking(move || child.wait()).await??;
        drop(raw);
        code_of(status)
    } else {
        if !args.interactive {
            cmd.stdin(Stdio::null());
        }
        let mut child = cmd.spawn()?;
        code_of(tokio::task::spawn_blocking(move || child.wait()).await??)
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
