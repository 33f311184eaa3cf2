//! Words as a Containerfile's instructions read them, the way Docker's builder does: `$VAR` and
//! `${VAR…}` expanded from the build's variables, quotes removed (single quotes keep everything
//! literal, double quotes still expand), the escape character taking the next character as it
//! is. The parser keeps words raw; the build expands them when it reaches them, with the
//! variables (ARG, ENV) it has at that point.

/// `raw` expanded and unquoted as one string: whitespace outside quotes is kept as it is
/// (WORKDIR, USER, ENV values).
pub fn process(raw: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut lexer = Lexer::new(raw, escape, lookup);
    let mut sink = Sink::new(false);
    lexer.run(&mut sink, None)?;
    Ok(sink.cur)
}

/// `raw` expanded, unquoted and split into words on whitespace outside quotes (COPY sources,
/// EXPOSE ports). What a variable expands to stays inside its word, spaces and all; a word that
/// is only an unquoted empty expansion disappears, `""` is an empty word.
pub fn process_words(raw: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let mut lexer = Lexer::new(raw, escape, lookup);
    let mut sink = Sink::new(true);
    lexer.run(&mut sink, None)?;
    Ok(sink.finish())
}

/// Where processed characters go: one string, or words.
struct Sink {
    split: bool,
    words: Vec<String>,
    cur: String,
    /// Whether the current word exists (has a character or a pair of quotes).
    started: bool,
}

impl Sink {
    fn new(split: bool) -> Sink {
        Sink { split, words: Vec::new(), cur: String::new(), started: false }
    }

    fn push(&mut self, c: char) {
        self.cur.push(c);
        self.started = true;
    }

    fn push_str(&mut self, s: &str) {
        self.cur.push_str(s);
        self.started |= !s.is_empty();
    }

    fn quoted(&mut self) {
        self.started = true;
    }

    fn space(&mut self, c: char) {
        if !self.split {
            self.cur.push(c);
        } else if self.started {
            self.words.push(std::mem::take(&mut self.cur));
            self.started = false;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.started {
            self.words.push(self.cur);
        }
        self.words
    }
}

#[derive(Clone, Copy)]
enum Op {
    /// `${VAR:-word}` (`colon`) or `${VAR-word}`.
    Default,
    /// `${VAR:+word}` or `${VAR+word}`.
    Alternative,
}

struct Lexer<'a> {
    raw: &'a str,
    chars: Vec<char>,
    pos: usize,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Lexer<'a> {
    fn new(raw: &'a str, escape: char, lookup: &'a dyn Fn(&str) -> Option<String>) -> Lexer<'a> {
        Lexer { raw, chars: raw.chars().collect(), pos: 0, escape, lookup }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    fn error(&self, what: &str) -> String {
        format!("bad substitution in \"{}\": {what}", self.raw)
    }

    /// Processes characters into `sink` until the end, or until `stop` outside quotes (left
    /// for the caller to take).
    fn run(&mut self, sink: &mut Sink, stop: Option<char>) -> Result<(), String> {
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                return Ok(());
            }
            self.pos += 1;
            match c {
                c if c == self.escape => {
                    // A trailing escape character escapes nothing and goes, as in Docker.
                    if let Some(n) = self.next() {
                        sink.push(n);
                    }
                }
                '\'' => {
                    sink.quoted();
                    loop {
                        match self.next() {
                            Some('\'') => break,
                            Some(c) => sink.push(c),
                            None => {
                                return Err(format!("unterminated quote in \"{}\": close the ' it opens", self.raw))
                            }
                        }
                    }
                }
                '"' => {
                    sink.quoted();
                    self.double_quoted(sink)?;
                }
                '$' => {
                    let value = self.dollar()?;
                    sink.push_str(&value);
                }
                c if c.is_whitespace() => sink.space(c),
                c => sink.push(c),
            }
        }
        Ok(())
    }

    /// After a `"`: up to the closing one. The escape character escapes only `"`, `$` and
    /// itself there; elsewhere it is an ordinary character.
    fn double_quoted(&mut self, sink: &mut Sink) -> Result<(), String> {
        loop {
            match self.next() {
                Some('"') => return Ok(()),
                Some('$') => {
                    let value = self.dollar()?;
                    sink.push_str(&value);
                }
                Some(c) if c == self.escape => match self.peek() {
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        sink.push(n);
                    }
                    _ => sink.push(c),
                },
                Some(c) => sink.push(c),
                None => return Err(format!("unterminated quote in \"{}\": close the \" it opens", self.raw)),
            }
        }
    }

    /// After a `$`: the expansion, or `$` itself when no name follows.
    fn dollar(&mut self) -> Result<String, String> {
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                self.braced()
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let name = self.name();
                Ok((self.lookup)(&name).unwrap_or_default())
            }
            Some(c) if c.is_ascii_digit() => {
                self.pos += 1;
                Ok((self.lookup)(&c.to_string()).unwrap_or_default())
            }
            _ => Ok("$".to_string()),
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| *c == '_' || c.is_ascii_alphanumeric()) {
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// After `${`.
    fn braced(&mut self) -> Result<String, String> {
        let name = self.name();
        if name.is_empty() {
            return Err(match self.peek() {
                None | Some('}') => self.error("${ needs a variable name: ${NAME}"),
                Some(c) => self.error(&format!("${{{c} is not a variable name: a name has letters, digits and _")),
            });
        }
        let (colon, op) = match self.next() {
            Some('}') => return Ok((self.lookup)(&name).unwrap_or_default()),
            None => return Err(self.error(&format!("${{{name} has no closing }}"))),
            Some(':') => match self.next() {
                Some('-') => (true, Op::Default),
                Some('+') => (true, Op::Alternative),
                Some('?') => return Err(self.unsupported(&name, ":?")),
                Some(c) => return Err(self.unsupported(&name, &format!(":{c}"))),
                None => return Err(self.error(&format!("${{{name}: has no closing }}"))),
            },
            Some('-') => (false, Op::Default),
            Some('+') => (false, Op::Alternative),
            Some(c) => return Err(self.unsupported(&name, &c.to_string())),
        };
        let mut word = Sink::new(false);
        self.run(&mut word, Some('}'))?;
        if self.next() != Some('}') {
            return Err(self.error(&format!("${{{name}… has no closing }}")));
        }
        let value = (self.lookup)(&name);
        let set = if colon { value.as_deref().is_some_and(|v| !v.is_empty()) } else { value.is_some() };
        Ok(match op {
            Op::Default if set => value.unwrap_or_default(),
            Op::Default => word.cur,
            Op::Alternative if set => word.cur,
            Op::Alternative => String::new(),
        })
    }

    fn unsupported(&self, name: &str, op: &str) -> String {
        format!(
            "unsupported substitution ${{{name}{op}…}} in \"{}\": use ${{{name}}}, ${{{name}:-default}}, ${{{name}-default}}, ${{{name}:+alternative}} or ${{{name}+alternative}}",
            self.raw
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/root".into()),
            "EMPTY" => Some(String::new()),
            "SPACED" => Some("a  b".into()),
            "V" => Some("v".into()),
            "1" => Some("one".into()),
            _ => None,
        }
    }

    fn check(raw: &str, expected: &str) {
        assert_eq!(process(raw, '\\', &vars).as_deref(), Ok(expected), "{raw}");
    }

    fn check_words(raw: &str, expected: &[&str]) {
        assert_eq!(process_words(raw, '\\', &vars), Ok(expected.iter().map(|w| w.to_string()).collect()), "{raw}");
    }

    fn check_error(raw: &str, contains: &str) {
        let err = process(raw, '\\', &vars).expect_err(raw);
        assert!(err.contains(contains) && err.contains(raw), "{raw}: {err}");
        let err = process_words(raw, '\\', &vars).expect_err(raw);
        assert!(err.contains(contains), "{raw}: {err}");
    }

    #[test]
    fn variables_expand() {
        check("$HOME/bin", "/root/bin");
        check("${HOME}bin", "/rootbin");
        check("$UNSET.x", ".x");
        check("${UNSET}", "");
        check("a$1b", "aoneb");
        check("$HOME_X", "");
        check("cost $ 5 $", "cost $ 5 $");
        check("$-x", "$-x");
        check("${HOME}${V}$V", "/rootvv");
    }

    #[test]
    fn defaults_and_alternatives() {
        check("${UNSET:-def}", "def");
        check("${EMPTY:-def}", "def");
        check("${V:-def}", "v");
        check("${UNSET-def}", "def");
        check("${EMPTY-def}", "");
        check("${V-def}", "v");
        check("${UNSET:+alt}", "");
        check("${EMPTY:+alt}", "");
        check("${V:+alt}", "alt");
        check("${UNSET+alt}", "");
        check("${EMPTY+alt}", "alt");
        check("${V+alt}", "alt");
        // The word is itself expanded, quoted and escaped.
        check("${UNSET:-$HOME/x}", "/root/x");
        check("${UNSET:-${V:+nested}}", "nested");
        check("${UNSET:-\"a }\" b}", "a } b");
        check("${UNSET:-a\\}b}", "a}b");
        check("${UNSET:-}", "");
    }

    #[test]
    fn quotes_and_escapes() {
        check("'$HOME \"x\"'", "$HOME \"x\"");
        check("\"$HOME 'x'\"", "/root 'x'");
        check("\\$HOME", "$HOME");
        check("a\\ b", "a b");
        check("\"a\\\"b\\$V\\\\c\\nd\"", "a\"b$V\\c\\nd");
        check("  spaces  kept\t", "  spaces  kept\t");
        check("trailing\\", "trailing");
        check("it''s", "its");
    }

    #[test]
    fn another_escape_character() {
        let got = |raw: &str| process(raw, '`', &vars).unwrap();
        assert_eq!(got("C:\\dir\\$V"), "C:\\dir\\v");
        assert_eq!(got("`$V"), "$V");
        assert_eq!(got("\"a`\"b\""), "a\"b");
    }

    #[test]
    fn words_split_on_unquoted_whitespace_only() {
        check_words("a b\tc", &["a", "b", "c"]);
        check_words("  a   b  ", &["a", "b"]);
        check_words("\"a b\" 'c d' e\\ f", &["a b", "c d", "e f"]);
        check_words("x$SPACED y", &["xa  b", "y"]);
        check_words("$SPACED", &["a  b"]);
        check_words("$UNSET a", &["a"]);
        check_words("\"$UNSET\" a", &["", "a"]);
        check_words("\"\"", &[""]);
        check_words("${UNSET:-x y} z", &["x y", "z"]);
        check_words("", &[]);
    }

    #[test]
    fn bad_substitutions_are_errors() {
        check_error("${HOME", "${HOME has no closing }");
        check_error("${", "${ needs a variable name");
        check_error("${}", "${ needs a variable name");
        check_error("${UNSET:-x", "has no closing }");
        check_error("${HOME:?required}", "unsupported substitution ${HOME:?…}");
        check_error("${HOME?x}", "unsupported substitution ${HOME?…}");
        check_error("${HOME%/*}", "unsupported substitution ${HOME%…}");
        check_error("${HOME:1}", "unsupported substitution ${HOME:1…}");
        check_error("${-x}", "${- is not a variable name");
        check_error("'open", "unterminated quote");
        check_error("\"open", "unterminated quote");
    }
}
