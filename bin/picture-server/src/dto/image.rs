//! `Image`.

use picture_domain::Image;
use serde::Serialize;

use super::timestamp;

/// An image as the clients read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct ImageDto {
    pub id: String,
    pub user_id: String,
    pub generation_id: Option<String>,
    pub source_image_id: Option<String>,
    pub prompt: String,
    pub negative_prompt: Option<String>,
    pub model: Option<String>,
    pub style: Option<String>,
    pub public_url: Option<String>,
    pub storage_path: String,
    pub filename: String,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub file_size: Option<u64>,
    pub blurhash: Option<String>,
    pub is_public: bool,
    pub is_favorite: bool,
    pub download_count: i32,
    pub rating: Option<i32>,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Image> for ImageDto {
    fn from(image: &Image) -> Self {
        let r = &image.record;
        Self {
            id: r.id.to_string(),
            user_id: r.user_id.as_str().to_owned(),
            generation_id: r.generation_id.map(|id| id.to_string()),
            source_image_id: image.source_image_id.map(|id| id.to_string()),
            prompt: r.prompt.clone(),
            negative_prompt: r.negative_prompt.clone(),
            model: r.model.clone(),
            style: r.style.clone(),
            public_url: r.public_url.clone(),
            storage_path: r.storage_path.clone(),
            filename: r.filename.clone(),
            format: r.format.clone(),
            width: r.width,
            height: r.height,
            file_size: r.file_size,
            blurhash: image.blurhash.clone(),
            is_public: image.is_public,
            is_favorite: image.is_favorite,
            download_count: image.download_count,
            rating: image.rating,
            archived_at: image.archived_at.map(timestamp),
            created_at: timestamp(r.created_at),
            updated_at: timestamp(image.updated_at),
        }
    }
}
