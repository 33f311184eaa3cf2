//! Building an image from a Containerfile (the build dialog), its progress on the call's
//! channel, and cancelling a build by the id its `started` message gave.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use berth_engine::BuildOptions;
use serde::Deserialize;

use crate::dto::{ApiError, BuildEvent, BuildRequest, ImageSummary};

use super::backend::{user_path, Backend};

#[derive(Debug, Deserialize)]
pub struct BuildArgs {
    pub request: BuildRequest,
}

#[derive(Debug, Deserialize)]
pub struct CancelBuildArgs {
    /// The id of the build's `started` message.
    pub build: String,
}

fn blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The engine's options for a request, its paths checked: the Containerfile a file, the
/// context (the Containerfile's directory unless given) a directory.
pub fn build_options(r: BuildRequest) -> Result<BuildOptions, ApiError> {
    let file = user_path("Containerfile", &r.containerfile)?;
    if file.is_dir() {
        return Err(ApiError::invalid(format!(
            "Containerfile {}: is a directory: give the Containerfile (or Dockerfile) in it",
            file.display()
        )));
    }
    if !file.is_file() {
        return Err(ApiError::invalid(format!(
            "Containerfile {}: no such file: give the path of the Containerfile (or Dockerfile) to build",
            file.display()
        )));
    }
    let context = match blank(r.context) {
        Some(typed) => user_path("build context", &typed)?,
        None => file.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
    };
    if !context.is_dir() {
        let why = if context.exists() { "not a directory" } else { "no such directory" };
        return Err(ApiError::invalid(format!(
            "build context {}: {why}: give the directory whose files the Containerfile copies",
            context.display()
        )));
    }
    let mut build_args = std::collections::BTreeMap::new();
    for arg in r.build_args {
        let key = arg.key.trim();
        if key.is_empty() {
            if arg.value.is_empty() {
                continue;
            }
            return Err(ApiError::invalid(format!(
                "build argument with the value {:?} has no name: give the name of the ARG it sets",
                arg.value
            )));
        }
        if key.contains('=') || key.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid(format!(
                "build argument {key:?}: a name has no '=' or spaces: give the ARG's name alone"
            )));
        }
        build_args.insert(key.to_string(), arg.value);
    }
    Ok(BuildOptions {
        context,
        file: Some(file),
        tags: blank(r.name).into_iter().collect(),
        build_args,
        target: blank(r.target),
        no_cache: r.no_cache,
        pull: r.pull.into(),
        ..Default::default()
    })
}

/// Takes a build out of the cancellable ones when its call ends, however it ends.
struct Registered<'a> {
    backend: &'a Backend,
    id: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.backend.builds.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

/// Builds an image as `berth build -f FILE -t NAME CONTEXT` does. `progress` gets `started`
/// (the id `cancel_build` takes) first, then every event of the build; all of them before
/// this returns. A cancelled build fails with the code `cancelled`, and leaves nothing.
pub async fn build_image<P>(b: &Backend, a: BuildArgs, progress: P) -> Result<ImageSummary, ApiError>
where
    P: Fn(BuildEvent) + Send + 'static,
{
    let opts = build_options(a.request)?;
    let id = crate::id::new_id();
    let cancel = Arc::new(AtomicBool::new(false));
    b.builds.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), cancel.clone());
    let _registered = Registered { backend: b, id: id.clone() };
    progress(BuildEvent::Started { build: id });
    let engine = b.registry_engine();
    let flag = cancel.clone();
    // The engine pulls base images with `Handle::block_on`: it runs on the blocking pool.
    let built = tauri::async_runtime::spawn_blocking(move || {
        engine.build(&opts, &mut |e| progress(BuildEvent::from(e)), &flag)
    })
    .await
    .map_err(|e| ApiError::engine(format!("the build failed: {e}")))?;
    match built {
        Ok(image) => Ok(ImageSummary::from(&image)),
        Err(_) if cancel.load(Ordering::SeqCst) => Err(ApiError::new("cancelled", "the build was cancelled")),
        Err(e) => Err(e.into()),
    }
}

/// Stops a build: between steps, or by killing the RUN it runs. A build that ended already is
/// not an error.
pub async fn cancel_build(b: &Backend, a: CancelBuildArgs) -> Result<(), ApiError> {
    if let Some(flag) = b.builds.lock().unwrap_or_else(|e| e.into_inner()).get(&a.build) {
        flag.store(true, Ordering::SeqCst);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{BuildArg, BuildPullPolicy};

    fn request(containerfile: &str) -> BuildRequest {
        BuildRequest {
            containerfile: containerfile.into(),
            context: None,
            name: None,
            build_args: vec![],
            target: None,
            no_cache: false,
            pull: BuildPullPolicy::Missing,
        }
    }

    #[test]
    fn requests_become_build_options_with_their_paths_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Containerfile");
        std::fs::write(&file, "FROM scratch\n").unwrap();
        let ctx = dir.path().join("ctx");
        std::fs::create_dir(&ctx).unwrap();
        let f = file.to_str().unwrap();

        let o = build_options(request(f)).unwrap();
        assert_eq!(
            (o.context.as_path(), o.file.as_deref()),
            (dir.path(), Some(file.as_path())),
            "the file's directory"
        );
        assert!(o.tags.is_empty() && o.build_args.is_empty() && o.target.is_none());

        let o = build_options(BuildRequest {
            context: Some(format!(" {} ", ctx.display())),
            name: Some(" app:1 ".into()),
            build_args: vec![
                BuildArg { key: " A ".into(), value: "1".into() },
                BuildArg { key: "".into(), value: "".into() },
                BuildArg { key: "A".into(), value: "2 3".into() },
            ],
            target: Some("  ".into()),
            no_cache: true,
            pull: BuildPullPolicy::Never,
            ..request(f)
        })
        .unwrap();
        assert_eq!(o.context, ctx);
        assert_eq!(o.tags, ["app:1"]);
        assert_eq!(o.build_args.into_iter().collect::<Vec<_>>(), [("A".to_string(), "2 3".to_string())]);
        assert_eq!((o.target, o.no_cache, o.pull), (None, true, berth_engine::PullPolicy::Never));

        let err = |r: BuildRequest| build_options(r).unwrap_err();
        let missing = dir.path().join("Dockerfile");
        let e = err(request(missing.to_str().unwrap()));
        assert_eq!(e.code, "invalid");
        assert!(e.message.starts_with(&format!("Containerfile {}: no such file", missing.display())), "{e}");
        assert!(err(request(dir.path().to_str().unwrap())).message.contains("is a directory"));
        assert!(err(request("Containerfile")).message.contains("give an absolute path for the Containerfile"));
        let e = err(BuildRequest { context: Some(dir.path().join("nope").display().to_string()), ..request(f) });
        assert!(e.message.contains("build context") && e.message.contains("nope: no such directory"), "{e}");
        let e = err(BuildRequest { context: Some(f.into()), ..request(f) });
        assert!(e.message.contains("not a directory"), "{e}");
        let e = err(BuildRequest { build_args: vec![BuildArg { key: " ".into(), value: "x".into() }], ..request(f) });
        assert!(e.message.contains("has no name"), "{e}");
        let e = err(BuildRequest { build_args: vec![BuildArg { key: "A=1".into(), value: "".into() }], ..request(f) });
        assert!(e.message.contains("\"A=1\""), "{e}");
    }
}
