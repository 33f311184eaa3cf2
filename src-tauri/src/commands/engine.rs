//! `engine_info`: what the engine is and holds, for the status bar and the tray;
//! `disk_usage` (`berth system df`) and `host_stats` (the host's CPU and memory), for the
//! Dashboard.

use std::time::Duration;

use berth_engine::stats::HostSample;

use crate::dto::{ApiError, DiskUsage, EngineInfo, HostStats};

use super::backend::{blocking, Backend};

pub async fn engine_info(b: &Backend) -> Result<EngineInfo, ApiError> {
    blocking(&b.engine, |e| {
        // As the list counts them: without pods' infra containers.
        let containers: Vec<_> = super::containers::listed(e)?.into_iter().filter(|c| !c.options.pod_infra).collect();
        // As the images list counts them: without builds' intermediate images.
        let intermediate = e.intermediate_images()?;
        let images: Vec<_> = e.images()?.into_iter().filter(|i| !intermediate.contains(&i.id)).collect();
        Ok(EngineInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            root: e.config().root.display().to_string(),
            run_root: e.config().run_root.display().to_string(),
            containers_running: containers.iter().filter(|c| c.is_running()).count() as u32,
            containers_total: containers.len() as u32,
            images: images.len() as u32,
            rootless: berth_engine::rootless::is_rootless(),
        })
    })
    .await
}

pub async fn disk_usage(b: &Backend) -> Result<DiskUsage, ApiError> {
    blocking(&b.engine, |e| Ok(e.disk_usage()?.into())).await
}

/// The host's CPU is a rate: busy over elapsed ticks since this backend's previous sample (the
/// first call takes two, 250 ms apart: an average since boot would say little).
pub async fn host_stats(b: &Backend) -> Result<HostStats, ApiError> {
    let previous = *b.host_sample.lock().unwrap_or_else(|e| e.into_inner());
    let (before, now) = tauri::async_runtime::spawn_blocking(move || {
        let before = match previous {
            Some(p) => p,
            None => {
                let first = berth_engine::stats::host_sample()?;
                std::thread::sleep(Duration::from_millis(250));
                first
            }
        };
        Ok::<_, std::io::Error>((before, berth_engine::stats::host_sample()?))
    })
    .await
    .map_err(|e| ApiError::engine(format!("the host sample failed: {e}")))?
    .map_err(|e| ApiError::engine(format!("reading /proc: {e}")))?;
    *b.host_sample.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    Ok(host_stats_between(&before, &now))
}

pub fn host_stats_between(before: &HostSample, now: &HostSample) -> HostStats {
    let total = now.cpu_total.saturating_sub(before.cpu_total);
    let busy = now.cpu_busy.saturating_sub(before.cpu_busy);
    let cpu_percent = if total == 0 { 0.0 } else { (busy as f64 / total as f64 * 1000.0).round() / 10.0 };
    HostStats {
        cpu_percent,
        cpus: now.cpus,
        mem_used: now.mem_total.saturating_sub(now.mem_available),
        mem_total: now.mem_total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_is_busy_over_elapsed_ticks() {
        let before = HostSample { cpu_busy: 100, cpu_total: 1000, cpus: 4, mem_total: 8 << 30, mem_available: 6 << 30 };
        let now = HostSample { cpu_busy: 150, cpu_total: 1200, ..before };
        let s = host_stats_between(&before, &now);
        assert_eq!((s.cpu_percent, s.cpus, s.mem_used, s.mem_total), (25.0, 4, 2 << 30, 8 << 30));
        // No tick elapsed (two calls at once): 0, not NaN.
        assert_eq!(host_stats_between(&now, &now).cpu_percent, 0.0);
    }
}
