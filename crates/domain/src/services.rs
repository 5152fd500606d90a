//! Domain services: use cases built from ports. Each holds only the ports it calls.

pub mod batches;
pub mod board_items;
pub mod boards;
pub mod cached_catalog;
pub mod credits;
pub mod deliveries;
pub mod explore;
#[cfg(test)]
pub(crate) mod fakes;
pub mod generations;
pub mod images;
pub mod limits;
pub mod models;
pub mod orphans;
pub mod placeholders;
pub mod profiles;
pub mod stored_objects;
pub mod tags;
pub mod uploads;
pub mod variants;

pub use board_items::{BoardItemError, BoardItemService, NewItemRequest};
pub use boards::{BoardError, BoardPorts, BoardService};
pub use cached_catalog::{CATALOG_CACHE_TTL, CachedCatalog};
pub use credits::{CreditError, CreditOverview, CreditPorts, CreditService};
pub use deliveries::DeliveryGuard;
pub use explore::{ExploreRequest, ExploreService};
pub use generations::{
    CallbackUrls, CancelGeneration, FinalizeGeneration, GenerateError, GenerationServices,
    GenerationView, HistoryPage, IdempotencyKey, KeyedStart, PipelinePorts, PipelineSettings,
    ReadGenerations, ReconcileGenerations, StartGeneration, Started,
};
pub use images::ImageService;
pub use limits::{GenerationLimits, GenerationQuota, LimitStatus, RateLimited, WindowStatus};
pub use models::ModelService;
pub use orphans::{OrphanSweepSettings, OrphanSweeper, SweepError, SweepReport};
pub use placeholders::{BackfillError, BackfillProgress, PlaceholderBackfill, placeholder_of};
pub use profiles::{ProfileService, ProfileUpdateError};
pub use tags::{TagError, TagService};
pub use uploads::{UploadError, UploadLimits, UploadPorts, UploadService};
pub use variants::{
    VARIANT_CACHE_CONTROL, Variant, VariantError, VariantService, VariantSource, VariantTimings,
};
