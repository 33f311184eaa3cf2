//! References in the transports of images as files: `docker-archive:PATH[:REF]`,
//! `oci-archive:PATH[:REF]`, `oci:DIR[:REF]`, `dir:DIR`, as containers/image spells them
//! (`pull`, `load`'s and `push`'s destinations read them here).

use std::path::PathBuf;

use super::{LayoutError, Result};

/// A reference in one of the file transports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportRef {
    pub transport: Transport,
    pub path: PathBuf,
    /// The image in the layout: a name, or (docker-archive) `@INDEX`. Empty after the colon
    /// is none, as in containers/image.
    pub reference: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    DockerArchive,
    OciArchive,
    Oci,
    Dir,
}

impl Transport {
    /// The prefix, colon included.
    pub fn prefix(self) -> &'static str {
        match self {
            Transport::DockerArchive => "docker-archive:",
            Transport::OciArchive => "oci-archive:",
            Transport::Oci => "oci:",
            Transport::Dir => "dir:",
        }
    }
}

impl TransportRef {
    /// `None` when `s` names no file transport (a registry reference, then).
    pub fn parse(s: &str) -> Option<Result<TransportRef>> {
        let transport = [Transport::DockerArchive, Transport::OciArchive, Transport::Oci, Transport::Dir]
            .into_iter()
            .find(|t| s.starts_with(t.prefix()))?;
        let rest = &s[transport.prefix().len()..];
        // PATH:REF; a path itself may not hold a colon, as in containers/image
        let (path, reference) = match (transport, rest.split_once(':')) {
            (Transport::Dir, _) | (_, None) => (rest, None),
            (_, Some((p, r))) => (p, Some(r.to_string()).filter(|r| !r.is_empty())),
        };
        if path.is_empty() {
            let p = transport.prefix();
            let form = if transport == Transport::Dir { "PATH" } else { "PATH[:REF]" };
            return Some(Err(LayoutError::Invalid(format!("{p} needs a path ({p}{form})"))));
        }
        Some(Ok(TransportRef { transport, path: PathBuf::from(path), reference }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_references_split_path_and_name() {
        let t = TransportRef::parse("docker-archive:/tmp/a.tar").unwrap().unwrap();
        assert_eq!(
            (t.transport, t.path.to_str().unwrap(), t.reference),
            (Transport::DockerArchive, "/tmp/a.tar", None)
        );
        let t = TransportRef::parse("oci-archive:/tmp/a.tar:localhost/x:1").unwrap().unwrap();
        assert_eq!(t.reference.as_deref(), Some("localhost/x:1"));
        let t = TransportRef::parse("docker-archive:a.tar:@1").unwrap().unwrap();
        assert_eq!(t.reference.as_deref(), Some("@1"));
        let t = TransportRef::parse("oci:/tmp/o:").unwrap().unwrap();
        assert_eq!((t.transport, t.reference), (Transport::Oci, None));
        let t = TransportRef::parse("dir:/tmp/a:b").unwrap().unwrap();
        assert_eq!((t.transport, t.path.to_str().unwrap()), (Transport::Dir, "/tmp/a:b"));
        assert!(TransportRef::parse("docker.io/library/busybox").is_none());
        for bad in ["oci-archive:", "oci::x", "dir:"] {
            let e = TransportRef::parse(bad).unwrap().unwrap_err().to_string();
            assert!(e.contains("needs a path"), "{bad}: {e}");
        }
    }
}
