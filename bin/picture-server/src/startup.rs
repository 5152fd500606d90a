//! Building the application from its settings: database, migrations, seed, services, auth,
//! the listener and the actix server.

use std::any::Any;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Extensions, Server, ServerHandle, Service, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpMessage, web};
use anyhow::Context;
use picture_credits::RemoteCredits;
use picture_domain::ports::CreditLedger;
use picture_domain::ports::{Clock, ImageProvider, ObjectStore};
use picture_domain::services::{
    CATALOG_CACHE_TTL, CachedCatalog, CreditPorts, CreditService, DeliveryGuard, GenerationLimits,
    GenerationServices, ImageService, ModelService, PipelinePorts, PipelineSettings,
    ProfileService, ReconcileGenerations,
};
use picture_offline::OfflineRenderer;
use picture_persistence::{
    ConnectionHome, Database, DieselDeliveryLog, DieselGenerationRepository,
    DieselIdempotencyStore, DieselImageRepository, DieselLedger, DieselModelCatalog,
    DieselProfileRepository, DieselRateCounter, PoolOptions,
};
use picture_replicate::ReplicateProvider;
use picture_storage::{Ingestor, LocalStore, S3Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::clock::SystemClock;

use crate::body_deadline::BodyDeadline;
use crate::connection_limit::ConnectionLimiter;
use crate::http_server::{ServerOptions, serve};

use crate::auth::{JwksVerifier, LocalTokens, TokenVerifier, load_or_create_secret};
use crate::error::{configure_extractors, route_not_found};
use crate::ip_limit::IpLimiter;
use crate::outbound;
use crate::routes;
use crate::settings::{AuthMode, Settings};
use crate::telemetry::PictureRootSpan;

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    reconciler: Reconciler,
    orphan_sweep: JoinHandle<()>,
    idle_buckets: JoinHandle<()>,
    shutdown_timeout: Duration,
}

/// The reconciler's task and the switch that asks it to stop after its current pass.
struct Reconciler {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Reconciler {
    /// Asks the reconciler to stop, and waits up to `grace` for its current pass to end before
    /// cancelling it.
    async fn stop(mut self, grace: Duration) {
        self.stop.send_replace(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            tracing::warn!("the reconciler's pass outlasted the shutdown timeout; cancelled");
            self.task.abort();
        }
    }
}

/// The reconciler's own pool (also the one start-up checks and seeds through): one pass works
/// through its batch one generation at a time. Its connections stay on the start-up runtime,
/// which runs the reconciler and outlives the server.
const RECONCILER_POOL: PoolOptions = PoolOptions {
    max_size: 2,
    timeout: Duration::from_secs(5),
    home: ConnectionHome::Caller,
};

/// The requests' pool. With one HTTP worker its connections stay on that worker's runtime, so
/// no PostgreSQL round trip is relayed between threads: the worker stops only after its own
/// requests. With several, a worker that has no request left stops at once on SIGTERM while
/// another still serves one, so the connections live on the pool's own runtime instead.
fn request_pool(workers: usize) -> PoolOptions {
    PoolOptions {
        home: if workers == 1 {
            ConnectionHome::Caller
        } else {
            ConnectionHome::Database
        },
        ..PoolOptions::default()
    }
}

/// How many stuck generations one reconciler pass handles.
const RECONCILER_BATCH: u32 = 50;

/// How many expired `Idempotency-Key`s one reconciler pass deletes (one statement): 1000 every
/// 30 s keeps up with about 2.8 million keyed generations a day.
const IDEMPOTENCY_PURGE_BATCH: u32 = 1000;

/// Finalises generations stuck in `processing` now and then every `settings.reconciler_interval`,
/// and deletes a batch of expired `Idempotency-Key`s each time. Stops between passes once asked
/// to (or once nobody can ask any more).
fn spawn_reconciler(pipeline: ReconcileGenerations, settings: &Settings) -> Reconciler {
    let (interval, min_age) = (
        settings.generation.reconciler_interval,
        settings.generation.reconciler_min_age,
    );
    let (stop, mut stopping) = watch::channel(false);
    let task = tokio::spawn(async move {
        while !*stopping.borrow_and_update() {
            let outcome = match pipeline.reconcile(min_age, RECONCILER_BATCH).await {
                Ok(0) => "ok",
                Ok(fixed) => {
                    metrics::counter!("picture_reconciler_fixed_total").increment(fixed as u64);
                    tracing::info!(fixed, "reconciler finished stuck generations");
                    "ok"
                }
                Err(error) => {
                    tracing::warn!(%error, "reconciler pass failed");
                    "error"
                }
            };
            metrics::counter!("picture_reconciler_runs_total", "outcome" => outcome).increment(1);
            if let Err(error) = pipeline.purge_expired_keys(IDEMPOTENCY_PURGE_BATCH).await {
                tracing::warn!(%error, "expired idempotency keys not purged");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                changed = stopping.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Reconciler { task, stop }
}

/// A request let through (its pending answer) or refused by the IP limiter (its answer).
enum Gate<F> {
    Pass(F),
    Refused(ServiceResponse),
}

/// Forgets idle per-IP buckets every minute.
fn spawn_bucket_cleaner(limiter: IpLimiter) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limiter.forget_idle();
        }
    })
}

/// The docs page's policy: its own scripts, styles (Swagger UI sets some inline), images and
/// fonts, and requests back to this server only.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// Headers every answer carries: no sniffing, no framing, no referrer, no caching of API
/// answers by shared caches unless a handler says otherwise.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .add(("Cross-Origin-Resource-Policy", "cross-origin"))
}

/// The object store: S3 when configured, else files under `DATA_DIR/files` (returned too, so
/// the server can serve them).
fn object_store(settings: &Settings) -> anyhow::Result<(Arc<dyn ObjectStore>, Option<LocalStore>)> {
    Ok(match &settings.s3 {
        Some(config) => (
            Arc::new(S3Store::new(config).context("configuring the S3 store")?),
            None,
        ),
        None => {
            let local = LocalStore::new(
                settings.database.data_dir.join("files"),
                &settings.http.public_base_url,
            );
            (Arc::new(local.clone()), Some(local))
        }
    })
}

/// The image provider: Replicate with a token, the offline renderer without.
fn image_provider(settings: &Settings) -> anyhow::Result<Arc<dyn ImageProvider>> {
    Ok(match settings.replicate() {
        Some(config) => {
            let provider =
                ReplicateProvider::new(config).context("building the Replicate client")?;
            Arc::new(match outbound::runtime_for(settings.http.workers) {
                Some(runtime) => provider.sending_on(runtime),
                None => provider,
            })
        }
        None => Arc::new(OfflineRenderer::new()),
    })
}

fn pipeline(
    settings: &Settings,
    database: &Database,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<GenerationServices> {
    let fetcher =
        Ingestor::new(settings.output.clone()).context("building the output downloader")?;
    let fetcher = match outbound::runtime_for(settings.http.workers) {
        Some(runtime) => fetcher.sending_on(runtime),
        None => fetcher,
    };
    let generations = Arc::new(DieselGenerationRepository::new(database.clone()));
    let remote: Option<Arc<dyn CreditLedger>> = match &settings.credits.service {
        Some(config) => {
            let client =
                RemoteCredits::new(config.clone()).context("building the credits client")?;
            Some(Arc::new(
                match outbound::runtime_for(settings.http.workers) {
                    Some(runtime) => client.sending_on(runtime),
                    None => client,
                },
            ))
        }
        None => None,
    };
    let credits = CreditService::new(
        CreditPorts {
            accounts: Arc::new(DieselLedger::new(database.clone())),
            remote,
            generations: generations.clone(),
            clock: Arc::clone(&clock),
        },
        settings.credits.freemium,
        settings.credits.fail_open,
    );
    let ports = PipelinePorts {
        models: Arc::new(CachedCatalog::new(
            Arc::new(DieselModelCatalog::new(database.clone())),
            CATALOG_CACHE_TTL,
        )),
        generations,
        images: Arc::new(DieselImageRepository::new(database.clone())),
        provider: image_provider(settings)?,
        fetcher: Arc::new(fetcher),
        store,
        clock,
        idempotency: Arc::new(DieselIdempotencyStore::new(database.clone())),
    };
    Ok(GenerationServices::new(
        ports,
        credits,
        PipelineSettings {
            callbacks: settings
                .replicate
                .webhooks
                .as_ref()
                .map(|_| routes::webhook::callback_urls(&settings.generation.webhook_base_url)),
            sync_timeout: settings.generation.sync_timeout,
            poll_interval: settings.generation.poll_interval,
            finalize_lease: settings.generation.finalize_lease,
            pending_timeout: settings.generation.pending_timeout,
            reconciler_interval: settings.generation.reconciler_interval,
            idempotency_ttl: settings.generation.idempotency_key_ttl,
            provider_poll_min_interval: settings.generation.provider_poll_min_interval,
        },
    ))
}

/// Migrates the database and seeds the model catalogue, then returns a pool of `options` on it.
///
/// # Errors
/// When the database cannot be reached, migrated or seeded.
pub async fn prepare_database(
    settings: &Settings,
    options: PoolOptions,
) -> anyhow::Result<Database> {
    let applied = Database::migrate(&settings.database.url)
        .await
        .context("migrating the database")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    let database = Database::connect(&settings.database.url, options)
        .await
        .context("connecting to the database")?;
    ModelService::new(Arc::new(DieselModelCatalog::new(database.clone())))
        .seed(settings.provider_configured())
        .await
        .context("seeding the model catalogue")?;
    Ok(database)
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

fn verifier(settings: &Settings) -> anyhow::Result<Arc<dyn TokenVerifier>> {
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

fn cors(origins: &[String]) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| origins.iter().any(|allowed| allowed == o))
        })
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allow_any_header()
        .expose_headers(["x-request-id", "retry-after", "x-next-cursor"])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(3600)
}

impl Application {
    /// Prepares the database, wires the services and binds `HOST:PORT` (port 0 picks a free
    /// one).
    ///
    /// # Errors
    /// When the database, the auth keys or the listener cannot be set up.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // Checked, migrated and seeded through the reconciler's pool, on this start-up runtime
        // where the reconciler runs. The requests' pool opens its connections when the HTTP
        // workers first need them, on the runtime `request_pool` says. Its own pool also keeps
        // the reconciler off the requests' connections.
        let background = prepare_database(&settings, RECONCILER_POOL).await?;
        let database = Database::open(&settings.database.url, request_pool(settings.http.workers))
            .context("opening the database pool")?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (store, local_files) = object_store(&settings)?;
        let generations = pipeline(&settings, &database, Arc::clone(&store), Arc::clone(&clock))?;
        let reconciler = spawn_reconciler(
            pipeline(
                &settings,
                &background,
                Arc::clone(&store),
                Arc::clone(&clock),
            )?
            .reconcile,
            &settings,
        );
        let orphan_sweep = crate::orphan_sweep::spawn(
            Arc::clone(&store),
            Arc::new(DieselImageRepository::new(background.clone())),
            Arc::clone(&clock),
            settings.orphan_sweep,
        );
        let credits = web::Data::new(generations.credits.clone());
        let admin_key = web::Data::new(routes::AdminKey(settings.auth.admin_service_key.clone()));
        let metrics = web::Data::new(crate::metrics::install());
        let limits = web::Data::new(GenerationLimits::new(
            Arc::new(DieselRateCounter::new(database.clone())),
            Arc::clone(&clock),
            settings.limits.generation_quota,
        ));
        let deliveries = web::Data::new(DeliveryGuard::new(
            Arc::new(DieselDeliveryLog::new(database.clone())),
            Arc::clone(&clock),
            Duration::from_secs(2 * picture_replicate::TOLERANCE_SECS.unsigned_abs()),
        ));
        let ip_limiter = IpLimiter::new(settings.limits.ip_requests_per_minute);
        let idle_buckets = spawn_bucket_cleaner(ip_limiter.clone());
        let start = web::Data::new(generations.start);
        let finalize = web::Data::new(generations.finalize);
        let cancel = web::Data::new(generations.cancel);
        let read = web::Data::new(generations.read);
        let images = web::Data::new(ImageService::new(
            Arc::new(DieselImageRepository::new(database.clone())),
            store,
            Arc::clone(&clock),
        ));
        let webhook_verifier = web::Data::new(settings.webhook_verifier());
        let local_files = local_files.map(web::Data::new);
        let models = web::Data::new(ModelService::new(Arc::new(CachedCatalog::new(
            Arc::new(DieselModelCatalog::new(database.clone())),
            CATALOG_CACHE_TTL,
        ))));
        let profiles = web::Data::new(ProfileService::new(
            Arc::new(DieselProfileRepository::new(database.clone())),
            clock,
        ));
        let verifier = web::Data::new(verifier(&settings)?);
        let database = web::Data::new(database);
        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();
        let origins = settings.http.cors_origins.clone();
        let body_deadline = BodyDeadline::new(settings.limits.request_body_timeout);
        let connections = ConnectionLimiter::new(settings.limits.max_connections_per_ip);
        let options = ServerOptions {
            workers: settings.http.workers,
            max_connections_per_worker: settings.max_connections_per_worker(),
            shutdown_timeout: settings.http.shutdown_timeout,
        };
        let on_connect = move |connection: &dyn Any, data: &mut Extensions| {
            connections.on_connect(connection, data);
        };
        let server = serve(listener, options, on_connect, move || {
            App::new()
                .wrap(body_deadline)
                .wrap_fn({
                    let ip_limiter = ip_limiter.clone();
                    move |request, service| {
                        let refused = ip_limiter.admit(&request).err();
                        let answer = match refused {
                            None => Gate::Pass(service.call(request)),
                            Some(refused) => Gate::Refused(request.error_response(refused)),
                        };
                        async move {
                            match answer {
                                Gate::Pass(response) => {
                                    response.await.map(ServiceResponse::map_into_left_body)
                                }
                                Gate::Refused(refused) => Ok(refused.map_into_right_body()),
                            }
                        }
                    }
                })
                .wrap(cors(&origins))
                .wrap_fn(|request, service| {
                    let request_id = request.extensions().get::<RequestId>().copied();
                    let response = service.call(request);
                    async move {
                        let mut response = response.await?;
                        if let Some(value) =
                            request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                        {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static("x-request-id"), value);
                        }
                        Ok(response)
                    }
                })
                .wrap_fn(|request, service| {
                    let docs = request.path().starts_with("/api/docs");
                    let response = service.call(request);
                    async move {
                        let mut response = response.await?;
                        if docs {
                            response.headers_mut().insert(
                                actix_web::http::header::CONTENT_SECURITY_POLICY,
                                HeaderValue::from_static(DOCS_CSP),
                            );
                        }
                        Ok(response)
                    }
                })
                .wrap(security_headers())
                .wrap(crate::metrics::RequestMetrics)
                .wrap(TracingLogger::<PictureRootSpan>::new())
                .configure(configure_extractors)
                .app_data(models.clone())
                .app_data(profiles.clone())
                .app_data(verifier.clone())
                .app_data(database.clone())
                .app_data(start.clone())
                .app_data(finalize.clone())
                .app_data(cancel.clone())
                .app_data(read.clone())
                .app_data(credits.clone())
                .app_data(admin_key.clone())
                .app_data(metrics.clone())
                .app_data(limits.clone())
                .app_data(deliveries.clone())
                .app_data(images.clone())
                .app_data(webhook_verifier.clone())
                .configure(|config| {
                    if let Some(files) = &local_files {
                        config
                            .app_data(files.clone())
                            .route("/files/{key:.*}", web::get().to(routes::file));
                    }
                })
                .route("/health", web::get().to(routes::health))
                .route("/ready", web::get().to(routes::ready))
                .route("/metrics", web::get().to(crate::metrics::render))
                .service(web::redirect("/api/docs", "/api/docs/").permanent())
                .service(crate::openapi::docs())
                .service(web::scope("/api/v1").configure(routes::api))
                .service(web::scope("/api").configure(routes::api))
                .default_service(web::to(route_not_found))
        })?;
        tracing::info!(port, environment = %settings.environment, "listening");
        Ok(Self {
            port,
            server,
            reconciler,
            orphan_sweep,
            idle_buckets,
            shutdown_timeout: settings.http.shutdown_timeout,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/Ctrl-C (or [`ServerHandle::stop`]); in-flight requests get the
    /// shutdown timeout to finish on every worker, then the reconciler gets it to finish its
    /// pass.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.orphan_sweep.abort();
        self.idle_buckets.abort();
        self.reconciler.stop(self.shutdown_timeout).await;
        served
    }
}
