//! Platform resolution for image indexes: os, architecture and variant, as Podman matches them.

use std::fmt;

use oci_spec::image::{Arch, Os};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid platform \"{0}\": use os/arch[/variant], for example linux/arm64/v8")]
pub struct PlatformError(pub String);

impl Platform {
    /// The platform of this machine, in OCI terms.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        let variant = match architecture {
            "arm64" => Some("v8".to_string()),
            "arm" => Some("v7".to_string()),
            _ => None,
        };
        Platform { os: "linux".into(), architecture: architecture.into(), variant }
    }

    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => {
                Ok(Platform { os: os.to_string(), architecture: arch.to_string(), variant: None })
            }
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => {
                Ok(Platform { os: os.to_string(), architecture: arch.to_string(), variant: Some(variant.to_string()) })
            }
            _ => Err(PlatformError(s.to_string())),
        }
    }

    /// How well an index entry's platform fits this one: `None` when it does not, higher is better.
    /// An exact variant beats a missing one; arm64's default variant v8 matches an entry without one.
    pub fn score(&self, os: &Os, arch: &Arch, variant: Option<&str>) -> Option<u8> {
        if os.to_string() != self.os || arch.to_string() != self.architecture {
            return None;
        }
        match (self.variant.as_deref(), variant) {
            (Some(want), Some(have)) if want == have => Some(3),
            (Some("v8"), None) if self.architecture == "arm64" => Some(2),
            (None, None) => Some(3),
            (None, Some(_)) => Some(1),
            (Some(_), None) => Some(1),
            (Some(_), Some(_)) => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(want: &str, os: &str, arch: &str, variant: Option<&str>) -> Option<u8> {
        Platform::parse(want).unwrap().score(&Os::from(os), &Arch::from(arch), variant)
    }

    #[test]
    fn matches_os_arch_and_variant() {
        assert_eq!(score("linux/amd64", "linux", "amd64", None), Some(3));
        assert_eq!(score("linux/amd64", "linux", "arm64", None), None);
        assert_eq!(score("linux/amd64", "windows", "amd64", None), None);
        assert_eq!(score("linux/arm/v7", "linux", "arm", Some("v7")), Some(3));
        assert_eq!(score("linux/arm/v7", "linux", "arm", Some("v6")), None);
        assert_eq!(score("linux/arm64/v8", "linux", "arm64", None), Some(2));
        assert_eq!(score("linux/arm/v6", "linux", "arm", None), Some(1));
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Platform::parse("linux/arm64/v8").unwrap().to_string(), "linux/arm64/v8");
        assert_eq!(
            Platform::parse("linux").unwrap_err().to_string(),
            "invalid platform \"linux\": use os/arch[/variant], for example linux/arm64/v8"
        );
        assert!(Platform::parse("linux//v8").is_err());
    }
}
