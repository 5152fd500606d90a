//! The request bodies of the board-item routes and their checks. Numbers are JSON numbers
//! (a string, `NaN` or an out-of-range literal is a 400); a field sent as `null` counts as
//! absent. Unknown fields are ignored, as the web client sends whole items.

use picture_domain::board_item::bounds::{coordinate, dimension};
use picture_domain::board_item::{
    DEFAULT_FONT_SIZE, DEFAULT_TEXT, DEFAULT_TEXT_COLOR, ItemContent, ItemProperties, ItemText,
    RawItemChange,
};
use picture_domain::services::NewItemRequest;
use picture_domain::validation::Collector;
use picture_domain::{BoardId, BoardItemChange, HexColor, ImageId, ItemKind, ValidationErrors};
use serde::Deserialize;

/// The body of every route that adds an item. Which fields count depends on the kind of item:
/// an image item needs `imageId`; a text item takes `textContent` (or the original's `content`;
/// `textContent` wins), `fontSize` and `color` (defaults "New Text", 24, "#000000").
/// Positions default to 100 when absent or null (0 stays 0).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateItemBody {
    /// The board: required on `/board-items/image` and `/text`; elsewhere, if sent, it must be
    /// the path's.
    #[serde(default)]
    pub board_id: Option<String>,
    /// `image` or `text` (`POST /board-items/board/:boardId` only).
    #[serde(default)]
    pub item_type: Option<String>,
    /// The image to show (a UUID of the caller's or a public image).
    #[serde(default)]
    pub image_id: Option<String>,
    /// The text, at most 5,000 characters.
    #[serde(default)]
    pub text_content: Option<String>,
    /// The original's name for `textContent`.
    #[serde(default)]
    pub content: Option<String>,
    /// Horizontal position (finite, within ±1,000,000).
    #[serde(default)]
    pub position_x: Option<f64>,
    /// Vertical position (finite, within ±1,000,000).
    #[serde(default)]
    pub position_y: Option<f64>,
    /// Font size, a whole number 1–20,000.
    #[serde(default)]
    pub font_size: Option<f64>,
    /// `#rrggbb`.
    #[serde(default)]
    pub color: Option<String>,
    /// A JSON object of at most 16 KiB.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

/// The fields of an item a change may set; each optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItemBody {
    /// Finite, within ±1,000,000.
    #[serde(default)]
    pub position_x: Option<f64>,
    /// Finite, within ±1,000,000.
    #[serde(default)]
    pub position_y: Option<f64>,
    /// Above 0, at most 100.
    #[serde(default)]
    pub scale_x: Option<f64>,
    /// Above 0, at most 100.
    #[serde(default)]
    pub scale_y: Option<f64>,
    /// Degrees, finite, within ±1,000,000.
    #[serde(default)]
    pub rotation: Option<f64>,
    /// A whole number from 0: the item moves to that place (clamped to the top) and the others
    /// shift.
    #[serde(default)]
    pub z_index: Option<f64>,
    /// 0 to 1.
    #[serde(default)]
    pub opacity: Option<f64>,
    /// A whole number 1–20,000.
    #[serde(default)]
    pub width: Option<f64>,
    /// A whole number 1–20,000.
    #[serde(default)]
    pub height: Option<f64>,
    /// A whole number 1–20,000.
    #[serde(default)]
    pub font_size: Option<f64>,
    /// At most 5,000 characters.
    #[serde(default)]
    pub text_content: Option<String>,
    /// `#rrggbb`.
    #[serde(default)]
    pub color: Option<String>,
    /// A JSON object of at most 16 KiB (replaces the stored one).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

/// One entry of `PATCH /board-items/batch`: an item id and its change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchChange {
    /// The item (a UUID).
    pub id: String,
    /// What changes.
    #[serde(flatten)]
    pub change: ChangeItemBody,
}

/// `PATCH /board-items/batch` body: 1 to 500 changes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchChangeBody {
    /// The changes, applied all or nothing.
    pub items: Vec<BatchChange>,
}

/// `DELETE /board-items/batch` body: 1 to 500 item ids.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDeleteBody {
    /// The items (UUIDs), deleted all or nothing.
    pub ids: Vec<String>,
}

/// `PATCH /board-items/:id/z-index` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZIndexBody {
    /// `up`, `down`, `top` or `bottom`.
    pub direction: String,
}

fn properties(
    value: Option<&serde_json::Value>,
) -> Result<Option<ItemProperties>, ValidationErrors> {
    value
        .map(|v| ItemProperties::parse(v.to_string(), v.is_object()))
        .transpose()
}

impl ChangeItemBody {
    /// The checked change.
    ///
    /// # Errors
    /// Every field's message.
    pub fn parse(self) -> Result<BoardItemChange, ValidationErrors> {
        RawItemChange {
            properties: self.properties.map(|v| (v.to_string(), v.is_object())),
            position_x: self.position_x,
            position_y: self.position_y,
            scale_x: self.scale_x,
            scale_y: self.scale_y,
            rotation: self.rotation,
            opacity: self.opacity,
            z_index: self.z_index,
            width: self.width,
            height: self.height,
            font_size: self.font_size,
            text_content: self.text_content,
            color: self.color,
        }
        .parse()
    }
}

impl CreateItemBody {
    /// The kind named by `itemType`.
    ///
    /// # Errors
    /// When it is missing or neither `image` nor `text`.
    pub fn kind(&self) -> Result<ItemKind, ValidationErrors> {
        self.item_type
            .as_deref()
            .and_then(ItemKind::parse)
            .ok_or_else(|| ValidationErrors::single("itemType must be one of: image, text"))
    }

    /// The request to add an item of `kind` to `board`.
    ///
    /// # Errors
    /// Every field's message.
    pub fn into_request(
        self,
        board: BoardId,
        kind: ItemKind,
    ) -> Result<NewItemRequest, ValidationErrors> {
        let x = self
            .position_x
            .map(|v| coordinate("positionX", v))
            .transpose();
        let y = self
            .position_y
            .map(|v| coordinate("positionY", v))
            .transpose();
        let props = properties(self.properties.as_ref());
        let content = match kind {
            ItemKind::Image => self
                .image_id
                .as_deref()
                .and_then(|raw| raw.parse::<ImageId>().ok())
                .map(ItemContent::Image)
                .ok_or_else(|| ValidationErrors::single("imageId must be a UUID")),
            ItemKind::Text => text_content(
                self.text_content.or(self.content),
                self.font_size,
                self.color,
            ),
        };
        Collector::default()
            .note(&x)
            .note(&y)
            .note(&props)
            .note(&content)
            .finish()?;
        Ok(NewItemRequest {
            board,
            content: content?,
            position_x: x?,
            position_y: y?,
            properties: props?,
        })
    }
}

fn text_content(
    text: Option<String>,
    font_size: Option<f64>,
    color: Option<String>,
) -> Result<ItemContent, ValidationErrors> {
    let text = ItemText::parse(text.unwrap_or_else(|| DEFAULT_TEXT.to_owned()));
    let font_size = font_size
        .map(|v| dimension("fontSize", v))
        .transpose()
        .map(|size| size.unwrap_or(DEFAULT_FONT_SIZE));
    let color = HexColor::parse_field("color", color.as_deref().unwrap_or(DEFAULT_TEXT_COLOR));
    Collector::default()
        .note(&text)
        .note(&font_size)
        .note(&color)
        .finish()?;
    Ok(ItemContent::Text {
        text: text?,
        font_size: font_size?,
        color: color?,
    })
}
