#![doc = include_str!("../README.md")]

mod fetcher;
mod format;
mod ingest;
mod key;
mod local;
mod resolver;
mod s3;
mod sanitize;
pub mod settings;

pub use format::ImageFormat;
pub use ingest::{IngestConfig, IngestError, IngestedImage, Ingestor};
pub use local::{LocalStore, write_durably};
pub use s3::IMAGE_CACHE_CONTROL;
pub use s3::{ObjectStream, S3Config, S3Store};
pub use sanitize::UploadInspector;
