//! Building the application from its settings, in order: the database, the outside
//! adapters, the services (each once), the routes (with the middleware of
//! [`crate::middleware`]), the listener; then running it until it is stopped.

mod adapters;
mod background;
mod batch_workers;
pub mod catalogue;
mod live;
mod services;

use std::any::Any;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Extensions, Server, ServerHandle};
use actix_web::{App, web};
use anyhow::Context;
use picture_domain::services::{ModelService, PlaceholderBackfill};
use picture_persistence::{
    ConnectionHome, Database, DieselImageRepository, DieselModelCatalog,
    DieselPlaceholderRepository, PoolOptions,
};
use tokio::task::JoinHandle;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope;

pub use adapters::local_tokens;

use self::adapters::Outbound;
use self::background::{Reconciler, spawn_bucket_cleaner};
use self::batch_workers::BatchWorkers;
use self::services::{Services, batch_runner, reconciler};
use crate::body_deadline::BodyDeadline;
use crate::connection_limit::ConnectionLimiter;
use crate::error::{configure_extractors, route_not_found};
use crate::http_server::{ServerOptions, serve};
use crate::ip_limit::IpLimiter;
use crate::middleware::{self, Layers};
use crate::openapi::{ApiDoc, docs};
use crate::routes;
use crate::settings::Settings;

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    reconciler: Reconciler,
    batch_workers: BatchWorkers,
    live: crate::live::upkeep::LiveUpkeep,
    orphan_sweep: JoinHandle<()>,
    idle_buckets: JoinHandle<()>,
    shutdown_timeout: Duration,
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

/// The batch workers' pool: on the start-up runtime where they run, two connections per
/// worker (a claim, and the pipeline's writes while it runs an item).
fn batch_pool(settings: &Settings) -> PoolOptions {
    PoolOptions {
        max_size: (settings.batches.workers.max(1) * 2) as usize,
        timeout: Duration::from_secs(5),
        home: ConnectionHome::Caller,
    }
}

/// The placeholder backfill over `database` and the configured store, with its own renderer
/// (`IMAGE_RENDER_*` settings), reading rows `batch` at a time.
///
/// # Errors
/// When the store or the renderer cannot be built from the settings.
pub fn placeholder_backfill(
    settings: &Settings,
    database: &Database,
    batch: u32,
) -> anyhow::Result<PlaceholderBackfill> {
    let outbound = Outbound::build(settings)?;
    Ok(PlaceholderBackfill::new(
        Arc::new(DieselPlaceholderRepository::new(database.clone())),
        outbound.store,
        outbound.renderer,
        batch,
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
        .seed(&catalogue::of(settings))
        .await
        .context("seeding the model catalogue")?;
    Ok(database)
}

impl Application {
    /// Prepares the database, builds the adapters and services, mounts the routes and binds
    /// `HOST:PORT` (port 0 picks a free one).
    ///
    /// # Errors
    /// When the database, an adapter, the auth keys or the listener cannot be set up.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // Checked, migrated and seeded through the reconciler's pool, on this start-up runtime
        // where the reconciler runs. The requests' pool opens its connections when the HTTP
        // workers first need them, on the runtime `request_pool` says. Its own pool also keeps
        // the reconciler off the requests' connections.
        let background = prepare_database(&settings, RECONCILER_POOL).await?;
        let database = Database::open(&settings.database.url, request_pool(settings.http.workers))
            .context("opening the database pool")?;

        let outbound = Outbound::build(&settings)?;

        let wake_batch_workers = Arc::new(tokio::sync::Notify::new());
        let (live_parts, live) = live::build(
            &settings,
            &database,
            &background,
            Arc::clone(&outbound.clock),
        )
        .await?;
        let hub = live_parts.hub.clone();
        let services = Services::build(
            &settings,
            &outbound,
            &database,
            Arc::clone(&wake_batch_workers),
            live_parts,
        )?;
        // The batch workers run on this start-up runtime, over a pool of their own.
        let batch_database = Database::open(&settings.database.url, batch_pool(&settings))
            .context("opening the batch workers' pool")?;
        let batch_workers = BatchWorkers::spawn(
            batch_runner(&settings, &outbound, &batch_database),
            settings.batches.workers,
            wake_batch_workers,
        );
        // The background tasks work on a pool of their own and share the outside adapters:
        // only the reconciler (and the finaliser it uses) is built over that pool.
        let background_images = Arc::new(DieselImageRepository::new(background.clone()));
        let reconciler = Reconciler::spawn(
            reconciler(&settings, &outbound, &background, background_images.clone()),
            &settings,
        );
        let orphan_sweep = crate::orphan_sweep::spawn(
            Arc::clone(&outbound.store),
            background_images,
            Arc::clone(&outbound.clock),
            settings.orphan_sweep,
        );
        let ip_limiter = IpLimiter::new(settings.limits.ip_requests_per_minute);
        let idle_buckets = spawn_bucket_cleaner(ip_limiter.clone());
        let layers = Layers {
            body_deadline: BodyDeadline::new(settings.limits.request_body_timeout),
            ip_limiter,
            cors_origins: settings.http.cors_origins.clone(),
        };

        let listener = TcpListener::bind((settings.http.host.as_str(), settings.http.port))
            .with_context(|| format!("binding {}:{}", settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();
        let connections = ConnectionLimiter::new(settings.limits.max_connections_per_ip);
        let options = ServerOptions {
            workers: settings.http.workers,
            max_connections_per_worker: settings.max_connections_per_worker(),
            shutdown_timeout: settings.http.shutdown_timeout,
        };
        let on_connect = move |connection: &dyn Any, data: &mut Extensions| {
            connections.on_connect(connection, data);
        };
        let server = serve(
            listener,
            options,
            on_connect,
            move || hub.shutdown(),
            move || app(services.clone(), layers.clone()),
        )?;
        tracing::info!(port, environment = %settings.environment, "listening");
        Ok(Self {
            port,
            server,
            reconciler,
            batch_workers,
            live,
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
        self.live.stop().await;
        self.batch_workers.stop(self.shutdown_timeout).await;
        self.reconciler.stop(self.shutdown_timeout).await;
        served
    }
}

/// One worker's app: the middleware, the services as app data, the routes (documented as
/// they are mounted), the docs page serving that document, the `/api` alias, and the 404 of
/// unknown routes.
fn app(
    services: Services,
    layers: Layers,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    middleware::wrap(App::new(), &layers)
        .configure(configure_extractors)
        .configure(|config| services.register(config))
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|config| routes::root(config, services.files()))
        .service(scope("/api/v1").configure(routes::api))
        .map(|app| app.service(web::redirect("/api/docs", "/api/docs/").permanent()))
        .openapi_service(docs)
        .map(|app| {
            app.service(web::scope("/api").configure(routes::api_alias))
                .default_service(web::to(route_not_found))
        })
        .into_app()
}
