//! The tray icon: a glance at the engine (icon: containers running, none, or an error;
//! tooltip: how many run) and a menu to stop a container, show the window or quit.
//!
//! What the tray shows is a pure function of the container list (`model`), tested without a
//! display; `install` and `refresh` only turn that model into Tauri's menu. The icon needs a
//! StatusNotifier host (a desktop panel): without one it is not seen, so closing the window
//! must quit rather than hide. `follow_host` watches the session bus for a panel that comes
//! (a login's panel often starts after the apps it autostarts) or goes, and the tray is
//! refreshed when one comes: it was not kept up to date while nothing showed it.
//! Quitting leaves containers running: each has its own monitor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use berth_engine::Engine;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use crate::dto::{ContainerStatus, ContainerSummary};

pub const TRAY_ID: &str = "berth";

/// What the icon says about the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrayState {
    /// At least one container runs.
    Running,
    /// The engine is fine; nothing runs.
    Idle,
    /// The engine could not be read.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The tooltip again, as a disabled first item: Linux trays (appindicator) show no tooltip.
    Status(String),
    /// "Stop NAME" for a running container.
    Stop {
        id: String,
        label: String,
    },
    Separator,
    Show,
    Quit,
}

impl Entry {
    /// The menu item's id, which `action` reads back.
    pub fn id(&self) -> String {
        match self {
            Entry::Stop { id, .. } => format!("stop:{id}"),
            Entry::Status(_) => "status".into(),
            Entry::Separator => String::new(),
            Entry::Show => "show".into(),
            Entry::Quit => "quit".into(),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Entry::Stop { label, .. } | Entry::Status(label) => label,
            Entry::Separator => "",
            Entry::Show => "Show Berth",
            Entry::Quit => "Quit",
        }
    }
}

/// What a click on a menu item asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Stop(String),
    Show,
    Quit,
}

/// The action of a menu item, by its id.
pub fn action(menu_id: &str) -> Option<Action> {
    match menu_id {
        "show" => Some(Action::Show),
        "quit" => Some(Action::Quit),
        id => id.strip_prefix("stop:").filter(|id| !id.is_empty()).map(|id| Action::Stop(id.to_string())),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayModel {
    pub state: TrayState,
    pub tooltip: String,
    pub entries: Vec<Entry>,
}

/// The tray for a container list, or for the error reading it.
pub fn model(containers: Result<&[ContainerSummary], &str>) -> TrayModel {
    let (state, tooltip, mut running) = match containers {
        Ok(list) => {
            // Running as the engine counts it: paused and stopping ones too; pods' infra
            // containers are not the user's (the list hides them too).
            let running: Vec<&ContainerSummary> = list
                .iter()
                .filter(|c| {
                    !c.pod_infra
                        && matches!(
                            c.status,
                            ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Stopping
                        )
                })
                .collect();
            let state = if running.is_empty() { TrayState::Idle } else { TrayState::Running };
            (state, format!("Berth — {} running", running.len()), running)
        }
        Err(e) => (TrayState::Error, format!("Berth — engine error: {e}"), Vec::new()),
    };
    running.sort_by(|a, b| a.name.cmp(&b.name));
    let mut entries = vec![Entry::Status(tooltip.clone()), Entry::Separator];
    entries.extend(running.iter().map(|c| Entry::Stop { id: c.id.clone(), label: format!("Stop {}", c.name) }));
    if !running.is_empty() {
        entries.push(Entry::Separator);
    }
    entries.extend([Entry::Show, Entry::Quit]);
    TrayModel { state, tooltip, entries }
}

fn icon(state: TrayState) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        TrayState::Running => include_bytes!("../../icons/tray-running.png"),
        TrayState::Idle => include_bytes!("../../icons/tray-idle.png"),
        TrayState::Error => include_bytes!("../../icons/tray-error.png"),
    })
}

fn menu<R: Runtime>(app: &AppHandle<R>, m: &TrayModel) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for e in &m.entries {
        match e {
            Entry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
            Entry::Status(label) => menu.append(&MenuItem::with_id(app, e.id(), label, false, None::<&str>)?)?,
            e => menu.append(&MenuItem::with_id(app, e.id(), e.label(), true, None::<&str>)?)?,
        }
    }
    Ok(menu)
}

/// The model for the engine's containers right now (blocking: call off the UI thread).
fn current(engine: &Engine) -> TrayModel {
    match crate::commands::listed(engine) {
        Ok(list) => {
            let list: Vec<ContainerSummary> = crate::commands::summaries(engine, &list);
            model(Ok(&list))
        }
        Err(e) => model(Err(&e.to_string())),
    }
}

/// Whether a tray can show the icon: kept by `follow_host`.
static HOST: AtomicBool = AtomicBool::new(false);

/// The bus name, object path and interface of the StatusNotifier watcher, which panels that
/// show tray icons register with (as hosts).
const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const HOST_REGISTERED: &str = "IsStatusNotifierHostRegistered";

/// Whether the watcher on `bus` says a host is registered (no watcher: no host).
async fn host_registered(bus: &zbus::Connection) -> bool {
    let asked = async {
        let reply = bus
            .call_method(Some(WATCHER), WATCHER_PATH, Some("org.freedesktop.DBus.Properties"), "Get", &(WATCHER, HOST_REGISTERED))
            .await?;
        let value: zbus::zvariant::OwnedValue = reply.body().deserialize()?;
        Ok::<bool, zbus::Error>(bool::try_from(value)?)
    };
    asked.await.unwrap_or(false)
}

/// Follows whether a StatusNotifier host is on `bus`: calls `changed(host)` with the answer at
/// once, then again each time a panel may have come or gone (the watcher's name changed owner,
/// or the watcher said a host registered or unregistered). Returns when the connection ends.
pub async fn follow_host(bus: zbus::Connection, mut changed: impl FnMut(bool)) -> zbus::Result<()> {
    use futures_util::StreamExt;
    use zbus::message::Type;
    let owner = zbus::MatchRule::builder()
        .msg_type(Type::Signal)
        .sender("org.freedesktop.DBus")?
        .interface("org.freedesktop.DBus")?
        .member("NameOwnerChanged")?
        .add_arg(WATCHER)?
        .build();
    let hosts = zbus::MatchRule::builder().msg_type(Type::Signal).interface(WATCHER)?.path(WATCHER_PATH)?.build();
    let mut signals = futures_util::stream::select(
        zbus::MessageStream::for_match_rule(owner, &bus, Some(16)).await?,
        zbus::MessageStream::for_match_rule(hosts, &bus, Some(16)).await?,
    );
    let mut host = host_registered(&bus).await;
    HOST.store(host, Ordering::Relaxed);
    changed(host);
    while let Some(signal) = signals.next().await {
        signal?;
        let now = host_registered(&bus).await;
        HOST.store(now, Ordering::Relaxed);
        if now != host {
            host = now;
            changed(host);
        }
    }
    Ok(())
}

/// Whether a StatusNotifier host was on the session bus at `follow_host`'s last word.
pub fn host_seen() -> bool {
    HOST.load(Ordering::Relaxed)
}

/// Puts the icon in the tray.
pub fn install<R: Runtime>(app: &AppHandle<R>, engine: &Engine) -> tauri::Result<()> {
    // Nothing counted yet: the list is read off the main thread (`refresh`, once `follow_host`
    // sees a panel), so the window's page does not wait for a summary of every container
    // (seconds at 10 000).
    let m = model(Ok(&[]));
    let for_menu = engine.clone();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(m.state)?)
        .tooltip(&m.tooltip)
        .menu(&menu(app, &m)?)
        .show_menu_on_left_click(true)
        .on_menu_event(move |app, event| match action(event.id().as_ref()) {
            Some(Action::Show) => show_window(app),
            Some(Action::Quit) => app.exit(0),
            Some(Action::Stop(id)) => {
                let engine = for_menu.clone();
                tauri::async_runtime::spawn_blocking(move || {
                    if let Err(e) = engine.stop_container(&id, Duration::from_secs(10)) {
                        eprintln!("berth-desktop: stopping container {id}: {e}");
                    }
                });
            }
            None => {}
        })
        .build(app)?;
    Ok(())
}

/// Whether a refresh runs, and whether one was asked for since it read the containers.
static REFRESHING: AtomicBool = AtomicBool::new(false);
static AGAIN: AtomicBool = AtomicBool::new(false);

/// How long a refresh waits for the rest of a burst of events (a `run` is a create and a
/// start) before it reads the containers once for all of them.
const BURST: Duration = Duration::from_millis(100);

/// Reads the containers again and updates the icon, tooltip and menu: one refresh at a time,
/// once more after it when asked for meanwhile, and no read while no panel shows the tray (a
/// read of every container, which at 10 000 would slow the window's own list down).
pub fn refresh<R: Runtime>(app: &AppHandle<R>, engine: &Engine) {
    AGAIN.store(true, Ordering::SeqCst);
    if REFRESHING.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    let engine = engine.clone();
    tauri::async_runtime::spawn_blocking(move || loop {
        std::thread::sleep(BURST);
        AGAIN.store(false, Ordering::SeqCst);
        if host_seen() {
            update(&app, &current(&engine));
        }
        REFRESHING.store(false, Ordering::SeqCst);
        // Asked for after the read began: go again, unless a new refresh took over.
        if !AGAIN.load(Ordering::SeqCst) || REFRESHING.swap(true, Ordering::SeqCst) {
            break;
        }
    });
}

fn update<R: Runtime>(app: &AppHandle<R>, m: &TrayModel) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
    let result = (|| -> tauri::Result<()> {
        tray.set_icon(Some(icon(m.state)?))?;
        tray.set_tooltip(Some(&m.tooltip))?;
        tray.set_menu(Some(menu(app, m)?))
    })();
    if let Err(e) = result {
        eprintln!("berth-desktop: updating the tray: {e}");
    }
}

/// Shows, unminimises and focuses the main window.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, status: ContainerStatus) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name}-id"),
            short_id: format!("{name}-id"),
            name: name.into(),
            image: "busybox".into(),
            image_id: "i".into(),
            command: "sh".into(),
            status,
            exit_code: None,
            created: 0,
            started_at: None,
            finished_at: None,
            ports: vec![],
            error: None,
            compose_project: None,
            compose_service: None,
            health: None,
            pod: None,
            pod_name: None,
            pod_infra: false,
        }
    }

    fn labels(m: &TrayModel) -> Vec<&str> {
        m.entries.iter().map(|e| if *e == Entry::Separator { "---" } else { e.label() }).collect()
    }

    #[test]
    fn running_containers_get_a_stop_item_each_sorted_by_name() {
        let list = [
            container("web", ContainerStatus::Running),
            container("old", ContainerStatus::Exited),
            container("db", ContainerStatus::Running),
            container("frozen", ContainerStatus::Paused),
            container("ending", ContainerStatus::Stopping),
            container("new", ContainerStatus::Created),
        ];
        let m = model(Ok(&list));
        assert_eq!(m.state, TrayState::Running);
        assert_eq!(m.tooltip, "Berth — 4 running");
        assert_eq!(
            labels(&m),
            [
                "Berth — 4 running",
                "---",
                "Stop db",
                "Stop ending",
                "Stop frozen",
                "Stop web",
                "---",
                "Show Berth",
                "Quit"
            ]
        );
        assert_eq!(m.entries[2].id(), "stop:db-id");
    }

    #[test]
    fn a_pods_infra_container_is_not_offered() {
        let mut infra = container("p-infra", ContainerStatus::Running);
        infra.pod_infra = true;
        let m = model(Ok(&[infra, container("app", ContainerStatus::Running)]));
        assert_eq!(m.tooltip, "Berth — 1 running");
        assert_eq!(labels(&m)[2], "Stop app");
        assert_eq!(labels(&m).len(), 6);
    }

    #[test]
    fn nothing_running_is_idle_with_no_stop_items() {
        let m = model(Ok(&[container("old", ContainerStatus::Exited)]));
        assert_eq!(m.state, TrayState::Idle);
        assert_eq!(m.tooltip, "Berth — 0 running");
        assert_eq!(labels(&m), ["Berth — 0 running", "---", "Show Berth", "Quit"]);
    }

    #[test]
    fn an_engine_error_shows_in_icon_and_tooltip() {
        let m = model(Err("database is locked"));
        assert_eq!(m.state, TrayState::Error);
        assert_eq!(m.tooltip, "Berth — engine error: database is locked");
        assert_eq!(labels(&m), ["Berth — engine error: database is locked", "---", "Show Berth", "Quit"]);
    }

    #[test]
    fn menu_ids_round_trip_to_actions() {
        let m = model(Ok(&[container("web", ContainerStatus::Running)]));
        let actions: Vec<_> = m.entries.iter().map(|e| action(&e.id())).collect();
        assert_eq!(
            actions,
            [None, None, Some(Action::Stop("web-id".into())), None, Some(Action::Show), Some(Action::Quit)]
        );
        assert_eq!(action("stop:"), None);
        assert_eq!(action("something"), None);
    }

    #[test]
    fn tray_icons_decode() {
        for s in [TrayState::Running, TrayState::Idle, TrayState::Error] {
            let i = icon(s).unwrap();
            assert_eq!((i.width(), i.height()), (64, 64));
        }
    }

    /// A panel's StatusNotifier watcher, as far as the tray asks it.
    struct Watcher {
        registered: bool,
    }

    #[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
    impl Watcher {
        #[zbus(property)]
        fn is_status_notifier_host_registered(&self) -> bool {
            self.registered
        }

        #[zbus(signal)]
        async fn status_notifier_host_registered(emitter: &zbus::object_server::SignalEmitter<'_>) -> zbus::Result<()>;
    }

    /// A session bus of its own (Debian's dbus-daemon), killed on drop.
    struct Bus {
        daemon: std::process::Child,
        address: String,
    }

    impl Bus {
        fn start() -> Bus {
            use std::io::BufRead;
            let mut daemon = std::process::Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1", "--address=unix:tmpdir=/tmp"])
                .stdout(std::process::Stdio::piped())
                // It warns that it can't raise its file limit (no CAP_SYS_RESOURCE here).
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("dbus-daemon (apt dbus-daemon, scripts/deps)");
            let mut address = String::new();
            std::io::BufReader::new(daemon.stdout.take().unwrap()).read_line(&mut address).unwrap();
            Bus { daemon, address: address.trim().to_string() }
        }

        async fn connect(&self) -> zbus::connection::Builder<'static> {
            zbus::connection::Builder::address(self.address.as_str()).unwrap()
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<bool>) -> bool {
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        got.expect("no word on the host within 10 s").expect("the follower ended")
    }

    #[tokio::test]
    async fn a_panel_that_comes_later_or_goes_is_followed() {
        let bus = Bus::start();
        let app = bus.connect().await.build().await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(follow_host(app, move |host| {
            let _ = tx.send(host);
        }));
        assert!(!next(&mut rx).await, "no panel at start");

        // A panel starts: its watcher takes the name, then its host registers.
        let panel = bus
            .connect()
            .await
            .name(WATCHER)
            .unwrap()
            .serve_at(WATCHER_PATH, Watcher { registered: false })
            .unwrap()
            .build()
            .await
            .unwrap();
        let watcher = panel.object_server().interface::<_, Watcher>(WATCHER_PATH).await.unwrap();
        watcher.get_mut().await.registered = true;
        Watcher::status_notifier_host_registered(watcher.signal_emitter()).await.unwrap();
        assert!(next(&mut rx).await, "the panel's host was seen");
        assert!(host_seen());

        // The panel goes away (its name with it).
        drop(watcher);
        drop(panel);
        assert!(!next(&mut rx).await, "the panel's leaving was seen");
        assert!(!host_seen());
    }
}
