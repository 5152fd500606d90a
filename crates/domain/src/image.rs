//! Images of a user's gallery.

use chrono::{DateTime, Utc};

use crate::ids::{GenerationId, ImageId, UserId};

/// An image to record once its bytes are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImage {
    /// Its id (also part of its object key).
    pub id: ImageId,
    /// Its owner.
    pub user_id: UserId,
    /// The generation that produced it, if any (uploads have none).
    pub generation_id: Option<GenerationId>,
    /// The prompt (or the file name of an upload).
    pub prompt: String,
    /// The negative prompt.
    pub negative_prompt: Option<String>,
    /// The model name.
    pub model: Option<String>,
    /// The style hint.
    pub style: Option<String>,
    /// Its public URL.
    pub public_url: Option<String>,
    /// Its key in the object store.
    pub storage_path: String,
    /// Its file name.
    pub filename: String,
    /// `png`, `jpeg` or `webp`.
    pub format: Option<String>,
    /// Width in pixels, read from the image.
    pub width: Option<u32>,
    /// Height in pixels, read from the image.
    pub height: Option<u32>,
    /// Size in bytes.
    pub file_size: Option<u64>,
    /// Its blurhash placeholder, computed when it was stored (`None` when that failed; the
    /// `images backfill` command computes it later).
    pub blurhash: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// A stored image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// What was recorded.
    pub record: NewImage,
    /// The image this one was remixed from, if any.
    pub source_image_id: Option<ImageId>,
    /// Whether everyone may see it.
    pub is_public: bool,
    /// Whether its owner marked it.
    pub is_favorite: bool,
    /// How often it was downloaded.
    pub download_count: i32,
    /// Its owner's rating.
    pub rating: Option<i32>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
