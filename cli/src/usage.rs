//! The command line's help and usage errors in Podman's shape: `Usage:` followed by one synopsis
//! line (`berth rename [options] CONTAINER NAME`), commands under `Available Commands:`, and
//! errors a Podman user and Podman's scripts recognise (`Error: unknown flag: --x`, `takes no
//! arguments`, `accepts at most 2 arg(s)`, `missing command 'berth image COMMAND'`), status 125.
//!
//! Berth names itself as it was invoked: installed or linked as `podman`, its help and errors
//! say `podman`, as a drop-in should.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

/// The name this process was invoked as (`berth`, or `podman` through a link).
pub fn program() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "berth".into())
}

const TEMPLATE: &str = "{about-with-newline}\nUsage:\n  {usage}\n\n{all-args}{after-help}";

/// Every command of the tree with Podman's help: the synopsis, the headings, `[options]`.
pub fn podmanize(root: Command) -> Command {
    fn each(c: Command, path: &str) -> Command {
        let c = c
            .args_override_self(true)
            .disable_help_subcommand(true)
            .help_template(TEMPLATE)
            .subcommand_help_heading("Available Commands");
        let synopsis = synopsis(&c, path);
        c.override_usage(synopsis).mut_subcommands(|s| {
            let sub = format!("{path} {}", s.get_name());
            each(s, &sub)
        })
    }
    each(root, &program())
}

fn positionals(c: &Command) -> Vec<&Arg> {
    let mut p: Vec<&Arg> = c.get_positionals().filter(|a| !a.is_hide_set()).collect();
    p.sort_by_key(|a| a.get_index());
    p
}

fn takes_many(a: &Arg) -> bool {
    a.get_num_args().is_some_and(|n| n.max_values() > 1)
        || matches!(a.get_action(), clap::ArgAction::Append)
        || a.is_last_set()
}

/// `berth rename [options] CONTAINER NAME`: required arguments bare, optional ones in
/// brackets, `...` after one that repeats; `[command]` for a command of subcommands.
fn synopsis(c: &Command, path: &str) -> String {
    if c.get_name() == "help" && path.split(' ').count() == 2 {
        return format!("{path} [command]");
    }
    if c.has_subcommands() && c.get_positionals().next().is_none() {
        return if c.get_subcommands().any(|s| s.get_name() == "help") && path.split(' ').count() == 1 {
            format!("{path} [options] [command]")
        } else {
            format!("{path} [command]")
        };
    }
    // `[options]` promises an Options section: a command that hands every word to another
    // program (`compose`, its help flag off) has none
    let no_options = c.is_disable_help_flag_set() && !c.get_arguments().any(|a| !a.is_positional() && !a.is_hide_set());
    let mut out = if no_options { path.to_string() } else { format!("{path} [options]") };
    for a in positionals(c) {
        let name = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|n| n.to_string())
            .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
        out.push(' ');
        if name.contains(' ') || name.contains('[') || name.contains('{') {
            // a synopsis of its own: `IMAGE [COMMAND [ARG...]]`
            out.push_str(&name);
            continue;
        }
        match (a.is_required_set(), takes_many(a)) {
            (true, false) => out.push_str(&name),
            (true, true) => out.push_str(&format!("{name} [{name}...]")),
            (false, false) => out.push_str(&format!("[{name}]")),
            (false, true) => out.push_str(&format!("[{name}...]")),
        }
    }
    out
}

/// The command a usage error is about: from the synopsis clap reports with it, else the
/// command line's words that name subcommands.
fn command_of<'a>(root: &'a Command, e: &clap::Error, args: &[String]) -> (&'a Command, String) {
    let words: Vec<String> = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(s)) => {
            let usage = s.to_string();
            let line = usage.trim().trim_start_matches("Usage:").trim().to_string();
            line.split(' ')
                .skip(1)
                .take_while(|w| !w.starts_with('[') && !w.starts_with('<'))
                .map(String::from)
                .collect()
        }
        _ => args.to_vec(),
    };
    let mut path = vec![program()];
    let mut cmd = root;
    for w in &words {
        if let Some(s) = cmd.find_subcommand(w) {
            cmd = s;
            path.push(w.clone());
        }
    }
    (cmd, path.join(" "))
}

/// Help and version go to stdout with status 0; a usage error is reported as Podman reports it,
/// with status 125.
pub fn error(root: &Command, e: clap::Error) -> ExitCode {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        _ => String::new(),
    };
    let name = program();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, path) = command_of(root, &e, &args);
    let see = format!("\nSee '{path} --help'");
    let message = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            let _ = e.print();
            format!("missing command '{path} COMMAND'")
        }
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg);
            if !arg.starts_with('-') {
                // one argument more than the command takes
                let taken = positionals(cmd);
                if taken.is_empty() {
                    format!("`{path}` takes no arguments (\"{arg}\" given)")
                } else {
                    format!("too many arguments: `{path}` accepts at most {} (\"{arg}\" is one more)", taken.len())
                }
            } else {
                match arg.strip_prefix('-').filter(|a| !a.starts_with('-')) {
                    Some(short) => {
                        format!("unknown shorthand flag: '{}' in {arg}{see}", short.chars().next().unwrap_or('-'))
                    }
                    None => format!("unknown flag: {}{see}", arg.split('=').next().unwrap_or(&arg)),
                }
            }
        }
        ErrorKind::InvalidSubcommand => {
            // Podman reads the flags before the command: an unknown one is named first
            let known = |a: &str| {
                let flag = a.trim_start_matches('-').split('=').next().unwrap_or_default();
                root.get_arguments()
                    .any(|x| x.get_long() == Some(flag) || x.get_short().is_some_and(|s| s.to_string() == flag))
            };
            match args.iter().find(|a| a.starts_with("--") && a.len() > 2 && !known(a)) {
                Some(flag) => format!("unknown flag: {}\nSee '{name} --help'", flag.split('=').next().unwrap_or(flag)),
                None => format!(
                    "unrecognized command `{path} {}`\nTry '{path} --help' for more information",
                    context(ContextKind::InvalidSubcommand)
                ),
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = context(ContextKind::InvalidArg).replace(['<', '>'], "");
            format!("`{path}` requires {missing}: provide it, see '{path} --help'")
        }
        ErrorKind::InvalidValue if context(ContextKind::InvalidValue).is_empty() => {
            // a flag at the end of the line, without its value
            let flag = context(ContextKind::InvalidArg);
            let long = flag.split(' ').next().unwrap_or(&flag).to_string();
            match args.last().filter(|a| !a.starts_with("--") && a.starts_with('-')) {
                Some(short) => {
                    format!("flag needs an argument: '{}' in {short}{see}", short.chars().last().unwrap_or('-'))
                }
                None => format!("flag needs an argument: {long}{see}"),
            }
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    eprintln!("Error: {message}");
    ExitCode::from(125)
}

#[cfg(test)]
mod tests {
    use clap::{Arg, ArgAction, Command};

    fn check(cmd: Command, want: &str) {
        assert_eq!(super::synopsis(&cmd, "berth x"), want);
    }

    #[test]
    fn synopses_are_podmans() {
        check(Command::new("x"), "berth x [options]");
        check(Command::new("x").arg(Arg::new("container").required(true)), "berth x [options] CONTAINER");
        check(
            Command::new("x").arg(Arg::new("names").required(true).action(ArgAction::Append)),
            "berth x [options] NAMES [NAMES...]",
        );
        check(Command::new("x").arg(Arg::new("names").action(ArgAction::Append)), "berth x [options] [NAMES...]");
        check(
            Command::new("x").arg(Arg::new("a").required(true)).arg(Arg::new("b").value_name("DEST").required(true)),
            "berth x [options] A DEST",
        );
        check(Command::new("x").subcommand(Command::new("y")), "berth x [command]");
    }
}
