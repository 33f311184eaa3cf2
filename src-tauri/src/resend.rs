//! Requests that arrive twice. Chromium sends a POST again when a change of the host's network
//! interfaces cut its connection (stopping or starting a container adds or removes a veth),
//! and the first one may have reached the server and run. A command that streams on a channel
//! the client named (pull, push, build, compose, a log follow, a terminal) must not run twice
//! on it: a second follow would send every log line twice, a second build would build again.
//!
//! So `--serve` runs the first request that names a channel in a task of its own, which a
//! dropped connection does not cancel, and answers a request for the same command and channel
//! with that first run's answer. Channel ids are the client's random ones, one per call.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::dto::ApiError;

/// What a command answers: its JSON, or the error.
pub type Answer = Result<Vec<u8>, ApiError>;

/// How long a finished call's answer is kept for a resend of it.
const KEEP: Duration = Duration::from_secs(120);

/// The calls that named a channel, by command and channel id.
#[derive(Default)]
pub struct Resends {
    calls: Mutex<HashMap<(String, String), Call>>,
}

struct Call {
    started: Instant,
    answer: Shared<BoxFuture<'static, Answer>>,
}

impl Resends {
    /// The answer of `command` on `channel`: `run`'s, spawned now, for the first request;
    /// the first request's for a resend.
    pub async fn answer<F>(&self, command: &str, channel: &str, run: impl FnOnce() -> F) -> Answer
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        let answer = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls.retain(|_, c| c.answer.peek().is_none() || c.started.elapsed() < KEEP);
            let key = (command.to_string(), channel.to_string());
            calls
                .entry(key)
                .or_insert_with(|| {
                    let task = tokio::spawn(run());
                    let answer = async move {
                        task.await.unwrap_or_else(|e| Err(ApiError::engine(format!("the command stopped: {e}"))))
                    };
                    Call { started: Instant::now(), answer: answer.boxed().shared() }
                })
                .answer
                .clone()
        };
        answer.await
    }

    /// How many calls are remembered.
    pub fn len(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The channel id a command's arguments name (`onProgress`, `onLines` or `onOutput`).
pub fn channel_of(args: &serde_json::Value) -> Option<&str> {
    ["onProgress", "onLines", "onOutput"].iter().find_map(|k| args.get(*k)?.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_resend_on_the_same_channel_gets_the_first_answer_and_runs_nothing() {
        let resends = Resends::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let run = |n: u8| {
            let runs = runs.clone();
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(vec![n])
            }
        };
        // The resend arrives while the first still runs, and again after it answered.
        let (a, b) =
            tokio::join!(resends.answer("follow_logs", "ch-1", run(1)), resends.answer("follow_logs", "ch-1", run(2)));
        assert_eq!((a.unwrap(), b.unwrap()), (vec![1], vec![1]));
        assert_eq!(resends.answer("follow_logs", "ch-1", run(3)).await.unwrap(), vec![1]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Another channel, or another command on the channel, is a call of its own.
        assert_eq!(resends.answer("follow_logs", "ch-2", run(4)).await.unwrap(), vec![4]);
        assert_eq!(resends.answer("open_terminal", "ch-1", run(5)).await.unwrap(), vec![5]);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(resends.len(), 3);
    }

    #[tokio::test]
    async fn the_first_run_finishes_when_its_request_is_dropped() {
        let resends = Arc::new(Resends::default());
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let first = tokio::spawn({
            let resends = resends.clone();
            async move {
                resends
                    .answer("build_image", "ch-9", move || async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        d.fetch_add(1, Ordering::SeqCst);
                        Err(ApiError::invalid("bad Containerfile"))
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort(); // the connection went
        let again = resends.answer("build_image", "ch-9", || async { Ok(Vec::new()) }).await;
        assert_eq!(again.unwrap_err().message, "bad Containerfile");
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn finds_the_channel_a_command_names() {
        assert_eq!(channel_of(&serde_json::json!({"id": "web", "onLines": "ch-1"})), Some("ch-1"));
        assert_eq!(channel_of(&serde_json::json!({"reference": "x", "onProgress": "ch-2"})), Some("ch-2"));
        assert_eq!(channel_of(&serde_json::json!({"onOutput": "ch-3"})), Some("ch-3"));
        assert_eq!(channel_of(&serde_json::json!({"id": "web"})), None);
        assert_eq!(channel_of(&serde_json::json!({"onLines": 7})), None);
    }
}
