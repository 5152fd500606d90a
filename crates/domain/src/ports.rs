//! Ports: the traits through which the domain reaches the outside world.
//!
//! Each trait is small, `Send + Sync`, held as `Arc<dyn Port>`, and its methods' doc comments are
//! contracts that every implementation (and every mock) follows. With the `mock` feature, mockall
//! generates `Mock<Port>` for each.

pub mod background;
pub mod batches;
pub mod board_items;
pub mod boards;
pub mod clock;
pub mod credit_accounts;
pub mod credit_ledger;
pub mod delivery_log;
pub mod explore;
pub mod generations;
pub mod idempotency;
pub mod image_inspector;
pub mod image_provider;
pub mod image_renderer;
pub mod image_repository;
pub mod live_events;
pub mod model_catalog;
pub mod object_store;
pub mod output_fetcher;
pub mod placeholders;
pub mod profile_repository;
pub mod providers;
pub mod rate_counter;
pub mod render_leases;
pub mod tags;
pub mod upload_repository;

pub use crate::money::{ChargeOutcome, Funds, Refusal};
pub use background::{Background, BackgroundTask};
pub use batches::{BatchQueue, BatchRepository, BatchTarget, ClaimedItem, NewBatchItem, Queued};
pub use board_items::{AddOutcome, BoardItemRepository};
pub use boards::{BoardCopy, BoardRepository, ChangedBoard};
pub use clock::Clock;
pub use credit_accounts::{CreditAccount, CreditAccounts, Grant, Granted};
pub use credit_ledger::{Charge, CreditBalance, CreditLedger, LedgerError};
pub use delivery_log::DeliveryLog;
pub use explore::{ExploreRepository, FeedImage, FeedOrder, FeedQuery};
pub use generations::{
    Completion, Created, DueCharge, GenerationLifecycle, GenerationReads, GenerationRepository,
    LeaseToken, ReconcilerQueue, RemoteChargeQueue, Transition,
};
pub use idempotency::{IdempotencyClaim, IdempotencyStore, RecordedResponse};
pub use image_inspector::ImageInspector;
pub use image_provider::{
    ImageProvider, ImageSource, ProviderError, ProviderRequest, ProviderState, Submission,
};
pub use image_renderer::{ImageRenderer, RenderError, RenderedImage};
pub use image_repository::{BatchAction, ImageChange, ImageQuery, ImageRepository, Likes};
pub use live_events::{EventLog, StreamLeases};
pub use model_catalog::ModelCatalog;
pub use object_store::{
    IMAGE_KEY_PREFIX, ListedObject, MAX_LIST_PAGE, ObjectKey, ObjectPage, ObjectStore, StoreError,
    StoredObject,
};
pub use output_fetcher::{FetchError, FetchedImage, OutputFetcher};
pub use placeholders::PlaceholderRepository;
pub use profile_repository::ProfileRepository;
pub use providers::Providers;
pub use rate_counter::{Admission, RateCounter, SlidingWindow, WindowUsage};
pub use render_leases::RenderLeases;
pub use tags::{LinkOutcome, TagRepository};
pub use upload_repository::UploadRepository;

#[cfg(any(test, feature = "mock"))]
pub use background::MockBackground;
#[cfg(any(test, feature = "mock"))]
pub use batches::{MockBatchQueue, MockBatchRepository};
#[cfg(any(test, feature = "mock"))]
pub use board_items::MockBoardItemRepository;
#[cfg(any(test, feature = "mock"))]
pub use boards::MockBoardRepository;
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mock"))]
pub use credit_accounts::MockCreditAccounts;
#[cfg(any(test, feature = "mock"))]
pub use credit_ledger::MockCreditLedger;
#[cfg(any(test, feature = "mock"))]
pub use delivery_log::MockDeliveryLog;
#[cfg(any(test, feature = "mock"))]
pub use explore::MockExploreRepository;
#[cfg(any(test, feature = "mock"))]
pub use generations::{
    MockGenerationLifecycle, MockGenerationReads, MockGenerationRepository, MockReconcilerQueue,
    MockRemoteChargeQueue,
};
#[cfg(any(test, feature = "mock"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mock"))]
pub use image_inspector::MockImageInspector;
#[cfg(any(test, feature = "mock"))]
pub use image_provider::MockImageProvider;
#[cfg(any(test, feature = "mock"))]
pub use image_renderer::MockImageRenderer;
#[cfg(any(test, feature = "mock"))]
pub use image_repository::MockImageRepository;
#[cfg(any(test, feature = "mock"))]
pub use live_events::{MockEventLog, MockStreamLeases};
#[cfg(any(test, feature = "mock"))]
pub use model_catalog::MockModelCatalog;
#[cfg(any(test, feature = "mock"))]
pub use object_store::MockObjectStore;
#[cfg(any(test, feature = "mock"))]
pub use output_fetcher::MockOutputFetcher;
#[cfg(any(test, feature = "mock"))]
pub use placeholders::MockPlaceholderRepository;
#[cfg(any(test, feature = "mock"))]
pub use profile_repository::MockProfileRepository;
#[cfg(any(test, feature = "mock"))]
pub use rate_counter::MockRateCounter;
#[cfg(any(test, feature = "mock"))]
pub use render_leases::MockRenderLeases;
#[cfg(any(test, feature = "mock"))]
pub use tags::MockTagRepository;
#[cfg(any(test, feature = "mock"))]
pub use upload_repository::MockUploadRepository;
