//! `wait` and exit codes: from the record, or from the exit file a `--rm` container leaves.

use std::time::Duration;

use crate::container::{self, Status};
use crate::{Engine, Result};

impl Engine {
    /// The exit code once the container has exited (also after a `--rm` removed it), or None
    /// while it has not.
    pub fn exit_code(&self, id: &str) -> Result<Option<i32>> {
        // read first: the state lock must not be held into `reconcile`, which takes it again
        let found = container::get(self.state().conn(), id)?;
        match found {
            Some(c) => {
                let c = self.reconcile(c)?;
                Ok((c.status == Status::Exited).then(|| c.exit_code.unwrap_or(0)))
            }
            None => match std::fs::read_to_string(self.exit_file(id)) {
                Ok(code) => Ok(Some(code.trim().parse().unwrap_or(0))),
                Err(_) => Err(container::LookupError::NotFound(id.into()).into()),
            },
        }
    }

    /// `berth wait`: blocks until the container exits; returns its exit code. A container
    /// that never ran (created, never started or failed to start) has nothing to wait for:
    /// its code, 0 when it has none, as Podman answers.
    pub fn wait_container(&self, query: &str) -> Result<i32> {
        let c = self.container(query)?;
        loop {
            if let Some(code) = self.exit_code(&c.id)? {
                return Ok(code);
            }
            if let Some(now) = container::get(self.state().conn(), &c.id)? {
                if now.status == Status::Created {
                    return Ok(now.exit_code.unwrap_or(0));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Written by the monitor when the container exits (before a `--rm` removal): watching for
    /// it is cheaper than asking the database.
    pub fn exit_file(&self, id: &str) -> std::path::PathBuf {
        self.config().run_root.join("exits").join(id)
    }
}
