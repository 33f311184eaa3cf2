//! What can go wrong starting a container, and how the child tells the parent: a [`Failure`]
//! travels over the error pipe as text and becomes a [`RuntimeError`] on the other side.

use nix::errno::Errno;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuntimeError {
    /// Podman reports this with exit code 127.
    #[error("executable file `{command}` not found in $PATH: no such file or directory")]
    NotFound { command: String },
    /// Podman reports this with exit code 126.
    #[error("executable file `{command}` is not executable: permission denied")]
    NotExecutable { command: String },
    /// A working directory that had to exist does not (Podman: exit code 126).
    #[error("workdir \"{path}\" does not exist on container: create it in the image, mount a volume there, or choose another --workdir")]
    NoWorkdir { path: String },
    /// A setup step in the container's process failed, e.g. `mounting /proc: EPERM: ...`.
    #[error("{stage}: {message}")]
    Child { stage: String, message: String, errno: Option<Errno> },
    /// A step in the calling process failed.
    #[error("{stage}: {source}")]
    Parent { stage: String, source: Errno },
    #[error("preparing the container's process: {0}")]
    BeforeExec(String),
    #[error("unsupported runtime spec: {0}")]
    Unsupported(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailKind {
    Stage,
    NotFound,
    NotExecutable,
    NoWorkdir,
}

/// A failure in the container's process before execve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub kind: FailKind,
    pub stage: String,
    pub message: String,
    pub errno: Option<Errno>,
}

impl Failure {
    pub fn new(stage: impl Into<String>, message: impl Into<String>) -> Self {
        Failure { kind: FailKind::Stage, stage: stage.into(), message: message.into(), errno: None }
    }

    pub fn errno(stage: impl Into<String>, errno: Errno) -> Self {
        Failure { kind: FailKind::Stage, stage: stage.into(), message: errno.to_string(), errno: Some(errno) }
    }

    pub fn command(kind: FailKind, command: &str) -> Self {
        Failure { kind, stage: "resolving the command".into(), message: command.into(), errno: None }
    }

    /// `kind\nerrno\nstage\nmessage`; the message may hold newlines, the stage may not.
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            FailKind::Stage => "stage",
            FailKind::NotFound => "notfound",
            FailKind::NotExecutable => "notexec",
            FailKind::NoWorkdir => "noworkdir",
        };
        let errno = self.errno.map_or(0, |e| e as i32);
        format!("{kind}\n{errno}\n{}\n{}", self.stage.replace('\n', " "), self.message)
    }

    pub fn decode(report: &str) -> RuntimeError {
        let mut parts = report.splitn(4, '\n');
        let (kind, errno, stage, message) = (parts.next(), parts.next(), parts.next(), parts.next());
        let (Some(kind), Some(errno), Some(stage), Some(message)) = (kind, errno, stage, message) else {
            return RuntimeError::Child {
                stage: "starting the container's process".into(),
                message: format!("malformed report {report:?}"),
                errno: None,
            };
        };
        let command = message.to_string();
        match kind {
            "notfound" => RuntimeError::NotFound { command },
            "notexec" => RuntimeError::NotExecutable { command },
            "noworkdir" => RuntimeError::NoWorkdir { path: command },
            _ => RuntimeError::Child {
                stage: stage.into(),
                message: message.into(),
                errno: errno.parse().ok().filter(|&n| n != 0).map(Errno::from_raw),
            },
        }
    }
}

impl From<Failure> for RuntimeError {
    fn from(f: Failure) -> Self {
        Failure::decode(&f.encode())
    }
}

pub(crate) trait Stage<T> {
    /// Names the step that failed: "mounting /proc".
    fn stage(self, stage: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T> Stage<T> for Result<T, Errno> {
    fn stage(self, stage: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| Failure::errno(stage(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(failure: Failure, expected: &str) {
        assert_eq!(RuntimeError::from(failure).to_string(), expected);
    }

    #[test]
    fn failures_survive_the_pipe() {
        check(Failure::errno("mounting /proc", Errno::EPERM), "mounting /proc: EPERM: Operation not permitted");
        check(
            Failure::new("running the last step", "seccomp:\nbad filter"),
            "running the last step: seccomp:\nbad filter",
        );
        check(
            Failure::command(FailKind::NotFound, "nope"),
            "executable file `nope` not found in $PATH: no such file or directory",
        );
        check(
            Failure::command(FailKind::NotExecutable, "/etc/passwd"),
            "executable file `/etc/passwd` is not executable: permission denied",
        );
        assert_eq!(
            Failure::decode(&Failure::errno("x", Errno::ENOENT).encode()),
            RuntimeError::Child { stage: "x".into(), message: Errno::ENOENT.to_string(), errno: Some(Errno::ENOENT) }
        );
        assert!(matches!(Failure::decode("garbage"), RuntimeError::Child { .. }));
    }
}
