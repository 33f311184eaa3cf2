//! Image references: parse and normalise `[registry/]repo[:tag][@digest]`.
//!
//! Parsing is oci-spec's (`oci_spec::distribution::Reference`, which follows the Docker grammar
//! and normalises short names to `docker.io/library/…`); this module adds error messages that
//! name the offending input and the rule it breaks, and the few helpers the engine needs.

use std::fmt;

use oci_spec::distribution::ParseError;
pub use oci_spec::distribution::Reference as OciReference;

/// A parsed, normalised image reference such as `docker.io/library/alpine:latest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference(OciReference);

#[derive(Debug, thiserror::Error)]
#[error("error parsing image reference \"{input}\": {rule}")]
pub struct ReferenceError {
    pub input: String,
    pub rule: String,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let fail = |rule: &str| ReferenceError { input: input.to_string(), rule: rule.to_string() };
        if input.trim().is_empty() {
            return Err(fail("an image reference must not be empty"));
        }
        if input.trim() != input {
            return Err(fail("an image reference must not contain spaces"));
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail(&format!("an image reference must not contain {c:?}")));
        }
        match input.parse::<OciReference>() {
            Ok(r) => Ok(Reference(r)),
            Err(err) => Err(fail(&explain(input, err))),
        }
    }

    /// A name given to a local image (`tag`, `commit`): without a registry it goes under
    /// `localhost/`, as Podman's tags do (`image:1` is `localhost/image:1`, never Docker Hub's).
    pub fn parse_local(input: &str) -> Result<Self, ReferenceError> {
        let first = input.split('/').next().unwrap_or_default();
        let has_domain = input.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
        if has_domain || input.trim() != input || input.is_empty() {
            Reference::parse(input)
        } else {
            Reference::parse(&format!("localhost/{input}")).map_err(|mut e| {
                e.input = input.to_string();
                e
            })
        }
    }

    pub fn registry(&self) -> &str {
        self.0.registry()
    }
    pub fn repository(&self) -> &str {
        self.0.repository()
    }
    pub fn tag(&self) -> Option<&str> {
        self.0.tag()
    }
    pub fn digest(&self) -> Option<&str> {
        self.0.digest()
    }
    /// `registry/repository`, the name images are listed under.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry(), self.repository())
    }
    /// `registry/repository:tag`, or `None` for a digest-only reference.
    pub fn tagged_name(&self) -> Option<String> {
        self.tag().map(|t| format!("{}:{t}", self.name()))
    }
    /// `registry/repository@digest` for a given manifest digest.
    pub fn with_digest_name(&self, digest: &str) -> String {
        format!("{}@{digest}", self.name())
    }
    /// The same repository at another digest (used to fetch a platform manifest from an index).
    pub fn at_digest(&self, digest: &str) -> Reference {
        Reference(OciReference::with_digest(
            self.registry().to_string(),
            self.repository().to_string(),
            digest.to_string(),
        ))
    }
    pub fn oci(&self) -> &OciReference {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.whole())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Turns oci-spec's terse errors into the rule the input breaks.
fn explain(input: &str, err: ParseError) -> String {
    let (name, tag) = split_name_tag(input);
    if name.chars().any(|c| c.is_ascii_uppercase()) && input.to_ascii_lowercase().parse::<OciReference>().is_ok() {
        return "repository name must be lowercase".into();
    }
    match err {
        ParseError::DigestInvalidFormat => "digest must look like sha256:<64 hex characters>".into(),
        ParseError::DigestInvalidLength => "digest has the wrong length for its algorithm".into(),
        ParseError::DigestUnsupported => "unsupported digest algorithm (use sha256, sha384 or sha512)".into(),
        ParseError::NameEmpty => "repository name must have at least one component".into(),
        ParseError::NameTooLong => "repository name must not be more than 255 characters".into(),
        ParseError::NameContainsUppercase => "repository name must be lowercase".into(),
        ParseError::TagInvalidFormat => tag_rule(),
        ParseError::ReferenceInvalidFormat => {
            if let Some(tag) = tag {
                if !valid_tag(tag) {
                    return tag_rule();
                }
            }
            if let Some((_, digest)) = input.split_once('@') {
                return digest_rule(digest);
            }
            if name.contains("//") || name.ends_with('/') || name.starts_with('/') {
                return "repository name must not have empty path components".into();
            }
            "invalid reference format: use [registry[:port]/]repository[:tag][@digest] with \
             lowercase letters, digits and separators (. _ - /)"
                .into()
        }
    }
}

fn digest_rule(digest: &str) -> String {
    let want = match digest.split_once(':') {
        Some(("sha256", hex)) => (64, hex),
        Some(("sha384", hex)) => (96, hex),
        Some(("sha512", hex)) => (128, hex),
        _ => return "digest must look like sha256:<64 hex characters>".into(),
    };
    if !want.1.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return "digest must be lowercase hexadecimal".into();
    }
    if want.1.len() != want.0 {
        return "digest has the wrong length for its algorithm".into();
    }
    "invalid digest".into()
}

fn tag_rule() -> String {
    "tag must be at most 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-'".into()
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Splits `name[:tag][@digest]` into the name and the tag, leaving a registry port alone.
fn split_name_tag(input: &str) -> (&str, Option<&str>) {
    let without_digest = input.split('@').next().unwrap_or(input);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&without_digest[..at], Some(&without_digest[at + 1..]))
        }
        None => (without_digest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Reference::parse(input).map(|r| r.to_string()).map_err(|e| e.to_string());
        let expected = expected.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, expected, "input {input:?}");
    }

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn normalises_valid_references() {
        check("alpine", Ok("docker.io/library/alpine:latest"));
        check("alpine:3.20", Ok("docker.io/library/alpine:3.20"));
        check("library/alpine", Ok("docker.io/library/alpine:latest"));
        check("index.docker.io/library/alpine", Ok("docker.io/library/alpine:latest"));
        check("user/app:v1", Ok("docker.io/user/app:v1"));
        check("quay.example/org/app", Ok("quay.example/org/app:latest"));
        check("localhost/app", Ok("localhost/app:latest"));
        for (input, local) in [
            ("image", "localhost/image:latest"),
            ("image:1", "localhost/image:1"),
            ("user/app", "localhost/user/app:latest"),
            ("localhost/app", "localhost/app:latest"),
            ("registry.com/image", "registry.com/image:latest"),
            ("127.0.0.1:5000/a:2", "127.0.0.1:5000/a:2"),
        ] {
            assert_eq!(Reference::parse_local(input).unwrap().tagged_name().unwrap(), local, "{input}");
        }
        check("127.0.0.1:5000/app:1.0", Ok("127.0.0.1:5000/app:1.0"));
        check("127.0.0.1:5000/a/b/c:x_y", Ok("127.0.0.1:5000/a/b/c:x_y"));
        check(&format!("alpine@{D}"), Ok(&format!("docker.io/library/alpine@{D}")));
        check(&format!("alpine:3@{D}"), Ok(&format!("docker.io/library/alpine:3@{D}")));
    }

    #[test]
    fn names_the_input_and_the_rule() {
        check(
            "Alpine:latest",
            Err("error parsing image reference \"Alpine:latest\": repository name must be lowercase"),
        );
        check("", Err("error parsing image reference \"\": an image reference must not be empty"));
        check(
            "alpine:-bad",
            Err("error parsing image reference \"alpine:-bad\": tag must be at most 128 characters of letters, digits, '_', '.' or '-', not starting with '.' or '-'"),
        );
        check(
            "alpine@sha256:abc",
            Err("error parsing image reference \"alpine@sha256:abc\": digest has the wrong length for its algorithm"),
        );
        check(
            "alpine@md5:abc",
            Err("error parsing image reference \"alpine@md5:abc\": digest must look like sha256:<64 hex characters>"),
        );
        check(
            "a//b",
            Err("error parsing image reference \"a//b\": repository name must not have empty path components"),
        );
        check("al pine", Err("error parsing image reference \"al pine\": an image reference must not contain ' '"));
    }

    #[test]
    fn helpers() {
        let r = Reference::parse("127.0.0.1:5000/app:1").unwrap();
        assert_eq!(r.name(), "127.0.0.1:5000/app");
        assert_eq!(r.tagged_name().as_deref(), Some("127.0.0.1:5000/app:1"));
        assert_eq!(r.at_digest(D).to_string(), format!("127.0.0.1:5000/app@{D}"));
    }
}
