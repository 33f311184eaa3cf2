//! The windowed app: the engine as Tauri state, the commands, the engine's events forwarded to
//! the window (`engine-event`) and the tray, and a window that hides instead of closing, so the
//! tray stays until Quit. Containers outlive the app either way: each has its own monitor.

use tauri::webview::PageLoadEvent;
use tauri::{Emitter, Manager, WindowEvent};

use crate::commands::Backend;
use crate::dto::EventKind;
use crate::{ipc, startup, tray, watch};

/// The name of the global event that carries each `EngineEvent` to the UI.
pub const ENGINE_EVENT: &str = "engine-event";

/// Opens the engine (at `BERTH_ROOT`, or the user's default) and runs the app until Quit.
pub fn run() -> anyhow::Result<()> {
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
                    tauri::async_runtime::spawn_blocking(|| {
                        if !tray::host_available() {
                            eprintln!("berth-desktop: no tray on this desktop (no StatusNotifier host): closing the window quits");
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
