//! The error of every command (`ApiError`), and which code the UI branches on for each of the
//! engine's errors.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// An error as the UI sees it: `code` is what it branches on (`not_found`, `conflict`,
/// `invalid`, `engine`, `unauthorized`, `insecure_registry`, `cancelled` for a build cancelled
/// by `cancel_build`), `message` what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { code: code.to_string(), message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new("invalid", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new("not_found", message)
    }
    pub fn engine(message: impl Into<String>) -> ApiError {
        ApiError::new("engine", message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new("conflict", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<berth_engine::Error> for ApiError {
    fn from(e: berth_engine::Error) -> Self {
        use berth_engine::container::LookupError as ContainerLookup;
        use berth_engine::image::LookupError as ImageLookup;
        use berth_engine::network::NetworkError;
        use berth_engine::pod::PodError;
        use berth_engine::registry::RegistryError;
        use berth_engine::volume::VolumeError;
        use berth_engine::Error as E;
        // The CLI's advice (edit registries.conf) is not the app's: it has a switch for it.
        let http_only = match &e {
            E::Registry(RegistryError::HttpOnly { host, .. }) => Some(host),
            E::Push(berth_engine::push::PushError::Failed { cause, .. }) => match cause.as_ref() {
                E::Registry(RegistryError::HttpOnly { host, .. }) => Some(host),
                _ => None,
            },
            _ => None,
        };
        if let Some(host) = http_only {
            return ApiError::new(
                "insecure_registry",
                format!("registry {host} answers over plain HTTP only, without TLS: allow plain HTTP for it here or in Settings → Registries"),
            );
        }
        // The app shows containers by name, where Podman's words give their ids.
        if let E::Volume(VolumeError::InUse { name, names, .. }) = &e {
            return ApiError::new(
                "conflict",
                format!(
                    "volume {name} is used by container(s) {names}: remove them first, or remove the volume with force"
                ),
            );
        }
        // The app removes no network's containers for it (the CLI's --force).
        if let E::Network(NetworkError::InUse { name, containers }) = &e {
            return ApiError::new(
                "conflict",
                format!("network {name} is used by container(s) {containers}: remove them first"),
            );
        }
        let code = match &e {
            E::Lookup(ImageLookup::NotFound(_))
            | E::ContainerLookup(ContainerLookup::NotFound(_))
            | E::Registry(RegistryError::NotFound { .. }) => "not_found",
            E::Network(NetworkError::NotFound(_))
            | E::Volume(VolumeError::NotFound(_))
            | E::Pod(PodError::NotFound(_)) => "not_found",
            E::ImageInUse { .. }
            | E::ImageHasNames { .. }
            | E::NameInUse { .. }
            | E::Pod(PodError::NameInUse { .. })
            | E::StateImproper(_)
            | E::Network(NetworkError::PortInUse(_) | NetworkError::Exists(_) | NetworkError::InUse { .. })
            | E::Volume(VolumeError::Exists(_) | VolumeError::InUse { .. }) => "conflict",
            E::Reference(_)
            | E::Invalid(_)
            | E::User(_)
            | E::Spec(berth_engine::spec::SpecError::NoCommand)
            | E::Lookup(ImageLookup::Ambiguous { .. })
            | E::ContainerLookup(ContainerLookup::Ambiguous { .. })
            | E::Pod(PodError::Ambiguous { .. })
            | E::Registry(RegistryError::NoPlatform { .. })
            | E::Push(berth_engine::push::PushError::Destination { .. })
            | E::Network(
                NetworkError::BadName(_)
                | NetworkError::Reserved(_)
                | NetworkError::Invalid(_)
                | NetworkError::Overlap { .. },
            )
            | E::Volume(VolumeError::BadFlag { .. } | VolumeError::BadName(_) | VolumeError::MissingSource(_)) => {
                "invalid"
            }
            _ => "engine",
        };
        ApiError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_codes_the_ui_branches_on() {
        use berth_engine::container::LookupError as C;
        use berth_engine::image::LookupError as I;
        use berth_engine::Error as E;
        let check = |e: E, code: &str| {
            let message = e.to_string();
            assert_eq!(ApiError::from(e), ApiError { code: code.into(), message }, "{code}");
        };
        check(E::ContainerLookup(C::NotFound("web".into())), "not_found");
        check(E::Lookup(I::NotFound("nginx".into())), "not_found");
        check(E::NameInUse { name: "web".into(), id: "abc".into() }, "conflict");
        check(E::ImageInUse { image: "nginx".into(), containers: "abc".into() }, "conflict");
        check(E::StateImproper("container web is running".into()), "conflict");
        check(E::Invalid("--memory 1: the minimum memory limit allowed is 6MB".into()), "invalid");
        check(berth_engine::Reference::parse("Alpine:latest").unwrap_err().into(), "invalid");
        check(E::ContainerLookup(C::Ambiguous { query: "a".into(), candidates: "a1, a2".into() }), "invalid");
        check(E::Io { path: "/x".into(), source: std::io::Error::other("disk full") }, "engine");
        check(E::StartFailed { code: 127, message: "sh: not found".into() }, "engine");
        use berth_engine::network::NetworkError as N;
        check(E::Network(N::NotFound("backend".into())), "not_found");
        check(E::Network(N::BadName("-x".into())), "invalid");
        use berth_engine::pod::PodError as P;
        check(E::Pod(P::NotFound("web".into())), "not_found");
        check(E::Pod(P::NameInUse { name: "web".into(), id: "abc".into() }), "conflict");
        check(E::Pod(P::Ambiguous { query: "a".into(), candidates: "a1, a2".into() }), "invalid");
        let in_use = ApiError::from(E::Network(N::InUse { name: "backend".into(), containers: "web, db".into() }));
        assert_eq!(
            (in_use.code.as_str(), in_use.message.as_str()),
            ("conflict", "network backend is used by container(s) web, db: remove them first")
        );
    }

    #[test]
    fn a_plain_http_registry_points_at_the_apps_switch_not_a_root_owned_file() {
        use berth_engine::registry::RegistryError as R;
        let e = berth_engine::Error::Registry(R::HttpOnly {
            host: "127.0.0.1:5000".into(),
            config: "/etc/containers/registries.conf".into(),
        });
        let api = ApiError::from(e);
        assert_eq!(api.code, "insecure_registry");
        assert!(api.message.contains("127.0.0.1:5000") && api.message.contains("Settings → Registries"), "{api}");
        assert!(!api.message.contains('\n') && !api.message.contains("registries.conf"), "{api}");
    }
}
