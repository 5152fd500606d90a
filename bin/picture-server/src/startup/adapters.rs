//! The adapters that reach outside the process (object store, image provider, output
//! downloads, the credits service, the token verifier), each built once at start-up and
//! shared by every service that uses it.

use std::sync::Arc;

use anyhow::Context;
use picture_credits::RemoteCredits;
use picture_domain::ProviderName;
use picture_domain::ports::{
    Clock, CreditLedger, ImageRenderer, ObjectStore, OutputFetcher, Providers,
};
use picture_imaging::{ImagingSettings, Renderer};
use picture_offline::OfflineRenderer;
use picture_openai::OpenAiImagesProvider;
use picture_replicate::ReplicateProvider;
use picture_storage::{Ingestor, LocalStore, S3Store};

use crate::auth::{JwksVerifier, LocalTokens, TokenVerifier, load_or_create_secret};
use crate::clock::SystemClock;
use crate::outbound;
use crate::routes::files::FileSource;
use crate::settings::{AuthMode, Settings};

/// Every outside adapter, built once.
pub(super) struct Outbound {
    /// Where images are stored.
    pub store: Arc<dyn ObjectStore>,
    /// The same store, for the server to serve its files at `/files/…`.
    pub files: FileSource,
    /// Renders variants and blurhash placeholders, on its own bounded pool of threads.
    pub renderer: Arc<dyn ImageRenderer>,
    /// The image providers: the offline renderer always, and each configured one.
    pub providers: Providers,
    /// Downloads the provider's outputs.
    pub fetcher: Arc<dyn OutputFetcher>,
    /// The remote credits service, when configured.
    pub remote_credits: Option<Arc<dyn CreditLedger>>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl Outbound {
    /// Builds each adapter from the settings. Outgoing HTTP is sent from a runtime of its own
    /// when several HTTP workers run (see [`outbound::runtime_for`]).
    ///
    /// # Errors
    /// When an adapter's configuration is not usable.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let (store, files) = object_store(settings)?;
        let images = &settings.images;
        Ok(Self {
            store,
            files,
            renderer: Arc::new(Renderer::new(ImagingSettings {
                threads: images.render_threads,
                max_pixels: images.max_pixels,
                time_limit: images.render_timeout,
            })),
            providers: providers(settings)?,
            fetcher: output_fetcher(settings)?,
            remote_credits: remote_credits(settings)?,
            clock: Arc::new(SystemClock),
        })
    }
}

/// The object store: S3 when configured, else files under `DATA_DIR/files` — and the same
/// store again, for the server to serve its objects.
fn object_store(settings: &Settings) -> anyhow::Result<(Arc<dyn ObjectStore>, FileSource)> {
    Ok(match &settings.s3 {
        Some(config) => {
            let s3 = Arc::new(S3Store::new(config).context("configuring the S3 store")?);
            (s3.clone(), FileSource::S3(s3))
        }
        None => {
            let local = LocalStore::new(
                settings.database.data_dir.join("files"),
                &settings.http.public_base_url,
            );
            (Arc::new(local.clone()), FileSource::Local(local))
        }
    })
}

/// The image providers, each under its name: the offline renderer always (it serves the
/// offline preview, and every model when no other provider is configured), Replicate with a
/// token, the OpenAI-compatible images API with a base URL. The catalogue offers exactly the models of these (see [`super::catalogue`]).
fn providers(settings: &Settings) -> anyhow::Result<Providers> {
    let mut providers =
        Providers::new().with(ProviderName::OFFLINE, Arc::new(OfflineRenderer::new()));
    if let Some(config) = settings.replicate() {
        let provider = ReplicateProvider::new(config).context("building the Replicate client")?;
        providers = providers.with(
            ProviderName::REPLICATE,
            Arc::new(match outbound::runtime_for(settings.http.workers) {
                Some(runtime) => provider.sending_on(runtime),
                None => provider,
            }),
        );
    }
    if let Some(config) = &settings.openai {
        let provider = OpenAiImagesProvider::new(config.clone())
            .context("building the OpenAI-compatible images client")?;
        providers = providers.with(
            picture_openai::PROVIDER,
            Arc::new(match outbound::runtime_for(settings.http.workers) {
                Some(runtime) => provider.sending_on(runtime),
                None => provider,
            }),
        );
    }
    Ok(providers)
}

/// The downloader of the provider's outputs.
fn output_fetcher(settings: &Settings) -> anyhow::Result<Arc<dyn OutputFetcher>> {
    let fetcher =
        Ingestor::new(settings.output.clone()).context("building the output downloader")?;
    Ok(Arc::new(
        match outbound::runtime_for(settings.http.workers) {
            Some(runtime) => fetcher.sending_on(runtime),
            None => fetcher,
        },
    ))
}

/// The remote credits service's client, when one is configured.
fn remote_credits(settings: &Settings) -> anyhow::Result<Option<Arc<dyn CreditLedger>>> {
    let Some(config) = &settings.credits.service else {
        return Ok(None);
    };
    let client = RemoteCredits::new(config.clone()).context("building the credits client")?;
    Ok(Some(Arc::new(
        match outbound::runtime_for(settings.http.workers) {
            Some(runtime) => client.sending_on(runtime),
            None => client,
        },
    )))
}

/// The local token issuer of embedded mode.
///
/// # Errors
/// When the server verifies tokens against a JWKS (it issues none), or the local secret cannot
/// be read or created.
pub fn local_tokens(settings: &Settings) -> anyhow::Result<LocalTokens> {
    match &settings.auth.mode {
        AuthMode::Local { secret } => {
            let secret = load_or_create_secret(secret.as_ref(), &settings.database.data_dir)
                .context("reading the local JWT secret")?;
            Ok(LocalTokens::new(
                &secret,
                &settings.auth.audience,
                settings.auth.leeway,
            ))
        }
        AuthMode::Jwks { .. } => {
            anyhow::bail!("tokens are issued by the auth service when MANA_CORE_AUTH_URL is set")
        }
    }
}

/// The bearer-token verifier: the local issuer's key, or the auth service's JWKS.
pub(super) fn verifier(settings: &Settings) -> anyhow::Result<Arc<dyn TokenVerifier>> {
    Ok(match &settings.auth.mode {
        AuthMode::Local { .. } => Arc::new(local_tokens(settings)?),
        AuthMode::Jwks { auth_url, issuers } => {
            let verifier = JwksVerifier::new(
                auth_url,
                issuers,
                &settings.auth.audience,
                settings.auth.leeway,
            )
            .context("building the JWKS client")?;
            Arc::new(match outbound::runtime_for(settings.http.workers) {
                Some(runtime) => verifier.sending_on(runtime),
                None => verifier,
            })
        }
    })
}
