//! The TypeScript declarations of the DTOs, written into `ui/src/lib/bindings/` (committed),
//! and the tests that fail when they are stale or when the contract's shapes change.

use std::path::{Path, PathBuf};

use ts_rs::TS;

use super::build::{BuildEvent, BuildRequest};
use super::containers::{ContainerStats, ContainerStatus, ContainerSummary};
use super::create::{CreateRequest, RestartPolicy};
use super::engine::{DiskUsage, EngineEvent, EngineInfo, HostStats, UsageRow};
use super::errors::ApiError;
use super::files::{FileContent, FileDownload, FileEntry, FileKind, FileSource, FileSourceKind};
use super::health::{
    ContainerHealth, HealthCheck, HealthCommand, HealthOnFailure, HealthResult, HealthStatus, HealthcheckRequest,
};
use super::images::{HistoryRow, ImageDetails, ImageSummary, LoadedImage, PullEvent, PushEvent, Pushed, SaveFormat};
use super::logs::{LogBatch, LogCursor, LogEntry, LogLine, LogMatch, LogPage};
use super::networks::{NetworkDetails, NetworkMember, NetworkSummary};
use super::play::{ComposeAction, ComposeEvent, ComposeRequest, KubePlayed, KubeRequest, PlayedContainer, PlayedPod};
use super::pods::{PodMember, PodSummary};
use super::ports::PortDto;
use super::settings::Settings;
use super::startup::FirstPaint;
use super::terminal::TerminalOutput;
use super::volumes::VolumeSummary;

/// Writes the TypeScript declaration of every DTO into `dir`, one `NAME.ts` per type;
/// returns the files written.
pub fn export_bindings(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn one<T: TS + 'static>(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let cfg = ts_rs::Config::new().with_large_int("number");
        let path = dir.join(format!("{}.ts", T::ident(&cfg)));
        let text = T::export_to_string(&cfg).map_err(std::io::Error::other)?;
        std::fs::write(&path, text)?;
        out.push(path);
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    one::<EngineInfo>(dir, &mut out)?;
    one::<UsageRow>(dir, &mut out)?;
    one::<DiskUsage>(dir, &mut out)?;
    one::<HostStats>(dir, &mut out)?;
    one::<PortDto>(dir, &mut out)?;
    one::<ContainerStatus>(dir, &mut out)?;
    one::<HealthStatus>(dir, &mut out)?;
    one::<HealthOnFailure>(dir, &mut out)?;
    one::<HealthCommand>(dir, &mut out)?;
    one::<HealthCheck>(dir, &mut out)?;
    one::<HealthResult>(dir, &mut out)?;
    one::<ContainerHealth>(dir, &mut out)?;
    one::<HealthcheckRequest>(dir, &mut out)?;
    one::<ContainerSummary>(dir, &mut out)?;
    one::<ContainerStats>(dir, &mut out)?;
    one::<LogLine>(dir, &mut out)?;
    one::<ImageSummary>(dir, &mut out)?;
    one::<ImageDetails>(dir, &mut out)?;
    one::<PullEvent>(dir, &mut out)?;
    one::<PushEvent>(dir, &mut out)?;
    one::<Pushed>(dir, &mut out)?;
    one::<SaveFormat>(dir, &mut out)?;
    one::<LoadedImage>(dir, &mut out)?;
    one::<FileSourceKind>(dir, &mut out)?;
    one::<FileSource>(dir, &mut out)?;
    one::<FileKind>(dir, &mut out)?;
    one::<FileEntry>(dir, &mut out)?;
    one::<FileContent>(dir, &mut out)?;
    one::<FileDownload>(dir, &mut out)?;
    one::<HistoryRow>(dir, &mut out)?;
    one::<BuildRequest>(dir, &mut out)?;
    one::<BuildEvent>(dir, &mut out)?;
    one::<RestartPolicy>(dir, &mut out)?;
    one::<CreateRequest>(dir, &mut out)?;
    one::<EngineEvent>(dir, &mut out)?;
    one::<LogCursor>(dir, &mut out)?;
    one::<LogEntry>(dir, &mut out)?;
    one::<LogPage>(dir, &mut out)?;
    one::<LogBatch>(dir, &mut out)?;
    one::<LogMatch>(dir, &mut out)?;
    one::<TerminalOutput>(dir, &mut out)?;
    one::<VolumeSummary>(dir, &mut out)?;
    one::<NetworkSummary>(dir, &mut out)?;
    one::<NetworkMember>(dir, &mut out)?;
    one::<NetworkDetails>(dir, &mut out)?;
    one::<PodMember>(dir, &mut out)?;
    one::<PodSummary>(dir, &mut out)?;
    one::<KubeRequest>(dir, &mut out)?;
    one::<PlayedContainer>(dir, &mut out)?;
    one::<PlayedPod>(dir, &mut out)?;
    one::<KubePlayed>(dir, &mut out)?;
    one::<ComposeAction>(dir, &mut out)?;
    one::<ComposeRequest>(dir, &mut out)?;
    one::<ComposeEvent>(dir, &mut out)?;
    one::<Settings>(dir, &mut out)?;
    one::<ApiError>(dir, &mut out)?;
    one::<FirstPaint>(dir, &mut out)?;
    Ok(out)
}

/// Where the committed bindings live.
pub fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the committed TypeScript bindings differ from what the DTOs generate.
    /// `BERTH_UPDATE_BINDINGS=1 cargo test -p berth-desktop bindings` rewrites them.
    #[test]
    fn bindings_are_fresh() {
        if std::env::var_os("BERTH_UPDATE_BINDINGS").is_some() {
            export_bindings(&bindings_dir()).unwrap();
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let mut stale = Vec::new();
        for generated in export_bindings(tmp.path()).unwrap() {
            let name = generated.file_name().unwrap();
            let committed = std::fs::read_to_string(bindings_dir().join(name)).unwrap_or_default();
            if committed != std::fs::read_to_string(&generated).unwrap() {
                stale.push(name.to_string_lossy().into_owned());
            }
        }
        assert!(
            stale.is_empty(),
            "ui/src/lib/bindings is stale ({}): run `BERTH_UPDATE_BINDINGS=1 cargo test -p berth-desktop bindings` and commit",
            stale.join(", ")
        );
    }

    #[test]
    fn bindings_keep_the_contracts_shapes() {
        let cfg = ts_rs::Config::new().with_large_int("number");
        // The declaration without its doc comments, on one line.
        let decl = |s: String| {
            let mut text = s.split_once(" = ").unwrap().1.trim_end_matches(';').to_string();
            while let Some(start) = text.find("/**") {
                let end = start + text[start..].find("*/").unwrap() + 2;
                text.replace_range(start..end, "");
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(
            decl(PortDto::decl(&cfg)),
            r#"{ hostIp: string, hostPort: number, containerPort: number, protocol: "tcp" | "udp", }"#
        );
        assert_eq!(decl(RestartPolicy::decl(&cfg)), r#""no" | "on-failure" | "always" | "unless-stopped""#);
        assert_eq!(
            decl(EngineEvent::decl(&cfg)),
            r#"{ kind: "image" | "container" | "volume" | "network" | "pod", action: string, id: string, name: string | null, exitCode?: number | null, }"#
        );
        assert_eq!(decl(LogCursor::decl(&cfg)), "{ file: number, offset: number, }");
        assert_eq!(
            decl(LogEntry::decl(&cfg)),
            r#"{ cursor: LogCursor, time: string, stream: "stdout" | "stderr", line: string, }"#
        );
        assert_eq!(decl(LogPage::decl(&cfg)), "{ entries: Array<LogEntry>, atStart: boolean, }");
        assert_eq!(decl(LogBatch::decl(&cfg)), "{ entries: Array<LogEntry>, }");
        assert_eq!(decl(LogMatch::decl(&cfg)), "{ cursor: LogCursor, line: string, }");
        assert_eq!(decl(TerminalOutput::decl(&cfg)), "{ data: string, } | { exited: number, }");
        assert_eq!(
            decl(VolumeSummary::decl(&cfg)),
            "{ name: string, driver: string, mountpoint: string, created: number, anonymous: boolean, usedBy: Array<string>, }"
        );
        assert_eq!(
            decl(Settings::decl(&cfg)),
            "{ storageRoot: string, runRoot: string, registriesConf: string, registries: Array<{ host: string, insecure: boolean, loggedIn: boolean, }>, socket: { path: string, enabled: boolean, } | null, version: string, }"
        );
        assert!(decl(CreateRequest::decl(&cfg)).ends_with(
            "start: boolean, volumes: Array<string>, healthcheck: HealthcheckRequest | null, noHealthcheck: boolean, healthOnFailure: HealthOnFailure, network?: string, labels?: Array<string>, }"
        ));
        assert_eq!(
            decl(HealthCommand::decl(&cfg)),
            r#"{ "form": "shell", line: string, } | { "form": "exec", args: Array<string>, }"#
        );
        assert_eq!(decl(HealthStatus::decl(&cfg)), r#""starting" | "healthy" | "unhealthy""#);
        let pull = decl(PullEvent::decl(&cfg));
        assert!(pull.contains(r#"{ "type": "resolved", reference: string, manifestDigest: string, layers: Array<{ digest: string, size: number, }>, }"#), "{pull}");
        assert!(
            pull.contains(
                r#"phase: "waiting" | "downloading" | "verifying" | "extracting" | "done" | "already_exists""#
            ),
            "{pull}"
        );
        assert!(decl(ContainerSummary::decl(&cfg)).contains("startedAt: number | null"));
        assert!(decl(ContainerSummary::decl(&cfg))
            .ends_with("composeProject: string | null, composeService: string | null, health: HealthStatus | null, pod: string | null, podName: string | null, podInfra: boolean, }"));
        assert_eq!(
            decl(NetworkSummary::decl(&cfg)),
            "{ name: string, id: string, driver: string, interface: string, subnet: string, gateway: string, dns: boolean, created: number, labels: { [key in string]: string }, members: number, isDefault: boolean, internal: boolean, subnet6: string, }"
        );
        assert_eq!(decl(NetworkMember::decl(&cfg)), "{ id: string, name: string, address: string, }");
        assert_eq!(decl(NetworkDetails::decl(&cfg)), "{ network: NetworkSummary, members: Array<NetworkMember>, }");
        assert_eq!(
            decl(PodSummary::decl(&cfg)),
            "{ id: string, shortId: string, name: string, state: string, created: number, containers: number, infraId: string | null, labels: { [key in string]: string }, members: Array<PodMember>, }"
        );
        assert_eq!(
            decl(PodMember::decl(&cfg)),
            "{ id: string, name: string, status: ContainerStatus, infra: boolean, }"
        );
    }
}
