//! Configuration: built-in defaults, then an optional file, then the environment (the original
//! backend's variable names, unchanged). Every value is parsed here, once; an invalid one stops
//! start-up with one line naming the variable. Secrets are wrapped so they never print.

mod orphan_sweep;
mod raw;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use picture_credits::CreditsConfig;
use picture_domain::services::GenerationQuota;
use picture_domain::{CreditAmount, Enforcement, FreemiumPolicy};
use picture_persistence::DatabaseUrl;
use picture_replicate::{ReplicateConfig, WebhookVerifier};
use picture_storage::S3Config;
use secrecy::{ExposeSecret, SecretString};

pub use orphan_sweep::{MIN_ORPHAN_SWEEP_GRACE_LEASES, OrphanSweepTiming};
pub use raw::RawSettings;

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

/// How tokens are verified.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Embedded mode: HS256 tokens signed with a local secret (`JWT_SECRET`, or one generated
    /// once and kept in the data directory).
    Local {
        /// The configured secret, if any.
        secret: Option<SecretString>,
    },
    /// Production: EdDSA tokens verified against the auth service's JWKS.
    Jwks {
        /// `MANA_CORE_AUTH_URL`, without a trailing slash.
        auth_url: String,
        /// Accepted issuers.
        issuers: Vec<String>,
    },
}

/// Token verification settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Local secret or JWKS.
    pub mode: AuthMode,
    /// Expected `aud`.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `RUST_LOG` filter.
    pub filter: String,
    /// `LOG_FORMAT`.
    pub format: LogFormat,
}

/// Every setting of the server, parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HOST`.
    pub host: String,
    /// `PORT` (0 picks a free port).
    pub port: u16,
    /// `HTTP_WORKERS`: actix worker threads.
    pub workers: usize,
    /// `APP_ENV` (fallback `NODE_ENV`).
    pub environment: AppEnvironment,
    /// `DATA_DIR`.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `PUBLIC_BASE_URL`, without a trailing slash.
    pub public_base_url: String,
    /// Token verification.
    pub auth: AuthSettings,
    /// `REPLICATE_API_TOKEN`.
    pub replicate_api_token: Option<SecretString>,
    /// `REPLICATE_API_BASE_URL`.
    pub replicate_api_base_url: String,
    /// `REPLICATE_WEBHOOK_SECRET` (`whsec_…`); without it webhooks are refused.
    pub replicate_webhook_secret: Option<SecretString>,
    /// `WEBHOOK_BASE_URL`: the public base the provider calls back.
    pub webhook_base_url: String,
    /// `OUTPUT_ALLOWED_HOSTS`.
    pub output_allowed_hosts: Vec<String>,
    /// `OUTPUT_ALLOW_PRIVATE_ADDRESSES` (tests only).
    pub output_allow_private_addresses: bool,
    /// `OUTPUT_MAX_BYTES`.
    pub output_max_bytes: u64,
    /// `GENERATION_SYNC_TIMEOUT_SECS`.
    pub generation_sync_timeout: Duration,
    /// `GENERATION_POLL_INTERVAL_MS`: how often a waiting request asks the provider.
    pub generation_poll_interval: Duration,
    /// `PROVIDER_POLL_MIN_INTERVAL_MS`: the provider is asked about one processing generation
    /// at most once per this interval, by all instances together (0: no throttle).
    pub provider_poll_min_interval: Duration,
    /// `RECONCILER_INTERVAL_SECS`.
    pub reconciler_interval: Duration,
    /// `RECONCILER_MIN_AGE_SECS`.
    pub reconciler_min_age: Duration,
    /// `IDEMPOTENCY_KEY_TTL_SECS`: how long an `Idempotency-Key` and its first answer are kept.
    pub idempotency_key_ttl: Duration,
    /// `ORPHAN_SWEEP_INTERVAL_SECS`, `ORPHAN_SWEEP_GRACE_SECS`.
    pub orphan_sweep: OrphanSweepTiming,
    /// `GENERATION_PENDING_TIMEOUT_SECS`: how long a generation may stay `pending` (recorded,
    /// not submitted) before the reconciler fails it and gives its access back; longer than
    /// the provider's longest submit.
    pub generation_pending_timeout: Duration,
    /// `FINALIZE_LEASE_SECS`: a finaliser's lease, renewed every third of it while it works.
    pub finalize_lease: Duration,
    /// `S3_*`, `STORAGE_PUBLIC_URL`: the S3 store; `None` for the local file store.
    pub s3: Option<S3Config>,
    /// `FREE_GENERATIONS`, `CREDITS_PER_GENERATION`, `CREDITS_ENFORCEMENT`.
    pub freemium: FreemiumPolicy,
    /// `CREDITS_FAIL_OPEN`: with enforcement, let generations run unbilled when the remote
    /// credits service cannot be reached.
    pub credits_fail_open: bool,
    /// `MANA_CREDITS_URL` (else `MANA_CORE_AUTH_URL`), `MANA_CORE_SERVICE_KEY`, `APP_ID`: the
    /// remote credits service; `None` for the local ledger.
    pub credits_service: Option<CreditsConfig>,
    /// `APP_ID`: sent as `X-App-Id` to the credits service.
    pub app_id: String,
    /// `ADMIN_SERVICE_KEY`: the `X-Service-Key` of the admin routes; `None` hides them.
    pub admin_service_key: Option<SecretString>,
    /// `RATE_LIMIT_GENERATIONS_PER_MINUTE`, `RATE_LIMIT_GENERATIONS_PER_DAY` (0: no limit).
    pub generation_quota: GenerationQuota,
    /// `RATE_LIMIT_IP_PER_MINUTE`: requests per client address and minute (0: no limit).
    pub ip_requests_per_minute: u32,
    /// `CORS_ORIGINS`.
    pub cors_origins: Vec<String>,
    /// `RUST_LOG`, `LOG_FORMAT`.
    pub log: LogSettings,
    /// `SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// `REQUEST_BODY_TIMEOUT_SECS`: how long a request's whole body may take to arrive,
    /// counted from its head.
    pub request_body_timeout: Duration,
    /// `MAX_CONNECTIONS`: open connections of this instance, all workers together.
    pub max_connections: usize,
    /// `MAX_CONNECTIONS_PER_IP`: open connections per client address (0: no limit).
    pub max_connections_per_ip: usize,
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

/// The original web and mobile clients' development origins.
pub const DEFAULT_CORS_ORIGINS: [&str; 7] = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:5174",
    "http://localhost:5175",
    "http://localhost:8081",
    "exp://localhost:8081",
    "http://localhost:3001",
];

fn invalid(variable: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        variable,
        reason: reason.into(),
    }
}

fn parse<T: FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    expected: &str,
) -> Result<T, SettingsError> {
    match value {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| invalid(variable, format!("expected {expected}, got {raw:?}"))),
    }
}

fn list(value: Option<String>) -> Option<Vec<String>> {
    value.map(|raw| {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn http_url(variable: &'static str, raw: String) -> Result<String, SettingsError> {
    let trimmed = raw.trim().trim_end_matches('/').to_owned();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        Ok(trimmed)
    } else {
        Err(invalid(
            variable,
            format!("expected an http(s) URL, got {raw:?}"),
        ))
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
    /// [`SettingsError::Invalid`] naming the first invalid variable.
    pub fn from_raw(raw: RawSettings) -> Result<Self, SettingsError> {
        let raw = raw.without_empty_values();
        let auth = Self::auth(&raw)?;
        let s3 = Self::s3(&raw)?;
        let app_id = raw.app_id.clone().unwrap_or_else(|| "picture-app".into());
        let credits_service = Self::credits_service(&raw, &app_id)?;
        let (generation_pending_timeout, finalize_lease) = Self::lifecycle(&raw)?;
        let orphan_sweep = OrphanSweepTiming::from_raw(&raw, finalize_lease)?;
        let environment = parse(
            "APP_ENV",
            raw.app_env.or(raw.node_env),
            AppEnvironment::Development,
            "development, staging or production",
        )?;
        let port = parse("PORT", raw.port, 3006u16, "a port number (0-65535)")?;
        let workers = parse(
            "HTTP_WORKERS",
            raw.http_workers,
            std::thread::available_parallelism().map_or(2, usize::from),
            "a positive number",
        )?;
        if workers == 0 {
            return Err(invalid("HTTP_WORKERS", "must be at least 1"));
        }
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "./data".into()));
        let database_url = match raw.database_url {
            Some(url) => {
                DatabaseUrl::parse(&url).map_err(|e| invalid("DATABASE_URL", e.to_string()))?
            }
            None => DatabaseUrl::sqlite_file(data_dir.join("picture.db")),
        };
        let public_base_url = match raw.public_base_url {
            Some(url) => http_url("PUBLIC_BASE_URL", url)?,
            None => format!("http://localhost:{port}"),
        };
        let enforcement = match raw.credits_enforcement {
            Some(value) => value.parse::<Enforcement>().map_err(|_| {
                invalid(
                    "CREDITS_ENFORCEMENT",
                    format!("expected off or enforce, got {value:?}"),
                )
            })?,
            None if environment == AppEnvironment::Development => Enforcement::Off,
            None => Enforcement::Enforce,
        };
        let free = parse(
            "FREE_GENERATIONS",
            raw.free_generations,
            FreemiumPolicy::DEFAULT_FREE_GENERATIONS,
            "a whole number of generations",
        )?;
        let price = parse(
            "CREDITS_PER_GENERATION",
            raw.credits_per_generation,
            FreemiumPolicy::DEFAULT_CREDITS_PER_GENERATION,
            "a whole number of credits",
        )?;
        let price = CreditAmount::new(price)
            .map_err(|_| invalid("CREDITS_PER_GENERATION", "must not be negative"))?;
        let log = LogSettings {
            filter: raw.rust_log.unwrap_or_else(|| "info".into()),
            format: match raw.log_format.as_deref().map(str::to_ascii_lowercase) {
                Some(f) if f == "pretty" => LogFormat::Pretty,
                Some(f) if f == "json" => LogFormat::Json,
                Some(other) => {
                    return Err(invalid(
                        "LOG_FORMAT",
                        format!("expected pretty or json, got {other:?}"),
                    ));
                }
                None if environment == AppEnvironment::Development => LogFormat::Pretty,
                None => LogFormat::Json,
            },
        };
        let shutdown_secs = parse(
            "SHUTDOWN_TIMEOUT_SECS",
            raw.shutdown_timeout_secs,
            30u64,
            "a number of seconds",
        )?;
        let webhook_secret = raw.replicate_webhook_secret.clone();
        if let Some(secret) = &webhook_secret {
            WebhookVerifier::new(secret).map_err(|_| {
                invalid(
                    "REPLICATE_WEBHOOK_SECRET",
                    "expected a whsec_<base64> secret",
                )
            })?;
        }
        let seconds = |variable, value: Option<String>, default: u64| {
            parse(variable, value, default, "a number of seconds").map(Duration::from_secs)
        };
        let idempotency_key_ttl = seconds(
            "IDEMPOTENCY_KEY_TTL_SECS",
            raw.idempotency_key_ttl_secs,
            86_400,
        )?;
        if idempotency_key_ttl.is_zero() {
            return Err(invalid(
                "IDEMPOTENCY_KEY_TTL_SECS",
                "must be at least 1 second",
            ));
        }
        Ok(Self {
            generation_pending_timeout,
            finalize_lease,
            replicate_api_base_url: match raw.replicate_api_base_url {
                Some(url) => http_url("REPLICATE_API_BASE_URL", url)?,
                None => ReplicateConfig::DEFAULT_BASE_URL.to_owned(),
            },
            replicate_webhook_secret: webhook_secret.map(SecretString::from),
            webhook_base_url: match raw.webhook_base_url {
                Some(url) => http_url("WEBHOOK_BASE_URL", url)?,
                None => public_base_url.clone(),
            },
            output_allowed_hosts: list(raw.output_allowed_hosts).unwrap_or_else(|| {
                vec!["replicate.delivery".into(), "*.replicate.delivery".into()]
            }),
            output_allow_private_addresses: parse(
                "OUTPUT_ALLOW_PRIVATE_ADDRESSES",
                raw.output_allow_private_addresses,
                false,
                "true or false",
            )?,
            output_max_bytes: parse(
                "OUTPUT_MAX_BYTES",
                raw.output_max_bytes,
                25 * 1024 * 1024,
                "a number of bytes",
            )?,
            generation_sync_timeout: seconds(
                "GENERATION_SYNC_TIMEOUT_SECS",
                raw.generation_sync_timeout_secs,
                120,
            )?,
            generation_poll_interval: Duration::from_millis(parse(
                "GENERATION_POLL_INTERVAL_MS",
                raw.generation_poll_interval_ms,
                1000u64,
                "a number of milliseconds",
            )?),
            provider_poll_min_interval: Duration::from_millis(parse(
                "PROVIDER_POLL_MIN_INTERVAL_MS",
                raw.provider_poll_min_interval_ms,
                2000u64,
                "a number of milliseconds (0 switches the throttle off)",
            )?),
            reconciler_interval: seconds(
                "RECONCILER_INTERVAL_SECS",
                raw.reconciler_interval_secs,
                30,
            )?,
            reconciler_min_age: seconds(
                "RECONCILER_MIN_AGE_SECS",
                raw.reconciler_min_age_secs,
                120,
            )?,
            idempotency_key_ttl,
            orphan_sweep,
            s3,
            host: raw.host.unwrap_or_else(|| "0.0.0.0".into()),
            port,
            workers,
            environment,
            data_dir,
            database_url,
            public_base_url,
            auth,
            replicate_api_token: raw.replicate_api_token.map(SecretString::from),
            freemium: FreemiumPolicy::new(free, price, enforcement),
            credits_fail_open: parse(
                "CREDITS_FAIL_OPEN",
                raw.credits_fail_open,
                false,
                "true or false",
            )?,
            credits_service,
            app_id,
            admin_service_key: raw.admin_service_key.map(SecretString::from),
            generation_quota: GenerationQuota {
                per_minute: parse(
                    "RATE_LIMIT_GENERATIONS_PER_MINUTE",
                    raw.rate_limit_generations_per_minute,
                    30,
                    "a whole number (0 switches the limit off)",
                )?,
                per_day: parse(
                    "RATE_LIMIT_GENERATIONS_PER_DAY",
                    raw.rate_limit_generations_per_day,
                    1000,
                    "a whole number (0 switches the limit off)",
                )?,
            },
            ip_requests_per_minute: parse(
                "RATE_LIMIT_IP_PER_MINUTE",
                raw.rate_limit_ip_per_minute,
                600,
                "a whole number (0 switches the limit off)",
            )?,
            cors_origins: list(raw.cors_origins).unwrap_or_else(|| {
                DEFAULT_CORS_ORIGINS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            }),
            log,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
            request_body_timeout: Self::request_body_timeout(raw.request_body_timeout_secs)?,
            max_connections: Self::max_connections(raw.max_connections)?,
            max_connections_per_ip: parse(
                "MAX_CONNECTIONS_PER_IP",
                raw.max_connections_per_ip,
                64,
                "a whole number (0 switches the limit off)",
            )?,
        })
    }

    fn request_body_timeout(value: Option<String>) -> Result<Duration, SettingsError> {
        let seconds = parse(
            "REQUEST_BODY_TIMEOUT_SECS",
            value,
            15u64,
            "a number of seconds",
        )?;
        if seconds == 0 {
            return Err(invalid("REQUEST_BODY_TIMEOUT_SECS", "must be at least 1"));
        }
        Ok(Duration::from_secs(seconds))
    }

    fn max_connections(value: Option<String>) -> Result<usize, SettingsError> {
        let total = parse("MAX_CONNECTIONS", value, 10_000usize, "a positive number")?;
        if total == 0 {
            return Err(invalid("MAX_CONNECTIONS", "must be at least 1"));
        }
        Ok(total)
    }

    /// The connections each HTTP worker may hold (actix counts per worker): `MAX_CONNECTIONS`
    /// shared evenly, rounded down so the workers together never exceed it, at least one.
    pub fn max_connections_per_worker(&self) -> usize {
        (self.max_connections / self.workers).max(1)
    }

    /// `GENERATION_PENDING_TIMEOUT_SECS` (default 60, more than the provider's longest submit)
    /// and `FINALIZE_LEASE_SECS` (default 15, at least 3: renewed every third).
    fn lifecycle(raw: &RawSettings) -> Result<(Duration, Duration), SettingsError> {
        let pending = parse(
            "GENERATION_PENDING_TIMEOUT_SECS",
            raw.generation_pending_timeout_secs.clone(),
            60u64,
            "a number of seconds",
        )?;
        let longest_submit = ReplicateConfig::LONGEST_SUBMIT.as_secs();
        if pending <= longest_submit {
            return Err(invalid(
                "GENERATION_PENDING_TIMEOUT_SECS",
                format!(
                    "must exceed the provider's longest submit ({longest_submit} s), or live \
                     generations would be failed while they are being submitted"
                ),
            ));
        }
        let lease = parse(
            "FINALIZE_LEASE_SECS",
            raw.finalize_lease_secs.clone(),
            15u64,
            "a number of seconds",
        )?;
        if lease < 3 {
            return Err(invalid("FINALIZE_LEASE_SECS", "must be at least 3 seconds"));
        }
        Ok((Duration::from_secs(pending), Duration::from_secs(lease)))
    }

    fn auth(raw: &RawSettings) -> Result<AuthSettings, SettingsError> {
        let leeway = parse(
            "JWT_LEEWAY_SECS",
            raw.jwt_leeway_secs.clone(),
            30u64,
            "a number of seconds",
        )?;
        if leeway > 300 {
            return Err(invalid("JWT_LEEWAY_SECS", "must be at most 300 seconds"));
        }
        let mode = match raw.mana_core_auth_url.clone() {
            Some(url) => {
                let auth_url = http_url("MANA_CORE_AUTH_URL", url)?;
                let issuers =
                    list(raw.jwt_issuers.clone()).unwrap_or_else(|| vec![auth_url.clone()]);
                AuthMode::Jwks { auth_url, issuers }
            }
            None => {
                let secret = raw.jwt_secret.clone();
                if secret.as_ref().is_some_and(|s| s.len() < 32) {
                    return Err(invalid("JWT_SECRET", "must be at least 32 characters"));
                }
                AuthMode::Local {
                    secret: secret.map(SecretString::from),
                }
            }
        };
        Ok(AuthSettings {
            mode,
            audience: raw
                .jwt_audience
                .clone()
                .unwrap_or_else(|| "manacore".into()),
            leeway: Duration::from_secs(leeway),
        })
    }

    fn credits_service(
        raw: &RawSettings,
        app_id: &str,
    ) -> Result<Option<CreditsConfig>, SettingsError> {
        let key = raw.mana_core_service_key.clone();
        let url = match (raw.mana_credits_url.clone(), &key) {
            (Some(url), Some(_)) => http_url("MANA_CREDITS_URL", url)?,
            (Some(_), None) => {
                return Err(invalid(
                    "MANA_CORE_SERVICE_KEY",
                    "required when MANA_CREDITS_URL is set",
                ));
            }
            (None, Some(_)) => match raw.mana_core_auth_url.clone() {
                Some(url) => http_url("MANA_CORE_AUTH_URL", url)?,
                None => return Ok(None),
            },
            (None, None) => return Ok(None),
        };
        Ok(key.map(|key| CreditsConfig::new(url, SecretString::from(key), app_id.to_owned())))
    }

    fn s3(raw: &RawSettings) -> Result<Option<S3Config>, SettingsError> {
        let Some(endpoint) = raw.s3_endpoint.clone() else {
            return Ok(None);
        };
        let endpoint = http_url("S3_ENDPOINT", endpoint)?;
        let access_key = raw
            .s3_access_key
            .clone()
            .ok_or_else(|| invalid("S3_ACCESS_KEY", "required when S3_ENDPOINT is set"))?;
        let secret_key = raw
            .s3_secret_key
            .clone()
            .ok_or_else(|| invalid("S3_SECRET_KEY", "required when S3_ENDPOINT is set"))?;
        let public_url = raw
            .storage_public_url
            .clone()
            .map(|url| http_url("STORAGE_PUBLIC_URL", url))
            .transpose()?;
        Ok(Some(S3Config {
            endpoint,
            bucket: raw
                .s3_bucket
                .clone()
                .unwrap_or_else(|| "picture-storage".into()),
            region: raw.s3_region.clone().unwrap_or_else(|| "us-east-1".into()),
            access_key: SecretString::from(access_key),
            secret_key: SecretString::from(secret_key),
            public_url,
            timeout: Duration::from_secs(30),
        }))
    }

    /// The Replicate adapter's configuration, when a token is set.
    pub fn replicate(&self) -> Option<ReplicateConfig> {
        self.replicate_api_token.as_ref().map(|token| {
            let mut config = ReplicateConfig::new(token.clone());
            config.base_url = self.replicate_api_base_url.clone();
            config
        })
    }

    /// The webhook verifier, when a secret is set (validated at load).
    pub fn webhook_verifier(&self) -> Option<WebhookVerifier> {
        self.replicate_webhook_secret
            .as_ref()
            .and_then(|secret| WebhookVerifier::new(secret.expose_secret()).ok())
    }

    /// Whether an AI provider is configured (otherwise the offline preview is the default).
    pub fn provider_configured(&self) -> bool {
        self.replicate_api_token.is_some()
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

#[cfg(test)]
mod tests;
