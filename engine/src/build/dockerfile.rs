//! A Containerfile (Dockerfile), parsed: the stages and their instructions, each with the line
//! it starts on. Words are kept as written (quotes, `$VAR`s): which ones are expanded, and with
//! which variables, depends on where the build is when it reaches them (`words::process`).

/// A parsed Containerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character (`# escape=` directive; `\` by default).
    pub escape: char,
    /// The ARGs before the first FROM: usable in FROM lines, and in a stage after it declares
    /// them again without a value.
    pub global_args: Vec<ArgDecl>,
    pub stages: Vec<Stage>,
}

/// `FROM image [AS name]` and what follows it until the next FROM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Its place among the stages, from 0 (what `COPY --from=0` names).
    pub index: usize,
    /// The image, unexpanded (`scratch`, a reference, or an earlier stage's name).
    pub base: String,
    /// `AS name`, lowercased.
    pub name: Option<String>,
    /// `--platform=…`, unexpanded.
    pub platform: Option<String>,
    /// The FROM line's number (from 1).
    pub line: usize,
    pub instructions: Vec<Instruction>,
}

/// One instruction after a FROM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The line it starts on (from 1).
    pub line: usize,
    /// The instruction as written, without the heredoc bodies, continuation lines joined as
    /// Docker joins them (the escape character and the line break go, the spaces around them
    /// stay: `RUN apt-get update &&     apt-get install -y gcc`): what history and the build
    /// log show, and part of the cache key.
    pub text: String,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Run(Run),
    Copy(Copy),
    Add(Copy),
    /// `ENV k=v …` or `ENV k v`: keys and raw values.
    Env(Vec<(String, String)>),
    Arg(Vec<ArgDecl>),
    /// `LABEL k=v …`: raw keys and values.
    Label(Vec<(String, String)>),
    Workdir(String),
    User(String),
    /// Raw words (`80/tcp`, `$PORT`).
    Expose(Vec<String>),
    /// Raw paths (JSON array or words).
    Volume(Vec<String>),
    Entrypoint(Command),
    Cmd(Command),
    /// The JSON array.
    Shell(Vec<String>),
    StopSignal(String),
    /// `HEALTHCHECK NONE` is `None`.
    Healthcheck(Option<Healthcheck>),
    /// The instruction stored for images built from this one, as written.
    OnBuild(String),
    Maintainer(String),
}

/// A command in exec form (a JSON array) or shell form (the rest of the line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Exec(Vec<String>),
    Shell(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub command: Command,
    /// `--mount=…` values, as written.
    pub mounts: Vec<String>,
    /// `--network=…`.
    pub network: Option<String>,
    /// `<<EOF` documents, in order. With a shell-form command that is only `<<EOF` (the
    /// common case), the first document is the script.
    pub heredocs: Vec<Heredoc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    /// Raw source words (globs, `$VAR`s, URLs for ADD; a heredoc's name for `COPY <<EOF /dest`).
    pub sources: Vec<String>,
    /// The raw destination.
    pub dest: String,
    /// `--from=stage|image|index`.
    pub from: Option<String>,
    /// `--chown=user[:group]`.
    pub chown: Option<String>,
    /// `--chmod=octal`.
    pub chmod: Option<String>,
    /// `--link`: accepted, has no other effect here.
    pub link: bool,
    /// `COPY <<EOF /dest` documents: a source naming one is a file with its body.
    pub heredocs: Vec<Heredoc>,
}

/// A here-document: `<<NAME` (expanded), `<<"NAME"`/`<<'NAME'` (not expanded), `<<-NAME`
/// (leading tabs stripped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// The lines between the marker and the line that is only NAME, each ending in `\n`.
    pub body: String,
    pub expand: bool,
}

/// `ARG name[=default]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    /// The raw default.
    pub default: Option<String>,
}

/// `HEALTHCHECK [OPTIONS] CMD …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Healthcheck {
    /// As the image config stores it: `["CMD", args…]` or `["CMD-SHELL", "line"]`.
    pub test: Vec<String>,
    /// Nanoseconds; 0 when not given.
    pub interval: u64,
    pub timeout: u64,
    pub start_period: u64,
    pub start_interval: u64,
    pub retries: u32,
}

/// A parse error: the line it is on and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// The instructions, as Docker spells them.
const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses a Containerfile: its parser directives, then its instructions (names in any case,
/// continuation lines, comments, here-documents), each checked for the arguments and flags it
/// takes. Words stay raw.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Lines { lines: text.lines().collect(), next: 0 };
    let escape = lines.directives()?;
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    while let Some((line, text)) = lines.instruction(escape) {
        let error = |message: String| ParseError { line, message };
        let (name, rest) = split_name(&text);
        let upper = name.to_ascii_uppercase();
        if upper == "FROM" {
            let stage = from(rest, stages.len(), line).map_err(error)?;
            if let Some(name) = &stage.name {
                if let Some(other) = stages.iter().find(|s| s.name.as_ref() == Some(name)) {
                    return Err(error(format!(
                        "duplicate stage name \"{name}\" (also on line {}): give each stage its own name",
                        other.line
                    )));
                }
            }
            stages.push(stage);
            continue;
        }
        let (mut kind, markers) = instruction(&upper, name, rest, escape).map_err(error)?;
        let Some(stage) = stages.last_mut() else {
            match kind {
                Kind::Arg(args) => {
                    global_args.extend(args);
                    continue;
                }
                _ => {
                    return Err(error(format!(
                        "{upper} before the first FROM: a Containerfile starts with FROM (only ARG may come before it)"
                    )))
                }
            }
        };
        if !markers.is_empty() {
            let docs = lines.heredocs(&markers).map_err(error)?;
            match &mut kind {
                Kind::Run(run) => run.heredocs = docs,
                Kind::Copy(copy) | Kind::Add(copy) => copy.heredocs = docs,
                _ => {}
            }
        }
        stage.instructions.push(Instruction { line, text, kind });
    }
    if stages.is_empty() {
        return Err(ParseError { line: 1, message: "no FROM instruction: a Containerfile starts with FROM".into() });
    }
    Ok(Dockerfile { escape, global_args, stages })
}

/// The file's lines, read front to back.
struct Lines<'a> {
    lines: Vec<&'a str>,
    /// The index of the next line to read (its number is one more).
    next: usize,
}

impl Lines<'_> {
    /// The parser directives at the top (`# escape=…`, `# syntax=…`, `# check=…`): they end at
    /// the first line that is not one. Returns the escape character.
    fn directives(&mut self) -> Result<char, ParseError> {
        let mut escape = '\\';
        let mut seen: Vec<String> = Vec::new();
        while let Some((key, value)) = self.lines.get(self.next).and_then(|l| directive(l)) {
            let line = self.next + 1;
            let key = key.to_ascii_lowercase();
            if !["escape", "syntax", "check"].contains(&key.as_str()) {
                break;
            }
            if seen.contains(&key) {
                return Err(ParseError {
                    line,
                    message: format!("the {key} directive is given twice: keep one `# {key}=` line"),
                });
            }
            if key == "escape" {
                escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(ParseError {
                            line,
                            message: format!("invalid escape character \"{value}\": use # escape=\\ or # escape=`"),
                        })
                    }
                };
            }
            seen.push(key);
            self.next += 1;
        }
        Ok(escape)
    }

    /// The next instruction's first line number and text, its continuation lines joined (the
    /// escape character at their end removed), blank and comment lines skipped.
    fn instruction(&mut self, escape: char) -> Option<(usize, String)> {
        loop {
            let first = self.lines.get(self.next)?.trim_start();
            self.next += 1;
            if first.is_empty() || first.starts_with('#') {
                continue;
            }
            let line = self.next;
            let (part, mut more) = continued(first, escape);
            let mut text = part.to_string();
            while more {
                let Some(next) = self.lines.get(self.next) else { break };
                self.next += 1;
                let trimmed = next.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                let (part, m) = continued(next, escape);
                text.push_str(part);
                more = m;
            }
            let text = text.trim_end();
            if !text.is_empty() {
                return Some((line, text.to_string()));
            }
        }
    }

    /// The bodies of the here-documents an instruction names, read from the lines after it.
    fn heredocs(&mut self, markers: &[Marker]) -> Result<Vec<Heredoc>, String> {
        let mut docs = Vec::new();
        for marker in markers {
            let mut body = String::new();
            loop {
                let Some(line) = self.lines.get(self.next) else {
                    return Err(format!(
                        "unterminated heredoc <<{0}: end it with a line that is only {0}",
                        marker.name
                    ));
                };
                self.next += 1;
                let line = if marker.strip_tabs { line.trim_start_matches('\t') } else { line };
                if line == marker.name {
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            docs.push(Heredoc { name: marker.name.clone(), body, expand: marker.expand });
        }
        Ok(docs)
    }
}

/// `# key=value` at the top of the file.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let key = &rest[..end];
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[end..].trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((key, value))
}

/// A line without the escape character (and blanks after it) that continues it on the next.
fn continued(line: &str, escape: char) -> (&str, bool) {
    match line.trim_end_matches([' ', '\t']).strip_suffix(escape) {
        Some(part) => (part, true),
        None => (line, false),
    }
}

/// The first word and the rest, blanks between them dropped.
fn split_name(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((name, rest)) => (name, rest.trim()),
        None => (text, ""),
    }
}

/// A `<<NAME` on an instruction's line: its body is read after the line.
#[derive(Debug)]
struct Marker {
    name: String,
    strip_tabs: bool,
    expand: bool,
}

/// The here-document a raw word opens: `<<NAME`, `<<-NAME`, with a file descriptor before it or
/// not (`3<<EOF`). Quotes around the name or a part of it (`<<"EOF"`, `<<'EOF'`, `<<E"O"F`) are
/// removed and turn expansion off; an escaped character is taken as it is (`<<eo\'f` is `eo'f`).
fn marker(word: &str, escape: char) -> Result<Option<Marker>, String> {
    let Some(rest) = word.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix("<<") else {
        return Ok(None);
    };
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.contains('<') {
        return Ok(None);
    }
    let mut name = String::new();
    let mut quote = None;
    let mut quoted = false;
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => name.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                quoted = true;
            }
            None if c == escape => name.extend(chars.next()),
            None => name.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in the heredoc {word}: close the quote around its name"));
    }
    Ok((!name.is_empty()).then_some(Marker { name, strip_tabs, expand: !quoted }))
}

/// The here-documents a shell-form line or COPY's raw words open.
fn markers(words: &[String], escape: char) -> Result<Vec<Marker>, String> {
    words.iter().filter_map(|word| marker(word, escape).transpose()).collect()
}

/// Words split on blanks outside quotes, kept as written (quotes and escapes stay).
fn split_raw(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == q {
                    quote = None;
                } else if c == escape && q == '"' {
                    word.extend(chars.next());
                }
            }
            None if c == escape => {
                word.push(c);
                word.extend(chars.next());
            }
            None if c == '"' || c == '\'' => {
                word.push(c);
                quote = Some(c);
            }
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Where the first `=` outside quotes is in a raw word.
fn unquoted_eq(word: &str, escape: char) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in word.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => escaped = true,
            Some(_) => {}
            None if c == escape => escaped = true,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '=' => return Some(i),
            None => {}
        }
    }
    None
}

/// A JSON array of strings (exec form), or `None` when the text is not one (shell form, as
/// Docker falls back to).
fn json_array(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str(text).ok()
}

fn command(text: &str) -> Command {
    match json_array(text) {
        Some(args) => Command::Exec(args),
        None => Command::Shell(text.to_string()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagKind {
    /// `--name=value`, once.
    Value,
    /// `--name=value`, any number of times.
    Many,
    /// `--name`, `--name=true`, `--name=false`.
    Bool,
}

/// The flags at the start of an instruction's arguments: names and values.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn one(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    fn many(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }

    fn on(&self, name: &str) -> bool {
        self.one(name).is_some_and(|v| v == "true")
    }
}

/// The `--flag[=value]` words at the start of `rest` (quotes in them removed, `\` escaping the
/// next character, as Docker reads them; `--` ends them), checked against those `instruction`
/// takes; and what follows them.
fn flags<'a>(rest: &'a str, instruction: &str, allowed: &[(&str, FlagKind)]) -> Result<(Flags, &'a str), String> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut rest = rest.trim_start();
    while rest.starts_with("--") {
        let (word, after) = flag_word(rest);
        rest = after.trim_start();
        if word == "--" {
            break;
        }
        let body = &word[2..];
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let Some(&(_, kind)) = allowed.iter().find(|(n, _)| *n == name) else {
            return Err(unknown_flag(instruction, name, allowed));
        };
        if kind != FlagKind::Many && found.iter().any(|(n, _)| n == name) {
            return Err(format!("--{name} is given twice for {instruction}: give it once"));
        }
        let value = match (kind, value) {
            (FlagKind::Bool, None | Some("true")) => "true".to_string(),
            (FlagKind::Bool, Some("false")) => "false".to_string(),
            (FlagKind::Bool, Some(v)) => {
                return Err(format!(
                    "--{name}={v} for {instruction}: --{name} is on or off, give --{name} or --{name}=false"
                ))
            }
            (_, None | Some("")) => {
                return Err(format!("--{name} for {instruction} needs a value: --{name}=<value>"));
            }
            (_, Some(v)) => v.to_string(),
        };
        found.push((name.to_string(), value));
    }
    Ok((Flags(found), rest))
}

fn unknown_flag(instruction: &str, name: &str, allowed: &[(&str, FlagKind)]) -> String {
    if instruction == "ADD" && name == "from" {
        return "unknown flag --from for ADD: ADD does not copy from a stage or an image, use COPY --from=<stage or image>"
            .into();
    }
    let takes: Vec<String> = allowed.iter().map(|(n, _)| format!("--{n}")).collect();
    format!("unknown flag --{name} for {instruction}: it takes {}", takes.join(", "))
}

/// One flag word and what follows it.
fn flag_word(text: &str) -> (String, &str) {
    let mut word = String::new();
    let mut quote = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => return (word, &text[i..]),
            _ if c == '\\' => word.extend(chars.next().map(|(_, c)| c)),
            _ => word.push(c),
        }
    }
    (word, "")
}

/// `FROM [--platform=…] image [AS name]`: the stage it starts.
fn from(rest: &str, index: usize, line: usize) -> Result<Stage, String> {
    const USAGE: &str = "FROM [--platform=<platform>] <image> [AS <name>]";
    let (flags, rest) = flags(rest, "FROM", &[("platform", FlagKind::Value)])?;
    // Words on blanks only: an image or a stage name has no quotes.
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (base, name) = match words.as_slice() {
        [] => return Err(format!("FROM needs an image: {USAGE}")),
        [base] => (base, None),
        [base, as_, name] if as_.eq_ignore_ascii_case("as") => (base, Some(name.to_ascii_lowercase())),
        _ => return Err(format!("FROM takes an image and an optional AS name, not \"{rest}\": {USAGE}")),
    };
    if let Some(name) = &name {
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !valid {
            return Err(format!(
                "invalid stage name \"{name}\": a stage name starts with a letter and has only letters, digits, -, _ and ."
            ));
        }
    }
    Ok(Stage { index, base: base.to_string(), name, platform: flags.one("platform"), line, instructions: Vec::new() })
}

/// An instruction other than FROM, from its name (upper case, and as written) and arguments;
/// with the here-documents whose bodies follow its line.
fn instruction(upper: &str, name: &str, rest: &str, escape: char) -> Result<(Kind, Vec<Marker>), String> {
    let needs = |what: &str, usage: &str| -> Result<(), String> {
        match rest.is_empty() {
            true => Err(format!("{upper} needs {what}: {usage}")),
            false => Ok(()),
        }
    };
    let mut markers = Vec::new();
    let kind = match upper {
        "RUN" => {
            let (flags, rest) = flags(rest, "RUN", &[("mount", FlagKind::Many), ("network", FlagKind::Value)])?;
            if rest.is_empty() {
                return Err("RUN needs a command: RUN <command> or RUN [\"executable\", \"arg\"]".into());
            }
            let command = command(rest);
            if let Command::Shell(line) = &command {
                markers = self::markers(&split_raw(line, escape), escape)?;
            }
            Kind::Run(Run { command, mounts: flags.many("mount"), network: flags.one("network"), heredocs: Vec::new() })
        }
        "COPY" | "ADD" => {
            let copy = copy(upper, rest, escape, &mut markers)?;
            if upper == "COPY" {
                Kind::Copy(copy)
            } else {
                Kind::Add(copy)
            }
        }
        "ENV" => Kind::Env(pairs(upper, rest, escape)?),
        "LABEL" => Kind::Label(pairs(upper, rest, escape)?),
        "ARG" => {
            needs("a name", "ARG <name>[=<default>]")?;
            let args = split_raw(rest, escape)
                .into_iter()
                .map(|word| {
                    let decl = match unquoted_eq(&word, escape) {
                        Some(i) => ArgDecl { name: word[..i].to_string(), default: Some(word[i + 1..].to_string()) },
                        None => ArgDecl { name: word.clone(), default: None },
                    };
                    match decl.name.is_empty() {
                        true => Err(format!("ARG {word} has no name: ARG <name>[=<default>]")),
                        false => Ok(decl),
                    }
                })
                .collect::<Result<_, _>>()?;
            Kind::Arg(args)
        }
        "WORKDIR" => {
            needs("a directory", "WORKDIR <path>")?;
            Kind::Workdir(rest.to_string())
        }
        "USER" => {
            needs("a user", "USER <user>[:<group>]")?;
            Kind::User(rest.to_string())
        }
        "EXPOSE" => {
            needs("a port", "EXPOSE <port>[/<protocol>] …")?;
            Kind::Expose(split_raw(rest, escape))
        }
        "VOLUME" => {
            needs("a path", "VOLUME <path> … or VOLUME [\"<path>\", …]")?;
            let paths = json_array(rest).unwrap_or_else(|| split_raw(rest, escape));
            if paths.is_empty() || paths.iter().any(|p| p.trim().is_empty()) {
                return Err("VOLUME has an empty path: give each volume a path".into());
            }
            Kind::Volume(paths)
        }
        "ENTRYPOINT" | "CMD" => {
            needs("a command", &format!("{upper} [\"executable\", \"arg\"] or {upper} <command line>"))?;
            match upper {
                "CMD" => Kind::Cmd(command(rest)),
                _ => Kind::Entrypoint(command(rest)),
            }
        }
        "SHELL" => match json_array(rest) {
            Some(shell) if !shell.is_empty() => Kind::Shell(shell),
            _ => return Err("SHELL needs a JSON array: SHELL [\"/bin/sh\", \"-c\"]".into()),
        },
        "STOPSIGNAL" => {
            needs("a signal", "STOPSIGNAL <signal>")?;
            if rest.contains(char::is_whitespace) {
                return Err(format!("STOPSIGNAL takes one signal, not \"{rest}\": STOPSIGNAL SIGTERM"));
            }
            Kind::StopSignal(rest.to_string())
        }
        "HEALTHCHECK" => Kind::Healthcheck(healthcheck(rest)?),
        "ONBUILD" => {
            needs("an instruction", "ONBUILD <instruction>")?;
            let (inner, inner_rest) = split_name(rest);
            let inner_upper = inner.to_ascii_uppercase();
            if ["ONBUILD", "FROM", "MAINTAINER"].contains(&inner_upper.as_str()) {
                return Err(format!(
                    "ONBUILD {inner_upper} is not allowed: ONBUILD takes an instruction such as RUN or COPY"
                ));
            }
            instruction(&inner_upper, inner, inner_rest, escape).map_err(|e| format!("ONBUILD {inner}: {e}"))?;
            Kind::OnBuild(rest.to_string())
        }
        "MAINTAINER" => {
            needs("a name", "MAINTAINER <name>")?;
            Kind::Maintainer(rest.to_string())
        }
        _ => return Err(unknown_instruction(name)),
    };
    Ok((kind, markers))
}

fn unknown_instruction(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    match INSTRUCTIONS.iter().find(|known| distance(known, &upper) <= 1) {
        Some(known) => format!("unknown instruction: {name} (did you mean {known}?)"),
        None => format!("unknown instruction: {name}: the instructions are {}", INSTRUCTIONS.join(", ")),
    }
}

/// The edit distance between two words.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `COPY`/`ADD [flags] <source>… <destination>` or the JSON array of them.
fn copy(upper: &str, rest: &str, escape: char, markers: &mut Vec<Marker>) -> Result<Copy, String> {
    use FlagKind::*;
    let allowed: &[(&str, FlagKind)] = match upper {
        "COPY" => &[("from", Value), ("chown", Value), ("chmod", Value), ("link", Bool)],
        _ => &[("chown", Value), ("chmod", Value), ("link", Bool)],
    };
    let (flags, rest) = flags(rest, upper, allowed)?;
    let (mut words, json) = match json_array(rest) {
        Some(words) => (words, true),
        None => (split_raw(rest, escape), false),
    };
    if !json {
        // A quote left open in a heredoc's name takes the rest of the line: say so first.
        self::markers(&words, escape)?;
    }
    if words.len() < 2 {
        let from = if upper == "COPY" { "[--from=<stage>] " } else { "" };
        return Err(format!("{upper} needs a source and a destination: {upper} {from}<source>… <destination>"));
    }
    let dest = words.pop().unwrap_or_default();
    if !json {
        for word in &mut words {
            if let Some(m) = marker(word, escape)? {
                *word = m.name.clone();
                markers.push(m);
            }
        }
    }
    Ok(Copy {
        sources: words,
        dest,
        from: flags.one("from"),
        chown: flags.one("chown"),
        chmod: flags.one("chmod"),
        link: flags.on("link"),
        heredocs: Vec::new(),
    })
}

/// `ENV`/`LABEL k=v …` (split on blanks outside quotes and at the first `=` outside quotes), or
/// the old `ENV k the rest of the line`.
fn pairs(upper: &str, rest: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let usage = format!("{upper} <name>=<value> … or {upper} <name> <value>");
    let words = split_raw(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{upper} needs a name and a value: {usage}"));
    };
    if unquoted_eq(first, escape).is_none() {
        let (name, value) = split_name(rest);
        if value.is_empty() {
            return Err(format!("{upper} {name} has no value: {upper} {name}=<value> or {upper} {name} <value>"));
        }
        return Ok(vec![(name.to_string(), value.to_string())]);
    }
    words
        .iter()
        .map(|word| match unquoted_eq(word, escape) {
            Some(0) => Err(format!("{upper} {word}: the pair has no name: {usage}")),
            Some(i) => Ok((word[..i].to_string(), word[i + 1..].to_string())),
            None => Err(format!(
                "{upper} {word}: not a <name>=<value> pair (a value with spaces needs quotes: name=\"a b\")"
            )),
        })
        .collect()
}

/// `HEALTHCHECK [options] CMD …` or `HEALTHCHECK NONE`.
fn healthcheck(rest: &str) -> Result<Option<Healthcheck>, String> {
    const USAGE: &str = "HEALTHCHECK [--interval=30s] [--timeout=30s] [--start-period=0s] [--start-interval=5s] [--retries=3] CMD <command>, or HEALTHCHECK NONE";
    use FlagKind::Value;
    let allowed = [
        ("interval", Value),
        ("timeout", Value),
        ("start-period", Value),
        ("start-interval", Value),
        ("retries", Value),
    ];
    let (flags, rest) = flags(rest, "HEALTHCHECK", &allowed)?;
    let (kind, command_line) = split_name(rest);
    match kind.to_ascii_uppercase().as_str() {
        "NONE" if !flags.0.is_empty() || !command_line.is_empty() => {
            Err(format!("HEALTHCHECK NONE takes no options and nothing after it: {USAGE}"))
        }
        "NONE" => Ok(None),
        "CMD" => {
            let test = match command(command_line) {
                Command::Exec(args) if !args.is_empty() => [vec!["CMD".to_string()], args].concat(),
                Command::Shell(line) if !line.is_empty() => vec!["CMD-SHELL".to_string(), line],
                _ => return Err(format!("HEALTHCHECK CMD needs a command: {USAGE}")),
            };
            let duration = |name: &str| -> Result<u64, String> {
                let Some(value) = flags.one(name) else { return Ok(0) };
                match parse_duration(&value) {
                    Some(d) if d != 0 && d < 1_000_000 => {
                        Err(format!("--{name}={value} for HEALTHCHECK is less than 1ms: give 0 or at least 1ms"))
                    }
                    Some(d) => Ok(d),
                    None => Err(format!(
                        "bad duration \"{value}\" for HEALTHCHECK --{name}: give a number and a unit, like 30s, 1m30s or 500ms"
                    )),
                }
            };
            let retries = match flags.one("retries") {
                None => 0,
                Some(v) => v.parse().map_err(|_| {
                    format!("bad --retries=\"{v}\" for HEALTHCHECK: give a whole number of tries, like --retries=3")
                })?,
            };
            Ok(Some(Healthcheck {
                test,
                interval: duration("interval")?,
                timeout: duration("timeout")?,
                start_period: duration("start-period")?,
                start_interval: duration("start-interval")?,
                retries,
            }))
        }
        "" => Err(format!("HEALTHCHECK needs CMD or NONE: {USAGE}")),
        _ => Err(format!("unknown HEALTHCHECK type \"{kind}\": {USAGE}")),
    }
}

/// A duration as Go writes one (`30s`, `1m30s`, `1.5h`, `500ms`, `0`), in nanoseconds; `None`
/// when it is not one, negative, or beyond Go's (an `i64` of nanoseconds).
fn parse_duration(text: &str) -> Option<u64> {
    if text == "0" {
        return Some(0);
    }
    let digits_end = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut rest = text;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let (whole, after) = rest.split_at(digits_end(rest));
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(digits_end(after)),
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let scale: u64 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut value = whole.checked_mul(scale)?;
        if !fraction.is_empty() {
            let (mut numerator, mut denominator) = (0u128, 1u128);
            for digit in fraction.bytes().take(18) {
                numerator = numerator * 10 + u128::from(digit - b'0');
                denominator *= 10;
            }
            value = value.checked_add(u64::try_from(numerator * u128::from(scale) / denominator).ok()?)?;
        }
        total = total.checked_add(value)?;
        rest = after;
    }
    (total <= i64::MAX as u64).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The instructions of the one stage of `FROM base` and `body`.
    fn stage(body: &str) -> Vec<Instruction> {
        let file = parse(&format!("FROM base\n{body}")).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        assert_eq!(file.stages.len(), 1);
        file.stages.into_iter().next().unwrap().instructions
    }

    /// The kind of the one instruction `body` is, after `FROM base`.
    fn check(body: &str, expected: Kind) {
        let instructions = stage(body);
        assert_eq!(instructions.len(), 1, "{body:?}: {instructions:?}");
        assert_eq!(instructions[0].kind, expected, "{body:?}");
    }

    /// The line and message `text` fails with; the message must contain `contains`.
    fn check_error(text: &str, line: usize, contains: &str) {
        let err = parse(text).expect_err(text);
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.message.contains(contains), "{text:?}: {err}");
        assert_eq!(err.to_string(), format!("line {line}: {}", err.message));
    }

    fn shell_run(line: &str) -> Kind {
        Kind::Run(Run { command: Command::Shell(line.into()), mounts: vec![], network: None, heredocs: vec![] })
    }

    fn copy(sources: &[&str], dest: &str) -> Copy {
        Copy {
            sources: s(sources),
            dest: dest.into(),
            from: None,
            chown: None,
            chmod: None,
            link: false,
            heredocs: vec![],
        }
    }

    fn doc(name: &str, body: &str, expand: bool) -> Heredoc {
        Heredoc { name: name.into(), body: body.into(), expand }
    }

    #[test]
    fn stages_and_global_args() {
        let file = parse(
            "ARG VERSION=3.19\nARG A B=2\n\nfrom --platform=$BUILDPLATFORM alpine:$VERSION AS Build\nRUN make\n\
             FROM scratch\nCOPY --from=build /out /\nFrom build as final\n",
        )
        .unwrap();
        assert_eq!(file.escape, '\\');
        assert_eq!(
            file.global_args,
            vec![
                ArgDecl { name: "VERSION".into(), default: Some("3.19".into()) },
                ArgDecl { name: "A".into(), default: None },
                ArgDecl { name: "B".into(), default: Some("2".into()) },
            ]
        );
        let summary: Vec<_> = file
            .stages
            .iter()
            .map(|s| (s.index, s.base.as_str(), s.name.as_deref(), s.platform.as_deref(), s.line, s.instructions.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, "alpine:$VERSION", Some("build"), Some("$BUILDPLATFORM"), 4, 1),
                (1, "scratch", None, None, 6, 1),
                (2, "build", Some("final"), None, 8, 0),
            ]
        );
        let run = &file.stages[0].instructions[0];
        assert_eq!((run.line, run.text.as_str()), (5, "RUN make"));
    }

    #[test]
    fn directives_set_the_escape_character() {
        let file = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN dir `\n  c:\\ `\n  /s\n").unwrap();
        assert_eq!(file.escape, '`');
        assert_eq!(file.stages[0].instructions[0].kind, shell_run("dir   c:\\   /s"));
        // Directives only count at the very top.
        let file = parse("FROM x\n# escape=`\nRUN a \\\n b\n").unwrap();
        assert_eq!(file.escape, '\\');
        assert_eq!(file.stages[0].instructions[0].kind, shell_run("a  b"));
        let file = parse("# comment\n# escape=`\nFROM x\n").unwrap();
        assert_eq!(file.escape, '\\', "a comment ends the directives");
        let file = parse("#ESCAPE = \\\nFROM x\n").unwrap();
        assert_eq!(file.escape, '\\');
    }

    #[test]
    fn comments_and_continuations() {
        let instructions = stage(
            "# a comment\n  # indented comment\nRUN apt-get update && \\\n\
             # inside\n\n    apt-get install -y gcc \\  \n    make\nrun echo '# not a comment'\n",
        );
        assert_eq!(instructions.len(), 2);
        assert_eq!(instructions[0].line, 4);
        assert_eq!(instructions[0].text, "RUN apt-get update &&     apt-get install -y gcc     make");
        assert_eq!(instructions[0].kind, shell_run("apt-get update &&     apt-get install -y gcc     make"));
        assert_eq!((instructions[1].line, instructions[1].text.as_str()), (9, "run echo '# not a comment'"));
        assert_eq!(instructions[1].kind, shell_run("echo '# not a comment'"));
        // Windows line ends, a byte order mark, a continuation at the end of the file.
        let file = parse("\u{feff}FROM x\r\nRUN a \\\r\n b\r\nCMD c \\").unwrap();
        let kinds: Vec<_> = file.stages[0].instructions.iter().map(|i| i.kind.clone()).collect();
        assert_eq!(kinds, vec![shell_run("a  b"), Kind::Cmd(Command::Shell("c".into()))]);
    }

    #[test]
    fn run_forms_and_flags() {
        check("RUN echo hi", shell_run("echo hi"));
        check(
            "RUN [\"/bin/echo\", \"a b\"]",
            Kind::Run(Run {
                command: Command::Exec(s(&["/bin/echo", "a b"])),
                mounts: vec![],
                network: None,
                heredocs: vec![],
            }),
        );
        // Not a JSON array of strings: shell form, as Docker does.
        check("RUN [ \"a\", 1 ]", shell_run("[ \"a\", 1 ]"));
        check("RUN [not json", shell_run("[not json"));
        check(
            "RUN --mount=type=cache,target=/root/.cache --network=none --mount=type=secret,id=x make",
            Kind::Run(Run {
                command: Command::Shell("make".into()),
                mounts: s(&["type=cache,target=/root/.cache", "type=secret,id=x"]),
                network: Some("none".into()),
                heredocs: vec![],
            }),
        );
        check(
            "RUN --mount=\"type=bind,source=a b\" -- --weird",
            Kind::Run(Run {
                command: Command::Shell("--weird".into()),
                mounts: s(&["type=bind,source=a b"]),
                network: None,
                heredocs: vec![],
            }),
        );
    }

    #[test]
    fn heredocs() {
        let instructions = stage(
            "RUN <<EOF\napt-get update\n  # kept\n\nEOF\nRUN <<-EOT bash\n\tset -e\n\t\techo tab\n\tEOT\n\
             RUN python3 <<'PY' && cat <<\"A\" 3<<B\nprint(1)\nPY\n$x\nA\nb\nB\nCOPY <<EOF <<-TWO /dest/\none\nEOF\n\t2\n\tTWO\nRUN cat <<EOF \\\n  > file\nx\nEOF\n",
        );
        let summary: Vec<_> = instructions.iter().map(|i| (i.line, i.text.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (2, "RUN <<EOF"),
                (7, "RUN <<-EOT bash"),
                (11, "RUN python3 <<'PY' && cat <<\"A\" 3<<B"),
                (18, "COPY <<EOF <<-TWO /dest/"),
                (23, "RUN cat <<EOF   > file"),
            ]
        );
        let run = |i: usize| match &instructions[i].kind {
            Kind::Run(run) => run.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(run(0).command, Command::Shell("<<EOF".into()));
        assert_eq!(run(0).heredocs, vec![doc("EOF", "apt-get update\n  # kept\n\n", true)]);
        assert_eq!(run(1).heredocs, vec![doc("EOT", "set -e\necho tab\n", true)]);
        assert_eq!(run(2).command, Command::Shell("python3 <<'PY' && cat <<\"A\" 3<<B".into()));
        assert_eq!(
            run(2).heredocs,
            vec![doc("PY", "print(1)\n", false), doc("A", "$x\n", false), doc("B", "b\n", true)]
        );
        assert_eq!(
            instructions[3].kind,
            Kind::Copy(Copy {
                heredocs: vec![doc("EOF", "one\n", true), doc("TWO", "2\n", true)],
                ..copy(&["EOF", "TWO"], "/dest/")
            })
        );
        assert_eq!(run(4).heredocs, vec![doc("EOF", "x\n", true)]);
        // Names as BuildKit reads them: quotes anywhere turn expansion off, escapes do not.
        let instructions = stage(
            "RUN <<'one two'\necho\none two\nRUN <<eo\\'f\na\neo'f\nRUN <<'e'o\\'f\nb\neo'f\nRUN <<E\"O\"F\nc\nEOF\n\
             RUN <<$EOF\n$EOF\nCOPY <<X <<Y /d\nY\nX\nX\nY\nRUN <<EMPTY\nEMPTY\n",
        );
        let docs: Vec<_> = instructions
            .iter()
            .flat_map(|i| match &i.kind {
                Kind::Run(run) => run.heredocs.clone(),
                Kind::Copy(copy) => copy.heredocs.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            docs,
            vec![
                doc("one two", "echo\n", false),
                doc("eo'f", "a\n", true),
                doc("eo'f", "b\n", false),
                doc("EOF", "c\n", false),
                doc("$EOF", "", true),
                doc("X", "Y\n", true),
                doc("Y", "X\n", true),
                doc("EMPTY", "", true),
            ]
        );
        // `<<` that opens no document.
        check("RUN \"<<EOF\" '<<X'", shell_run("\"<<EOF\" '<<X'"));
        check("USER <<EOF", Kind::User("<<EOF".into()));
        check("RUN echo $((1<<2)) << x", shell_run("echo $((1<<2)) << x"));
        check("RUN cat <<<word", shell_run("cat <<<word"));
        check("RUN [\"cat\", \"<<EOF\"]", {
            Kind::Run(Run {
                command: Command::Exec(s(&["cat", "<<EOF"])),
                mounts: vec![],
                network: None,
                heredocs: vec![],
            })
        });
    }

    #[test]
    fn copy_and_add() {
        check("COPY a b /dest/", Kind::Copy(copy(&["a", "b"], "/dest/")));
        check("COPY [\"a b\", \"/d e\"]", Kind::Copy(copy(&["a b"], "/d e")));
        check("COPY \"my file\" $DEST", Kind::Copy(copy(&["\"my file\""], "$DEST")));
        check(
            "COPY --from=build --chown=app:app --chmod=0755 --link /out /usr/bin/",
            Kind::Copy(Copy {
                from: Some("build".into()),
                chown: Some("app:app".into()),
                chmod: Some("0755".into()),
                link: true,
                ..copy(&["/out"], "/usr/bin/")
            }),
        );
        check("copy --link=false a b", Kind::Copy(copy(&["a"], "b")));
        check(
            "ADD --chown=1:2 https://example.org/x.tgz /x",
            Kind::Add(Copy { chown: Some("1:2".into()), ..copy(&["https://example.org/x.tgz"], "/x") }),
        );
    }

    #[test]
    fn env_label_and_arg() {
        check("ENV A=1 B=\"two words\" C='$x' D= E=a\\ b", {
            Kind::Env(pairs(&[("A", "1"), ("B", "\"two words\""), ("C", "'$x'"), ("D", ""), ("E", "a\\ b")]))
        });
        check("ENV PATH=/opt/bin:$PATH", Kind::Env(pairs(&[("PATH", "/opt/bin:$PATH")])));
        check("ENV GREETING hello   world = x", Kind::Env(pairs(&[("GREETING", "hello   world = x")])));
        check("ENV \"A\"=\"x=y\"", Kind::Env(pairs(&[("\"A\"", "\"x=y\"")])));
        check(
            "LABEL org.opencontainers.image.title=\"My app\" \"com.x\"=y",
            Kind::Label(pairs(&[("org.opencontainers.image.title", "\"My app\""), ("\"com.x\"", "y")])),
        );
        check("LABEL maintainer someone else", Kind::Label(pairs(&[("maintainer", "someone else")])));
        check(
            "ARG A B=\"x y\" C=",
            Kind::Arg(vec![
                ArgDecl { name: "A".into(), default: None },
                ArgDecl { name: "B".into(), default: Some("\"x y\"".into()) },
                ArgDecl { name: "C".into(), default: Some(String::new()) },
            ]),
        );
    }

    #[test]
    fn the_other_instructions() {
        check("WORKDIR /app/$NAME", Kind::Workdir("/app/$NAME".into()));
        check("USER app:app", Kind::User("app:app".into()));
        check("EXPOSE 80 443/tcp $PORT", Kind::Expose(s(&["80", "443/tcp", "$PORT"])));
        check("VOLUME /data /cache", Kind::Volume(s(&["/data", "/cache"])));
        check("VOLUME [\"/data\", \"/a b\"]", Kind::Volume(s(&["/data", "/a b"])));
        check("ENTRYPOINT [\"/init\"]", Kind::Entrypoint(Command::Exec(s(&["/init"]))));
        check("ENTRYPOINT exec /init", Kind::Entrypoint(Command::Shell("exec /init".into())));
        check("CMD []", Kind::Cmd(Command::Exec(vec![])));
        check("CMD [\"a\",\"b\"]", Kind::Cmd(Command::Exec(s(&["a", "b"]))));
        check("CMD echo \"$HOME\"", Kind::Cmd(Command::Shell("echo \"$HOME\"".into())));
        check(
            "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]",
            Kind::Shell(s(&["/bin/bash", "-eo", "pipefail", "-c"])),
        );
        check("STOPSIGNAL SIGQUIT", Kind::StopSignal("SIGQUIT".into()));
        check("ONBUILD RUN make  install", Kind::OnBuild("RUN make  install".into()));
        check("onbuild copy . /src", Kind::OnBuild("copy . /src".into()));
        check("MAINTAINER Someone <a@b.c>", Kind::Maintainer("Someone <a@b.c>".into()));
    }

    #[test]
    fn healthchecks() {
        check("HEALTHCHECK NONE", Kind::Healthcheck(None));
        check(
            "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
            Kind::Healthcheck(Some(Healthcheck {
                test: s(&["CMD-SHELL", "curl -f http://localhost/ || exit 1"]),
                interval: 0,
                timeout: 0,
                start_period: 0,
                start_interval: 0,
                retries: 0,
            })),
        );
        check(
            "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1.5s --start-interval=0 --retries=3 \\\n  cmd [\"/check\", \"-v\"]",
            Kind::Healthcheck(Some(Healthcheck {
                test: s(&["CMD", "/check", "-v"]),
                interval: 90_000_000_000,
                timeout: 500_000_000,
                start_period: 1_500_000_000,
                start_interval: 0,
                retries: 3,
            })),
        );
    }

    #[test]
    fn go_durations() {
        for (text, nanos) in [
            ("0", 0),
            ("30s", 30_000_000_000),
            ("1h2m3s", 3_723_000_000_000),
            ("2us", 2_000),
            ("2µs", 2_000),
            ("10ns", 10),
            (".5m", 30_000_000_000),
            ("1.25ms", 1_250_000),
        ] {
            assert_eq!(parse_duration(text), Some(nanos), "{text}");
        }
        for bad in ["", "30", "5x", "-1s", "s", "1s2", "99999999999h", "1.5", "1.", "."] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn structural_errors() {
        check_error("", 1, "no FROM instruction: a Containerfile starts with FROM");
        check_error("# just a comment\n\n", 1, "no FROM instruction");
        check_error("ARG A=1\n", 1, "no FROM instruction");
        check_error("ARG A\nRUN make\nFROM x\n", 2, "RUN before the first FROM: a Containerfile starts with FROM");
        check_error("FROM x\nRUNN make\n", 2, "unknown instruction: RUNN (did you mean RUN?)");
        check_error("FROM x\nFROBNICATE\n", 2, "unknown instruction: FROBNICATE: the instructions are ADD, ARG");
        check_error(
            "FROM x\nRUN <<EOF\necho\nEOFX\n",
            2,
            "unterminated heredoc <<EOF: end it with a line that is only EOF",
        );
        check_error("FROM x\nCOPY <<A /a\nA\nRUN <<-B\n\tb\n", 4, "unterminated heredoc <<B");
        check_error("FROM x\nRUN cat <<'EOF\nEOF\n", 2, "unterminated quote in the heredoc <<'EOF: close the quote");
        check_error("FROM x\nCOPY <<\"A /a\n", 2, "unterminated quote in the heredoc <<\"A /a");
        check_error("# escape=x\nFROM x\n", 1, "invalid escape character \"x\"");
        check_error("# escape=`\n# escape=\\\nFROM x\n", 2, "the escape directive is given twice");
    }

    #[test]
    fn from_errors() {
        check_error("FROM\n", 1, "FROM needs an image");
        check_error("FROM a b\n", 1, "FROM takes an image and an optional AS name, not \"a b\"");
        check_error("FROM a AS\n", 1, "FROM takes an image and an optional AS name");
        check_error("FROM a AS b c\n", 1, "FROM takes an image and an optional AS name");
        check_error("FROM a AS 1st\n", 1, "invalid stage name \"1st\"");
        check_error("FROM a AS x\nFROM b AS X\n", 2, "duplicate stage name \"x\" (also on line 1)");
        check_error("FROM --platform a\n", 1, "--platform for FROM needs a value");
        check_error("FROM --plat=x a\n", 1, "unknown flag --plat for FROM: it takes --platform");
    }

    #[test]
    fn argument_errors() {
        let error = |body: &str, contains: &str| check_error(&format!("FROM x\n\n{body}\n"), 3, contains);
        error("COPY a", "COPY needs a source and a destination: COPY [--from=<stage>] <source>… <destination>");
        error("COPY", "COPY needs a source and a destination");
        error("ADD [\"a\"]", "ADD needs a source and a destination: ADD <source>… <destination>");
        error("COPY --foo a b", "unknown flag --foo for COPY: it takes --from, --chown, --chmod, --link");
        error(
            "ADD --from=build a b",
            "unknown flag --from for ADD: ADD does not copy from a stage or an image, use COPY",
        );
        error("COPY --from=a --from=b x y", "--from is given twice for COPY");
        error("COPY --from= x y", "--from for COPY needs a value");
        error("COPY --link=maybe x y", "--link=maybe for COPY");
        error("RUN", "RUN needs a command");
        error("RUN --mount=type=cache", "RUN needs a command");
        error("RUN --security=insecure make", "unknown flag --security for RUN: it takes --mount, --network");
        error("ENV", "ENV needs a name and a value");
        error("ENV ALONE", "ENV ALONE has no value");
        error("ENV A=1 B", "ENV B: not a <name>=<value> pair");
        error("ENV A=1 =2", "ENV =2: the pair has no name");
        error("LABEL", "LABEL needs a name and a value");
        error("ARG", "ARG needs a name");
        error("ARG =x", "ARG =x has no name");
        error("WORKDIR", "WORKDIR needs a directory");
        error("USER", "USER needs a user");
        error("EXPOSE", "EXPOSE needs a port");
        error("VOLUME", "VOLUME needs a path");
        error("VOLUME [\"/a\", \"\"]", "VOLUME has an empty path");
        error("CMD", "CMD needs a command");
        error("ENTRYPOINT", "ENTRYPOINT needs a command");
        error("SHELL /bin/sh -c", "SHELL needs a JSON array");
        error("SHELL []", "SHELL needs a JSON array");
        error("STOPSIGNAL", "STOPSIGNAL needs a signal");
        error("STOPSIGNAL TERM KILL", "STOPSIGNAL takes one signal");
        error("MAINTAINER", "MAINTAINER needs a name");
        error("ONBUILD", "ONBUILD needs an instruction");
        error("ONBUILD ONBUILD RUN x", "ONBUILD ONBUILD is not allowed");
        error("ONBUILD from x", "ONBUILD FROM is not allowed");
        error("ONBUILD MAINTAINER me", "ONBUILD MAINTAINER is not allowed");
        error("ONBUILD RUNN x", "ONBUILD RUNN: unknown instruction: RUNN");
        error("ONBUILD COPY a", "ONBUILD COPY: COPY needs a source and a destination");
    }

    #[test]
    fn healthcheck_errors() {
        let error = |body: &str, contains: &str| check_error(&format!("FROM x\n{body}\n"), 2, contains);
        error("HEALTHCHECK", "HEALTHCHECK needs CMD or NONE");
        error("HEALTHCHECK --retries=3", "HEALTHCHECK needs CMD or NONE");
        error("HEALTHCHECK curl x", "unknown HEALTHCHECK type \"curl\"");
        error("HEALTHCHECK CMD", "HEALTHCHECK CMD needs a command");
        error("HEALTHCHECK CMD []", "HEALTHCHECK CMD needs a command");
        error(
            "HEALTHCHECK --interval=5 CMD true",
            "bad duration \"5\" for HEALTHCHECK --interval: give a number and a unit",
        );
        error("HEALTHCHECK --timeout=1x CMD true", "bad duration \"1x\" for HEALTHCHECK --timeout");
        error("HEALTHCHECK --start-period=-1s CMD true", "bad duration \"-1s\"");
        error("HEALTHCHECK --interval=10us CMD true", "--interval=10us for HEALTHCHECK is less than 1ms");
        error("HEALTHCHECK --retries=-1 CMD true", "bad --retries=\"-1\" for HEALTHCHECK");
        error("HEALTHCHECK --retries=x CMD true", "give a whole number of tries");
        error("HEALTHCHECK --interval=1s NONE", "HEALTHCHECK NONE takes no options");
        error("HEALTHCHECK NONE extra", "HEALTHCHECK NONE takes no options and nothing after it");
        error("HEALTHCHECK --period=1s CMD true", "unknown flag --period for HEALTHCHECK");
    }
}
