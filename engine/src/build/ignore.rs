//! `.containerignore` (or `.dockerignore`): which paths of a build context a build leaves out,
//! by Docker's rules. One pattern a line (`#` comments and blank lines skipped), cleaned like a
//! path (`/x`, `./x` and `x/` are `x`); `*`, `?`, `[…]` and `\` as Go's `filepath.Match` has
//! them (`*` and `?` never match `/`), `**` for any number of directories; `!pattern` takes
//! paths back. The last pattern that matches a path, or one of its parent directories, decides.

use std::path::Path;

/// The patterns of a context's ignore file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    /// `!pattern`: what it matches is included again.
    exception: bool,
    /// The pattern as cleaned, for the walk's prefix test.
    text: String,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any characters but `/`.
    Star,
    /// `[…]`, `[^…]`: one character in (or not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**` (and `**/`) inside a pattern: nothing, or anything that ends in `/`.
    Dirs,
    /// `**` at the end of a pattern: anything.
    Rest,
}

impl Ignore {
    /// The patterns of an ignore file's text. A pattern that is not valid (an unclosed `[`)
    /// matches its characters literally.
    pub fn parse(text: &str) -> Ignore {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for line in text.lines() {
            // As in Docker: only a `#` at the very start makes a comment.
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if pattern.is_empty() {
                continue;
            }
            let mut pattern = clean(pattern);
            if pattern.len() > 1 && pattern.starts_with('/') {
                pattern.remove(0);
            }
            patterns.push(Pattern { exception, tokens: compile(&pattern), text: pattern });
        }
        Ignore { patterns }
    }

    /// The ignore file of the build context `context`: its `.containerignore`, else its
    /// `.dockerignore`, else none (nothing is left out).
    pub fn read(context: &Path) -> std::io::Result<Ignore> {
        for name in [".containerignore", ".dockerignore"] {
            match std::fs::read_to_string(context.join(name)) {
                Ok(text) => return Ok(Ignore::parse(&text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(std::io::Error::new(e.kind(), format!("{}: {e}", context.join(name).display()))),
            }
        }
        Ok(Ignore::default())
    }

    /// Whether the path `rel` (relative to the context, `/`-separated) is left out: the last
    /// pattern that matches it or one of its parent directories is not an exception. The
    /// context itself never is.
    pub fn excluded(&self, rel: &str) -> bool {
        let path: Vec<char> = clean(rel).chars().collect();
        if path.is_empty() || path == ['.'] || path == ['/'] {
            return false;
        }
        let parents: Vec<usize> = path.iter().enumerate().filter(|(_, c)| **c == '/').map(|(i, _)| i).collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            let matched =
                matches(&pattern.tokens, &path) || parents.iter().any(|&end| matches(&pattern.tokens, &path[..end]));
            if matched {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether a walk of the context leaves out `rel` (a directory: with all below it, unless
    /// an exception may bring something below it back).
    pub fn skips(&self, rel: &str, is_dir: bool) -> bool {
        !rel.is_empty() && self.excluded(rel) && !(is_dir && self.may_contain_included(rel))
    }

    /// Whether a walk of the context descends into the directory `dir_rel`: yes when it is not
    /// left out; when it is, only if an exception names a path below it literally (its text
    /// starts with the directory), as Docker's and Buildah's walks decide. `!*/keep` alone does
    /// not bring back `a/keep` from an excluded `a`.
    pub fn may_contain_included(&self, dir_rel: &str) -> bool {
        if !self.excluded(dir_rel) {
            return true;
        }
        let dir = format!("{}/", clean(dir_rel));
        self.patterns.iter().any(|p| p.exception && format!("{}/", p.text).starts_with(&dir))
    }
}

/// A path cleaned as Go's `filepath.Clean` does: no empty or `.` parts, `..` folded, no
/// trailing `/`; `.` when nothing is left.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i == chars.len() { Token::Rest } else { Token::Dirs });
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' => match chars.get(i) {
                Some(&n) => {
                    tokens.push(Token::Char(n));
                    i += 1;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => match class(&chars[i..]) {
                Some((token, used)) => {
                    tokens.push(token);
                    i += used;
                }
                None => tokens.push(Token::Char('[')),
            },
            c => tokens.push(Token::Char(c)),
        }
    }
    tokens
}

/// The class after a `[`, and how many characters it took (its `]` included); `None` when it
/// is not closed or is empty.
fn class(chars: &[char]) -> Option<(Token, usize)> {
    let mut i = 0;
    let negated = chars.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let one = |i: &mut usize| -> Option<char> {
        let mut c = *chars.get(*i)?;
        if c == '\\' {
            *i += 1;
            c = *chars.get(*i)?;
        }
        *i += 1;
        Some(c)
    };
    loop {
        match chars.get(i)? {
            ']' if !ranges.is_empty() => return Some((Token::Class { negated, ranges }, i + 1)),
            ']' => return None,
            _ => {
                let lo = one(&mut i)?;
                let hi = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']') {
                    i += 1;
                    one(&mut i)?
                } else {
                    lo
                };
                ranges.push((lo, hi));
            }
        }
    }
}

fn matches(tokens: &[Token], path: &[char]) -> bool {
    Matcher::new(tokens, path).at(0, 0)
}

/// A match of tokens against a path, remembering the states that failed (patterns with several
/// stars stay linear in practice).
struct Matcher<'a> {
    tokens: &'a [Token],
    path: &'a [char],
    failed: Vec<bool>,
}

impl<'a> Matcher<'a> {
    fn new(tokens: &'a [Token], path: &'a [char]) -> Matcher<'a> {
        Matcher { tokens, path, failed: vec![false; (tokens.len() + 1) * (path.len() + 1)] }
    }

    fn at(&mut self, t: usize, p: usize) -> bool {
        let state = t * (self.path.len() + 1) + p;
        if self.failed[state] {
            return false;
        }
        let matched = self.step(t, p);
        if !matched {
            self.failed[state] = true;
        }
        matched
    }

    fn step(&mut self, t: usize, p: usize) -> bool {
        let Some(token) = self.tokens.get(t) else {
            return p == self.path.len();
        };
        let c = self.path.get(p).copied();
        match token {
            Token::Char(want) => c == Some(*want) && self.at(t + 1, p + 1),
            Token::One => c.is_some_and(|c| c != '/') && self.at(t + 1, p + 1),
            Token::Class { negated, ranges } => {
                c.is_some_and(|c| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated)
                    && self.at(t + 1, p + 1)
            }
            Token::Star => self.at(t + 1, p) || (c.is_some_and(|c| c != '/') && self.at(t, p + 1)),
            // Anything, or anything up to a `/`.
            Token::Rest => true,
            Token::Dirs => {
                self.at(t + 1, p) || (p..self.path.len()).any(|i| self.path[i] == '/' && self.at(t + 1, i + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each path and whether the patterns leave it out.
    fn check(patterns: &str, paths: &[(&str, bool)]) {
        let ignore = Ignore::parse(patterns);
        for (path, excluded) in paths {
            assert_eq!(ignore.excluded(path), *excluded, "{path:?} with patterns {patterns:?}");
        }
    }

    #[test]
    fn stars_and_questions_stay_in_one_directory() {
        check(
            "*.log\nsrc/?.rs\n",
            &[
                ("a.log", true),
                (".log", true),
                ("dir/a.log", false),
                ("src/a.rs", true),
                ("src/ab.rs", false),
                ("src/x/a.rs", false),
                ("a.logx", false),
            ],
        );
        check("*/*.tmp", &[("a/b.tmp", true), ("b.tmp", false), ("a/b/c.tmp", false)]);
    }

    #[test]
    fn double_stars_span_directories() {
        check("**/*.o", &[("a.o", true), ("x/a.o", true), ("x/y/z/a.o", true), ("a.c", false), ("x/a.c", false)]);
        check("docs/**", &[("docs/a", true), ("docs/a/b/c", true), ("docs", false), ("docsx/a", false)]);
        check("a/**/b", &[("a/b", true), ("a/x/b", true), ("a/x/y/b", true), ("a/xb", false), ("b", false)]);
        check("**", &[("anything", true), ("a/b", true)]);
    }

    #[test]
    fn classes_and_escapes() {
        check(
            "file[0-9].txt\nx[^ab]y\n\\*literal\nodd[",
            &[
                ("file1.txt", true),
                ("filea.txt", false),
                ("xcy", true),
                ("xay", false),
                ("*literal", true),
                ("aliteral", false),
                ("odd[", true),
            ],
        );
        check("[a-c\\]]z", &[("bz", true), ("]z", true), ("dz", false)]);
    }

    #[test]
    fn patterns_are_cleaned_and_comments_skipped() {
        check(
            "# a comment\n\n/abs\n./dot\ntrail/\n  spaced  \nx/../y\n//double//slash\n",
            &[
                ("abs", true),
                ("dot", true),
                ("trail", true),
                ("trail/inner", true),
                ("spaced", true),
                ("y", true),
                ("x", false),
                ("double/slash", true),
                ("# a comment", false),
                ("./abs", true),
            ],
        );
        // Only a `#` in the first column makes a comment.
        check(" #x", &[("#x", true)]);
    }

    #[test]
    fn a_directory_takes_what_is_in_it() {
        check(
            "build\nnode_modules\n",
            &[
                ("build", true),
                ("build/x/y", true),
                ("node_modules/a/b.js", true),
                ("src/build", false),
                ("builder", false),
            ],
        );
        check("*/cache", &[("a/cache/x", true), ("cache/x", false)]);
    }

    #[test]
    fn the_last_matching_pattern_wins() {
        check(
            "*.md\n!README.md\n",
            &[("a.md", true), ("README.md", false), ("docs/README.md", false), ("docs/a.md", false)],
        );
        check("!README.md\n*.md\n", &[("README.md", true)]);
        check(
            "build\n!build/keep\nbuild/keep/tmp\n",
            &[
                ("build/x", true),
                ("build/keep", false),
                ("build/keep/a/b", false),
                ("build/keep/tmp", true),
                ("build/keep/tmp/x", true),
            ],
        );
        check("*\n!src\n", &[("src/a/b.rs", false), ("other", true), ("other/src", true)]);
        check("", &[("anything", false)]);
        check("x", &[("", false), (".", false)]);
    }

    #[test]
    fn a_walk_descends_only_where_an_exception_may_match() {
        let ignore = Ignore::parse("build\n!build/keep/*.txt\nvendor\n");
        assert!(ignore.excluded("build") && ignore.excluded("build/keep") && ignore.excluded("vendor"));
        assert!(ignore.may_contain_included("build"));
        assert!(ignore.may_contain_included("build/keep"));
        assert!(!ignore.may_contain_included("build/other"));
        assert!(!ignore.may_contain_included("vendor"));
        assert!(ignore.may_contain_included("src"), "a directory not left out holds what it holds");

        // `!**/important.tmp` names no path below vendor: the walk leaves vendor out whole
        let ignore = Ignore::parse("vendor\n*.tmp\n!**/important.tmp\n");
        assert!(!ignore.may_contain_included("vendor"));
        assert!(!ignore.excluded("important.tmp") && ignore.excluded("other.tmp"));

        let ignore = Ignore::parse("vendor\n!src/keep\n!vendor\nvendor\n");
        assert!(ignore.excluded("vendor/a") && ignore.excluded("vendor"));
        assert!(ignore.may_contain_included("vendor"), "walked, as Docker walks it: `!vendor` names it");

        let ignore = Ignore::parse("*\n!*/keep\n");
        assert!(!ignore.may_contain_included("a"), "a wildcard exception names no directory");
        assert!(!ignore.excluded("a/keep") && ignore.excluded("a/b"));

        // Podman's own case: subdir1 is walked (an exception names subdir1/…) and `*/sub1*`
        // brings subdir1/sub1 back; subdir2 is not walked at all
        let ignore = Ignore::parse("test*\n!test2*\nsubdir1\nsubdir2\n!*/sub1*\n!subdir1/sub3*\n");
        assert!(ignore.may_contain_included("subdir1") && !ignore.may_contain_included("subdir2"));
        assert!(!ignore.excluded("subdir1/sub1") && ignore.excluded("subdir1/sub2"));

        let ignore = Ignore::parse("cache\n");
        assert!(!ignore.may_contain_included("cache"));
    }

    #[test]
    fn read_prefers_containerignore_to_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Ignore::read(dir.path()).unwrap(), Ignore::default());
        std::fs::write(dir.path().join(".dockerignore"), "docker\n").unwrap();
        let ignore = Ignore::read(dir.path()).unwrap();
        assert!(ignore.excluded("docker") && !ignore.excluded("container"));
        std::fs::write(dir.path().join(".containerignore"), "container\n").unwrap();
        let ignore = Ignore::read(dir.path()).unwrap();
        assert!(ignore.excluded("container") && !ignore.excluded("docker"));
    }

    #[test]
    fn read_names_the_file_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".containerignore")).unwrap();
        let err = Ignore::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains(".containerignore"), "{err}");
    }
}
