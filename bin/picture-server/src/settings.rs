//! Configuration: built-in defaults, then an optional file, then the environment (the original
//! backend's variable names, unchanged). Every value is parsed here, once; an invalid one stops
//! start-up with one line naming the variable. Secrets are wrapped so they never print.
//!
//! Each variable is declared once, by the group that reads it (`picture_vars::declare!`): the
//! server's groups are the modules below, the adapters' are `picture_replicate::settings`,
//! `picture_storage::settings` and `picture_credits::settings`. [`variables`] concatenates
//! their lists. The rules that span groups are explicit where `Settings` reads the groups.

pub mod auth;
pub mod batches;
pub mod credits;
pub mod database;
pub mod environment;
pub mod events;
pub mod generation;
pub mod http;
pub mod images;
pub mod limits;
pub mod logging;
pub mod orphan_sweep;
mod raw;

use std::path::Path;

use picture_openai::{OpenAiImagesConfig, OpenAiImagesSettings};
use picture_replicate::{ReplicateConfig, ReplicateSettings, WebhookVerifier};
use picture_storage::{IngestConfig, S3Config};
use picture_vars::{InvalidSetting, Source, Var};

pub use auth::{AuthMode, AuthSettings};
pub use batches::BatchSettings;
pub use credits::CreditSettings;
pub use database::DatabaseSettings;
pub use environment::AppEnvironment;
pub use events::EventSettings;
pub use generation::GenerationSettings;
pub use http::{DEFAULT_CORS_ORIGINS, HttpSettings};
pub use images::ImageSettings;
pub use limits::LimitSettings;
pub use logging::{LogFormat, LogSettings};
pub use orphan_sweep::{MIN_ORPHAN_SWEEP_GRACE_LEASES, OrphanSweepTiming};
pub use raw::RawSettings;

/// Every group's variables. A new variable is declared in its group and appears here by
/// itself; only a new group is added here.
const GROUPS: &[&[Var]] = &[
    environment::VARIABLES,
    http::VARIABLES,
    limits::VARIABLES,
    database::VARIABLES,
    auth::VARIABLES,
    logging::VARIABLES,
    generation::VARIABLES,
    orphan_sweep::VARIABLES,
    batches::VARIABLES,
    events::VARIABLES,
    images::VARIABLES,
    credits::VARIABLES,
    picture_replicate::settings::VARIABLES,
    picture_openai::settings::VARIABLES,
    picture_storage::settings::VARIABLES,
    picture_credits::settings::VARIABLES,
];

/// The variables Picture reads, derived from the groups' declarations. Only these are taken
/// from the environment, and a configuration file's keys must name one of them.
pub fn variables() -> impl Iterator<Item = Var> {
    GROUPS.iter().flat_map(|group| group.iter().copied())
}

/// Whether `name` is one of [`variables`].
fn is_known(name: &str) -> bool {
    variables().any(|var| var.name() == name)
}

/// Every setting of the server, parsed, by group.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ENV` (fallback `NODE_ENV`).
    pub environment: AppEnvironment,
    /// Where and how the HTTP server listens.
    pub http: HttpSettings,
    /// Connection, body and rate limits.
    pub limits: LimitSettings,
    /// The data directory and the database.
    pub database: DatabaseSettings,
    /// Token verification and the admin key.
    pub auth: AuthSettings,
    /// Logging.
    pub log: LogSettings,
    /// The generation pipeline's timing and callback base.
    pub generation: GenerationSettings,
    /// The orphan sweep.
    pub orphan_sweep: OrphanSweepTiming,
    /// The batch workers.
    pub batches: BatchSettings,
    /// The event streams (live progress).
    pub events: EventSettings,
    /// Image variants and placeholders.
    pub images: ImageSettings,
    /// The freemium rule and the ledger.
    pub credits: CreditSettings,
    /// The Replicate adapter and its webhooks.
    pub replicate: ReplicateSettings,
    /// The OpenAI-compatible images provider; `None` when not configured.
    pub openai: Option<OpenAiImagesConfig>,
    /// The S3 store; `None` for the local file store.
    pub s3: Option<S3Config>,
    /// What provider outputs may be downloaded.
    pub output: IngestConfig,
}

/// An invalid setting: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A value that cannot be used.
    #[error("invalid setting {variable}: {reason}")]
    Invalid {
        /// The environment variable's name.
        variable: &'static str,
        /// What is wrong, without the value when it is a secret.
        reason: String,
    },
    /// The configuration file or the sources could not be read.
    #[error("cannot read the configuration: {0}")]
    Source(String),
}

impl From<InvalidSetting> for SettingsError {
    fn from(error: InvalidSetting) -> Self {
        Self::Invalid {
            variable: error.variable,
            reason: error.reason,
        }
    }
}

impl Settings {
    /// Loads the settings: defaults, then `file` (TOML, keys named like the variables in lower
    /// case) when given, then the process environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the first invalid variable.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::from_raw(RawSettings::load(file, std::env::vars())?)
    }

    /// Parses raw values into settings.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming the first invalid variable;
    /// [`SettingsError::Source`] naming a variable that does not exist.
    pub fn from_raw(raw: RawSettings) -> Result<Self, SettingsError> {
        Ok(Self::from_source(&raw.into_source()?)?)
    }

    /// Reads every group. The rules that span groups are the arguments passed here: the
    /// environment picks the defaults of enforcement and the log format, the public base URL
    /// is the webhook base's default, the auth URL the credits service's fallback, and the
    /// orphan sweep's grace must cover two finalisation leases.
    fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let environment = AppEnvironment::from_source(source)?;
        let http = HttpSettings::from_source(source)?;
        let auth = AuthSettings::from_source(source)?;
        let generation = GenerationSettings::from_source(source, &http.public_base_url)?;
        Ok(Self {
            environment,
            limits: LimitSettings::from_source(source)?,
            database: DatabaseSettings::from_source(source)?,
            log: LogSettings::from_source(source, environment)?,
            orphan_sweep: OrphanSweepTiming::from_source(source)?
                .covering(generation.finalize_lease)?,
            batches: BatchSettings::from_source(source)?,
            events: EventSettings::from_source(source)?,
            images: ImageSettings::from_source(source)?,
            credits: CreditSettings::from_source(source, environment, auth.auth_url())?,
            replicate: ReplicateSettings::from_source(source)?,
            openai: openai(source)?,
            s3: S3Config::from_source(source)?,
            output: IngestConfig::from_source(source)?,
            http,
            auth,
            generation,
        })
    }

    /// The connections each HTTP worker may hold (actix counts per worker): `MAX_CONNECTIONS`
    /// shared evenly over `HTTP_WORKERS`, rounded down so the workers together never exceed
    /// it, at least one.
    pub fn max_connections_per_worker(&self) -> usize {
        (self.limits.max_connections / self.http.workers).max(1)
    }

    /// The Replicate adapter's configuration, when a token is set.
    pub fn replicate(&self) -> Option<ReplicateConfig> {
        self.replicate.api.clone()
    }

    /// The webhook verifier, when a secret is set.
    pub fn webhook_verifier(&self) -> Option<WebhookVerifier> {
        self.replicate.webhooks.clone()
    }
}

/// [`OpenAiImagesSettings`], whose model names must not be those of the seeded catalogue
/// (each becomes a catalogue model named after it).
fn openai(source: &Source) -> Result<Option<OpenAiImagesConfig>, InvalidSetting> {
    let config = OpenAiImagesSettings::from_source(source)?;
    let seeded = picture_domain::catalog_seed::seed_models();
    if let Some(taken) = config
        .iter()
        .flat_map(|c| &c.models)
        .find(|name| seeded.iter().any(|spec| spec.name == **name))
    {
        return Err(InvalidSetting::new(
            picture_openai::settings::OPENAI_IMAGES_MODELS,
            format!("{taken:?} is already the name of a seeded model"),
        ));
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
