//! `--format` templates as Podman takes them: Go's text/template (the `gtmpl` crate) over the
//! JSON of what is printed, with Podman's extra functions (`json`, `upper`, `lower`, `title`,
//! `join`, `split`, `truncate`) and a leading `table` dropped (the caller prints the header).
//!
//! Values print as Go's `fmt` prints them (`[a b]`, `map[k:v]`), not as Rust's `Debug`: each
//! printed action's pipeline ends in `__show`, which makes the text.

use gtmpl::{Context, Func, FuncError, Value};
use serde_json::Value as Json;

/// Objects under these keys are maps in Podman's structs (a missing key prints `<no value>`);
/// every other object is a struct (a missing field is an error, as Go's is).
const MAP_KEYS: &[&str] = &[
    "Labels",
    "Annotations",
    "Options",
    "Networks",
    "Ports",
    "PortBindings",
    "ExposedPorts",
    "Volumes",
    "Sysctls",
    "Attributes",
    "GraphOptions",
    "DriverOpts",
    "IPAMOptions",
];

pub struct Template {
    inner: gtmpl::Template,
    /// The text after `table`, for the header.
    body: String,
    /// Whether the text began with `table` (Podman then prints a header line first).
    pub table: bool,
}

impl Template {
    /// Parses `text` (`\t` and `\n` written out as two characters become a tab and a newline).
    pub fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim_start();
        let (table, body) = match trimmed.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => (true, rest.trim_start()),
            _ => (false, text),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut inner = gtmpl::Template::default();
        let funcs: &[(&str, Func)] = &[
            ("__show", show),
            ("json", json),
            ("upper", upper),
            ("lower", lower),
            ("title", title),
            ("join", join),
            ("split", split),
            ("truncate", truncate),
        ];
        inner.add_funcs(funcs);
        inner.parse(with_show(&body)).map_err(|e| format!("template parsing error: {e}: {text:?}"))?;
        Ok(Template { inner, body, table })
    }

    /// The header line of a `table` template: each field's name in capitals, words apart
    /// (`.CreatedAt` is "CREATED AT"), or the name `headers` gives it (`ID` is "CONTAINER ID"
    /// in `ps`); whatever else an action computes has an empty heading.
    pub fn header(&self, headers: &[(&str, &str)]) -> String {
        let mut out = String::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(len) = find_close(&rest[start + 2..]) else { break };
            let (_, inner, _) = split_trim_markers(&rest[start + 2..start + 2 + len]);
            let inner = inner.trim();
            if let Some(path) = inner.strip_prefix('.').filter(|p| !p.contains([' ', '|', '('])) {
                let field = path.rsplit('.').next().unwrap_or(path);
                match headers.iter().find(|(k, _)| *k == field) {
                    Some((_, h)) => out.push_str(h),
                    None => out.push_str(&heading(field)),
                }
            }
            rest = &rest[start + 2 + len + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Every row through the template, after the header for `table`; lines with tabs are
    /// aligned in columns as Podman's tabwriter aligns them.
    pub fn write_rows(
        &self,
        rows: &[Json],
        headers: &[(&str, &str)],
        out: &mut impl std::io::Write,
    ) -> anyhow::Result<()> {
        let mut lines = Vec::with_capacity(rows.len() + 1);
        if self.table {
            lines.push(self.header(headers));
        }
        for row in rows {
            lines.push(self.render(row).map_err(anyhow::Error::msg)?);
        }
        if lines.iter().any(|l| l.contains('\t')) {
            let mut table = crate::format::Table::headless();
            for line in lines.iter().flat_map(|l| l.split('\n')) {
                table.row(line.split('\t').map(String::from).collect());
            }
            table.print(out)?;
        } else {
            for line in lines {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }

    /// The text for one object.
    pub fn render(&self, data: &Json) -> Result<String, String> {
        self.inner.render(&Context::from(to_value(data, false))).map_err(|e| match e {
            // as Go says it, without the whole object the field was looked for in
            gtmpl::error::ExecError::NoFiledFor(field, _) => format!("template: can't evaluate field {field}"),
            other => format!("template: {other}"),
        })
    }
}

/// One-shot: parse and render.
pub fn render(text: &str, data: &Json) -> anyhow::Result<String> {
    Template::parse(text).and_then(|t| t.render(data)).map_err(anyhow::Error::msg)
}

/// `CreatedAt` → `CREATED AT`, `ID` → `ID`.
fn heading(field: &str) -> String {
    let chars: Vec<char> = field.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && (prev_lower || next_lower) && !out.ends_with(' ') {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

fn to_value(v: &Json, as_map: bool) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::from(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(|x| to_value(x, false)).collect()),
        Json::Object(o) => {
            let fields = o.iter().map(|(k, x)| (k.clone(), to_value(x, MAP_KEYS.contains(&k.as_str())))).collect();
            if as_map {
                Value::Map(fields)
            } else {
                Value::Object(fields)
            }
        }
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::NoValue | Value::Nil | Value::Function(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => n
            .as_u64()
            .map(Json::from)
            .or_else(|| n.as_i64().map(Json::from))
            .or_else(|| n.as_f64().map(Json::from))
            .unwrap_or(Json::Null),
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Object(o) | Value::Map(o) => {
            let sorted: std::collections::BTreeMap<_, _> = o.iter().collect();
            Json::Object(sorted.into_iter().map(|(k, x)| (k.clone(), to_json(x))).collect())
        }
    }
}

/// As Go's `fmt.Print` shows a value.
fn go_text(v: &Value) -> String {
    match v {
        Value::NoValue => "<no value>".into(),
        Value::Nil => "<nil>".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Map(m) => {
            let sorted: std::collections::BTreeMap<_, _> = m.iter().collect();
            let items: Vec<String> = sorted.iter().map(|(k, x)| format!("{k}:{}", go_text(x))).collect();
            format!("map[{}]", items.join(" "))
        }
        Value::Object(o) => {
            let sorted: std::collections::BTreeMap<_, _> = o.iter().collect();
            format!("{{{}}}", sorted.values().map(|x| go_text(x)).collect::<Vec<_>>().join(" "))
        }
        other => other.to_string(),
    }
}

/// Appends `| __show` to every action that prints its pipeline's value.
fn with_show(text: &str) -> String {
    const KEYWORDS: &[&str] =
        &["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"];
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = find_close(&rest[start + 2..]) else {
            // unclosed: leave it to the parser to report
            out.push_str(&rest[start..]);
            return out;
        };
        let action = &rest[start + 2..start + 2 + len];
        let (lead, inner, trail) = split_trim_markers(action);
        let first = inner.split_whitespace().next().unwrap_or("");
        let prints = !inner.trim().is_empty()
            && !inner.trim_start().starts_with("/*")
            && !KEYWORDS.contains(&first)
            && !assigns(inner);
        out.push_str("{{");
        out.push_str(lead);
        out.push_str(inner);
        if prints {
            out.push_str(" | __show ");
        }
        out.push_str(trail);
        out.push_str("}}");
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The length up to the `}}` that closes an action, skipping string literals.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `- x -` → ("- ", "x", " -"): Go's whitespace trim markers kept in place.
fn split_trim_markers(action: &str) -> (&str, &str, &str) {
    let lead = if action.starts_with("- ") { 2 } else { 0 };
    let trail = if action.len() >= lead + 2 && action.ends_with(" -") { 2 } else { 0 };
    (&action[..lead], &action[lead..action.len() - trail], &action[action.len() - trail..])
}

/// Whether the pipeline declares or assigns a variable (`$x := ...`), which prints nothing.
fn assigns(inner: &str) -> bool {
    let t = inner.trim_start();
    t.starts_with('$') && (t.contains(":=") || t.split_whitespace().nth(1) == Some("="))
}

fn one<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, FuncError> {
    match args {
        [v] => Ok(v),
        _ => Err(FuncError::ExactlyXArgs(name.into(), 1)),
    }
}

fn string_arg(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => go_text(other),
    }
}

fn show(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(go_text(one("__show", args)?)))
}

fn json(args: &[Value]) -> Result<Value, FuncError> {
    let v = to_json(one("json", args)?);
    Ok(Value::String(serde_json::to_string(&v).map_err(|e| FuncError::Generic(e.to_string()))?))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(string_arg(one("upper", args)?).to_uppercase()))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::String(string_arg(one("lower", args)?).to_lowercase()))
}

fn title(args: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg(one("title", args)?);
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    Ok(Value::String(out))
}

/// `join LIST SEP`
fn join(args: &[Value]) -> Result<Value, FuncError> {
    match args {
        [Value::Array(items), sep] => {
            Ok(Value::String(items.iter().map(string_arg).collect::<Vec<_>>().join(&string_arg(sep))))
        }
        [other, _] => Err(FuncError::Generic(format!("join: {} is not a list", go_text(other)))),
        _ => Err(FuncError::ExactlyXArgs("join".into(), 2)),
    }
}

/// `split TEXT SEP`
fn split(args: &[Value]) -> Result<Value, FuncError> {
    match args {
        [s, sep] => Ok(Value::Array(
            string_arg(s).split(string_arg(sep).as_str()).map(|p| Value::String(p.to_string())).collect(),
        )),
        _ => Err(FuncError::ExactlyXArgs("split".into(), 2)),
    }
}

/// `truncate TEXT N`
fn truncate(args: &[Value]) -> Result<Value, FuncError> {
    match args {
        [s, Value::Number(n)] => {
            let n = n.as_u64().unwrap_or(0) as usize;
            Ok(Value::String(string_arg(s).chars().take(n).collect()))
        }
        _ => Err(FuncError::Generic("truncate: use truncate TEXT LENGTH".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &Json) -> String {
        render(t, v).unwrap()
    }

    #[test]
    fn fields_pipes_and_functions() {
        let v = json!({"ID": "abc", "State": {"Status": "running", "Running": true, "ExitCode": 0},
                       "Labels": {"a": "1"}, "RepoTags": ["x:1", "y:2"],
                       "Mounts": [{"Type": "bind", "RW": false}]});
        assert_eq!(r("{{.ID}}\\t{{ .ID }}", &v), "abc\tabc");
        assert_eq!(r("{{.ID| upper}}", &v), "ABC");
        assert_eq!(r("{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}", &v), "running true 0");
        assert_eq!(r("{{.RepoTags}}", &v), "[x:1 y:2]");
        assert_eq!(r("{{.Labels}} {{.Labels.a}} {{.Labels.b}}", &v), "map[a:1] 1 <no value>");
        assert_eq!(r("{{(index .Mounts 0).Type}} {{(index .Mounts 0).RW}}", &v), "bind false");
        assert_eq!(r("{{range .RepoTags}}<{{.}}>{{end}}", &v), "<x:1><y:2>");
        assert_eq!(r("{{if .State.Running}}up{{else}}down{{end}}", &v), "up");
        assert_eq!(r("{{json .Labels}}", &v), r#"{"a":"1"}"#);
        assert_eq!(r("{{join .RepoTags \",\"}}", &v), "x:1,y:2");
        assert_eq!(r("{{ $x := .ID }}{{ $x }}", &v), "abc");
    }

    #[test]
    fn table_is_dropped_and_gives_a_header() {
        let t = Template::parse("table {{.ID}}\\t{{.CreatedAt}}\\t{{.Names}}").unwrap();
        assert!(t.table);
        assert_eq!(t.render(&json!({"ID": "x", "CreatedAt": "now", "Names": "n"})).unwrap(), "x\tnow\tn");
        assert_eq!(t.header(&[("ID", "CONTAINER ID")]), "CONTAINER ID\tCREATED AT\tNAMES");
        let mut out = Vec::new();
        t.write_rows(&[json!({"ID": "x", "CreatedAt": "now", "Names": "n"})], &[], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ID          CREATED AT  NAMES\nx           now         n\n");
        assert!(!Template::parse("{{.ID}}").unwrap().table);
    }

    #[test]
    fn unknown_fields_and_bad_syntax_are_errors() {
        let err = render("{{.Nope}}", &json!({"ID": 1})).unwrap_err().to_string();
        assert_eq!(err, "template: can't evaluate field Nope");
        assert!(render("{{.ID", &json!({"ID": 1})).is_err());
        assert!(render("{{.State.Nope}}", &json!({"State": {"Status": "x"}})).is_err());
    }
}
