#![doc = include_str!("../README.md")]

mod batches;
mod board_items;
mod boards;
mod cached_statement;
mod catalog;
mod connection_home;
mod database;
mod deliveries;
mod error;
mod explore;
mod generations;
mod idempotency;
mod images;
mod ledger;
mod live_events;
mod migrations;
mod money_events;
mod money_rows;
mod placeholders;
mod profiles;
mod rate_counters;
mod render_leases;
mod schema;
mod server_secrets;
mod tags;
mod time;
mod uploads;
mod url;

pub use batches::DieselBatchRepository;
pub use board_items::DieselBoardItemRepository;
pub use boards::DieselBoardRepository;
pub use catalog::DieselModelCatalog;
pub use connection_home::ConnectionHome;
pub use database::{Database, PoolOptions};
pub use deliveries::DieselDeliveryLog;
pub use error::PersistenceError;
pub use explore::DieselExploreRepository;
pub use generations::DieselGenerationRepository;
pub use idempotency::DieselIdempotencyStore;
pub use images::DieselImageRepository;
pub use ledger::DieselLedger;
pub use live_events::{
    DieselEventLog, DieselStreamLeases, FeedItem, FeedOptions, LIVE_FEED_APPLICATION_NAME,
    LiveFeed, STREAM_OPEN_GRACE,
};
pub use placeholders::DieselPlaceholderRepository;
pub use profiles::DieselProfileRepository;
pub use rate_counters::DieselRateCounter;
pub use render_leases::DieselRenderLeases;
pub use tags::DieselTagRepository;
pub use uploads::DieselUploadRepository;
pub use url::{Backend, DatabaseUrl};
