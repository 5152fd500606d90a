//! `Image`.

use picture_domain::Image;
use serde::Serialize;

use super::timestamp;

/// The size of the square variant [`ImageDto::thumbnail_url`] asks for: a third of a phone's
/// width at three device pixels per point (a three-column gallery).
pub const THUMBNAIL_SIZE: u32 = 384;

/// `public_url` with the query of the thumbnail variant.
pub fn thumbnail_url(public_url: &str) -> String {
    let separator = if public_url.contains('?') { '&' } else { '?' };
    format!("{public_url}{separator}width={THUMBNAIL_SIZE}&height={THUMBNAIL_SIZE}&resize=cover")
}

/// An image as the clients read it, borrowing its text from the [`Image`] (a gallery page
/// serialises twenty of them without copying their strings first).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct ImageDto<'a> {
    pub id: String,
    pub user_id: &'a str,
    pub generation_id: Option<String>,
    pub source_image_id: Option<String>,
    pub prompt: &'a str,
    pub negative_prompt: Option<&'a str>,
    pub model: Option<&'a str>,
    pub style: Option<&'a str>,
    pub public_url: Option<&'a str>,
    pub storage_path: &'a str,
    pub filename: &'a str,
    pub format: Option<&'a str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub file_size: Option<u64>,
    pub blurhash: Option<&'a str>,
    /// Additive: `publicUrl` asking for a square variant of [`THUMBNAIL_SIZE`] pixels
    /// (`?width=384&height=384&resize=cover`), WebP when the client accepts it; `null` without a
    /// `publicUrl`.
    pub thumbnail_url: Option<String>,
    pub is_public: bool,
    pub is_favorite: bool,
    pub download_count: i32,
    pub rating: Option<i32>,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a Image> for ImageDto<'a> {
    fn from(image: &'a Image) -> Self {
        let r = &image.record;
        Self {
            id: r.id.to_string(),
            user_id: r.user_id.as_str(),
            generation_id: r.generation_id.map(|id| id.to_string()),
            source_image_id: image.source_image_id.map(|id| id.to_string()),
            prompt: &r.prompt,
            negative_prompt: r.negative_prompt.as_deref(),
            model: r.model.as_deref(),
            style: r.style.as_deref(),
            public_url: r.public_url.as_deref(),
            storage_path: &r.storage_path,
            filename: &r.filename,
            format: r.format.as_deref(),
            width: r.width,
            height: r.height,
            file_size: r.file_size,
            blurhash: image.record.blurhash.as_deref(),
            thumbnail_url: r.public_url.as_deref().map(thumbnail_url),
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
