//! The build dialog: what it asks for (`BuildRequest`, with its `BuildArg`s and
//! `BuildPullPolicy`), and the build's progress on the call's channel (`BuildEvent`), each
//! message with the line `berth build` prints for it.

use berth_engine::{BuildEvent as EngineBuildEvent, PullPolicy};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A build, as the dialog asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BuildRequest {
    /// The Containerfile (or Dockerfile): absolute, or `~/…`.
    pub containerfile: String,
    /// The directory COPY and ADD read; none (or blank): the Containerfile's directory.
    #[serde(default)]
    pub context: Option<String>,
    /// The new image's name (a short name becomes `localhost/NAME:latest`); none: nameless.
    #[serde(default)]
    pub name: Option<String>,
    /// Values for the Containerfile's ARGs, in order (a key given twice: the last one counts).
    #[serde(default)]
    #[ts(inline)]
    pub build_args: Vec<BuildArg>,
    /// The stage to stop at (`FROM … AS NAME`); none: the last.
    #[serde(default)]
    pub target: Option<String>,
    /// Build every step again: use no cached step.
    #[serde(default)]
    pub no_cache: bool,
    #[serde(default)]
    #[ts(inline)]
    pub pull: BuildPullPolicy,
}

/// An ARG's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BuildArg {
    pub key: String,
    pub value: String,
}

/// When base images are pulled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BuildPullPolicy {
    /// Only when the image is not here.
    #[default]
    Missing,
    Always,
    Never,
}

impl From<BuildPullPolicy> for PullPolicy {
    fn from(p: BuildPullPolicy) -> Self {
        match p {
            BuildPullPolicy::Missing => PullPolicy::Missing,
            BuildPullPolicy::Always => PullPolicy::Always,
            BuildPullPolicy::Never => PullPolicy::Never,
        }
    }
}

/// Progress of one build, on the call's channel: `started` first (the id `cancel_build`
/// takes), then the build's own events, each with `line`, what `berth build` prints for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BuildEvent {
    Started {
        build: String,
    },
    /// An instruction begins; `stage` is `[n, of]` when the Containerfile has several.
    Step {
        stage: Option<(u32, u32)>,
        step: u32,
        steps: u32,
        text: String,
        line: String,
    },
    /// A line a RUN printed.
    Output {
        line: String,
    },
    /// The step's image came from the cache.
    #[serde(rename_all = "camelCase")]
    CacheHit {
        image_id: String,
        line: String,
    },
    /// The step's (or the stage's) image, stored or found.
    #[serde(rename_all = "camelCase")]
    Done {
        image_id: String,
        line: String,
    },
    /// The result is being stored (under `name`, when it has one).
    Commit {
        name: Option<String>,
        line: String,
    },
    Tagged {
        name: String,
        line: String,
    },
    Warning {
        message: String,
        line: String,
    },
}

impl From<EngineBuildEvent> for BuildEvent {
    fn from(e: EngineBuildEvent) -> Self {
        let line = e.line();
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        match e {
            EngineBuildEvent::Step { stage, step, steps, text } => {
                BuildEvent::Step { stage: stage.map(|(a, b)| (n(a), n(b))), step: n(step), steps: n(steps), text, line }
            }
            EngineBuildEvent::Output(_) => BuildEvent::Output { line },
            EngineBuildEvent::CacheHit(image_id) => BuildEvent::CacheHit { image_id, line },
            EngineBuildEvent::Done(image_id) => BuildEvent::Done { image_id, line },
            EngineBuildEvent::Commit(name) => BuildEvent::Commit { name, line },
            EngineBuildEvent::Tagged(name) => BuildEvent::Tagged { name, line },
            EngineBuildEvent::Warning(message) => BuildEvent::Warning { message, line },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn build_events_in_the_contracts_json_with_the_line_podman_prints() {
        let check = |e: EngineBuildEvent, expected: serde_json::Value| {
            assert_eq!(serde_json::to_value(BuildEvent::from(e)).unwrap(), expected);
        };
        check(
            EngineBuildEvent::Step { stage: None, step: 2, steps: 3, text: "RUN echo hi".into() },
            json!({"type": "step", "stage": null, "step": 2, "steps": 3, "text": "RUN echo hi", "line": "STEP 2/3: RUN echo hi"}),
        );
        check(
            EngineBuildEvent::Step { stage: Some((1, 2)), step: 1, steps: 4, text: "FROM busybox AS b".into() },
            json!({"type": "step", "stage": [1, 2], "step": 1, "steps": 4, "text": "FROM busybox AS b",
                   "line": "[1/2] STEP 1/4: FROM busybox AS b"}),
        );
        check(EngineBuildEvent::Output("hi".into()), json!({"type": "output", "line": "hi"}));
        let id = "0123456789abcdef".repeat(4);
        check(
            EngineBuildEvent::CacheHit(id.clone()),
            json!({"type": "cache_hit", "imageId": id, "line": format!("--> Using cache {id}")}),
        );
        check(EngineBuildEvent::Done(id.clone()), json!({"type": "done", "imageId": id, "line": "--> 0123456789a"}));
        check(
            EngineBuildEvent::Commit(Some("localhost/app:latest".into())),
            json!({"type": "commit", "name": "localhost/app:latest", "line": "COMMIT localhost/app:latest"}),
        );
        check(EngineBuildEvent::Commit(None), json!({"type": "commit", "name": null, "line": "COMMIT"}));
        check(
            EngineBuildEvent::Tagged("localhost/app:latest".into()),
            json!({"type": "tagged", "name": "localhost/app:latest", "line": "Successfully tagged localhost/app:latest"}),
        );
        check(
            EngineBuildEvent::Warning("one or more build args were not consumed: [X]".into()),
            json!({"type": "warning", "message": "one or more build args were not consumed: [X]",
                   "line": "[Warning] one or more build args were not consumed: [X]"}),
        );
    }

    #[test]
    fn a_request_needs_only_the_containerfile() {
        let r: BuildRequest = serde_json::from_value(json!({"containerfile": "/src/Containerfile"})).unwrap();
        assert_eq!(
            r,
            BuildRequest {
                containerfile: "/src/Containerfile".into(),
                context: None,
                name: None,
                build_args: vec![],
                target: None,
                no_cache: false,
                pull: BuildPullPolicy::Missing,
            }
        );
        let r: BuildRequest =
            serde_json::from_value(json!({"containerfile": "/c", "buildArgs": [{"key": "A", "value": "1"}],
            "noCache": true, "pull": "never"}))
            .unwrap();
        assert_eq!((r.build_args[0].key.as_str(), r.no_cache, r.pull), ("A", true, BuildPullPolicy::Never));
    }
}
