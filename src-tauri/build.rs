//! Tauri's build step (the context, the capabilities, the icons), and an empty `ui/dist` when
//! the UI was not built: the app and `--serve` embed that directory, and a Rust build must not
//! depend on a Node.js one (the served page then says that the UI was not built).

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    if !dist.exists() {
        std::fs::create_dir_all(&dist).expect("creating an empty ui/dist");
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json")).expect("tauri-build");
}
