//! The variables this crate reads, and how: declared here once each, listed in [`VARIABLES`]
//! for the server's list of known variables.

use std::time::Duration;

use picture_vars::{InvalidSetting, Source};

use crate::{IngestConfig, S3Config};

picture_vars::declare! {
    /// The S3 endpoint (path-style); when set, S3 replaces the local file store.
    S3_ENDPOINT,
    /// The bucket (default `picture-storage`); it must exist.
    S3_BUCKET,
    /// The region (default `us-east-1`).
    S3_REGION,
    /// The access key, required with [`S3_ENDPOINT`].
    S3_ACCESS_KEY,
    /// The secret key, required with [`S3_ENDPOINT`].
    S3_SECRET_KEY,
    /// The base of public object URLs (default: endpoint + bucket).
    STORAGE_PUBLIC_URL,
    /// Hosts outputs may be downloaded from (comma-separated, `*.` wildcards).
    OUTPUT_ALLOWED_HOSTS,
    /// Allow loopback and private output addresses and plain `http` (tests only).
    OUTPUT_ALLOW_PRIVATE_ADDRESSES,
    /// The largest output accepted, in bytes.
    OUTPUT_MAX_BYTES,
}

/// Longest one S3 request may take.
const S3_TIMEOUT: Duration = Duration::from_secs(30);

impl S3Config {
    /// The S3 store's settings; `None` (the local file store) without [`S3_ENDPOINT`].
    ///
    /// # Errors
    /// [`InvalidSetting`] for a URL that is not `http(s)`, or a key missing while
    /// [`S3_ENDPOINT`] is set.
    pub fn from_source(source: &Source) -> Result<Option<Self>, InvalidSetting> {
        let Some(endpoint) = source.http_url(S3_ENDPOINT)? else {
            return Ok(None);
        };
        let required = |var| {
            source
                .secret(var)
                .ok_or_else(|| InvalidSetting::new(var, "required when S3_ENDPOINT is set"))
        };
        let access_key = required(S3_ACCESS_KEY)?;
        let secret_key = required(S3_SECRET_KEY)?;
        Ok(Some(Self {
            endpoint,
            bucket: source.text_or(S3_BUCKET, "picture-storage"),
            region: source.text_or(S3_REGION, "us-east-1"),
            access_key,
            secret_key,
            public_url: source.http_url(STORAGE_PUBLIC_URL)?,
            timeout: S3_TIMEOUT,
        }))
    }
}

impl IngestConfig {
    /// What outputs may be downloaded: the `OUTPUT_*` variables over [`IngestConfig::default`].
    ///
    /// # Errors
    /// [`InvalidSetting`] for a flag that is not `true`/`false` or a size that is not a number.
    pub fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let defaults = Self::default();
        Ok(Self {
            allowed_hosts: source
                .list(OUTPUT_ALLOWED_HOSTS)
                .unwrap_or(defaults.allowed_hosts),
            allow_private_addresses: source.flag(
                OUTPUT_ALLOW_PRIVATE_ADDRESSES,
                defaults.allow_private_addresses,
            )?,
            max_bytes: source.parse(OUTPUT_MAX_BYTES, defaults.max_bytes, "a number of bytes")?,
            timeout: defaults.timeout,
        })
    }
}
