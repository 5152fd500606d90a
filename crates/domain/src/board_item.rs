//! What lies on a board: images and texts, where they are, how they look and how they stack.
//!
//! Bounds (checked by [`bounds`]): at most [`MAX_BOARD_ITEMS`] items per board, texts of at
//! most [`MAX_TEXT_CHARS`] characters, `properties` a JSON object of at most
//! [`MAX_PROPERTIES_BYTES`] bytes serialised, colours `#rrggbb`, every number finite. The
//! stacking order (`zIndex`) of a board's items is always `0..n-1` (see [`stacking`]).

pub mod bounds;
pub mod stacking;

use chrono::{DateTime, Utc};

use crate::color::HexColor;
use crate::ids::{BoardId, BoardItemId, ImageId};

pub use bounds::{ItemProperties, ItemText, RawItemChange};
pub use stacking::ZDirection;

/// Most items on one board.
pub const MAX_BOARD_ITEMS: usize = 500;
/// Longest text of a text item, in characters.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Largest `properties` object, serialised as JSON, in bytes.
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;
/// Largest width, height or font size, in pixels.
pub const MAX_DIMENSION: u32 = 20_000;
/// Largest scale factor (the smallest is anything above 0).
pub const MAX_SCALE: f64 = 100.0;
/// Largest absolute position or rotation (degrees) accepted.
pub const MAX_COORDINATE: f64 = 1_000_000.0;
/// Where a new item goes when the request does not say (both axes).
pub const DEFAULT_POSITION: f64 = 100.0;
/// A new text item's text when the request has none.
pub const DEFAULT_TEXT: &str = "New Text";
/// A new text item's font size when the request has none.
pub const DEFAULT_FONT_SIZE: u32 = 24;
/// A new text item's colour when the request has none.
pub const DEFAULT_TEXT_COLOR: &str = "#000000";

/// What an item shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// One of the images (`imageId`).
    Image,
    /// A text (`textContent`).
    Text,
}

impl ItemKind {
    /// The contract's (and the column's) name: `image` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Text => "text",
        }
    }

    /// The kind named `raw`, if any.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "image" => Some(Self::Image),
            "text" => Some(Self::Text),
            _ => None,
        }
    }
}

/// What a new item shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemContent {
    /// An image (which must be the owner's or public).
    Image(ImageId),
    /// A text in a size and colour.
    Text {
        /// The text.
        text: ItemText,
        /// Its font size in pixels.
        font_size: u32,
        /// Its colour.
        color: HexColor,
    },
}

/// An item to put on top of a board.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBoardItem {
    /// Its id.
    pub id: BoardItemId,
    /// The board.
    pub board: BoardId,
    /// What it shows.
    pub content: ItemContent,
    /// Its horizontal position.
    pub position_x: f64,
    /// Its vertical position.
    pub position_y: f64,
    /// Free-form presentation (a JSON object), if any.
    pub properties: Option<ItemProperties>,
    /// When it is created.
    pub created_at: DateTime<Utc>,
}

/// What the owner changes in an item; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardItemChange {
    /// New horizontal position.
    pub position_x: Option<f64>,
    /// New vertical position.
    pub position_y: Option<f64>,
    /// New horizontal scale.
    pub scale_x: Option<f64>,
    /// New vertical scale.
    pub scale_y: Option<f64>,
    /// New rotation, degrees.
    pub rotation: Option<f64>,
    /// New opacity, 0 to 1.
    pub opacity: Option<f64>,
    /// New place in the stack (clamped to the board's items; the others shift).
    pub z_index: Option<u32>,
    /// New width.
    pub width: Option<u32>,
    /// New height.
    pub height: Option<u32>,
    /// New font size.
    pub font_size: Option<u32>,
    /// New text.
    pub text_content: Option<ItemText>,
    /// New colour.
    pub color: Option<HexColor>,
    /// New properties (replacing the old ones).
    pub properties: Option<ItemProperties>,
}

impl BoardItemChange {
    /// Whether it changes any column other than the stacking order.
    pub fn changes_fields(&self) -> bool {
        self.position_x.is_some()
            || self.position_y.is_some()
            || self.scale_x.is_some()
            || self.scale_y.is_some()
            || self.rotation.is_some()
            || self.opacity.is_some()
            || self.width.is_some()
            || self.height.is_some()
            || self.font_size.is_some()
            || self.text_content.is_some()
            || self.color.is_some()
            || self.properties.is_some()
    }
}

/// The image an image item shows, as the board canvas reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemImage {
    /// Its id.
    pub id: ImageId,
    /// Where it is served.
    pub public_url: Option<String>,
    /// Its width in pixels.
    pub width: Option<u32>,
    /// Its height in pixels.
    pub height: Option<u32>,
    /// Its prompt.
    pub prompt: String,
    /// Its blurhash.
    pub blurhash: Option<String>,
}

/// A stored item, with the image it shows (`None` for a text).
#[derive(Debug, Clone, PartialEq)]
pub struct BoardItem {
    /// Its id.
    pub id: BoardItemId,
    /// Its board.
    pub board_id: BoardId,
    /// The image it shows (image items).
    pub image_id: Option<ImageId>,
    /// What it shows.
    pub kind: ItemKind,
    /// Horizontal position.
    pub position_x: f64,
    /// Vertical position.
    pub position_y: f64,
    /// Horizontal scale.
    pub scale_x: f64,
    /// Vertical scale.
    pub scale_y: f64,
    /// Rotation, degrees.
    pub rotation: f64,
    /// Place in the board's stack, `0` at the bottom.
    pub z_index: u32,
    /// Opacity, 0 to 1.
    pub opacity: f64,
    /// Width, if set.
    pub width: Option<u32>,
    /// Height, if set.
    pub height: Option<u32>,
    /// Text (text items).
    pub text_content: Option<String>,
    /// Font size (text items).
    pub font_size: Option<u32>,
    /// Colour (text items).
    pub color: Option<String>,
    /// Presentation properties: the text of a JSON object.
    pub properties: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The image it shows, joined.
    pub image: Option<ItemImage>,
}
