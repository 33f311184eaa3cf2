//! `rename`: a new name, checked against the names in use.

use super::*;
use crate::container::{self, ContainerRecord};
use crate::{Engine, Error, Result};

impl Engine {
    /// `berth rename`.
    pub fn rename_container(&self, query: &str, new_name: &str) -> Result<ContainerRecord> {
        let c = self.container(query)?;
        if !valid_name(new_name) {
            return Err(Error::Invalid(format!(
                "invalid container name \"{new_name}\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )));
        }
        if !container::rename(self.state().conn(), &c.id, new_name)? {
            let other = container::name_taken(self.state().conn(), new_name)?.unwrap_or_default();
            return Err(Error::NameInUse { name: new_name.into(), id: other });
        }
        self.events().state("container", "rename", &c.id, Some(new_name));
        let renamed = self.container(&c.id)?;
        // in place: the running container has the file bound
        let env_file = container::ContainerPaths::new(&self.config().root, &c.id).containerenv();
        if env_file.exists() {
            std::fs::write(&env_file, container::containerenv(&renamed, crate::rootless::is_rootless()))
                .map_err(|source| Error::Io { path: env_file, source })?;
        }
        Ok(renamed)
    }
}
