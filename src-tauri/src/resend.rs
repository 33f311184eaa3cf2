//! Requests that arrive twice. Chromium sends a POST again when a change of the host's network
//! interfaces cut its connection (stopping or starting a container adds or removes a veth),
//! and the first one may have reached the server and run. Sent twice, a create makes a second
//! container (or fails on its own name), a follow sends every log line twice, a build builds
//! again.
//!
//! So the page names each call that is not safe to send twice with an `Idempotency-Key`
//! header (a new random one per call, which the browser's resend repeats), and `--serve` runs
//! the first request with a key in a task of its own, which a dropped connection does not
//! cancel, and answers the same key again with that first run's answer, while it runs and for
//! a few seconds after. Requests without a key run as they come.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::dto::ApiError;

/// What a command answers: its JSON, or the error.
pub type Answer = Result<Vec<u8>, ApiError>;

/// How long a finished call's answer is kept for a resend of it: a browser resends at once.
const KEEP: Duration = Duration::from_secs(10);

/// The most calls remembered: past it, the finished ones are forgotten.
const MOST: usize = 1024;

/// The calls that came with a key, by command and key.
#[derive(Default)]
pub struct Resends {
    calls: Mutex<HashMap<(String, String), Call>>,
}

struct Call {
    /// When the command answered.
    finished: Arc<OnceLock<Instant>>,
    answer: Shared<BoxFuture<'static, Answer>>,
}

impl Resends {
    /// The answer of `command` called with `key`: `run`'s, spawned now, for the first request;
    /// the first request's for a resend.
    pub async fn answer<F>(&self, command: &str, key: &str, run: impl FnOnce() -> F) -> Answer
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        let answer = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            calls.retain(|_, c| c.finished.get().is_none_or(|t| t.elapsed() < KEEP));
            if calls.len() >= MOST {
                calls.retain(|_, c| c.finished.get().is_none());
            }
            let key = (command.to_string(), key.to_string());
            calls
                .entry(key)
                .or_insert_with(|| {
                    let finished = Arc::new(OnceLock::new());
                    let run = run();
                    let done = finished.clone();
                    let task = tokio::spawn(async move {
                        let answer = run.await;
                        let _ = done.set(Instant::now());
                        answer
                    });
                    let answer = async move {
                        task.await.unwrap_or_else(|e| Err(ApiError::engine(format!("the command stopped: {e}"))))
                    };
                    Call { finished, answer: answer.boxed().shared() }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_resend_gets_the_first_answer_and_runs_nothing() {
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
            tokio::join!(resends.answer("follow_logs", "key-1", run(1)), resends.answer("follow_logs", "key-1", run(2)));
        assert_eq!((a.unwrap(), b.unwrap()), (vec![1], vec![1]));
        assert_eq!(resends.answer("follow_logs", "key-1", run(3)).await.unwrap(), vec![1]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Another key, or another command with the same key, is a call of its own.
        assert_eq!(resends.answer("follow_logs", "key-2", run(4)).await.unwrap(), vec![4]);
        assert_eq!(resends.answer("open_terminal", "key-1", run(5)).await.unwrap(), vec![5]);
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
                    .answer("build_image", "key-9", move || async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        d.fetch_add(1, Ordering::SeqCst);
                        Err(ApiError::invalid("bad Containerfile"))
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort(); // the connection went
        let again = resends.answer("build_image", "key-9", || async { Ok(Vec::new()) }).await;
        assert_eq!(again.unwrap_err().message, "bad Containerfile");
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
