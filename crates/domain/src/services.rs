//! Domain services: use cases built from ports. Each holds only the ports it calls.

pub mod models;
pub mod profiles;

pub use models::ModelService;
pub use profiles::ProfileService;
