//! The contract's commands as Tauri commands: each hands its arguments to the one shared
//! implementation in `commands`, so the window and `--serve` cannot drift apart. Tauri turns
//! the UI's camelCase argument names into these snake_case ones.
//!
//! (Commands live in a module of their own: `#[tauri::command]` in the crate root collides
//! with the macros it generates, E0255.)

use tauri::ipc::Channel;
use tauri::State;

use crate::commands::{self as c, Backend};
use crate::dto::*;

/// Every command, for `Builder::invoke_handler`.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        engine_info,
        disk_usage,
        host_stats,
        list_containers,
        container_rows,
        container_stats,
        start_container,
        stop_container,
        restart_container,
        remove_container,
        inspect_container,
        run_command,
        container_health,
        run_healthcheck,
        export_container,
        container_logs,
        list_images,
        image_details,
        inspect_image,
        image_history,
        pull_image,
        cancel_pull,
        push_image,
        build_image,
        cancel_build,
        save_image,
        load_image,
        import_image,
        remove_image,
        free_port,
        create_container,
        container_create_request,
        list_files,
        read_file,
        download_files,
        upload_file,
        log_window,
        follow_logs,
        stop_follow,
        search_logs,
        open_terminal,
        terminal_input,
        terminal_resize,
        close_terminal,
        list_volumes,
        create_volume,
        remove_volume,
        prune_volumes,
        list_networks,
        network_details,
        inspect_network,
        create_network,
        remove_network,
        prune_networks,
        list_pods,
        inspect_pod,
        create_pod,
        start_pod,
        stop_pod,
        restart_pod,
        remove_pod,
        prune_pods,
        kube_images,
        play_kube,
        kube_down,
        run_compose,
        cancel_compose,
        get_settings,
        set_registry,
        registry_login,
        registry_logout,
        set_socket,
        report_first_paint,
    ]
}

#[tauri::command]
async fn engine_info(b: State<'_, Backend>) -> Result<EngineInfo, ApiError> {
    c::engine_info(&b).await
}

#[tauri::command]
async fn disk_usage(b: State<'_, Backend>) -> Result<DiskUsage, ApiError> {
    c::disk_usage(&b).await
}

#[tauri::command]
async fn host_stats(b: State<'_, Backend>) -> Result<HostStats, ApiError> {
    c::host_stats(&b).await
}

#[tauri::command]
async fn list_containers(b: State<'_, Backend>) -> Result<Vec<ContainerSummary>, ApiError> {
    c::list_containers(&b).await
}

#[tauri::command]
async fn container_rows(b: State<'_, Backend>, ids: Vec<String>) -> Result<Vec<ContainerSummary>, ApiError> {
    c::container_rows(&b, c::IdsArgs { ids }).await
}

#[tauri::command]
async fn container_stats(b: State<'_, Backend>) -> Result<Vec<ContainerStats>, ApiError> {
    c::container_stats(&b).await
}

#[tauri::command]
async fn start_container(b: State<'_, Backend>, id: String) -> Result<ContainerSummary, ApiError> {
    c::start_container(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn stop_container(b: State<'_, Backend>, id: String, timeout: Option<u64>) -> Result<ContainerSummary, ApiError> {
    c::stop_container(&b, c::StopArgs { id, timeout }).await
}

#[tauri::command]
async fn restart_container(b: State<'_, Backend>, id: String) -> Result<ContainerSummary, ApiError> {
    c::restart_container(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn remove_container(b: State<'_, Backend>, id: String, force: bool) -> Result<(), ApiError> {
    c::remove_container(&b, c::RemoveArgs { id, force }).await
}

#[tauri::command]
async fn inspect_container(b: State<'_, Backend>, id: String) -> Result<serde_json::Value, ApiError> {
    c::inspect_container(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn run_command(b: State<'_, Backend>, id: String) -> Result<String, ApiError> {
    c::run_command(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn container_health(b: State<'_, Backend>, id: String) -> Result<Option<ContainerHealth>, ApiError> {
    c::container_health(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn run_healthcheck(b: State<'_, Backend>, id: String) -> Result<Option<ContainerHealth>, ApiError> {
    c::run_healthcheck(&b, c::IdArgs { id }).await
}

#[tauri::command]
async fn container_logs(b: State<'_, Backend>, id: String, tail: Option<usize>) -> Result<Vec<LogLine>, ApiError> {
    c::container_logs(&b, c::LogsArgs { id, tail }).await
}

#[tauri::command]
async fn list_images(b: State<'_, Backend>) -> Result<Vec<ImageSummary>, ApiError> {
    c::list_images(&b).await
}

#[tauri::command]
async fn image_details(b: State<'_, Backend>, reference: String) -> Result<ImageDetails, ApiError> {
    c::image_details(&b, c::ReferenceArgs { reference }).await
}

#[tauri::command]
async fn cancel_pull(b: State<'_, Backend>, pull: String) -> Result<(), ApiError> {
    c::cancel_pull(&b, c::CancelPullArgs { pull }).await
}

#[tauri::command]
async fn pull_image(
    b: State<'_, Backend>,
    reference: String,
    on_progress: Channel<PullEvent>,
) -> Result<ImageSummary, ApiError> {
    c::pull_image(&b, c::ReferenceArgs { reference }, move |e| {
        // A closed window no longer listens; the pull goes on.
        let _ = on_progress.send(e);
    })
    .await
}

#[tauri::command]
async fn push_image(
    b: State<'_, Backend>,
    id: String,
    destination: Option<String>,
    tls_verify: Option<bool>,
    on_progress: Channel<PushEvent>,
) -> Result<Pushed, ApiError> {
    c::push_image(&b, c::PushArgs { id, destination, tls_verify }, move |e| {
        let _ = on_progress.send(e);
    })
    .await
}

#[tauri::command]
async fn build_image(
    b: State<'_, Backend>,
    request: BuildRequest,
    on_progress: Channel<BuildEvent>,
) -> Result<ImageSummary, ApiError> {
    c::build_image(&b, c::BuildArgs { request }, move |e| {
        let _ = on_progress.send(e);
    })
    .await
}

#[tauri::command]
async fn cancel_build(b: State<'_, Backend>, build: String) -> Result<(), ApiError> {
    c::cancel_build(&b, c::CancelBuildArgs { build }).await
}

#[tauri::command]
async fn export_container(b: State<'_, Backend>, id: String, path: String) -> Result<(), ApiError> {
    c::export_container(&b, c::ExportArgs { id, path }).await
}

#[tauri::command]
async fn inspect_image(b: State<'_, Backend>, reference: String) -> Result<serde_json::Value, ApiError> {
    c::inspect_image(&b, c::ReferenceArgs { reference }).await
}

#[tauri::command]
async fn image_history(b: State<'_, Backend>, reference: String) -> Result<Vec<HistoryRow>, ApiError> {
    c::image_history(&b, c::ReferenceArgs { reference }).await
}

#[tauri::command]
async fn save_image(b: State<'_, Backend>, id: String, path: String, format: SaveFormat) -> Result<(), ApiError> {
    c::save_image(&b, c::SaveArgs { id, path, format }).await
}

#[tauri::command]
async fn load_image(b: State<'_, Backend>, path: String) -> Result<Vec<LoadedImage>, ApiError> {
    c::load_image(&b, c::PathArgs { path }).await
}

#[tauri::command]
async fn import_image(
    b: State<'_, Backend>,
    path: String,
    reference: Option<String>,
    changes: Option<Vec<String>>,
    message: Option<String>,
) -> Result<ImageSummary, ApiError> {
    c::import_image(&b, c::ImportArgs { path, reference, changes: changes.unwrap_or_default(), message }).await
}

#[tauri::command]
async fn remove_image(b: State<'_, Backend>, id: String, force: bool) -> Result<(), ApiError> {
    c::remove_image(&b, c::RemoveArgs { id, force }).await
}

#[tauri::command]
async fn free_port(protocol: Protocol, preferred: Option<u16>) -> Result<u16, ApiError> {
    c::free_port(c::FreePortArgs { protocol, preferred }).await
}

#[tauri::command]
async fn create_container(
    b: State<'_, Backend>,
    request: CreateRequest,
    base: Option<String>,
    replace: Option<bool>,
) -> Result<ContainerSummary, ApiError> {
    c::create_container(&b, c::CreateArgs { request, base, replace: replace.unwrap_or(false) }).await
}

#[tauri::command]
async fn container_create_request(
    b: State<'_, Backend>,
    id: String,
    edit: Option<bool>,
) -> Result<CreateRequest, ApiError> {
    c::container_create_request(&b, c::CloneArgs { id, edit: edit.unwrap_or(false) }).await
}

#[tauri::command]
async fn list_files(b: State<'_, Backend>, source: FileSource, path: String) -> Result<Vec<FileEntry>, ApiError> {
    c::list_files(&b, c::FilesArgs { source, path }).await
}

#[tauri::command]
async fn read_file(b: State<'_, Backend>, source: FileSource, path: String) -> Result<FileContent, ApiError> {
    c::read_file(&b, c::FilesArgs { source, path }).await
}

#[tauri::command]
async fn download_files(b: State<'_, Backend>, source: FileSource, path: String) -> Result<FileDownload, ApiError> {
    c::download_files(&b, c::FilesArgs { source, path }).await
}

#[tauri::command]
async fn upload_file(
    b: State<'_, Backend>,
    source: FileSource,
    path: String,
    name: String,
    data_base64: String,
) -> Result<(), ApiError> {
    c::upload_file(&b, c::UploadArgs { source, path, name, data_base64 }).await
}

#[tauri::command]
async fn log_window(
    b: State<'_, Backend>,
    id: String,
    before: Option<LogCursor>,
    limit: usize,
    timestamps: bool,
) -> Result<LogPage, ApiError> {
    c::log_window(&b, c::LogWindowArgs { id, before, limit, timestamps }).await
}

#[tauri::command]
async fn follow_logs(
    b: State<'_, Backend>,
    id: String,
    from: Option<LogCursor>,
    on_lines: Channel<LogBatch>,
) -> Result<String, ApiError> {
    c::follow_logs(&b, c::FollowArgs { id, from }, on_lines).await
}

#[tauri::command]
async fn stop_follow(b: State<'_, Backend>, subscription: String) -> Result<(), ApiError> {
    c::stop_follow(&b, c::SubscriptionArgs { subscription }).await
}

#[tauri::command]
async fn search_logs(
    b: State<'_, Backend>,
    id: String,
    query: String,
    regex: bool,
    case_sensitive: bool,
    limit: usize,
) -> Result<Vec<LogMatch>, ApiError> {
    c::search_logs(&b, c::SearchArgs { id, query, regex, case_sensitive, limit }).await
}

#[tauri::command]
async fn open_terminal(
    b: State<'_, Backend>,
    id: String,
    cols: u16,
    rows: u16,
    on_output: Channel<TerminalOutput>,
) -> Result<String, ApiError> {
    c::open_terminal(&b, c::OpenTerminalArgs { id, cols, rows }, on_output).await
}

#[tauri::command]
async fn terminal_input(b: State<'_, Backend>, session: String, data: String) -> Result<(), ApiError> {
    c::terminal_input(&b, c::TerminalInputArgs { session, data }).await
}

#[tauri::command]
async fn terminal_resize(b: State<'_, Backend>, session: String, cols: u16, rows: u16) -> Result<(), ApiError> {
    c::terminal_resize(&b, c::TerminalResizeArgs { session, cols, rows }).await
}

#[tauri::command]
async fn close_terminal(b: State<'_, Backend>, session: String) -> Result<(), ApiError> {
    c::close_terminal(&b, c::SessionArgs { session }).await
}

#[tauri::command]
async fn list_volumes(b: State<'_, Backend>) -> Result<Vec<VolumeSummary>, ApiError> {
    c::list_volumes(&b).await
}

#[tauri::command]
async fn create_volume(b: State<'_, Backend>, name: Option<String>) -> Result<VolumeSummary, ApiError> {
    c::create_volume(&b, c::CreateVolumeArgs { name }).await
}

#[tauri::command]
async fn remove_volume(b: State<'_, Backend>, name: String, force: bool) -> Result<(), ApiError> {
    c::remove_volume(&b, c::RemoveVolumeArgs { name, force }).await
}

#[tauri::command]
async fn prune_volumes(b: State<'_, Backend>) -> Result<Vec<String>, ApiError> {
    c::prune_volumes(&b).await
}

#[tauri::command]
async fn list_networks(b: State<'_, Backend>) -> Result<Vec<NetworkSummary>, ApiError> {
    c::list_networks(&b).await
}

#[tauri::command]
async fn network_details(b: State<'_, Backend>, name: String) -> Result<NetworkDetails, ApiError> {
    c::network_details(&b, c::NetworkArgs { name }).await
}

#[tauri::command]
async fn inspect_network(b: State<'_, Backend>, name: String) -> Result<serde_json::Value, ApiError> {
    c::inspect_network(&b, c::NetworkArgs { name }).await
}

#[tauri::command]
async fn create_network(
    b: State<'_, Backend>,
    name: String,
    subnet: Option<String>,
    gateway: Option<String>,
    labels: Vec<String>,
    internal: Option<bool>,
    ipv6: Option<bool>,
) -> Result<NetworkSummary, ApiError> {
    let (internal, ipv6) = (internal.unwrap_or(false), ipv6.unwrap_or(false));
    c::create_network(&b, c::CreateNetworkArgs { name, subnet, gateway, labels, internal, ipv6 }).await
}

#[tauri::command]
async fn remove_network(b: State<'_, Backend>, name: String) -> Result<(), ApiError> {
    c::remove_network(&b, c::NetworkArgs { name }).await
}

#[tauri::command]
async fn prune_networks(b: State<'_, Backend>) -> Result<Vec<String>, ApiError> {
    c::prune_networks(&b).await
}

#[tauri::command]
async fn list_pods(b: State<'_, Backend>) -> Result<Vec<PodSummary>, ApiError> {
    c::list_pods(&b).await
}

#[tauri::command]
async fn inspect_pod(b: State<'_, Backend>, name: String) -> Result<serde_json::Value, ApiError> {
    c::inspect_pod(&b, c::PodArgs { name }).await
}

#[tauri::command]
async fn create_pod(
    b: State<'_, Backend>,
    name: String,
    labels: Vec<String>,
    ports: Vec<String>,
    share: String,
    hostname: String,
) -> Result<PodSummary, ApiError> {
    c::create_pod(&b, c::CreatePodArgs { name, labels, ports, share, hostname }).await
}

#[tauri::command]
async fn start_pod(b: State<'_, Backend>, name: String) -> Result<PodSummary, ApiError> {
    c::start_pod(&b, c::PodArgs { name }).await
}

#[tauri::command]
async fn stop_pod(b: State<'_, Backend>, name: String) -> Result<PodSummary, ApiError> {
    c::stop_pod(&b, c::PodArgs { name }).await
}

#[tauri::command]
async fn restart_pod(b: State<'_, Backend>, name: String) -> Result<PodSummary, ApiError> {
    c::restart_pod(&b, c::PodArgs { name }).await
}

#[tauri::command]
async fn remove_pod(b: State<'_, Backend>, name: String, force: bool) -> Result<(), ApiError> {
    c::remove_pod(&b, c::RemovePodArgs { name, force }).await
}

#[tauri::command]
async fn prune_pods(b: State<'_, Backend>) -> Result<Vec<String>, ApiError> {
    c::prune_pods(&b).await
}

#[tauri::command]
async fn get_settings(b: State<'_, Backend>) -> Result<Settings, ApiError> {
    c::get_settings(&b).await
}

#[tauri::command]
async fn set_registry(b: State<'_, Backend>, host: String, insecure: bool) -> Result<Settings, ApiError> {
    c::set_registry(&b, c::SetRegistryArgs { host, insecure }).await
}

#[tauri::command]
async fn registry_login(
    b: State<'_, Backend>,
    host: String,
    username: String,
    password: String,
) -> Result<(), ApiError> {
    c::registry_login(&b, c::LoginArgs { host, username, password }).await
}

#[tauri::command]
async fn registry_logout(b: State<'_, Backend>, host: String) -> Result<(), ApiError> {
    c::registry_logout(&b, c::HostArgs { host }).await
}

#[tauri::command]
async fn set_socket(b: State<'_, Backend>, enabled: bool) -> Result<Settings, ApiError> {
    c::set_socket(&b, c::SocketArgs { enabled }).await
}

#[tauri::command]
async fn report_first_paint(b: State<'_, Backend>, report: FirstPaint) -> Result<(), ApiError> {
    c::report_first_paint(&b, c::FirstPaintArgs { report }).await
}

#[tauri::command]
async fn kube_images(b: State<'_, Backend>, request: KubeRequest) -> Result<Vec<String>, ApiError> {
    c::kube_images(&b, c::KubeArgs { request }).await
}

#[tauri::command]
async fn play_kube(b: State<'_, Backend>, request: KubeRequest) -> Result<KubePlayed, ApiError> {
    c::play_kube(&b, c::KubeArgs { request }).await
}

#[tauri::command]
async fn kube_down(b: State<'_, Backend>, request: KubeRequest) -> Result<Vec<String>, ApiError> {
    c::kube_down(&b, c::KubeArgs { request }).await
}

#[tauri::command]
async fn run_compose(
    b: State<'_, Backend>,
    request: ComposeRequest,
    on_progress: Channel<ComposeEvent>,
) -> Result<(), ApiError> {
    c::run_compose(&b, c::ComposeArgs { request }, move |e| {
        let _ = on_progress.send(e);
    })
    .await
}

#[tauri::command]
async fn cancel_compose(run: String) -> Result<(), ApiError> {
    c::cancel_compose(c::CancelComposeArgs { run }).await
}
