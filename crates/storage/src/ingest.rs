//! Ingest: turning a provider's output (URL or `data:` URI) into checked image bytes.
//!
//! A download is refused unless it is `https` to an allowed host (`replicate.delivery` and its
//! subdomains by default); IP literals in private, loopback or link-local ranges and `localhost`
//! are refused unless explicitly allowed (tests); redirects are not followed; the body is read
//! in chunks and abandoned past the size cap; the whole fetch has a time limit. The bytes must be
//! PNG, JPEG or WebP (by their magic numbers), and their width and height are read from them.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_domain::ports::ImageSource;
use reqwest::Url;
use reqwest::redirect::Policy;

use crate::format::ImageFormat;
use crate::resolver::{PublicOnlyResolver, refused_private};

/// What may be fetched, how much, how fast.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Hosts outputs may come from: exact names, or `*.domain` for any subdomain of `domain`.
    pub allowed_hosts: Vec<String>,
    /// Allow loopback and private addresses and plain `http` (tests only).
    pub allow_private_addresses: bool,
    /// Largest accepted image, in bytes.
    pub max_bytes: u64,
    /// Longest a download may take, in total.
    pub timeout: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["replicate.delivery".into(), "*.replicate.delivery".into()],
            allow_private_addresses: false,
            max_bytes: 25 * 1024 * 1024,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Checked image bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedImage {
    /// The bytes, as received.
    pub bytes: Vec<u8>,
    /// Their format.
    pub format: ImageFormat,
    /// Width in pixels, read from the image.
    pub width: u32,
    /// Height in pixels, read from the image.
    pub height: u32,
}

/// Why an output could not be ingested. The messages are safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// Not a URL, or not `https`.
    #[error("the provider's output is not an https URL")]
    InvalidUrl,
    /// The host is not in the allowed list.
    #[error("the provider's output host {0} is not allowed")]
    HostNotAllowed(String),
    /// A private, loopback or link-local address.
    #[error("the provider's output points to a private address")]
    PrivateAddress,
    /// The server answered with a redirect.
    #[error("the provider's output redirected; redirects are not followed")]
    Redirect,
    /// Larger than the cap.
    #[error("the provider's output is larger than {0} bytes")]
    TooLarge(u64),
    /// The download took too long.
    #[error("downloading the provider's output timed out")]
    Timeout,
    /// The server answered with an error status.
    #[error("downloading the provider's output failed with HTTP {0}")]
    Status(u16),
    /// The connection failed.
    #[error("downloading the provider's output failed")]
    Transport,
    /// A `data:` URI that is not base64 or does not decode.
    #[error("the provider's output is not a valid base64 data URI")]
    InvalidDataUri,
    /// The bytes are not a PNG, JPEG or WebP image, or their size cannot be read.
    #[error("the provider's output is not a PNG, JPEG or WebP image")]
    NotAnImage,
}

/// Fetches and checks outputs.
#[derive(Debug, Clone)]
pub struct Ingestor {
    http: reqwest::Client,
    config: IngestConfig,
    runtime: Option<tokio::runtime::Handle>,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
        None => host == pattern,
    }
}

pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xFE00) == 0xFC00
                || (v6.segments()[0] & 0xFFC0) == 0xFE80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

impl Ingestor {
    /// An ingestor for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: IngestConfig) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)));
        if !config.allow_private_addresses {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnlyResolver));
        }
        let http = builder.build()?;
        Ok(Self {
            http,
            config,
            runtime: None,
        })
    }

    /// Sends every download from `runtime`, so the pooled connections it opens are driven there
    /// and keep working for callers on other runtimes after the opener's runtime stops (an
    /// HTTP worker that stops at once on SIGTERM).
    #[must_use]
    pub fn sending_on(mut self, runtime: tokio::runtime::Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Fetches `source` and checks it.
    ///
    /// # Errors
    /// An [`IngestError`] saying why the output is refused.
    pub async fn fetch(&self, source: &ImageSource) -> Result<IngestedImage, IngestError> {
        let started = std::time::Instant::now();
        let (kind, result) = match source {
            ImageSource::Url(url) => ("url", self.download(url).await),
            ImageSource::DataUri(uri) => ("data_uri", self.decode_data_uri(uri)),
        };
        metrics::histogram!("picture_ingest_duration_seconds", "source" => kind)
            .record(started.elapsed().as_secs_f64());
        match &result {
            Ok(image) => metrics::counter!("picture_ingest_bytes_total", "source" => kind)
                .increment(image.bytes.len() as u64),
            Err(_) => {
                metrics::counter!("picture_ingest_failures_total", "source" => kind).increment(1)
            }
        }
        result
    }

    /// Checks `bytes`: size, format and dimensions.
    ///
    /// # Errors
    /// [`IngestError::TooLarge`] or [`IngestError::NotAnImage`].
    pub fn inspect(&self, bytes: Vec<u8>) -> Result<IngestedImage, IngestError> {
        if bytes.len() as u64 > self.config.max_bytes {
            return Err(IngestError::TooLarge(self.config.max_bytes));
        }
        let format = ImageFormat::sniff(&bytes).ok_or(IngestError::NotAnImage)?;
        let size = imagesize::blob_size(&bytes).map_err(|_| IngestError::NotAnImage)?;
        let width = u32::try_from(size.width).map_err(|_| IngestError::NotAnImage)?;
        let height = u32::try_from(size.height).map_err(|_| IngestError::NotAnImage)?;
        if width == 0 || height == 0 {
            return Err(IngestError::NotAnImage);
        }
        Ok(IngestedImage {
            bytes,
            format,
            width,
            height,
        })
    }

    fn check_url(&self, raw: &str) -> Result<Url, IngestError> {
        let url = Url::parse(raw).map_err(|_| IngestError::InvalidUrl)?;
        let scheme_ok = url.scheme() == "https"
            || (self.config.allow_private_addresses && url.scheme() == "http");
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return Err(IngestError::InvalidUrl);
        }
        let host = url
            .host_str()
            .ok_or(IngestError::InvalidUrl)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !self.config.allow_private_addresses {
            let private = match host.parse::<IpAddr>() {
                Ok(ip) => is_private(ip),
                Err(_) => host == "localhost" || host.ends_with(".localhost"),
            };
            if private {
                return Err(IngestError::PrivateAddress);
            }
        }
        if !self
            .config
            .allowed_hosts
            .iter()
            .any(|pattern| host_matches(pattern, &host))
        {
            return Err(IngestError::HostNotAllowed(host));
        }
        Ok(url)
    }

    async fn download(&self, raw: &str) -> Result<IngestedImage, IngestError> {
        let url = self.check_url(raw)?;
        let transport = |e: reqwest::Error| {
            if refused_private(&e) {
                IngestError::PrivateAddress
            } else if e.is_timeout() {
                IngestError::Timeout
            } else {
                IngestError::Transport
            }
        };
        let pending = self.http.get(url).send();
        let sent = match &self.runtime {
            Some(runtime) => runtime
                .spawn(pending)
                .await
                .map_err(|_| IngestError::Transport)?,
            None => pending.await,
        };
        let mut response = sent.map_err(transport)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(IngestError::Redirect);
        }
        if !status.is_success() {
            return Err(IngestError::Status(status.as_u16()));
        }
        let max = self.config.max_bytes;
        if response.content_length().is_some_and(|length| length > max) {
            return Err(IngestError::TooLarge(max));
        }
        let mut bytes = Vec::with_capacity(
            usize::try_from(response.content_length().unwrap_or(0).min(max)).unwrap_or(0),
        );
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(IngestError::TooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        self.inspect(bytes)
    }

    fn decode_data_uri(&self, uri: &str) -> Result<IngestedImage, IngestError> {
        let (meta, data) = uri
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            .ok_or(IngestError::InvalidDataUri)?;
        if !meta.ends_with(";base64") {
            return Err(IngestError::InvalidDataUri);
        }
        if (data.len() as u64) / 4 * 3 > self.config.max_bytes + 3 {
            return Err(IngestError::TooLarge(self.config.max_bytes));
        }
        let bytes = STANDARD
            .decode(data.trim())
            .map_err(|_| IngestError::InvalidDataUri)?;
        self.inspect(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        assert!(host_matches("replicate.delivery", "replicate.delivery"));
        assert!(host_matches(
            "*.replicate.delivery",
            "pbxt.replicate.delivery"
        ));
        assert!(!host_matches("*.replicate.delivery", "replicate.delivery"));
        assert!(!host_matches(
            "*.replicate.delivery",
            "evilreplicate.delivery"
        ));
        assert!(!host_matches(
            "replicate.delivery",
            "replicate.delivery.evil.com"
        ));
        assert!(host_matches("127.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let ingestor = Ingestor::new(IngestConfig::default()).unwrap();
        assert!(
            ingestor
                .check_url("https://pbxt.replicate.delivery/a/out-0.png")
                .is_ok()
        );
        assert_eq!(
            ingestor.check_url("http://replicate.delivery/a.png"),
            Err(IngestError::InvalidUrl)
        );
        assert_eq!(
            ingestor.check_url("https://evil.example/a.png"),
            Err(IngestError::HostNotAllowed("evil.example".into()))
        );
        assert_eq!(
            ingestor.check_url("https://169.254.169.254/latest/meta-data"),
            Err(IngestError::PrivateAddress)
        );
        assert_eq!(
            ingestor.check_url("https://localhost/a.png"),
            Err(IngestError::PrivateAddress)
        );
        assert_eq!(
            ingestor.check_url("https://user:pw@replicate.delivery/a.png"),
            Err(IngestError::InvalidUrl)
        );
        assert_eq!(
            ingestor.check_url("not a url"),
            Err(IngestError::InvalidUrl)
        );
    }
}
