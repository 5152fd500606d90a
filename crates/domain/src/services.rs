//! Domain services: use cases built from ports. Each holds only the ports it calls.

pub mod credits;
pub mod generations;
pub mod images;
pub mod models;
pub mod profiles;

pub use credits::{CreditError, CreditOverview, CreditPorts, CreditService};
pub use generations::{
    GenerateError, GenerationService, GenerationView, HistoryPage, IdempotencyKey, PipelinePorts,
    PipelineSettings, Started,
};
pub use images::ImageService;
pub use models::ModelService;
pub use profiles::ProfileService;
