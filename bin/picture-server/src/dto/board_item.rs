//! `BoardItem` (with its `image`), and the answers of the "is this image on the board" routes.
//!
//! Two snake_case fields are compatibility aliases the web client's board canvas reads:
//! `font_size` (= `fontSize`) and `image.public_url` (= `image.publicUrl`).

use picture_domain::{BoardItem, BoardItemId, ItemImage};
use serde::Serialize;

use super::path_id::PathResource;
use super::timestamp;

impl PathResource for BoardItemId {
    const NAME: &'static str = "Board item";
}

/// The image an image item shows (`null` on text items).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BoardItemImageDto {
    pub id: String,
    pub public_url: Option<String>,
    /// Compatibility alias of `publicUrl` (the web client's canvas reads it).
    #[serde(rename = "public_url")]
    pub public_url_alias: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub prompt: String,
    pub blurhash: Option<String>,
}

impl From<ItemImage> for BoardItemImageDto {
    fn from(image: ItemImage) -> Self {
        Self {
            id: image.id.to_string(),
            public_url_alias: image.public_url.clone(),
            public_url: image.public_url,
            width: image.width,
            height: image.height,
            prompt: image.prompt,
            blurhash: image.blurhash,
        }
    }
}

/// An item on a board, as the clients read it. `image` is on every answer (`null` for texts).
/// Bounds of what may be written: positions and rotation finite within ±1,000,000; scales above
/// 0 and at most 100; opacity 0–1; width, height and font size whole numbers 1–20,000; text at
/// most 5,000 characters; `color` `#rrggbb`; `properties` a JSON object of at most 16 KiB.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BoardItemDto {
    pub id: String,
    pub board_id: String,
    pub image_id: Option<String>,
    /// `image` or `text`.
    pub item_type: &'static str,
    pub position_x: f64,
    pub position_y: f64,
    pub scale_x: f64,
    pub scale_y: f64,
    pub rotation: f64,
    /// Place in the board's stack: a board's items have exactly `0..n-1`.
    pub z_index: u32,
    pub opacity: f64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub text_content: Option<String>,
    pub font_size: Option<u32>,
    /// Compatibility alias of `fontSize` (the web client's canvas reads it).
    #[serde(rename = "font_size")]
    pub font_size_alias: Option<u32>,
    pub color: Option<String>,
    /// A JSON object, or null.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
    pub created_at: String,
    pub image: Option<BoardItemImageDto>,
}

impl From<BoardItem> for BoardItemDto {
    fn from(item: BoardItem) -> Self {
        Self {
            id: item.id.to_string(),
            board_id: item.board_id.to_string(),
            image_id: item.image_id.map(|id| id.to_string()),
            item_type: item.kind.as_str(),
            position_x: item.position_x,
            position_y: item.position_y,
            scale_x: item.scale_x,
            scale_y: item.scale_y,
            rotation: item.rotation,
            z_index: item.z_index,
            opacity: item.opacity,
            width: item.width,
            height: item.height,
            text_content: item.text_content,
            font_size: item.font_size,
            font_size_alias: item.font_size,
            color: item.color,
            properties: item
                .properties
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            created_at: timestamp(item.created_at),
            image: item.image.map(BoardItemImageDto::from),
        }
    }
}

/// `{exists}`: whether the image is on the board (the web client's route).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImageOnBoardDto {
    /// Whether it is.
    pub exists: bool,
}

/// `{isOnBoard}`: whether the image is on the board (the original's route).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IsOnBoardDto {
    /// Whether it is.
    pub is_on_board: bool,
}
