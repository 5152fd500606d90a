#![doc = include_str!("../README.md")]

pub mod batch;
pub mod board;
pub mod board_item;
pub mod catalog_seed;
pub mod color;
pub mod credits;
pub mod error;
pub mod explore;
pub mod freemium;
pub mod gallery_cursor;
pub mod generation;
pub mod ids;
pub mod image;
pub mod live;
pub mod log_text;
pub mod model;
pub mod money;
pub mod params;
pub mod ports;
pub mod profile;
pub mod profile_change;
pub mod provider_name;
pub mod services;
pub mod tag;
pub mod text;
pub mod upload;
pub mod validation;
pub mod variant;

pub use batch::{
    BatchCounts, BatchDetail, BatchItem, BatchRequest, BatchStatus, BatchSummary, NewBatch,
    RawBatchPrompt, RawBatchRequest,
};
pub use board::{Board, BoardChange, BoardDraft, BoardQuery, BoardScope, BoardWithCount, NewBoard};
pub use board_item::{BoardItem, BoardItemChange, ItemImage, ItemKind, NewBoardItem};
pub use color::HexColor;
pub use credits::CreditAmount;
pub use error::{ErrorChain, RepositoryError};
pub use explore::{ExploreCursor, ExploreSort, SearchTerms, SearchTooLong, UnknownSort};
pub use freemium::{AccessDecision, Enforcement, FreemiumPolicy, InsufficientCredits};
pub use gallery_cursor::{GalleryCursor, InvalidCursor};
pub use generation::{Billing, Generation, GenerationStatus, NewGeneration};
pub use ids::TagId;
pub use ids::{BatchId, BoardId, BoardItemId};
pub use ids::{GenerationId, ImageId, ModelId, PredictionId, UserId};
pub use image::{Image, NewImage};
pub use live::{EventSeq, LiveChange, LiveEvent, Progress};
pub use log_text::LogSafe;
pub use model::{Model, ModelSpec};
pub use money::Ledger;
pub use params::{GenerationParams, GenerationRequest, RawGenerationRequest};
pub use profile::{NewProfile, Profile, ProfileStats};
pub use profile_change::{AvatarUrl, FieldChange, ProfileChange, RawProfileChange, Username};
pub use provider_name::{InvalidProviderName, ProviderName};
pub use tag::{NewTag, Tag, TagChange, TagColor, TagName};
pub use text::{ModelVersion, NegativePrompt, Prompt, SourceImageUrl, Style};
pub use upload::{InspectError, InspectedImage};
pub use validation::ValidationErrors;
