//! The build itself: each stage from its base, each instruction in turn. Settings
//! (ENV, LABEL, CMD, …) change the stage's config and add a history entry; RUN runs in a
//! container of the engine and ADD/COPY write into an overlay over the stage's layers; either
//! way the upper directory becomes the step's layer and the step's result is stored as an
//! (intermediate) image.
//!
//! The cache: every step has a key, the hash of the key before it and of what the step does
//! (its instruction with its variables expanded, the ARG values a RUN sees, the bytes a
//! COPY/ADD copies). A step that makes a layer, and the end of a stage, look their key up in
//! `build_cache`: a hit is the image an earlier build stored for the same key.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::context::{self, CopyHow, Source};
use super::dockerfile::{self, Command, Copy, Dockerfile, Heredoc, Instruction, Kind, Run};
use super::ignore::Ignore;
use super::words;
use crate::commit::{object, push_history, set_env, ImageFormat, ImageParts, Made, NewLayer};
use crate::container::log_reader::{Follower, LogFiles};
use crate::container::{ContainerPaths, CreateOptions, MountRequest};
use crate::{host_mount, Engine, Error, ImageRecord, PullOptions, Result};

/// The label of a RUN step's container (its value: the Containerfile's name). Front ends leave
/// these containers out of their lists and notifications, as Podman leaves out Buildah's.
pub const BUILD_LABEL: &str = "io.berth.build";

/// What `berth build` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The build context: COPY and ADD read from this directory.
    pub context: PathBuf,
    /// The Containerfile; None: `Containerfile`, else `Dockerfile`, in the context.
    pub file: Option<PathBuf>,
    /// Names for the result (`-t`).
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    /// The stage to stop at (`--target`).
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: PullPolicy,
    /// Labels added to the result (`--label`).
    pub labels: BTreeMap<String, String>,
    pub format: ImageFormat,
    /// `--platform os/arch`: only the host's can be built.
    pub platform: Option<String>,
    /// The network RUN steps are on (`--network`); None: the default network.
    pub network: Option<String>,
    /// The ignore file (`--ignorefile`); None: the context's `.containerignore`/`.dockerignore`.
    pub ignore_file: Option<PathBuf>,
    /// Resource limits of RUN steps (`--ulimit`).
    pub ulimits: Vec<crate::container::kernel::Ulimit>,
    /// Security options of RUN steps (`--security-opt`: seccomp, apparmor, no-new-privileges…).
    pub security: crate::container::security::Security,
    /// How the build's layers are compressed (`--compression-format`); None keeps them plain
    /// tars, as containers/storage keeps a build's (a push compresses them with gzip).
    pub compression: Option<crate::commit::Compression>,
    /// `--timestamp SECONDS`: the created time of the image and its history, and the mtime of
    /// every file in the layers the build writes: the same build gives the same image id.
    pub timestamp: Option<i64>,
    /// Flags for the OCI runtime (`--runtime-flag`): Berth's runtime takes none, so a RUN
    /// fails with them, as Podman's runtime fails on a flag it does not know.
    pub runtime_flags: Vec<String>,
}

/// When a base image is pulled (`--pull`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PullPolicy {
    /// Only when there is no such image here.
    #[default]
    Missing,
    Always,
    Never,
}

impl PullPolicy {
    pub fn parse(s: &str) -> Result<PullPolicy> {
        match s {
            "missing" | "ifmissing" | "false" => Ok(PullPolicy::Missing),
            "always" | "true" | "newer" | "ifnewer" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            _ => Err(Error::Invalid(format!("invalid pull policy \"{s}\": use always, missing, newer or never"))),
        }
    }
}

/// What a build reports as it goes, in the order Podman prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildEvent {
    /// `[stage/stages] STEP n/m: INSTRUCTION` (the stage part only with several stages).
    Step {
        stage: Option<(usize, usize)>,
        step: usize,
        steps: usize,
        text: String,
    },
    /// A line a RUN printed.
    Output(String),
    /// The step's image came from the cache (its id).
    CacheHit(String),
    /// The step's (or the stage's) image, stored or found (its id).
    Done(String),
    /// `COMMIT name`: the result is being stored.
    Commit(Option<String>),
    Tagged(String),
    Warning(String),
}

impl BuildEvent {
    /// The line `berth build` prints for the event, as Podman prints it.
    pub fn line(&self) -> String {
        match self {
            BuildEvent::Step { stage: Some((n, of)), step, steps, text } => {
                format!("[{n}/{of}] STEP {step}/{steps}: {text}")
            }
            BuildEvent::Step { stage: None, step, steps, text } => format!("STEP {step}/{steps}: {text}"),
            BuildEvent::Output(line) => line.clone(),
            BuildEvent::CacheHit(id) => format!("--> Using cache {id}"),
            // Podman prints eleven digits of the id here (Buildah's own cut)
            BuildEvent::Done(id) => format!("--> {}", &id[..11.min(id.len())]),
            BuildEvent::Commit(Some(name)) => format!("COMMIT {name}"),
            BuildEvent::Commit(None) => "COMMIT".into(),
            BuildEvent::Tagged(name) => format!("Successfully tagged {name}"),
            BuildEvent::Warning(w) => format!("[Warning] {w}"),
        }
    }
}

/// The ARG names every build knows without a declaration's default.
fn platform_args() -> BTreeMap<String, String> {
    let arch = crate::registry::Platform::host().architecture;
    let mut m = BTreeMap::new();
    for prefix in ["TARGET", "BUILD"] {
        m.insert(format!("{prefix}PLATFORM"), format!("linux/{arch}"));
        m.insert(format!("{prefix}OS"), "linux".into());
        m.insert(format!("{prefix}ARCH"), arch.clone());
        m.insert(format!("{prefix}VARIANT"), String::new());
    }
    m
}

/// A stage as the build goes through it.
struct StageState {
    /// The last image stored for this stage (or its base); None: scratch, nothing stored yet.
    image: Option<ImageRecord>,
    config: Value,
    key: String,
    /// ARG values in effect (declared in this stage).
    args: BTreeMap<String, String>,
    /// The config changed since `image` was stored.
    dirty: bool,
}

impl StageState {
    fn cfg(&mut self) -> &mut Map<String, Value> {
        object(object(&mut self.config).entry("config").or_insert_with(|| json!({})))
    }

    fn cfg_str(&self, key: &str) -> Option<String> {
        self.config.get("config")?.get(key)?.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    }

    fn env(&self) -> Vec<String> {
        self.config
            .get("config")
            .and_then(|c| c.get("Env"))
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default()
    }

    /// What `$NAME` is in an instruction: the config's ENV, then the stage's ARGs.
    fn lookup(&self, name: &str) -> Option<String> {
        self.env()
            .iter()
            .rev()
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
            .or_else(|| self.args.get(name).cloned())
    }

    fn workdir(&self) -> String {
        self.cfg_str("WorkingDir").unwrap_or_else(|| "/".into())
    }

    fn shell(&self) -> Vec<String> {
        self.config
            .get("config")
            .and_then(|c| c.get("Shell"))
            .and_then(|s| serde_json::from_value::<Vec<String>>(s.clone()).ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }
}

/// One build: its options, file, and what it made so far.
struct Build<'a> {
    engine: &'a Engine,
    opts: &'a BuildOptions,
    file: Dockerfile,
    /// How the Containerfile is named in messages.
    file_name: String,
    ignore: Ignore,
    /// The results of the stages built so far, by index.
    done: HashMap<usize, ImageRecord>,
    /// This build's scratch directory (step overlays, downloads), removed at the end.
    work: PathBuf,
    used_args: BTreeSet<String>,
    cancel: &'a AtomicBool,
    /// The result's first name, for `COMMIT`.
    commit_name: Option<String>,
    /// The instruction being built, for errors (`building at STEP "…"`).
    current: Option<String>,
    /// The step being built is the result's last: its image is reported after `COMMIT`.
    final_step: bool,
}

/// The Containerfile `name` (a path relative to the context, as Docker's API names it) in
/// `context`; refused when it leaves the context or is not there.
pub fn context_file(context: &Path, name: &str) -> Result<PathBuf> {
    let rel = context::clean_relative(name)
        .filter(|r| !r.as_os_str().is_empty())
        .ok_or_else(|| Error::Invalid(format!("dockerfile {name}: give a path inside the build context")))?;
    let path = context.join(rel);
    if !path.is_file() {
        return Err(Error::Invalid(format!(
            "the Containerfile {name} is not in the build context: send it in the context's tar, or name the one that is"
        )));
    }
    Ok(path)
}

/// A step's layer, and the directory it was written from, kept for the store to move in.
struct Written {
    layer: NewLayer,
    upper: Option<PathBuf>,
}

/// What makes a step's layer on a cache miss.
type MakeLayer<'b, 'a> = dyn FnMut(&mut Build<'a>, &mut StageState, &mut dyn FnMut(BuildEvent)) -> Result<Written> + 'b;

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The time a build writes into configs and history: `--timestamp`'s, else now.
fn stamp(timestamp: Option<i64>) -> String {
    match timestamp.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => now(),
    }
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

impl Engine {
    /// `berth build`: builds the Containerfile's stages (up to `--target`) and names the
    /// result. `cancel` stops it between steps and kills a running RUN; nothing it made for an
    /// unfinished step is left behind.
    pub fn build(
        &self,
        opts: &BuildOptions,
        progress: &mut dyn FnMut(BuildEvent),
        cancel: &AtomicBool,
    ) -> Result<ImageRecord> {
        crate::container_ops::refuse_rootless("build")?;
        let context = &opts.context;
        if !context.is_dir() {
            return Err(Error::Invalid(format!(
                "build context {}: no such directory: give the directory whose files the Containerfile copies",
                context.display()
            )));
        }
        let file = match &opts.file {
            Some(f) => {
                // as given, else in the context (`-f Containerfile.dev` beside the sources)
                let f = if !f.exists() && f.is_relative() && context.join(f).exists() {
                    context.join(f)
                } else {
                    f.clone()
                };
                if f.is_dir() {
                    return Err(Error::Invalid(format!("{}: is a directory, not a Containerfile", f.display())));
                }
                f
            }
            None => ["Containerfile", "Dockerfile"].iter().map(|n| context.join(n)).find(|p| p.is_file()).ok_or_else(
                || {
                    Error::Invalid(format!(
                        "no Containerfile or Dockerfile in {}: write one there, or name it with -f",
                        context.display()
                    ))
                },
            )?,
        };
        let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::Invalid(format!("the Containerfile {}: no such file or directory", file.display()))
            }
            _ => Error::Invalid(format!("reading the Containerfile {}: {e}", file.display())),
        })?;
        let file_name =
            file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
        let parsed =
            dockerfile::parse(&text).map_err(|e| Error::Invalid(format!("{file_name}:{}: {}", e.line, e.message)))?;
        let names: Vec<String> = opts
            .tags
            .iter()
            .map(|t| {
                let r = crate::Reference::parse_local(t)?;
                if r.digest().is_some() {
                    return Err(Error::Invalid(format!("{t}: a built image's name cannot contain a digest")));
                }
                Ok(r.tagged_name().expect("a reference without digest has a tag"))
            })
            .collect::<Result<_>>()?;
        if let Some(p) = &opts.platform {
            let host = crate::registry::Platform::host();
            let want = format!("linux/{}", host.architecture);
            if p != &want && !p.is_empty() {
                return Err(Error::Invalid(format!(
                    "--platform {p}: Berth builds for this machine only ({want}); building for another needs emulation it does not have"
                )));
            }
        }
        let ignore = match &opts.ignore_file {
            Some(f) => Ignore::parse(
                &std::fs::read_to_string(f)
                    .map_err(|e| Error::Invalid(format!("--ignorefile {}: {e}", f.display())))?,
            ),
            None => Ignore::read(context)
                .map_err(|e| Error::Invalid(format!("reading the ignore file of {}: {e}", context.display())))?,
        };
        let work = self.config().root.join("build").join(format!("b-{}", hex::encode(rand::random::<[u8; 6]>())));
        std::fs::create_dir_all(&work).map_err(|e| Error::Io { path: work.clone(), source: e })?;
        let mut b = Build {
            engine: self,
            opts,
            file: parsed,
            file_name,
            ignore,
            done: HashMap::new(),
            work: work.clone(),
            used_args: BTreeSet::new(),
            cancel,
            commit_name: opts.tags.first().cloned(),
            current: None,
            final_step: false,
        };
        let result = b.run(progress);
        let _ = std::fs::remove_dir_all(&work);
        let image = result?;
        let unused: Vec<&String> = opts.build_args.keys().filter(|k| !b.used_args.contains(*k)).collect();
        if !unused.is_empty() {
            let list = unused.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            progress(BuildEvent::Warning(format!("one or more build args were not consumed: [{list}]")));
        }
        for n in &names {
            self.tag(&image.id, n)?;
            progress(BuildEvent::Tagged(n.clone()));
        }
        self.events().state("image", "build", &image.id, names.first().map(String::as_str));
        self.image(&image.id)
    }

    /// The build cache's image for `key`, if it is still there.
    fn cached(&self, key: &str) -> Result<Option<ImageRecord>> {
        let id: Option<String> = self
            .state()
            .conn()
            .query_row("SELECT image_id FROM build_cache WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(crate::state::StateError::from)?;
        match id {
            Some(id) => Ok(crate::image::get(self.state().conn(), &id)?),
            None => Ok(None),
        }
    }

    fn remember(&self, key: &str, image: &str, parent: Option<&str>) -> Result<()> {
        self.state().write(|tx| -> Result<()> {
            tx.execute(
                "INSERT OR REPLACE INTO build_cache (key, image_id, parent, created) VALUES (?1, ?2, ?3, ?4)",
                params![key, image, parent, now()],
            )
            .map_err(crate::state::StateError::from)?;
            Ok(())
        })
    }

    /// The ids of intermediate images: untagged, and what a cached build step was made on.
    pub fn intermediate_images(&self) -> Result<BTreeSet<String>> {
        let state = self.state();
        let mut stmt = state
            .conn()
            .prepare(
                "SELECT DISTINCT c.parent FROM build_cache c WHERE c.parent IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM image_names n WHERE n.image_id = c.parent)",
            )
            .map_err(crate::state::StateError::from)?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<std::result::Result<BTreeSet<_>, _>>())
            .map_err(crate::state::StateError::from)?;
        Ok(ids)
    }
}

impl<'a> Build<'a> {
    fn err(&self, line: usize, msg: impl std::fmt::Display) -> Error {
        match &self.current {
            Some(step) => Error::Invalid(format!("building at STEP \"{step}\": {}:{line}: {msg}", self.file_name)),
            None => Error::Invalid(format!("{}:{line}: {msg}", self.file_name)),
        }
    }

    fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(Error::Invalid("the build was cancelled".into()));
        }
        Ok(())
    }

    fn stage_index(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        self.file
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
            .map(|s| s.index)
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < self.file.stages.len()))
    }

    /// The global ARGs' values (for FROM lines).
    fn global_args(&mut self) -> BTreeMap<String, String> {
        let mut vals = platform_args();
        for a in self.file.global_args.clone() {
            let v = match self.opts.build_args.get(&a.name) {
                Some(v) => {
                    self.used_args.insert(a.name.clone());
                    Some(v.clone())
                }
                None => a
                    .default
                    .as_ref()
                    .map(|d| words::process(d, self.file.escape, &|n: &str| vals.get(n).cloned()).unwrap_or_default()),
            };
            if let Some(v) = v {
                vals.insert(a.name.clone(), v);
            }
        }
        vals
    }

    fn run(&mut self, progress: &mut dyn FnMut(BuildEvent)) -> Result<ImageRecord> {
        let globals = self.global_args();
        let last = match &self.opts.target {
            Some(t) => self.stage_index(t).ok_or_else(|| {
                Error::Invalid(format!(
                    "--target {t}: the {} has no stage named {t}: name one of its FROM … AS stages",
                    self.file_name
                ))
            })?,
            None => self.file.stages.len() - 1,
        };
        // the stages the last one needs, through FROM and COPY --from
        let mut needed = BTreeSet::from([last]);
        for i in (0..=last).rev() {
            if !needed.contains(&i) {
                continue;
            }
            let stage = &self.file.stages[i];
            let base =
                words::process(&stage.base, self.file.escape, &|n: &str| globals.get(n).cloned()).unwrap_or_default();
            let mut refs = vec![base];
            for ins in &stage.instructions {
                if let Kind::Copy(c) = &ins.kind {
                    refs.extend(c.from.clone());
                }
            }
            for r in refs {
                if let Some(j) = self.stage_index(&r).filter(|j| *j < i) {
                    needed.insert(j);
                }
            }
        }
        let stages = needed.len();
        let mut result = None;
        for (n, i) in needed.iter().enumerate() {
            let stage_no = (stages > 1).then_some((n + 1, stages));
            let image = self.stage(*i, stage_no, &globals, *i == last, progress)?;
            self.done.insert(*i, image.clone());
            result = Some(image);
        }
        Ok(result.expect("one stage at least"))
    }

    /// Builds stage `i`; returns its image.
    fn stage(
        &mut self,
        i: usize,
        stage_no: Option<(usize, usize)>,
        globals: &BTreeMap<String, String>,
        last: bool,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<ImageRecord> {
        let def = self.file.stages[i].clone();
        let steps = def.instructions.len() + 1;
        let escape = self.file.escape;
        progress(BuildEvent::Step { stage: stage_no, step: 1, steps, text: format!("FROM {}", from_text(&def)) });
        let base = words::process(&def.base, escape, &|n: &str| globals.get(n).cloned())
            .map_err(|e| self.err(def.line, format!("FROM {}: {e}", def.base)))?;
        if base.is_empty() {
            return Err(self.err(def.line, "FROM needs an image: name one, or scratch"));
        }
        let mut st = self.base(&base, &def, progress)?;
        // the base image's ONBUILD triggers run first, and are not inherited
        let triggers: Vec<String> = st
            .config
            .get("config")
            .and_then(|c| c.get("OnBuild"))
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .unwrap_or_default();
        if !triggers.is_empty() {
            st.cfg().remove("OnBuild");
            st.dirty = true;
        }
        for t in triggers {
            let parsed = dockerfile::parse(&format!("FROM scratch\n{t}\n"))
                .map_err(|e| self.err(def.line, format!("the base image's ONBUILD {t}: {e}")))?;
            let ins = parsed.stages[0].instructions[0].clone();
            self.step(&mut st, &ins, progress)?;
        }
        for (n, ins) in def.instructions.iter().enumerate() {
            self.check_cancel()?;
            progress(BuildEvent::Step { stage: stage_no, step: n + 2, steps, text: ins.text.clone() });
            self.current = Some(ins.text.clone());
            self.final_step = last && n + 1 == def.instructions.len();
            self.step(&mut st, ins, progress)?;
            self.current = None;
            self.final_step = false;
        }
        // the stage's result: what the last step stored, unless settings changed after it
        let labels: Vec<String> =
            if last { self.opts.labels.iter().map(|(k, v)| format!("{k}={v}")).collect() } else { vec![] };
        if !labels.is_empty() {
            let l = object(st.cfg().entry("Labels").or_insert_with(|| json!({})));
            for (k, v) in &self.opts.labels {
                l.insert(k.clone(), json!(v));
            }
            st.dirty = true;
        }
        let format = format!("{:?}", self.opts.format);
        if last {
            progress(BuildEvent::Commit(self.commit_name.clone()));
        }
        if !st.dirty {
            if let Some(img) = &st.image {
                progress(BuildEvent::Done(img.id.clone()));
                return Ok(img.clone());
            }
        }
        let key = hash(&[&st.key, "commit", &labels.join("\n"), &format]);
        if !self.opts.no_cache {
            if let Some(img) = self.engine.cached(&key)? {
                progress(BuildEvent::CacheHit(img.id.clone()));
                progress(BuildEvent::Done(img.id.clone()));
                return Ok(img);
            }
        }
        let img = self.store(&mut st, None, &key, None)?;
        progress(BuildEvent::Done(img.id.clone()));
        Ok(img)
    }

    /// The state a stage starts from: `scratch`, an earlier stage's result, or an image
    /// (pulled as `--pull` says).
    fn base(
        &mut self,
        base: &str,
        def: &dockerfile::Stage,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<StageState> {
        let format = format!("{:?}", self.opts.format);
        let image = if base.eq_ignore_ascii_case("scratch") {
            None
        } else if let Some(j) = self.stage_index(base).filter(|j| *j < def.index) {
            Some(self.done.get(&j).cloned().ok_or_else(|| self.err(def.line, format!("stage {base} was not built")))?)
        } else {
            Some(self.image_for(base, def.line, progress)?)
        };
        let config = match &image {
            Some(img) => {
                let mut c: Value = serde_json::from_str(&img.config_json)
                    .map_err(|e| self.err(def.line, format!("image {base}: bad config: {e}")))?;
                object(&mut c).remove("container_config");
                c
            }
            None => {
                let host = crate::registry::Platform::host();
                json!({"architecture": host.architecture, "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}, "history": []})
            }
        };
        let stamped = self.opts.timestamp.map(|t| t.to_string()).unwrap_or_default();
        let compression = format!("{:?}", self.opts.compression);
        let key = hash(&["from", image.as_ref().map_or("scratch", |i| i.id.as_str()), &format, &stamped, &compression]);
        Ok(StageState { image, config, key, args: BTreeMap::new(), dirty: false })
    }

    /// The image `name` as `--pull` says: here, or pulled.
    fn image_for(&self, name: &str, line: usize, progress: &mut dyn FnMut(BuildEvent)) -> Result<ImageRecord> {
        let local = match self.engine.image(name) {
            Ok(img) => Some(img),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        match (self.opts.pull, local) {
            (PullPolicy::Never, None) => Err(Error::Invalid(format!(
                "creating build container: {name}: image not known ({}:{line}: --pull=never forbids pulling it: pull it first)",
                self.file_name
            ))),
            (PullPolicy::Missing, Some(img)) | (PullPolicy::Never, Some(img)) => Ok(img),
            (_, _) => {
                progress(BuildEvent::Output(format!("Resolving \"{name}\" and pulling it")));
                let handle = tokio::runtime::Handle::try_current().map_err(|_| {
                    Error::Invalid("build: pulling a base image needs the engine's async runtime".into())
                })?;
                handle
                    .block_on(self.engine.pull(name, PullOptions::default()))
                    .map_err(|e| self.err(line, format!("FROM {name}: {e}")))
            }
        }
    }

    /// One instruction.
    fn step(&mut self, st: &mut StageState, ins: &Instruction, progress: &mut dyn FnMut(BuildEvent)) -> Result<()> {
        let escape = self.file.escape;
        let line = ins.line;
        let file_name = self.file_name.clone();
        let expand = |st: &StageState, raw: &str| -> Result<String> {
            words::process(raw, escape, &|n: &str| st.lookup(n))
                .map_err(|e| Error::Invalid(format!("{file_name}:{line}: {e}")))
        };
        let expand_words = |st: &StageState, raw: &str| -> Result<Vec<String>> {
            words::process_words(raw, escape, &|n: &str| st.lookup(n))
                .map_err(|e| Error::Invalid(format!("{file_name}:{line}: {e}")))
        };
        let timestamp = self.opts.timestamp;
        let nop = |st: &mut StageState, text: String| {
            let mut entry = Map::new();
            entry.insert("created".into(), json!(stamp(timestamp)));
            entry.insert("created_by".into(), json!(format!("/bin/sh -c #(nop) {text}")));
            entry.insert("empty_layer".into(), json!(true));
            push_history(object(&mut st.config), entry);
            st.key = hash(&[&st.key, &text]);
            st.dirty = true;
        };
        match &ins.kind {
            Kind::Run(run) => return self.run_step(st, ins, run, progress),
            Kind::Copy(c) => return self.copy_step(st, ins, c, false, progress),
            Kind::Add(c) => return self.copy_step(st, ins, c, true, progress),
            Kind::Env(pairs) => {
                let mut env = st.env();
                let mut shown = Vec::new();
                for (k, raw) in pairs {
                    let k = expand(st, k)?;
                    let v = expand(st, raw)?;
                    set_env(&mut env, &format!("{k}={v}"));
                    shown.push(format!("{k}={v}"));
                    st.cfg().insert("Env".into(), json!(env.clone()));
                }
                nop(st, format!("ENV {}", shown.join(" ")));
            }
            Kind::Arg(decls) => {
                let mut shown = Vec::new();
                let mut used = Vec::new();
                for d in decls {
                    let global = self.file.global_args.iter().find(|g| g.name == d.name).cloned();
                    let value = match self.opts.build_args.get(&d.name) {
                        Some(v) => {
                            used.push(d.name.clone());
                            Some(v.clone())
                        }
                        None => match &d.default {
                            Some(raw) => Some(expand(st, raw)?),
                            None => global
                                .and_then(|g| g.default)
                                .map(|raw| words::process(&raw, escape, &|n: &str| st.lookup(n)).unwrap_or_default())
                                .or_else(|| platform_args().get(&d.name).cloned()),
                        },
                    };
                    shown.push(match &value {
                        Some(v) => format!("{}={v}", d.name),
                        None => d.name.clone(),
                    });
                    match value {
                        Some(v) => st.args.insert(d.name.clone(), v),
                        None => st.args.remove(&d.name),
                    };
                }
                // an ARG changes nothing in the image, but what comes after depends on it
                st.key = hash(&[&st.key, "ARG", &shown.join(" ")]);
                self.used_args.extend(used);
            }
            Kind::Label(pairs) => {
                let mut shown = Vec::new();
                for (k, raw) in pairs {
                    let k = expand(st, k)?;
                    let v = expand(st, raw)?;
                    shown.push(format!("{k}={v}"));
                    object(st.cfg().entry("Labels").or_insert_with(|| json!({}))).insert(k, json!(v));
                }
                nop(st, format!("LABEL {}", shown.join(" ")));
            }
            Kind::Workdir(raw) => {
                let w = expand(st, raw)?;
                let w = if w.starts_with('/') { w } else { format!("{}/{}", st.workdir().trim_end_matches('/'), w) };
                let w = clean_abs(&w);
                st.cfg().insert("WorkingDir".into(), json!(w));
                nop(st, format!("WORKDIR {w}"));
            }
            Kind::User(raw) => {
                let u = expand(st, raw)?;
                st.cfg().insert("User".into(), json!(u));
                nop(st, format!("USER {u}"));
            }
            Kind::Expose(raws) => {
                let mut ports = Vec::new();
                for raw in raws {
                    for p in expand_words(st, raw)? {
                        let p = if p.contains('/') { p.to_ascii_lowercase() } else { format!("{p}/tcp") };
                        let (num, _) = p.split_once('/').expect("has a slash");
                        let ok = num.split('-').all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
                        if !ok {
                            return Err(self.err(
                                line,
                                format!("EXPOSE {p}: not a port: give a number from 1 to 65535 (80, 53/udp)"),
                            ));
                        }
                        object(st.cfg().entry("ExposedPorts").or_insert_with(|| json!({})))
                            .insert(p.clone(), json!({}));
                        ports.push(p);
                    }
                }
                nop(st, format!("EXPOSE {}", ports.join(" ")));
            }
            Kind::Volume(raws) => {
                let mut vols = Vec::new();
                for raw in raws {
                    let v = expand(st, raw)?;
                    if v.is_empty() {
                        return Err(self.err(line, "VOLUME needs a path"));
                    }
                    // as Docker: a path without its leading slash is one from the root
                    let v = if v.starts_with('/') { v } else { format!("/{v}") };
                    object(st.cfg().entry("Volumes").or_insert_with(|| json!({}))).insert(v.clone(), json!({}));
                    vols.push(v);
                }
                nop(st, format!("VOLUME {vols:?}"));
            }
            Kind::Entrypoint(c) => {
                let argv = self.command_argv(st, c);
                st.cfg().insert("Entrypoint".into(), json!(argv));
                // as Docker: a new ENTRYPOINT drops the CMD the base image had
                st.cfg().remove("Cmd");
                nop(st, format!("ENTRYPOINT {argv:?}"));
            }
            Kind::Cmd(c) => {
                let argv = self.command_argv(st, c);
                st.cfg().insert("Cmd".into(), json!(argv));
                nop(st, format!("CMD {argv:?}"));
            }
            Kind::Shell(sh) => {
                st.cfg().insert("Shell".into(), json!(sh));
                nop(st, format!("SHELL {sh:?}"));
            }
            Kind::StopSignal(raw) => {
                let s = expand(st, raw)?;
                crate::parse_kill_signal(&s).map_err(|e| self.err(line, format!("STOPSIGNAL {s}: {e}")))?;
                st.cfg().insert("StopSignal".into(), json!(s));
                nop(st, format!("STOPSIGNAL {s}"));
            }
            Kind::Healthcheck(h) => {
                match h {
                    None => {
                        st.cfg().insert("Healthcheck".into(), json!({"Test": ["NONE"]}));
                    }
                    Some(h) => {
                        let mut hc = Map::new();
                        hc.insert("Test".into(), json!(h.test));
                        for (k, v) in [
                            ("Interval", h.interval),
                            ("Timeout", h.timeout),
                            ("StartPeriod", h.start_period),
                            ("StartInterval", h.start_interval),
                        ] {
                            if v > 0 {
                                hc.insert(k.into(), json!(v));
                            }
                        }
                        if h.retries > 0 {
                            hc.insert("Retries".into(), json!(h.retries));
                        }
                        st.cfg().insert("Healthcheck".into(), Value::Object(hc));
                    }
                }
                nop(st, ins.text.clone());
            }
            Kind::OnBuild(t) => {
                if let Value::Array(a) = st.cfg().entry("OnBuild").or_insert_with(|| json!([])) {
                    a.push(json!(t));
                }
                nop(st, format!("ONBUILD {t}"));
            }
            Kind::Maintainer(m) => {
                let m = expand(st, m)?;
                object(&mut st.config).insert("author".into(), json!(m));
                nop(st, format!("MAINTAINER {m}"));
            }
        }
        Ok(())
    }

    /// CMD/ENTRYPOINT/RUN's argv: exec form as is, shell form through the stage's SHELL.
    fn command_argv(&self, st: &StageState, c: &Command) -> Vec<String> {
        match c {
            Command::Exec(v) => v.clone(),
            Command::Shell(s) => {
                let mut argv = st.shell();
                argv.push(s.clone());
                argv
            }
        }
    }

    /// Looks the step's key up; on a miss runs `make` for its layer and stores the result.
    fn layered(
        &mut self,
        st: &mut StageState,
        key: String,
        created_by: String,
        progress: &mut dyn FnMut(BuildEvent),
        make: &mut MakeLayer<'_, 'a>,
    ) -> Result<()> {
        if !self.opts.no_cache {
            if let Some(img) = self.engine.cached(&key)? {
                progress(BuildEvent::CacheHit(img.id.clone()));
                st.config = serde_json::from_str(&img.config_json).unwrap_or(st.config.clone());
                st.image = Some(img);
                st.key = key;
                st.dirty = false;
                return Ok(());
            }
        }
        let Written { layer, upper } = make(self, st, progress)?;
        let mut entry = Map::new();
        entry.insert("created".into(), json!(stamp(self.opts.timestamp)));
        entry.insert("created_by".into(), json!(created_by));
        push_history(object(&mut st.config), entry);
        let stored = self.store(st, Some(&layer), &key, upper.as_deref());
        if let Some(u) = &upper {
            let _ = crate::rootless::remove_tree(u);
        }
        let img = stored?;
        if !self.final_step {
            progress(BuildEvent::Done(img.id.clone()));
        }
        st.key = key;
        Ok(())
    }

    /// Stores the stage's config (and `layer` over its image's layers) as an image cached
    /// under `key`; it becomes the stage's image.
    fn store(
        &mut self,
        st: &mut StageState,
        layer: Option<&NewLayer>,
        key: &str,
        upper: Option<&Path>,
    ) -> Result<ImageRecord> {
        let engine = self.engine;
        let mut made = Made::new(engine);
        if let Some(l) = layer.filter(|l| l.new_blob) {
            made.blob = Some(l.digest.clone());
        }
        object(&mut st.config).insert("created".into(), json!(stamp(self.opts.timestamp)));
        let base_layers = st.image.as_ref().map(|i| i.layers.clone()).unwrap_or_default();
        let parts = ImageParts {
            base_layers: &base_layers,
            layer,
            config: st.config.clone(),
            format: self.opts.format,
            name: None,
            what: &format!("building {}", self.file_name),
            action: "build",
            upper,
        };
        let stored = engine.store_image(parts, &mut made)?;
        engine.remember(key, &stored.image.id, st.image.as_ref().map(|i| i.id.as_str()))?;
        made.keep();
        st.config = serde_json::from_str(&stored.image.config_json).unwrap_or(st.config.clone());
        st.image = Some(stored.image.clone());
        st.dirty = false;
        Ok(stored.image)
    }

    fn run_step(
        &mut self,
        st: &mut StageState,
        ins: &Instruction,
        run: &Run,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<()> {
        let line = ins.line;
        let argv = match (&run.command, run.heredocs.as_slice()) {
            (Command::Shell(s), [doc])
                if s.trim() == format!("<<{}", doc.name)
                    || s.trim().starts_with("<<") && s.split_whitespace().count() == 1 =>
            {
                let mut argv = st.shell();
                argv.push(doc.body.clone());
                argv
            }
            (Command::Shell(s), docs) if !docs.is_empty() => {
                let mut script = s.clone();
                script.push('\n');
                for d in docs {
                    script.push_str(&d.body);
                    script.push_str(&d.name);
                    script.push('\n');
                }
                let mut argv = st.shell();
                argv.push(script);
                argv
            }
            (c, _) => self.command_argv(st, c),
        };
        let mut mounts = Vec::new();
        let mut mount_keys = Vec::new();
        for m in &run.mounts {
            let raw = words::process(m, self.file.escape, &|n: &str| st.lookup(n)).map_err(|e| self.err(line, e))?;
            let (req, key) = self.run_mount(st, &raw, line, progress)?;
            mounts.push(req);
            mount_keys.push(key);
        }
        let network = match run.network.as_deref() {
            None | Some("default") => self.opts.network.clone(),
            Some("none") => Some("none".into()),
            Some("host") => Some("host".into()),
            Some(other) => return Err(self.err(line, format!("RUN --network={other}: use default, none or host"))),
        };
        // the ARGs a RUN sees (as environment), unless an ENV of the same name wins
        let env = st.env();
        let mut run_env = env.clone();
        let mut arg_text = Vec::new();
        for (k, v) in &st.args {
            if !env.iter().any(|e| e.split_once('=').is_some_and(|(ek, _)| ek == k)) {
                run_env.push(format!("{k}={v}"));
                arg_text.push(format!("{k}={v}"));
            }
        }
        let argv_json = serde_json::to_string(&argv).expect("json");
        let key = hash(&[
            &st.key,
            "RUN",
            &argv_json,
            &arg_text.join("\n"),
            network.as_deref().unwrap_or(""),
            &mount_keys.join("\n"),
            &format!("{:?} {:?}", self.opts.security, self.opts.ulimits),
        ]);
        let created_by = match &run.command {
            Command::Shell(_) => {
                let prefix = if arg_text.is_empty() {
                    String::new()
                } else {
                    format!("|{} {} ", arg_text.len(), arg_text.join(" "))
                };
                format!("{prefix}{}", argv.join(" "))
            }
            Command::Exec(_) => argv.join(" "),
        };
        let spec = RunSpec { argv, env: run_env, network, mounts };
        self.layered(st, key, created_by, progress, &mut |b, st, progress| b.run_container(st, line, &spec, progress))
    }

    /// `RUN --mount=…`: the container's mount, and what identifies it for the cache.
    /// bind (of the context, read-only; or of a stage's or image's files), cache (a directory
    /// kept between builds, by its id or target) and tmpfs.
    fn run_mount(
        &self,
        st: &StageState,
        raw: &str,
        line: usize,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<(MountRequest, String)> {
        let mut kind = "bind".to_string();
        let mut fields = BTreeMap::new();
        for part in raw.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, "true"));
            let k = k.to_ascii_lowercase();
            match k.as_str() {
                "type" => kind = v.to_string(),
                "target" | "dst" | "destination" => {
                    fields.insert("target".to_string(), v.to_string());
                }
                "source" | "src" => {
                    fields.insert("source".to_string(), v.to_string());
                }
                "from" | "id" | "size" | "mode" | "uid" | "gid" | "sharing" | "readonly" | "ro" | "rw"
                | "readwrite" => {
                    fields.insert(k, v.to_string());
                }
                _ => return Err(self.err(line, format!("RUN --mount={raw}: unknown option {k}"))),
            }
        }
        if !["bind", "cache", "tmpfs"].contains(&kind.as_str()) {
            return Err(self.err(
                line,
                format!("RUN --mount type={kind} is not supported: use bind, cache or tmpfs (secrets: pass them as build args)"),
            ));
        }
        let target = fields.get("target").cloned().ok_or_else(|| {
            self.err(line, format!("RUN --mount={raw}: it needs a target (target=/path/in/the/container)"))
        })?;
        let target =
            if target.starts_with('/') { target } else { format!("{}/{target}", st.workdir().trim_end_matches('/')) };
        let target = clean_abs(&target);
        let writable = ["rw", "readwrite"].iter().any(|k| fields.get(*k).is_some_and(|v| v == "true"));
        match kind.as_str() {
            "bind" => {
                let source = fields.get("source").cloned().unwrap_or_else(|| ".".into());
                if writable {
                    return Err(self.err(
                        line,
                        format!(
                            "RUN --mount={raw}: a writable bind is not supported: COPY the files in, or use type=cache"
                        ),
                    ));
                }
                match fields.get("from") {
                    Some(from) => {
                        let img = match self.stage_index(from) {
                            Some(j) => self.done.get(&j).cloned().ok_or_else(|| {
                                self.err(line, format!("RUN --mount from={from}: that stage comes after this one"))
                            })?,
                            None => self.image_for(from, line, progress)?,
                        };
                        if clean_abs(&source) != "/" {
                            return Err(self.err(
                                line,
                                format!("RUN --mount={raw}: with from=, only the whole root can be mounted: leave source out"),
                            ));
                        }
                        let key = format!("bind from {} at {target}", img.id);
                        Ok((
                            MountRequest::Image {
                                source: img.id.clone(),
                                image_id: img.id,
                                destination: target,
                                read_write: false,
                            },
                            key,
                        ))
                    }
                    None => {
                        let found = context::context_sources(&self.opts.context, &self.ignore, &source)
                            .map_err(|e| self.err(line, format!("RUN --mount: {e}")))?;
                        let src = found.into_iter().next().expect("one source at least").path;
                        let mut h = Sha256::new();
                        digest_tree(&src, &self.opts.context, &self.ignore, &mut h)
                            .map_err(|e| self.err(line, format!("RUN --mount: reading {}: {e}", src.display())))?;
                        let key = format!("bind {source} at {target}: {}", hex::encode(h.finalize()));
                        Ok((MountRequest::Bind { source: src, destination: target, read_only: true }, key))
                    }
                }
            }
            "cache" => {
                let id = fields.get("id").cloned().unwrap_or_else(|| target.clone());
                let dir = self.engine.config().root.join("build-cache").join(&hash(&[&id])[..32]);
                std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
                let owner = (
                    fields.get("uid").and_then(|u| u.parse::<u32>().ok()),
                    fields.get("gid").and_then(|g| g.parse::<u32>().ok()),
                );
                if owner.0.is_some() || owner.1.is_some() {
                    let _ = std::os::unix::fs::chown(&dir, owner.0, owner.1);
                }
                if let Some(mode) = fields.get("mode").and_then(|m| u32::from_str_radix(m, 8).ok()) {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode));
                }
                Ok((
                    MountRequest::Bind { source: dir, destination: target.clone(), read_only: false },
                    format!("cache at {target}"),
                ))
            }
            "tmpfs" => {
                let options = fields.get("size").map(|s| vec![format!("size={s}")]).unwrap_or_default();
                Ok((MountRequest::Tmpfs { destination: target.clone(), options }, format!("tmpfs at {target}")))
            }
            other => unreachable!("mount type {other} was checked"),
        }
    }

    /// Runs `argv` in a container of the stage's image; its changes, as a layer.
    fn run_container(
        &mut self,
        st: &StageState,
        line: usize,
        spec: &RunSpec,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<Written> {
        let RunSpec { argv, env, network, mounts } = spec;
        let network = network.clone();
        let engine = self.engine;
        let Some(img) = st.image.as_ref().filter(|i| !i.layers.is_empty()) else {
            return Err(self.err(line, "RUN needs files to run: this stage is FROM scratch with nothing copied in yet"));
        };
        let opts = CreateOptions {
            command: argv.to_vec(),
            entrypoint: Some(vec![]),
            env: env.to_vec(),
            workdir: Some(st.workdir()),
            user: st.cfg_str("User"),
            network,
            mounts: mounts.clone(),
            ulimits: self.opts.ulimits.clone(),
            security: self.opts.security.clone(),
            labels: BTreeMap::from([(BUILD_LABEL.to_string(), self.file_name.clone())]),
            ..CreateOptions::default()
        };
        if let Some(flag) = self.opts.runtime_flags.first() {
            let Error::Invalid(message) = self.err(
                line,
                format!("RUN: --runtime-flag {flag}: berth's runtime takes no flags (it is built into berth, not crun or runc): leave --runtime-flag out"),
            ) else {
                unreachable!("err makes Invalid")
            };
            return Err(Error::BuildStepFailed { code: 1, message });
        }
        let c = engine.create_container(&img.id, opts).map_err(|e| self.err(line, format!("RUN: {e}")))?;
        let guard = RemoveOnDrop { engine, id: c.id.clone() };
        let paths = ContainerPaths::new(&engine.config().root, &c.id);
        let mut follower = Follower::new(LogFiles::new(&paths.log()), None)
            .map_err(|e| self.err(line, format!("RUN: reading its output: {e}")))?;
        engine.start_container(&c.id).map_err(|e| self.err(line, format!("RUN {}: {e}", argv.join(" "))))?;
        let emit = |follower: &mut Follower, progress: &mut dyn FnMut(BuildEvent)| {
            while let Ok((lines, more)) = follower.poll(1 << 20) {
                for l in lines {
                    progress(BuildEvent::Output(String::from_utf8_lossy(&l.message).into_owned()));
                }
                if !more {
                    break;
                }
            }
        };
        let code = loop {
            emit(&mut follower, progress);
            if let Some(code) = engine.exit_code(&c.id)? {
                emit(&mut follower, progress);
                if let Some(l) = follower.take_partial() {
                    progress(BuildEvent::Output(String::from_utf8_lossy(&l.message).into_owned()));
                }
                break code;
            }
            if self.cancel.load(Ordering::SeqCst) {
                let _ = engine.kill_container(&c.id, "KILL");
                return Err(Error::Invalid("the build was cancelled".into()));
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        if code != 0 {
            let Error::Invalid(message) = self.err(
                line,
                format!("RUN {}: the command exited with {code}", argv.last().map(String::as_str).unwrap_or("")),
            ) else {
                unreachable!("err makes Invalid")
            };
            return Err(Error::BuildStepFailed { code, message });
        }
        let upper = paths.upper();
        let targets: Vec<String> = mounts.iter().map(|m| m.destination().trim_start_matches('/').to_string()).collect();
        drop_runtime_files(&upper, img, engine, &targets);
        let layer =
            engine.write_layer_with(&upper, self.opts.timestamp.map(|t| t.max(0) as u64), self.opts.compression);
        let kept = layer.is_ok().then(|| self.keep_upper(&upper, line)).flatten();
        drop(guard);
        Ok(Written { layer: layer?, upper: kept })
    }

    fn copy_step(
        &mut self,
        st: &mut StageState,
        ins: &Instruction,
        c: &Copy,
        add: bool,
        progress: &mut dyn FnMut(BuildEvent),
    ) -> Result<()> {
        let line = ins.line;
        let verb = if add { "ADD" } else { "COPY" };
        let escape = self.file.escape;
        let file_name = self.file_name.clone();
        let expand = |st: &StageState, raw: &str| -> Result<String> {
            words::process(raw, escape, &|n: &str| st.lookup(n))
                .map_err(|e| Error::Invalid(format!("{file_name}:{line}: {e}")))
        };
        let dest_raw = expand(st, &c.dest)?;
        if dest_raw.is_empty() {
            return Err(self.err(line, format!("{verb} needs a destination")));
        }
        let dest_is_dir_syntax = dest_raw.ends_with('/') || dest_raw.ends_with("/.");
        let dest = if dest_raw.starts_with('/') {
            dest_raw.clone()
        } else {
            format!("{}/{}", st.workdir().trim_end_matches('/'), dest_raw)
        };
        let dest = clean_abs(&dest);
        let sources: Vec<String> = c.sources.iter().map(|s| expand(st, s)).collect::<Result<_>>()?;
        let heredocs: Vec<&Heredoc> = c.heredocs.iter().collect();
        if sources.len() > 1 && !dest_is_dir_syntax {
            return Err(self.err(
                line,
                format!("{verb} with more than one source needs a directory as destination, ending in /: {dest_raw}/"),
            ));
        }
        let chmod =
            match &c.chmod {
                Some(m) => Some(u32::from_str_radix(m, 8).ok().filter(|m| *m <= 0o7777).ok_or_else(|| {
                    self.err(line, format!("--chmod={m}: not an octal mode: give one like 644 or 0755"))
                })?),
                None => None,
            };
        // where the files come from, and what identifies them for the cache
        let from_image = match &c.from {
            Some(f) => {
                let f = expand(st, f)?;
                Some(match self.stage_index(&f) {
                    Some(j) => self.done.get(&j).cloned().ok_or_else(|| {
                        self.err(line, format!("COPY --from={f}: that stage comes after this one, or was not built"))
                    })?,
                    None => self.image_for(&f, line, progress)?,
                })
            }
            None => None,
        };
        let mut identity = vec![verb.to_string(), dest.clone(), dest_is_dir_syntax.to_string()];
        identity.push(format!("{:?}{:?}", c.chown, c.chmod));
        let from_root = match &from_image {
            Some(img) => {
                identity.push(format!("from {}", img.id));
                identity.extend(sources.iter().cloned());
                Some(self.mount_read_only(img, line)?)
            }
            None => None,
        };
        let downloads = self.work.join(format!("dl-{}", line));
        let resolved = (|| -> Result<Vec<(Source, bool)>> {
            let mut out = Vec::new();
            for s in &sources {
                if let Some(doc) = heredocs.iter().find(|d| s == &format!("<<{}", d.name) || s == &d.name) {
                    let body = doc.body.clone();
                    std::fs::create_dir_all(&downloads)
                        .map_err(|e| Error::Io { path: downloads.clone(), source: e })?;
                    let p = downloads.join(format!("heredoc-{}", doc.name));
                    std::fs::write(&p, body).map_err(|e| Error::Io { path: p.clone(), source: e })?;
                    out.push((Source { path: p, name: doc.name.clone().into() }, false));
                    continue;
                }
                if s.starts_with("http://") || s.starts_with("https://") {
                    if !add {
                        return Err(
                            self.err(line, format!("COPY {s}: COPY takes files of the context; ADD downloads URLs"))
                        );
                    }
                    out.push((self.download(s, &downloads, line)?, false));
                    continue;
                }
                if s.starts_with("git@") || s.ends_with(".git") {
                    return Err(self.err(
                        line,
                        format!("{verb} {s}: git sources are not supported: clone the repository into the context"),
                    ));
                }
                let found = match &from_root {
                    Some(root) => context::root_sources(&root.0, s, c.from.as_deref().unwrap_or("")),
                    None => context::context_sources(&self.opts.context, &self.ignore, s),
                }
                .map_err(|e| self.err(line, format!("{verb}: {e}")))?;
                let extract = add && from_root.is_none();
                out.extend(found.into_iter().map(|f| (f, extract)));
            }
            Ok(out)
        })();
        let resolved = match resolved {
            Ok(r) => r,
            Err(e) => {
                drop(from_root);
                return Err(e);
            }
        };
        if resolved.len() > 1 && !dest_is_dir_syntax {
            return Err(self.err(
                line,
                format!(
                    "{verb}: the sources name {} files: the destination must be a directory, ending in /: {dest_raw}/",
                    resolved.len()
                ),
            ));
        }
        if from_image.is_none() {
            let mut h = Sha256::new();
            for (s, _) in &resolved {
                h.update(s.name.as_encoded_bytes());
                digest_tree(&s.path, &self.opts.context, &self.ignore, &mut h)
                    .map_err(|e| self.err(line, format!("{verb}: reading {}: {e}", s.path.display())))?;
            }
            identity.push(hex::encode(h.finalize()));
        }
        let key = hash(&[&st.key, &identity.join("\n")]);
        let sources_shown = sources.join(" ");
        let created_by = format!("/bin/sh -c #(nop) {verb} {sources_shown} in {dest}");
        let keep_owner = from_image.is_some();
        let chown_spec = c.chown.clone().map(|s| expand(st, &s)).transpose()?;
        let result = self.layered(st, key, created_by, progress, &mut |b, st, _| {
            b.copy_layer(st, line, &resolved, &dest, dest_is_dir_syntax, chown_spec.as_deref(), chmod, keep_owner)
        });
        drop(from_root);
        let _ = std::fs::remove_dir_all(&downloads);
        result
    }

    /// Mounts `img`'s layers read-only in the build's directory; unmounted when dropped.
    fn mount_read_only(&self, img: &ImageRecord, line: usize) -> Result<Unmount> {
        let target = self.work.join(format!("from-{}-{}", short(&img.id), line));
        let lower = self.engine.lower_dirs(img)?;
        if lower.is_empty() {
            std::fs::create_dir_all(&target).map_err(|e| Error::Io { path: target.clone(), source: e })?;
            return Ok(Unmount(target, false));
        }
        host_mount::mount_layers(&target, &lower, None)
            .map_err(|e| self.err(line, format!("mounting {}: {e}", short(&img.id))))?;
        Ok(Unmount(target, true))
    }

    /// ADD of a URL: the file, downloaded into `dir`.
    fn download(&self, url: &str, dir: &Path, line: usize) -> Result<Source> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_path_buf(), source: e })?;
        let name = url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("download")
            .to_string();
        let path = dir.join(format!("url-{}", hash(&[url])));
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Invalid("build: ADD of a URL needs the engine's async runtime".into()))?;
        let bytes = handle
            .block_on(async {
                let r = reqwest::get(url).await?.error_for_status()?;
                r.bytes().await
            })
            .map_err(|e| self.err(line, format!("ADD {url}: {e}")))?;
        let mut f = std::fs::File::create(&path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        f.write_all(&bytes).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        Ok(Source { path, name: name.into() })
    }

    /// Copies `sources` to `dest` in an overlay over the stage's image; the upper directory, as
    /// a layer.
    #[allow(clippy::too_many_arguments)]
    fn copy_layer(
        &mut self,
        st: &StageState,
        line: usize,
        sources: &[(Source, bool)],
        dest: &str,
        dest_is_dir: bool,
        chown: Option<&str>,
        chmod: Option<u32>,
        keep_owner: bool,
    ) -> Result<Written> {
        let engine = self.engine;
        let dir = self.work.join(format!("step-{line}"));
        let (upper, work, merged, empty) = (dir.join("upper"), dir.join("work"), dir.join("merged"), dir.join("empty"));
        for d in [&upper, &work, &merged, &empty] {
            std::fs::create_dir_all(d).map_err(|e| Error::Io { path: d.to_path_buf(), source: e })?;
        }
        let mut lower = match &st.image {
            Some(img) => engine.lower_dirs(img)?,
            None => vec![],
        };
        if lower.is_empty() {
            lower.push(empty.clone());
        }
        host_mount::mount_layers(&merged, &lower, Some((&upper, &work)))
            .map_err(|e| self.err(line, format!("mounting the step's root: {e}")))?;
        let mounted = Unmount(merged.clone(), true);
        let copied = (|| -> std::result::Result<(), String> {
            let owner = match chown {
                Some(spec) => Some(context::parse_chown(spec, &merged)?),
                None => None,
            };
            let how = CopyHow { chown: owner, chmod, keep_owner };
            let mut links = context::Links::new();
            let dirs_owner = owner.unwrap_or((0, 0));
            let dest_path = Path::new(dest);
            let existing_dir = context::resolve(&merged, dest_path).map(|p| p.is_dir()).unwrap_or(false);
            for (k, (src, extract)) in sources.iter().enumerate() {
                let meta = std::fs::metadata(&src.path).map_err(|e| format!("{}: {e}", src.path.display()))?;
                if meta.is_dir() {
                    let into =
                        context::make_dirs(&merged, dest_path, dirs_owner).map_err(|e| format!("{dest}: {e}"))?;
                    let _ = into;
                    let mut entries: Vec<_> = std::fs::read_dir(&src.path)
                        .and_then(|r| r.collect::<std::io::Result<Vec<_>>>())
                        .map_err(|e| format!("{}: {e}", src.path.display()))?;
                    entries.sort_by_key(|e| e.file_name());
                    for e in entries {
                        if self.ignored(&e.path()) {
                            continue;
                        }
                        self.copy_filtered(&e.path(), &merged, &dest_path.join(e.file_name()), &how, &mut links)?;
                    }
                    continue;
                }
                if *extract {
                    if let Some(kind) = context::sniff_archive(&src.path) {
                        let tmp = dir.join(format!("extract-{k}"));
                        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
                        context::unpack_archive(&src.path, kind, &tmp)
                            .map_err(|e| format!("extracting {}: {e}", src.name.to_string_lossy()))?;
                        context::make_dirs(&merged, dest_path, dirs_owner).map_err(|e| format!("{dest}: {e}"))?;
                        let how = CopyHow { keep_owner: true, ..how };
                        for e in std::fs::read_dir(&tmp).map_err(|e| e.to_string())? {
                            let e = e.map_err(|e| e.to_string())?;
                            context::copy_into(&e.path(), &merged, &dest_path.join(e.file_name()), &how, &mut links)
                                .map_err(|err| format!("{dest}: {err}"))?;
                        }
                        continue;
                    }
                }
                let target =
                    if dest_is_dir || existing_dir { dest_path.join(&src.name) } else { dest_path.to_path_buf() };
                if let Some(parent) = target.parent() {
                    context::make_dirs(&merged, parent, dirs_owner)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                context::copy_into(&src.path, &merged, &target, &how, &mut links)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
            }
            Ok(())
        })();
        drop(mounted);
        if let Err(e) = copied {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(self.err(line, e));
        }
        let layer =
            engine.write_layer_with(&upper, self.opts.timestamp.map(|t| t.max(0) as u64), self.opts.compression);
        let kept = layer.is_ok().then(|| self.keep_upper(&upper, line)).flatten();
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Written { layer: layer?, upper: kept })
    }

    /// Moves a step's upper directory aside into the build's scratch, for the store to move in
    /// as the layer's directory (None: it could not be; the blob is unpacked then).
    fn keep_upper(&self, upper: &Path, line: usize) -> Option<PathBuf> {
        if self.opts.timestamp.is_some() {
            // the blob's mtimes are the timestamp, the directory's are not: unpack the blob
            return None;
        }
        let kept = self.work.join(format!("upper-{line}-{}", hex::encode(rand::random::<[u8; 4]>())));
        std::fs::rename(upper, &kept).ok().map(|_| kept)
    }

    /// Whether a path of the context is excluded by its ignore file.
    fn ignored(&self, host: &Path) -> bool {
        match host.strip_prefix(&self.opts.context) {
            Ok(rel) => self.ignore.skips(&rel.to_string_lossy(), host.is_dir()),
            Err(_) => false,
        }
    }

    /// Copies a tree of the context without what the ignore file excludes.
    fn copy_filtered(
        &self,
        src: &Path,
        root: &Path,
        dest: &Path,
        how: &CopyHow,
        links: &mut context::Links,
    ) -> std::result::Result<(), String> {
        let meta = std::fs::symlink_metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
        if !meta.is_dir() || !src.starts_with(&self.opts.context) {
            return context::copy_into(src, root, dest, how, links)
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", dest.display()));
        }
        // a directory: itself, then its entries one by one (so excluded ones stay out)
        let empty = self.work.join("empty-dir");
        std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
        let _ = std::fs::set_permissions(&empty, meta.permissions());
        nix::unistd::chown(&empty, Some(meta.uid().into()), Some(meta.gid().into())).ok();
        context::copy_into(&empty, root, dest, how, links).map_err(|e| format!("{}: {e}", dest.display()))?;
        let mut entries: Vec<_> = std::fs::read_dir(src)
            .and_then(|r| r.collect::<std::io::Result<Vec<_>>>())
            .map_err(|e| format!("{}: {e}", src.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if self.ignored(&e.path()) {
                continue;
            }
            self.copy_filtered(&e.path(), root, &dest.join(e.file_name()), how, links)?;
        }
        Ok(())
    }
}

use std::os::unix::fs::MetadataExt as _;

/// What a RUN step runs, and how.
struct RunSpec {
    argv: Vec<String>,
    /// The image's environment and the ARGs.
    env: Vec<String>,
    network: Option<String>,
    mounts: Vec<MountRequest>,
}

/// `/a/./b/../c` as `/a/c`.
fn clean_abs(p: &str) -> String {
    let cleaned = context::clean_relative(p).unwrap_or_default();
    format!("/{}", cleaned.to_string_lossy())
}

fn from_text(def: &dockerfile::Stage) -> String {
    match &def.name {
        Some(n) => format!("{} AS {n}", def.base),
        None => def.base.clone(),
    }
}

/// Hashes a tree of the context: names, kinds, modes, link targets and contents, what the
/// ignore file excludes left out.
fn digest_tree(path: &Path, context: &Path, ignore: &Ignore, h: &mut Sha256) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    h.update(meta.mode().to_le_bytes());
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if let Ok(rel) = p.strip_prefix(context) {
                let rel = rel.to_string_lossy();
                if ignore.skips(&rel, p.is_dir()) {
                    continue;
                }
            }
            h.update(e.file_name().as_encoded_bytes());
            h.update([0]);
            digest_tree(&p, context, ignore, h)?;
        }
    } else if meta.file_type().is_symlink() {
        h.update(std::fs::read_link(path)?.as_os_str().as_encoded_bytes());
    } else if meta.is_file() {
        let mut f = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(())
}

/// Takes out of a RUN container's upper directory what the runtime made there for its own
/// mounts (empty mount points, /etc/hosts and the like), when the image did not have them.
fn drop_runtime_files(upper: &Path, img: &ImageRecord, engine: &Engine, mount_targets: &[String]) {
    let layers: Vec<PathBuf> = img.layers.iter().rev().map(|l| engine.layers().diff_dir(&l.chain_id)).collect();
    let in_image = |rel: &str| layers.iter().any(|l| std::fs::symlink_metadata(l.join(rel)).is_ok());
    let known = ["etc/hosts", "etc/resolv.conf", "etc/hostname", "run/.containerenv", "run/secrets"];
    for rel in known.iter().copied().chain(mount_targets.iter().map(String::as_str)) {
        let p = upper.join(rel);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            let empty = (m.is_file() && m.len() == 0)
                || (m.is_dir() && std::fs::read_dir(&p).map(|mut d| d.next().is_none()).unwrap_or(false));
            if empty && !in_image(rel) {
                let _ = if m.is_dir() { std::fs::remove_dir(&p) } else { std::fs::remove_file(&p) };
            }
        }
    }
    // directories copied up or made only to hold those: an empty one that does not hide the
    // image's (no opaque mark) changes nothing but its times
    for rel in ["run", "etc"] {
        let p = upper.join(rel);
        let opaque = xattr::get(&p, "trusted.overlay.opaque").ok().flatten().is_some();
        if !opaque && std::fs::read_dir(&p).map(|mut d| d.next().is_none()).unwrap_or(false) {
            let _ = std::fs::remove_dir(&p);
        }
    }
}

/// Removes a build step's container (and its layer directories) when the step ends, however.
struct RemoveOnDrop<'a> {
    engine: &'a Engine,
    id: String,
}

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.engine.remove_container(&self.id, true) {
            log::warn!("removing the build container {}: {e}", short(&self.id));
        }
    }
}

/// A read-only or step mount in the build's directory, unmounted when dropped.
struct Unmount(PathBuf, bool);

impl Drop for Unmount {
    fn drop(&mut self) {
        if self.1 {
            if let Err(e) = host_mount::unmount(&self.0) {
                log::warn!("unmounting {}: {e}", self.0.display());
            }
        }
    }
}
