//! The domain services, each built once over the adapters, and their registration as the
//! handlers' app data.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use picture_domain::ports::{ImageRepository, ModelCatalog};
use picture_domain::services::BoardItemService;
use picture_domain::services::TagService;
use picture_domain::services::batches::{BatchPorts, BatchRunner, BatchService, RunnerSettings};
use picture_domain::services::{BoardPorts, BoardService};
use picture_domain::services::{
    CATALOG_CACHE_TTL, CachedCatalog, CancelGeneration, CreditPorts, CreditService, DeliveryGuard,
    ExploreService, FinalizeGeneration, GenerationLimits, GenerationServices, ImageService,
    ModelService, PipelinePorts, PipelineSettings, ProfileService, ReadGenerations,
    ReconcileGenerations, StartGeneration,
};
use picture_domain::services::{UploadLimits, UploadPorts, UploadService};
use picture_domain::services::{VariantService, VariantTimings};
use picture_persistence::DieselBatchRepository;
use picture_persistence::DieselBoardItemRepository;
use picture_persistence::DieselBoardRepository;
use picture_persistence::DieselRenderLeases;
use picture_persistence::DieselTagRepository;
use picture_persistence::DieselUploadRepository;
use picture_persistence::{
    Database, DieselDeliveryLog, DieselExploreRepository, DieselGenerationRepository,
    DieselIdempotencyStore, DieselImageRepository, DieselLedger, DieselModelCatalog,
    DieselProfileRepository, DieselRateCounter,
};
use picture_replicate::WebhookVerifier;
use tokio::sync::Notify;

use super::adapters::{Outbound, verifier};
use crate::auth::TokenVerifier;
use crate::live::{LiveStreams, StreamAuth};
use crate::routes::AdminKey;
use crate::routes::files::Files;
use crate::settings::Settings;

/// The generation use cases over the repositories of `database`, the shared outside adapters
/// and the given catalogue and image repository (shared with other services of that pool).
fn generation_services(
    settings: &Settings,
    outbound: &Outbound,
    database: &Database,
    models: Arc<dyn ModelCatalog>,
    images: Arc<dyn ImageRepository>,
) -> GenerationServices {
    let (ports, credits, pipeline) = generation_parts(settings, outbound, database, models, images);
    GenerationServices::new(ports, credits, pipeline)
}

/// The reconciler alone, over the repositories of `database` (the background tasks' pool)
/// and the shared outside adapters.
pub(super) fn reconciler(
    settings: &Settings,
    outbound: &Outbound,
    database: &Database,
    images: Arc<dyn ImageRepository>,
) -> ReconcileGenerations {
    let models = Arc::new(DieselModelCatalog::new(database.clone()));
    let (ports, credits, pipeline) = generation_parts(settings, outbound, database, models, images);
    GenerationServices::reconciler_only(ports, credits, &pipeline)
}

/// The batch runner over `database` (the batch workers' own pool): a generation pipeline of
/// its own, claiming from the queue in that database, counting starts against the generation
/// limits.
pub(super) fn batch_runner(
    settings: &Settings,
    outbound: &Outbound,
    database: &Database,
) -> BatchRunner {
    let models: Arc<dyn ModelCatalog> = Arc::new(CachedCatalog::new(
        Arc::new(DieselModelCatalog::new(database.clone())),
        CATALOG_CACHE_TTL,
    ));
    let images = Arc::new(DieselImageRepository::new(database.clone()));
    let generations = generation_services(settings, outbound, database, models, images);
    BatchRunner::new(
        Arc::new(DieselBatchRepository::new(database.clone())),
        generations.start,
        generation_limits(settings, outbound, database),
        Arc::clone(&outbound.clock),
        RunnerSettings {
            per_user: settings.batches.per_user,
            lease: settings.batches.lease,
        },
    )
}

/// The per-user generation limits, counted in `database`.
fn generation_limits(
    settings: &Settings,
    outbound: &Outbound,
    database: &Database,
) -> GenerationLimits {
    GenerationLimits::new(
        Arc::new(DieselRateCounter::new(database.clone())),
        Arc::clone(&outbound.clock),
        settings.limits.generation_quota,
    )
}

/// What the generation services are built from: their ports over `database` and the shared
/// adapters, the credit service, and the pipeline's settings.
fn generation_parts(
    settings: &Settings,
    outbound: &Outbound,
    database: &Database,
    models: Arc<dyn ModelCatalog>,
    images: Arc<dyn ImageRepository>,
) -> (PipelinePorts, CreditService, PipelineSettings) {
    let generations = Arc::new(DieselGenerationRepository::new(database.clone()));
    let credits = CreditService::new(
        CreditPorts {
            accounts: Arc::new(DieselLedger::new(database.clone())),
            remote: outbound.remote_credits.clone(),
            generations: generations.clone(),
            clock: Arc::clone(&outbound.clock),
        },
        settings.credits.freemium,
        settings.credits.fail_open,
    );
    let ports = PipelinePorts {
        models,
        generations,
        images,
        providers: outbound.providers.clone(),
        fetcher: Arc::clone(&outbound.fetcher),
        store: Arc::clone(&outbound.store),
        renderer: Arc::clone(&outbound.renderer),
        clock: Arc::clone(&outbound.clock),
        idempotency: Arc::new(DieselIdempotencyStore::new(database.clone())),
        background: Arc::new(crate::background_tasks::TokioTasks),
    };
    (
        ports,
        credits,
        PipelineSettings {
            callbacks: settings.replicate.webhooks.as_ref().map(|_| {
                crate::routes::webhook::callback_urls(&settings.generation.webhook_base_url)
            }),
            sync_timeout: settings.generation.sync_timeout,
            poll_interval: settings.generation.poll_interval,
            finalize_lease: settings.generation.finalize_lease,
            pending_timeout: settings.generation.pending_timeout,
            reconciler_interval: settings.generation.reconciler_interval,
            idempotency_ttl: settings.generation.idempotency_key_ttl,
            provider_poll_min_interval: settings.generation.provider_poll_min_interval,
        },
    )
}

/// The files route's parts: the store, and variants rendered once across instances under
/// leases in `database`.
fn files(settings: &Settings, outbound: &Outbound, database: &Database) -> Files {
    let timeout = settings.images.render_timeout;
    Files {
        source: outbound.files.clone(),
        variants: VariantService::new(
            Arc::clone(&outbound.store),
            Arc::clone(&outbound.renderer),
            Arc::new(DieselRenderLeases::new(database.clone())),
            Arc::clone(&outbound.clock),
            VariantTimings {
                // A render and the store's write, with room to spare: a lease lapses only when
                // its holder died.
                lease: timeout * 3,
                poll_interval: Duration::from_millis(25),
                max_wait: timeout * 2,
            },
        ),
        settings: settings.images.variants.clone(),
    }
}

/// The services the handlers use, built once and shared by every HTTP worker.
#[derive(Clone)]
pub(super) struct Services {
    live: web::Data<LiveStreams>,
    stream_auth: web::Data<StreamAuth>,
    batches: web::Data<BatchService>,
    start: web::Data<StartGeneration>,
    finalize: web::Data<FinalizeGeneration>,
    cancel: web::Data<CancelGeneration>,
    read: web::Data<ReadGenerations>,
    credits: web::Data<CreditService>,
    models: web::Data<ModelService>,
    profiles: web::Data<ProfileService>,
    images: web::Data<ImageService>,
    tags: web::Data<TagService>,
    boards: web::Data<BoardService>,
    board_items: web::Data<BoardItemService>,
    uploads: web::Data<UploadService>,
    explore: web::Data<ExploreService>,
    limits: web::Data<GenerationLimits>,
    deliveries: web::Data<DeliveryGuard>,
    verifier: web::Data<Arc<dyn TokenVerifier>>,
    webhook_verifier: web::Data<Option<WebhookVerifier>>,
    admin_key: web::Data<AdminKey>,
    metrics: web::Data<metrics_exporter_prometheus::PrometheusHandle>,
    database: web::Data<Database>,
    files: web::Data<Files>,
}

impl Services {
    /// Builds each service over the requests' `database` and the shared adapters; the model
    /// catalogue is cached once, for the pipeline and the catalogue routes alike.
    ///
    /// # Errors
    /// When the token verifier cannot be built.
    pub fn build(
        settings: &Settings,
        outbound: &Outbound,
        database: &Database,
        wake_batch_workers: Arc<Notify>,
        live: super::live::LiveParts,
    ) -> anyhow::Result<Self> {
        let clock = &outbound.clock;
        let catalogue: Arc<dyn ModelCatalog> = Arc::new(CachedCatalog::new(
            Arc::new(DieselModelCatalog::new(database.clone())),
            CATALOG_CACHE_TTL,
        ));
        let images: Arc<dyn ImageRepository> =
            Arc::new(DieselImageRepository::new(database.clone()));
        let generations = generation_services(
            settings,
            outbound,
            database,
            Arc::clone(&catalogue),
            Arc::clone(&images),
        );
        let batches = BatchService::new(
            BatchPorts {
                batches: Arc::new(DieselBatchRepository::new(database.clone())),
                models: Arc::clone(&catalogue),
                providers: outbound.providers.clone(),
                clock: Arc::clone(clock),
            },
            generations.credits.clone(),
            generations.cancel.clone(),
            Arc::new(move || wake_batch_workers.notify_waiters()),
        );
        let live = web::Data::new(LiveStreams {
            hub: live.hub,
            log: live.log,
            leases: live.leases,
            read: generations.read.clone(),
            credits: generations.credits.clone(),
            auth: StreamAuth {
                tokens: live.tokens,
                clock: Arc::clone(clock),
            },
            clock: Arc::clone(clock),
            instance: live.instance,
            per_user: settings.events.per_user,
            heartbeat: settings.events.heartbeat,
        });
        Ok(Self {
            stream_auth: web::Data::new(live.auth.clone()),
            live,
            batches: web::Data::new(batches),
            start: web::Data::new(generations.start),
            finalize: web::Data::new(generations.finalize),
            cancel: web::Data::new(generations.cancel),
            read: web::Data::new(generations.read),
            credits: web::Data::new(generations.credits),
            models: web::Data::new(ModelService::new(catalogue)),
            profiles: web::Data::new(ProfileService::new(
                Arc::new(DieselProfileRepository::new(database.clone())),
                Arc::clone(clock),
            )),
            uploads: web::Data::new(UploadService::new(
                UploadPorts {
                    inspector: Arc::new(picture_storage::UploadInspector),
                    store: Arc::clone(&outbound.store),
                    uploads: Arc::new(DieselUploadRepository::new(database.clone())),
                    images: Arc::clone(&images),
                    renderer: Arc::clone(&outbound.renderer),
                    clock: Arc::clone(clock),
                },
                UploadLimits {
                    max_bytes: settings.limits.upload_max_bytes,
                    max_pixels: picture_domain::services::uploads::DEFAULT_MAX_UPLOAD_PIXELS,
                },
            )),
            images: web::Data::new(ImageService::new(
                images,
                Arc::clone(&outbound.store),
                Arc::clone(clock),
            )),
            tags: web::Data::new(TagService::new(
                Arc::new(DieselTagRepository::new(database.clone())),
                Arc::clone(clock),
            )),
            boards: web::Data::new(BoardService::new(BoardPorts {
                boards: Arc::new(DieselBoardRepository::new(database.clone())),
                store: Arc::clone(&outbound.store),
                inspector: Arc::new(picture_storage::UploadInspector),
                renderer: Arc::clone(&outbound.renderer),
                clock: Arc::clone(clock),
            })),
            board_items: web::Data::new(BoardItemService::new(
                Arc::new(DieselBoardItemRepository::new(database.clone())),
                Arc::clone(clock),
            )),
            explore: web::Data::new(ExploreService::new(
                Arc::new(DieselExploreRepository::new(database.clone())),
                Arc::clone(clock),
            )),
            limits: web::Data::new(generation_limits(settings, outbound, database)),
            deliveries: web::Data::new(DeliveryGuard::new(
                Arc::new(DieselDeliveryLog::new(database.clone())),
                Arc::clone(clock),
                Duration::from_secs(2 * picture_replicate::TOLERANCE_SECS.unsigned_abs()),
            )),
            verifier: web::Data::new(verifier(settings)?),
            webhook_verifier: web::Data::new(settings.webhook_verifier()),
            admin_key: web::Data::new(AdminKey(settings.auth.admin_service_key.clone())),
            metrics: web::Data::new(crate::metrics::install()),
            database: web::Data::new(database.clone()),
            files: web::Data::new(files(settings, outbound, database)),
        })
    }

    /// What `/files/…` serves.
    pub fn files(&self) -> &web::Data<Files> {
        &self.files
    }

    /// Registers every service as app data.
    pub fn register(&self, config: &mut web::ServiceConfig) {
        config
            .app_data(self.models.clone())
            .app_data(self.profiles.clone())
            .app_data(self.verifier.clone())
            .app_data(self.database.clone())
            .app_data(self.start.clone())
            .app_data(self.live.clone())
            .app_data(self.stream_auth.clone())
            .app_data(self.batches.clone())
            .app_data(self.finalize.clone())
            .app_data(self.cancel.clone())
            .app_data(self.read.clone())
            .app_data(self.credits.clone())
            .app_data(self.admin_key.clone())
            .app_data(self.metrics.clone())
            .app_data(self.limits.clone())
            .app_data(self.deliveries.clone())
            .app_data(self.images.clone())
            .app_data(self.tags.clone())
            .app_data(self.boards.clone())
            .app_data(self.board_items.clone())
            .app_data(self.uploads.clone())
            .app_data(self.explore.clone())
            .app_data(self.webhook_verifier.clone());
    }
}
