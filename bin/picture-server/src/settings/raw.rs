//! The settings as text, gathered from the file and the environment before parsing.

use std::collections::BTreeMap;
use std::path::Path;

use config::{Config, File, FileFormat};
use picture_vars::Source;

use super::{SettingsError, is_known};

/// Every setting as the text it was given in, by variable name. Deliberately not `Debug`: it
/// holds secrets.
#[derive(Default, Clone)]
pub struct RawSettings {
    values: BTreeMap<String, String>,
}

impl RawSettings {
    /// Gathers the settings from `file` (TOML, optional; keys are the variable names in lower
    /// case) and then the known variables of `env` (later wins).
    ///
    /// # Errors
    /// [`SettingsError::Source`] when the file cannot be read or has a key that names no
    /// variable.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut raw = Self::default();
        if let Some(path) = file {
            let keys: BTreeMap<String, String> = Config::builder()
                .add_source(File::from(path).format(FileFormat::Toml).required(true))
                .build()
                .and_then(Config::try_deserialize)
                .map_err(|e| SettingsError::Source(e.to_string()))?;
            for (key, value) in keys {
                let name = key.to_ascii_uppercase();
                if !is_known(&name) {
                    return Err(SettingsError::Source(format!(
                        "unknown key `{key}` in the configuration file (keys are the variable \
                         names in lower case)"
                    )));
                }
                raw.values.insert(name, value);
            }
        }
        raw.values.extend(env.filter(|(name, _)| is_known(name)));
        Ok(raw)
    }

    /// Gives variable `name` the text `value` (as the environment would).
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.values.insert(name.to_owned(), value.into());
        self
    }

    /// Removes any value of variable `name`.
    pub fn unset(&mut self, name: &str) -> &mut Self {
        self.values.remove(name);
        self
    }

    /// The values, for the groups to read.
    ///
    /// # Errors
    /// [`SettingsError::Source`] naming a variable that was [`set`](Self::set) but is unknown.
    pub(super) fn into_source(self) -> Result<Source, SettingsError> {
        if let Some(name) = self.values.keys().find(|name| !is_known(name)) {
            return Err(SettingsError::Source(format!("unknown setting {name}")));
        }
        Ok(Source::new(self.values))
    }
}
