//! The windowed app: the engine as Tauri state, the commands, the engine's events forwarded to
//! the window (`engine-event`) and the tray, and a window that hides instead of closing, so the
//! tray stays until Quit. Containers outlive the app either way: each has its own monitor.

use std::path::Path;

use tauri::webview::PageLoadEvent;
use tauri::{Emitter, Manager, WindowEvent};

use crate::commands::Backend;
use crate::dto::EventKind;
use crate::{ipc, startup, tray, watch};

/// WebKitGTK composites the page through OpenGL. Without a GPU (no DRI render node: Xvfb, a
/// VM or a remote X session without one) that is Mesa's software rasteriser: scrolling the
/// Containers pane then took about 150 ms a frame and the web process held about 100 MB more
/// than without compositing (25 ms a frame; bench/app). So compositing is off where there is no
/// render node, unless the user set this variable either way.
const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether `dri` (/dev/dri) has a render node (`renderD128`...), i.e. a GPU to composite on.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// The name of the global event that carries each `EngineEvent` to the UI.
pub const ENGINE_EVENT: &str = "engine-event";

/// Opens the engine (at `BERTH_ROOT`, or the user's default) and runs the app until Quit.
/// Call on the main thread before any other thread starts (it may set an environment variable).
pub fn run() -> anyhow::Result<()> {
    if std::env::var_os(COMPOSITING).is_none() && !has_render_node(Path::new("/dev/dri")) {
        // Before GTK, WebKit or any thread starts.
        std::env::set_var(COMPOSITING, "1");
    }
    let backend = Backend::open_default()?;
    startup::mark("engine opened");
    let engine = backend.engine().clone();
    let app = tauri::Builder::default()
        .manage(backend)
        .invoke_handler(ipc::handler())
        .on_page_load(|_, payload| match payload.event() {
            PageLoadEvent::Started => startup::mark("page load started"),
            PageLoadEvent::Finished => startup::mark("page loaded"),
        })
        .setup(move |app| {
            startup::mark("setup");
            let handle = app.handle().clone();
            match tray::install(&handle, &engine) {
                Ok(()) => {
                    // The tray is filled when a panel shows it: at start, or when one starts
                    // later (a login's panel may start after the app), as nothing refreshed it
                    // while no panel showed it.
                    let (app, engine) = (handle.clone(), engine.clone());
                    tauri::async_runtime::spawn(async move {
                        let mut answered = false;
                        let followed = async {
                            let bus = zbus::Connection::session().await?;
                            tray::follow_host(bus, |host| {
                                if host {
                                    tray::refresh(&app, &engine);
                                } else if !answered {
                                    eprintln!("berth-desktop: no tray on this desktop (no StatusNotifier host): closing the window quits");
                                }
                                answered = true;
                            })
                            .await
                        }
                        .await;
                        if let (Err(e), false) = (followed, answered) {
                            eprintln!("berth-desktop: no tray on this desktop (no session bus: {e}): closing the window quits");
                        }
                    });
                }
                Err(e) => eprintln!("berth-desktop: no tray icon ({e}): closing the window quits"),
            }
            let for_events = handle.clone();
            let for_tray = engine.clone();
            watch::spawn(engine.clone(), move |event| {
                let _ = for_events.emit(ENGINE_EVENT, &event);
                if event.kind == EventKind::Container {
                    tray::refresh(&for_events, &for_tray);
                }
            });
            startup::mark("tray and events");
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                // Hidden, not closed: the tray's "Show Berth" brings it back. Without a tray
                // to bring it back, closing quits.
                if window.app_handle().tray_by_id(tray::TRAY_ID).is_some() && tray::host_seen() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!("../tauri.conf.json"))?;
    startup::mark("window built");
    // Without a tray, closing the window ends the app, as there is no way back to it.
    app.run(|_, _| {});
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_is_a_render_node_under_dev_dri() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dri.path().join("missing")), "no /dev/dri at all");
        std::fs::write(dri.path().join("card0"), "").unwrap();
        assert!(!has_render_node(dri.path()), "a card without a render node (a display-only device)");
        std::fs::write(dri.path().join("renderD128"), "").unwrap();
        assert!(has_render_node(dri.path()));
    }
}
