//! Shell completion as Podman's (cobra's): the shell's script calls the hidden command
//! `berth __complete WORD... CURRENT` (`__completeNoDesc`: without descriptions), which prints one
//! candidate a line (`VALUE\tDESCRIPTION` with descriptions), then `:N`, the directive (a bit
//! mask telling the shell what to do with them), and names the directive on stderr.
//!
//! Candidates come from the command tree itself (`main.rs`'s `command()`): subcommands, flags,
//! a flag's or an argument's possible values, and for an argument what its value name says it
//! is (CONTAINER, IMAGE, VOLUME, NETWORK), so the usage line and the completion agree. After
//! `run`/`create`'s IMAGE come paths inside the image, and `cp` completes `CONTAINER:` then
//! `CONTAINER:/path`, both read from the layers without mounting them and never outside the
//! image's or container's root.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use berth_engine::Engine;
use clap::builder::PossibleValue;
use clap::{Arg, Command};

pub const COMPLETE: &str = "__complete";
pub const COMPLETE_NO_DESC: &str = "__completeNoDesc";

/// cobra's `ShellCompDirective` bits.
const ERROR: u32 = 1;
const NO_SPACE: u32 = 2;
const NO_FILE_COMP: u32 = 4;
const FILTER_FILE_EXT: u32 = 8;
const FILTER_DIRS: u32 = 16;
const KEEP_ORDER: u32 = 32;
const DEFAULT: u32 = 0;

const NAMES: [(u32, &str); 6] = [
    (ERROR, "ShellCompDirectiveError"),
    (NO_SPACE, "ShellCompDirectiveNoSpace"),
    (NO_FILE_COMP, "ShellCompDirectiveNoFileComp"),
    (FILTER_FILE_EXT, "ShellCompDirectiveFilterFileExt"),
    (FILTER_DIRS, "ShellCompDirectiveFilterDirs"),
    (KEEP_ORDER, "ShellCompDirectiveKeepOrder"),
];

/// The command line split where the completion request starts: the words up to and including
/// `__complete` (global flags before it are parsed as usual), and the words to complete.
pub fn split(args: Vec<String>) -> (Vec<String>, Option<Vec<String>>) {
    match args.iter().skip(1).position(|a| a == COMPLETE || a == COMPLETE_NO_DESC) {
        Some(i) => {
            let mut head = args;
            let words = head.split_off(i + 2);
            (head, Some(words))
        }
        None => (args, None),
    }
}

struct Candidate {
    value: String,
    about: Option<String>,
}

fn plain(values: impl IntoIterator<Item = String>) -> Vec<Candidate> {
    values.into_iter().map(|value| Candidate { value, about: None }).collect()
}

/// Answers `__complete WORDS`: the candidates for the last word, then the directive.
pub fn run(
    root: Command,
    words: &[String],
    descriptions: bool,
    engine: &dyn Fn() -> anyhow::Result<Engine>,
) -> ExitCode {
    let (candidates, directive) = complete(root, words, engine);
    let mut out = std::io::stdout().lock();
    for c in candidates {
        let _ = match (&c.about, descriptions) {
            (Some(about), true) => writeln!(out, "{}\t{about}", c.value),
            _ => writeln!(out, "{}", c.value),
        };
    }
    let _ = writeln!(out, ":{directive}");
    let _ = out.flush();
    drop(out);
    eprintln!("Completion ended with directive: {}", directive_name(directive));
    ExitCode::SUCCESS
}

fn directive_name(d: u32) -> String {
    if d == DEFAULT {
        return "ShellCompDirectiveDefault".into();
    }
    NAMES.iter().filter(|(bit, _)| d & bit != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
}

/// One positional slot of a command: the word of its value name (`IMAGE`, `COMMAND`, `ARG`)
/// and the argument it fills.
struct Slot<'a> {
    kind: String,
    arg: &'a Arg,
}

/// A command's positional slots, from their value names: `IMAGE [COMMAND [ARG...]]` is three;
/// whether the last repeats.
fn slots(cmd: &Command) -> (Vec<Slot<'_>>, bool) {
    let mut args: Vec<&Arg> = cmd.get_positionals().collect();
    args.sort_by_key(|a| a.get_index());
    let mut out = Vec::new();
    let mut repeats = false;
    for a in args {
        let name = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|n| n.to_string())
            .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
        let words: Vec<&str> = name.split_whitespace().collect();
        for w in &words {
            let kind = w.replace(['[', ']'], "").trim_end_matches("...").to_string();
            if !kind.is_empty() {
                out.push(Slot { kind, arg: a });
            }
        }
        repeats = words.last().is_some_and(|w| w.contains("..."))
            || a.get_num_args().is_some_and(|n| n.max_values() > 1)
            || matches!(a.get_action(), clap::ArgAction::Append);
    }
    (out, repeats)
}

fn takes_value(a: &Arg) -> bool {
    a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0) && !a.is_require_equals_set()
}

fn complete(mut root: Command, words: &[String], engine: &dyn Fn() -> anyhow::Result<Engine>) -> (Vec<Candidate>, u32) {
    root.build(); // global flags reach every subcommand
    let (current, typed) = match words.split_last() {
        Some((c, t)) => (c.as_str(), t),
        None => ("", &[][..]),
    };
    let mut cmd = &root;
    let mut positionals: Vec<&str> = Vec::new();
    let mut only_positionals = false;
    let mut pending: Option<&Arg> = None;
    for w in typed {
        if pending.take().is_some() {
            continue; // the flag's value
        }
        if w == "--" && !only_positionals {
            only_positionals = true;
            continue;
        }
        if only_positionals || !w.starts_with('-') || w == "-" {
            if positionals.is_empty() && cmd.has_subcommands() {
                if let Some(sub) = cmd.find_subcommand(w) {
                    cmd = sub;
                    continue;
                }
            }
            let (slots, _) = slots(cmd);
            if slots.get(positionals.len()).or(slots.last()).is_some_and(|s| s.arg.is_trailing_var_arg_set()) {
                only_positionals = true; // `run IMAGE -x`: -x is the command's
            }
            positionals.push(w);
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') {
                pending = cmd
                    .get_arguments()
                    .find(|a| a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long)))
                    .filter(|a| takes_value(a));
            }
            continue;
        }
        let shorts: Vec<char> = w[1..].chars().collect();
        for (i, c) in shorts.iter().enumerate() {
            if let Some(a) = cmd.get_arguments().find(|a| a.get_short() == Some(*c)).filter(|a| takes_value(a)) {
                if i + 1 == shorts.len() {
                    pending = Some(a);
                }
                break; // the rest of the word is its value
            }
        }
    }
    if let Some(flag) = pending {
        let kind = flag.get_value_names().and_then(|v| v.first()).map(|n| n.to_string()).unwrap_or_default();
        return values(flag, &kind, current, engine);
    }
    if !only_positionals && current.starts_with('-') {
        if current.starts_with("--") && current.contains('=') {
            return (Vec::new(), DEFAULT);
        }
        let mut out = Vec::new();
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set() && !a.is_positional()) {
            let about = a.get_help().map(|h| h.to_string());
            if let Some(long) = a.get_long() {
                out.push(Candidate { value: format!("--{long}"), about: about.clone() });
            }
            if let (Some(short), "-") = (a.get_short(), current) {
                out.push(Candidate { value: format!("-{short}"), about });
            }
        }
        out.retain(|c| c.value.starts_with(current));
        return (out, NO_FILE_COMP);
    }
    if positionals.is_empty() && cmd.has_subcommands() {
        let out = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| Candidate { value: s.get_name().to_string(), about: s.get_about().map(|a| a.to_string()) })
            .collect();
        return (out, NO_FILE_COMP);
    }
    let (slots, repeats) = slots(cmd);
    let index = positionals.len();
    let slot = match slots.get(index) {
        Some(s) => s,
        None if repeats && !slots.is_empty() => &slots[slots.len() - 1],
        None => return (Vec::new(), NO_FILE_COMP),
    };
    // a path inside the image an earlier argument names (`run IMAGE COMMAND`)
    if matches!(slot.kind.as_str(), "COMMAND" | "ARG") {
        if let Some(image) = slots.iter().position(|s| s.kind == "IMAGE").and_then(|i| positionals.get(i)) {
            let Ok(engine) = engine() else { return (Vec::new(), ERROR) };
            return paths(current, "", |p| engine.image_dir_entries(image, p).ok().flatten());
        }
    }
    values(slot.arg, &slot.kind, current, engine)
}

/// The candidates for a value of `arg` (a flag or an argument) whose value name is `kind`.
fn values(arg: &Arg, kind: &str, current: &str, engine: &dyn Fn() -> anyhow::Result<Engine>) -> (Vec<Candidate>, u32) {
    let possible: Vec<String> =
        arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
    if !possible.is_empty() {
        return (plain(possible.into_iter().filter(|v| v.starts_with(current))), NO_FILE_COMP);
    }
    let kind = kind.to_uppercase();
    let objects =
        |list: fn(&Engine, &str) -> anyhow::Result<Vec<String>>| match engine().and_then(|e| list(&e, current)) {
            Ok(names) => (plain(names.into_iter().filter(|n| n.starts_with(current))), NO_FILE_COMP),
            Err(_) => (Vec::new(), ERROR),
        };
    if kind.contains("CONTAINER") && kind.contains("PATH") {
        return copy_side(current, engine);
    }
    if kind.contains("CONTAINER") {
        return objects(containers);
    }
    if kind.contains("IMAGE") {
        return objects(images);
    }
    if kind.contains("VOLUME") {
        return objects(|e, _| Ok(e.volumes()?.into_iter().map(|v| v.name).collect()));
    }
    if kind.contains("NETWORK") {
        return objects(|e, _| Ok(e.networks()?.into_iter().map(|n| n.name).collect()));
    }
    if ["PATH", "FILE", "DIR", "CONTEXT", "COMMAND", "ARG", "URI"].iter().any(|k| kind.contains(k)) {
        return (Vec::new(), DEFAULT); // the shell's own file completion
    }
    (Vec::new(), NO_FILE_COMP)
}

/// Container names, and short ids once two characters are typed (as Podman).
fn containers(engine: &Engine, current: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for c in engine.containers()? {
        out.push(c.name);
        if current.len() >= 2 {
            out.push(c.id[..12.min(c.id.len())].to_string());
        }
    }
    Ok(out)
}

/// Image names in full (`localhost/name:tag`); once something is typed, also without their
/// registry (`name:tag`), and short ids once two characters are.
fn images(engine: &Engine, current: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for img in engine.images()? {
        for name in &img.names {
            out.push(name.clone());
            if !current.is_empty() {
                if let Some((first, rest)) = name.split_once('/') {
                    if first.contains(['.', ':']) || first == "localhost" {
                        out.push(rest.to_string());
                    }
                }
            }
        }
        if current.len() >= 2 {
            out.push(img.id[..12.min(img.id.len())].to_string());
        }
    }
    Ok(out)
}

/// `cp`'s source or destination: `CONTAINER:` first, then paths inside that container.
fn copy_side(current: &str, engine: &dyn Fn() -> anyhow::Result<Engine>) -> (Vec<Candidate>, u32) {
    let Ok(engine) = engine() else { return (Vec::new(), ERROR) };
    if let Some((name, path)) = current.split_once(':') {
        if !name.is_empty() && !name.starts_with('/') && !name.starts_with('.') {
            let prefix = format!("{name}:");
            return paths(path, &prefix, |p| engine.container_dir_entries(name, p).ok().flatten());
        }
    }
    let names = containers(&engine, current).unwrap_or_default();
    // A host path is as good as a container's: the shell completes those when nothing matches.
    (plain(names.into_iter().map(|n| format!("{n}:")).filter(|n| n.starts_with(current))), NO_SPACE)
}

/// Paths inside a root that `list` reads (a directory's entries, each with whether it is a
/// directory; `None` when there is no directory there): the entries of the directory typed so
/// far that start with the last component, a `/` after directories; a directory typed in full
/// is listed too. `prefix` goes before each (`ctr:`).
fn paths(current: &str, prefix: &str, list: impl Fn(&str) -> Option<Vec<(String, bool)>>) -> (Vec<Candidate>, u32) {
    let typed = if current.is_empty() { "/" } else { current };
    let (dir, base) = match typed.rfind('/') {
        _ if typed.ends_with("/..") || typed == ".." || typed.ends_with("/.") || typed == "." => {
            (format!("{typed}/"), String::new())
        }
        Some(i) => (typed[..=i].to_string(), typed[i + 1..].to_string()),
        None => (String::new(), typed.to_string()),
    };
    let shown = |dir: &str, name: &str, is_dir: bool| format!("{prefix}{dir}{name}{}", if is_dir { "/" } else { "" });
    let Some(entries) = list(if dir.is_empty() { "." } else { &dir }) else {
        return (Vec::new(), NO_SPACE | NO_FILE_COMP);
    };
    let matching: Vec<(String, bool)> = entries.into_iter().filter(|(n, _)| n.starts_with(&base)).collect();
    let mut out: Vec<String> = matching.iter().map(|(n, d)| shown(&dir, n, *d)).collect();
    if let [(name, true)] = matching.as_slice() {
        if *name == base {
            let inner = format!("{dir}{name}/");
            for (n, d) in list(&inner).unwrap_or_default() {
                out.push(shown(&inner, &n, d));
            }
        }
    }
    let directive = match matching.as_slice() {
        [(_, false)] => NO_FILE_COMP, // one file: done, a space after it
        _ => NO_SPACE | NO_FILE_COMP,
    };
    (plain(out), directive)
}

/// `berth completion SHELL`: the script that completes berth's command lines in that shell.
#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish
    #[arg(value_name = "SHELL", value_parser = clap::builder::PossibleValuesParser::new([
        PossibleValue::new("bash"),
        PossibleValue::new("zsh"),
        PossibleValue::new("fish"),
        // Podman's too: refused below, with what to use instead
        PossibleValue::new("powershell").hide(true),
    ]))]
    pub shell: String,
    /// Write the script to this file rather than to standard output
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Leave the descriptions of commands and flags out of the candidates
    #[arg(long)]
    pub no_desc: bool,
}

pub fn script(args: &CompletionArgs) -> anyhow::Result<ExitCode> {
    let program = crate::usage::program();
    let request = if args.no_desc { COMPLETE_NO_DESC } else { COMPLETE };
    let template = match args.shell.as_str() {
        "bash" => BASH,
        "zsh" => ZSH,
        "fish" => FISH,
        other => anyhow::bail!("completion for {other} is not available: choose bash, zsh or fish"),
    };
    let fn_name: String = program.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let text = template.replace("@PROG@", &program).replace("@FN@", &fn_name).replace("@REQUEST@", request);
    match &args.file {
        Some(path) => std::fs::write(path, text).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Bash: the line up to the cursor split into words (a `:` or `=` in a word stays in it), the
/// candidates from `__completeNoDesc` (bash shows no descriptions), the directive applied.
const BASH: &str = r#"# bash completion for @PROG@: source it, or put it in /etc/bash_completion.d/@PROG@
_@FN@_complete() {
    local line=${COMP_LINE:0:COMP_POINT} out directive cur trim c
    local -a words
    read -ra words <<<"$line"
    [[ $line == *[[:space:]] ]] && words+=("")
    cur=${words[${#words[@]}-1]}
    out=$("${words[0]}" __completeNoDesc "${words[@]:1}" 2>/dev/null) || return
    directive=${out##*:}
    out=${out%:*}
    [[ $directive =~ ^[0-9]+$ ]] || return
    COMPREPLY=()
    (( directive & 1 )) && return
    if (( directive & 8 )); then
        # the candidates are file extensions
        local exts
        exts=$(tr '\n' '|' <<<"${out%$'\n'}")
        compopt -o filenames
        mapfile -t COMPREPLY < <(shopt -s extglob; compgen -f -X "!*.@(${exts%|})" -- "$cur")
        return
    fi
    if (( directive & 16 )); then
        # directories only, under the one given if any
        local sub=${out%%$'\n'*}
        compopt -o filenames
        if [[ -n $sub ]]; then
            mapfile -t COMPREPLY < <(cd "$sub" 2>/dev/null && compgen -d -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        fi
        return
    fi
    # bash replaces only what follows the last ':' or '=' (COMP_WORDBREAKS): so do the candidates
    [[ $cur == *[:=]* && $COMP_WORDBREAKS == *:* ]] && trim=${cur%"${cur##*[:=]}"}
    while IFS= read -r c; do
        [[ -n $c ]] && COMPREPLY+=("${c#"$trim"}")
    done <<<"$out"
    (( directive & 2 )) && compopt -o nospace
    (( directive & 32 )) && compopt -o nosort 2>/dev/null
    if (( ${#COMPREPLY[@]} == 0 )) && ! (( directive & 4 )); then
        compopt -o default
    fi
    return 0
}
complete -o bashdefault -F _@FN@_complete @PROG@
"#;

const ZSH: &str = r#"#compdef @PROG@
# zsh completion for @PROG@: put it as _@PROG@ in a directory of $fpath
_@FN@() {
    local out directive line value about
    local -a cands opts
    out=$(${words[1]} @REQUEST@ "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null) || return 1
    directive=${out##*:}
    out=${out%:*}
    [[ $directive == <-> ]] || return 1
    (( directive & 1 )) && return 1
    if (( directive & 8 )); then
        _files -g "*.(${(j:|:)${(f)out}})"
        return
    fi
    if (( directive & 16 )); then
        local sub=${${(f)out}[1]}
        if [[ -n $sub ]]; then _files -W "$sub" -/; else _files -/; fi
        return
    fi
    for line in ${(f)out}; do
        value=${line%%$'\t'*}
        about=
        [[ $line == *$'\t'* ]] && about=${line#*$'\t'}
        cands+=("${value//:/\\:}${about:+:$about}")
    done
    if (( ${#cands} == 0 )); then
        (( directive & 4 )) && return 1
        _files
        return
    fi
    (( directive & 2 )) && opts+=(-S '')
    if (( directive & 32 )); then
        _describe -V completions cands "${opts[@]}"
    else
        _describe completions cands "${opts[@]}"
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _@FN@ "$@"
else
    compdef _@FN@ @PROG@
fi
"#;

const FISH: &str = r#"# fish completion for @PROG@: put it in ~/.config/fish/completions/@PROG@.fish
function __@FN@_complete
    set -l args (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($args[1] @REQUEST@ $args[2..-1] $cur 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or return
    set -e out[-1]
    test (math "$directive % 2") -eq 1; and return
    if test (math "floor($directive / 8) % 2") -eq 1
        for ext in $out
            __fish_complete_suffix $cur .$ext
        end
        return
    end
    if test (math "floor($directive / 16) % 2") -eq 1
        __fish_complete_directories $cur
        return
    end
    if test (count $out) -eq 0
        test (math "floor($directive / 4) % 2") -eq 0; and __fish_complete_path $cur
        return
    end
    printf '%s\n' $out
    # no space after the one candidate: a second one makes fish stop at their common prefix
    if test (math "floor($directive / 2) % 2") -eq 1; and test (count $out) -eq 1
        printf '%s.\n' (string split -m1 \t -- $out[1])[1]
    end
end
complete -c @PROG@ -f -a '(__@FN@_complete)'
"#;
