//! The layering the compiler does not keep: within a crate, modules may import each other
//! freely, so a knot (a cycle of imports) can grow back unseen. This reads every module's
//! `crate::` paths (in `use` lines and in code; comments and test modules aside) in each crate
//! of the workspace and fails on a cycle, naming the files and lines of its arrows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An import of module `to` by module `from`, where it is written.
#[derive(Clone, Debug)]
struct Arrow {
    to: String,
    at: String,
}

type Graph = BTreeMap<String, Vec<Arrow>>;

/// The top-level module a source file belongs to: `a` for `src/a.rs`, `src/a/mod.rs` and
/// `src/a/b.rs`; None for the crate root (lib.rs, main.rs), which only declares and re-exports.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The first segments of every `crate::` path in `code`: `crate::a::b` gives `a`, and
/// `crate::{a::x, b}` gives `a` and `b`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `berth_crate::`, `$crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if !(c == ',' && depth == 1) {
                    item.push(c);
                }
            }
            items.push(item);
            out.extend(items.iter().filter_map(|i| ident(i.trim_start_matches(['{', ' ', '\n', '\t']))));
        } else {
            out.extend(ident(rest));
        }
    }
    out
}

fn ident(s: &str) -> Option<String> {
    let s = s.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let name = &s[..end];
    // Modules are lower case; `crate::Engine`, `crate::Result` are the root's items.
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')).then(|| name.to_string())
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && path.file_stem().is_some_and(|s| s != "tests") {
            out.push(path);
        }
    }
}

/// The module graph of the crate whose sources are in `src`.
fn graph_of(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(from) = module_of(src, file) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        let code = code_of(&text);
        for (n, line) in code.lines().enumerate() {
            for to in crate_paths(line) {
                if to != from && modules.contains(&to) {
                    let at = format!("{}:{}", file.display(), n + 1);
                    graph.entry(from.clone()).or_default().push(Arrow { to, at });
                }
            }
        }
        graph.entry(from).or_default();
    }
    // `use crate::{a::x,\n b}` spans lines: read the groups of the whole file too.
    for file in &files {
        let Some(from) = module_of(src, file) else { continue };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for to in crate_paths(&code) {
            let known = graph[&from].iter().any(|a| a.to == to);
            if to != from && modules.contains(&to) && !known {
                let at = format!("{} (a `use crate::{{...}}` group)", file.display());
                graph.get_mut(&from).unwrap().push(Arrow { to, at });
            }
        }
    }
    graph
}

/// A cycle of the graph, as the arrows that make it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<(String, Arrow)>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<(String, Arrow)>,
        on_path: &mut BTreeSet<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<(String, Arrow)>> {
        on_path.insert(node.to_string());
        for arrow in graph.get(node).into_iter().flatten() {
            path.push((node.to_string(), arrow.clone()));
            if on_path.contains(&arrow.to) {
                let start = path.iter().position(|(from, _)| *from == arrow.to).unwrap();
                return Some(path[start..].to_vec());
            }
            if !done.contains(&arrow.to) {
                if let Some(c) = visit(graph, &arrow.to, path, on_path, done) {
                    return Some(c);
                }
            }
            path.pop();
        }
        on_path.remove(node);
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if !done.contains(node) {
            if let Some(c) = visit(graph, node, &mut Vec::new(), &mut BTreeSet::new(), &mut done) {
                return Some(c);
            }
        }
    }
    None
}

fn describe(cycle: &[(String, Arrow)]) -> String {
    cycle.iter().map(|(from, a)| format!("  {from} -> {} ({})", a.to, a.at)).collect::<Vec<_>>().join("\n")
}

#[test]
fn no_crate_of_the_workspace_has_an_import_cycle_between_its_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut checked = 0;
    for krate in ["userns", "runtime", "image", "engine", "cli", "src-tauri"] {
        let src = root.join(krate).join("src");
        let graph = graph_of(&src);
        assert!(graph.len() > 1, "{}: no modules found", src.display());
        checked += graph.len();
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "the modules of {krate} import each other in a circle; move what they share down (plain data, a small module of its own) so that no module imports one above it:\n{}",
                describe(&cycle)
            );
        }
    }
    assert!(checked > 40, "only {checked} modules read");
}

#[test]
fn the_engine_reads_as_layers_the_modules_it_names() {
    // The checker itself: it sees `use` groups over lines, code paths, and ignores comments
    // and the root's items; a cycle it is shown is found.
    assert_eq!(crate_paths("use crate::{a::X, b,\n    c::{d, e}};"), ["a", "b", "c"]);
    assert_eq!(crate_paths("let x = crate::monitor::helper(); y: crate::Result<()>"), ["monitor"]);
    assert_eq!(crate_paths("$crate::x; berth_crate::y"), Vec::<String>::new());
    assert_eq!(
        code_of("use a;\n/// see [`crate::b`]\n    // crate::c\nx\n#[cfg(test)]\nmod tests {\n crate::d\n}"),
        "use a;\nx"
    );
    let arrow = |to: &str| Arrow { to: to.into(), at: "here".into() };
    let mut graph = Graph::new();
    graph.insert("a".into(), vec![arrow("b")]);
    graph.insert("b".into(), vec![arrow("c")]);
    graph.insert("c".into(), vec![]);
    assert!(find_cycle(&graph).is_none());
    graph.get_mut("c").unwrap().push(arrow("a"));
    let cycle = find_cycle(&graph).expect("a -> b -> c -> a is a cycle");
    assert_eq!(describe(&cycle), "  a -> b (here)\n  b -> c (here)\n  c -> a (here)");
}
