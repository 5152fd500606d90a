//! `APP_ENV` (fallback `NODE_ENV`): the deployment stage, which picks defaults of other groups.

use std::fmt;
use std::str::FromStr;

use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// `development` (default), `staging` or `production`.
    APP_ENV,
    /// The original backend's name of [`APP_ENV`], read when that is unset.
    NODE_ENV,
}

/// Deployment stage; picks defaults such as credit enforcement and the log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnvironment {
    /// A developer's machine.
    Development,
    /// Pre-production.
    Staging,
    /// Production.
    Production,
}

impl AppEnvironment {
    /// [`APP_ENV`], else [`NODE_ENV`], else development.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let var = if source.text(APP_ENV).is_some() {
            APP_ENV
        } else {
            NODE_ENV
        };
        source
            .parse(var, Self::Development, "development, staging or production")
            .map_err(|error| InvalidSetting {
                variable: APP_ENV.name(),
                ..error
            })
    }
}

impl FromStr for AppEnvironment {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.to_ascii_lowercase().as_str() {
            "development" => Ok(Self::Development),
            "staging" => Ok(Self::Staging),
            "production" => Ok(Self::Production),
            _ => Err("expected development, staging or production".into()),
        }
    }
}

impl fmt::Display for AppEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        })
    }
}
