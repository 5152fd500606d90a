//! The settings as text, gathered from the file and the environment before parsing.

use std::path::Path;

use config::{Config, Environment, File, FileFormat, Map};
use serde::Deserialize;

use super::SettingsError;

/// The environment variables Picture reads. Only these are taken from the environment, so a
/// configuration file can be checked for unknown keys.
pub const VARIABLES: &[&str] = &[
    "HOST",
    "PORT",
    "HTTP_WORKERS",
    "APP_ENV",
    "NODE_ENV",
    "DATA_DIR",
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "JWT_SECRET",
    "MANA_CORE_AUTH_URL",
    "JWT_AUDIENCE",
    "JWT_ISSUERS",
    "JWT_LEEWAY_SECS",
    "REPLICATE_API_TOKEN",
    "CREDITS_ENFORCEMENT",
    "FREE_GENERATIONS",
    "CREDITS_PER_GENERATION",
    "CORS_ORIGINS",
    "RUST_LOG",
    "LOG_FORMAT",
    "SHUTDOWN_TIMEOUT_SECS",
    "MANA_CORE_SERVICE_KEY",
    "APP_ID",
    "REPLICATE_API_BASE_URL",
    "REPLICATE_WEBHOOK_SECRET",
    "WEBHOOK_BASE_URL",
    "OUTPUT_ALLOWED_HOSTS",
    "OUTPUT_ALLOW_PRIVATE_ADDRESSES",
    "OUTPUT_MAX_BYTES",
    "GENERATION_SYNC_TIMEOUT_SECS",
    "GENERATION_POLL_INTERVAL_MS",
    "PROVIDER_POLL_MIN_INTERVAL_MS",
    "RECONCILER_INTERVAL_SECS",
    "RECONCILER_MIN_AGE_SECS",
    "IDEMPOTENCY_KEY_TTL_SECS",
    "ORPHAN_SWEEP_INTERVAL_SECS",
    "ORPHAN_SWEEP_GRACE_SECS",
    "GENERATION_PENDING_TIMEOUT_SECS",
    "FINALIZE_LEASE_SECS",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_REGION",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "STORAGE_PUBLIC_URL",
    "CREDITS_FAIL_OPEN",
    "MANA_CREDITS_URL",
    "ADMIN_SERVICE_KEY",
    "RATE_LIMIT_GENERATIONS_PER_MINUTE",
    "RATE_LIMIT_GENERATIONS_PER_DAY",
    "RATE_LIMIT_IP_PER_MINUTE",
    "REQUEST_BODY_TIMEOUT_SECS",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_IP",
];

/// Every setting as the text it was given in. Deliberately not `Debug`: it holds secrets.
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is the variable of the same name in upper case"
)]
pub struct RawSettings {
    pub host: Option<String>,
    pub port: Option<String>,
    pub http_workers: Option<String>,
    pub app_env: Option<String>,
    pub node_env: Option<String>,
    pub data_dir: Option<String>,
    pub database_url: Option<String>,
    pub public_base_url: Option<String>,
    pub jwt_secret: Option<String>,
    pub mana_core_auth_url: Option<String>,
    pub jwt_audience: Option<String>,
    pub jwt_issuers: Option<String>,
    pub jwt_leeway_secs: Option<String>,
    pub replicate_api_token: Option<String>,
    pub credits_enforcement: Option<String>,
    pub free_generations: Option<String>,
    pub credits_per_generation: Option<String>,
    pub cors_origins: Option<String>,
    pub rust_log: Option<String>,
    pub log_format: Option<String>,
    pub shutdown_timeout_secs: Option<String>,
    pub mana_core_service_key: Option<String>,
    pub app_id: Option<String>,
    pub replicate_api_base_url: Option<String>,
    pub replicate_webhook_secret: Option<String>,
    pub webhook_base_url: Option<String>,
    pub output_allowed_hosts: Option<String>,
    pub output_allow_private_addresses: Option<String>,
    pub output_max_bytes: Option<String>,
    pub generation_sync_timeout_secs: Option<String>,
    pub generation_poll_interval_ms: Option<String>,
    pub provider_poll_min_interval_ms: Option<String>,
    pub reconciler_interval_secs: Option<String>,
    pub reconciler_min_age_secs: Option<String>,
    pub idempotency_key_ttl_secs: Option<String>,
    pub orphan_sweep_interval_secs: Option<String>,
    pub orphan_sweep_grace_secs: Option<String>,
    pub generation_pending_timeout_secs: Option<String>,
    pub finalize_lease_secs: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key: Option<String>,
    pub s3_secret_key: Option<String>,
    pub storage_public_url: Option<String>,
    pub credits_fail_open: Option<String>,
    pub mana_credits_url: Option<String>,
    pub admin_service_key: Option<String>,
    pub rate_limit_generations_per_minute: Option<String>,
    pub rate_limit_generations_per_day: Option<String>,
    pub rate_limit_ip_per_minute: Option<String>,
    pub request_body_timeout_secs: Option<String>,
    pub max_connections: Option<String>,
    pub max_connections_per_ip: Option<String>,
}

impl RawSettings {
    /// Gathers the settings from `file` (TOML, optional) and then `env` (later wins).
    ///
    /// # Errors
    /// [`SettingsError::Source`] when the file cannot be read or has unknown keys.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let known: Map<String, String> = env
            .filter(|(name, _)| VARIABLES.contains(&name.as_str()))
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let mut builder = Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        builder
            .add_source(Environment::default().source(Some(known)))
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| SettingsError::Source(e.to_string()))
    }

    /// The same settings with empty values treated as unset (`PORT=` means the default).
    pub(crate) fn without_empty_values(self) -> Self {
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Self {
            host: keep(self.host),
            port: keep(self.port),
            http_workers: keep(self.http_workers),
            app_env: keep(self.app_env),
            node_env: keep(self.node_env),
            data_dir: keep(self.data_dir),
            database_url: keep(self.database_url),
            public_base_url: keep(self.public_base_url),
            jwt_secret: keep(self.jwt_secret),
            mana_core_auth_url: keep(self.mana_core_auth_url),
            jwt_audience: keep(self.jwt_audience),
            jwt_issuers: keep(self.jwt_issuers),
            jwt_leeway_secs: keep(self.jwt_leeway_secs),
            replicate_api_token: keep(self.replicate_api_token),
            credits_enforcement: keep(self.credits_enforcement),
            free_generations: keep(self.free_generations),
            credits_per_generation: keep(self.credits_per_generation),
            cors_origins: keep(self.cors_origins),
            rust_log: keep(self.rust_log),
            log_format: keep(self.log_format),
            shutdown_timeout_secs: keep(self.shutdown_timeout_secs),
            mana_core_service_key: keep(self.mana_core_service_key),
            app_id: keep(self.app_id),
            replicate_api_base_url: keep(self.replicate_api_base_url),
            replicate_webhook_secret: keep(self.replicate_webhook_secret),
            webhook_base_url: keep(self.webhook_base_url),
            output_allowed_hosts: keep(self.output_allowed_hosts),
            output_allow_private_addresses: keep(self.output_allow_private_addresses),
            output_max_bytes: keep(self.output_max_bytes),
            generation_sync_timeout_secs: keep(self.generation_sync_timeout_secs),
            generation_poll_interval_ms: keep(self.generation_poll_interval_ms),
            provider_poll_min_interval_ms: keep(self.provider_poll_min_interval_ms),
            reconciler_interval_secs: keep(self.reconciler_interval_secs),
            reconciler_min_age_secs: keep(self.reconciler_min_age_secs),
            idempotency_key_ttl_secs: keep(self.idempotency_key_ttl_secs),
            orphan_sweep_interval_secs: keep(self.orphan_sweep_interval_secs),
            orphan_sweep_grace_secs: keep(self.orphan_sweep_grace_secs),
            generation_pending_timeout_secs: keep(self.generation_pending_timeout_secs),
            finalize_lease_secs: keep(self.finalize_lease_secs),
            s3_endpoint: keep(self.s3_endpoint),
            s3_bucket: keep(self.s3_bucket),
            s3_region: keep(self.s3_region),
            s3_access_key: keep(self.s3_access_key),
            s3_secret_key: keep(self.s3_secret_key),
            storage_public_url: keep(self.storage_public_url),
            credits_fail_open: keep(self.credits_fail_open),
            mana_credits_url: keep(self.mana_credits_url),
            admin_service_key: keep(self.admin_service_key),
            rate_limit_generations_per_minute: keep(self.rate_limit_generations_per_minute),
            rate_limit_generations_per_day: keep(self.rate_limit_generations_per_day),
            rate_limit_ip_per_minute: keep(self.rate_limit_ip_per_minute),
            request_body_timeout_secs: keep(self.request_body_timeout_secs),
            max_connections: keep(self.max_connections),
            max_connections_per_ip: keep(self.max_connections_per_ip),
        }
    }
}
