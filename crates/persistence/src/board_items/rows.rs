//! The `board_items` row, the joined image columns, and their conversion to the domain.

use diesel::prelude::*;
use picture_domain::board_item::{BoardItemChange, ItemContent};
use picture_domain::{BoardItem, ItemImage, ItemKind, NewBoardItem, RepositoryError};

use crate::error::corrupt;
use crate::schema::{board_items, images};
use crate::time::{from_millis, to_millis};

/// A `board_items` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = board_items)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ItemRow {
    pub(super) id: String,
    pub(super) board_id: String,
    image_id: Option<String>,
    item_type: String,
    position_x: f64,
    position_y: f64,
    scale_x: f64,
    scale_y: f64,
    rotation: f64,
    z_index: i32,
    opacity: f64,
    width: Option<i32>,
    height: Option<i32>,
    text_content: Option<String>,
    font_size: Option<i32>,
    color: Option<String>,
    properties: Option<String>,
    created_at: i64,
}

/// The columns of the image an item shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = images)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(super) struct ImageRow {
    id: String,
    public_url: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    prompt: String,
    blurhash: Option<String>,
}

/// The columns a [`BoardItemChange`] sets (the stacking order aside); `None` leaves a column.
#[derive(AsChangeset)]
#[diesel(table_name = board_items)]
pub(super) struct ItemChangeRow {
    position_x: Option<f64>,
    position_y: Option<f64>,
    scale_x: Option<f64>,
    scale_y: Option<f64>,
    rotation: Option<f64>,
    opacity: Option<f64>,
    width: Option<i32>,
    height: Option<i32>,
    font_size: Option<i32>,
    text_content: Option<String>,
    color: Option<String>,
    properties: Option<String>,
}

fn column(value: u32, what: &str) -> Result<i32, RepositoryError> {
    i32::try_from(value).map_err(|_| corrupt(what, value))
}

fn stored(value: Option<i32>, what: &str) -> Result<Option<u32>, RepositoryError> {
    value
        .map(|v| u32::try_from(v).map_err(|_| corrupt(what, v)))
        .transpose()
}

impl ItemChangeRow {
    /// The columns of `change`.
    pub(super) fn new(change: &BoardItemChange) -> Result<Self, RepositoryError> {
        let int = |v: Option<u32>, what| v.map(|v| column(v, what)).transpose();
        Ok(Self {
            position_x: change.position_x,
            position_y: change.position_y,
            scale_x: change.scale_x,
            scale_y: change.scale_y,
            rotation: change.rotation,
            opacity: change.opacity,
            width: int(change.width, "width")?,
            height: int(change.height, "height")?,
            font_size: int(change.font_size, "font size")?,
            text_content: change.text_content.as_ref().map(|t| t.as_str().to_owned()),
            color: change.color.as_ref().map(|c| c.as_str().to_owned()),
            properties: change.properties.as_ref().map(|p| p.as_str().to_owned()),
        })
    }
}

impl ItemRow {
    /// The same item on board `board`, created at `now` (ms), under a new id: a board's copy.
    pub(crate) fn copied_to(self, board: &str, now: i64) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            board_id: board.to_owned(),
            created_at: now,
            ..self
        }
    }

    /// The image the item shows, if any.
    pub(crate) fn image_id(&self) -> Option<&str> {
        self.image_id.as_deref()
    }
}

impl ItemRow {
    /// The row of `item` at place `z_index`.
    pub(super) fn new(item: &NewBoardItem, z_index: i32) -> Result<Self, RepositoryError> {
        let (image_id, kind, text_content, font_size, color) = match &item.content {
            ItemContent::Image(image) => {
                (Some(image.to_string()), ItemKind::Image, None, None, None)
            }
            ItemContent::Text {
                text,
                font_size,
                color,
            } => (
                None,
                ItemKind::Text,
                Some(text.as_str().to_owned()),
                Some(column(*font_size, "font size")?),
                Some(color.as_str().to_owned()),
            ),
        };
        Ok(Self {
            id: item.id.to_string(),
            board_id: item.board.to_string(),
            image_id,
            item_type: kind.as_str().to_owned(),
            position_x: item.position_x,
            position_y: item.position_y,
            scale_x: 1.0,
            scale_y: 1.0,
            rotation: 0.0,
            z_index,
            opacity: 1.0,
            width: None,
            height: None,
            text_content,
            font_size,
            color,
            properties: item.properties.as_ref().map(|p| p.as_str().to_owned()),
            created_at: to_millis(item.created_at),
        })
    }

    /// The item, with the image joined to it.
    pub(super) fn into_item(self, image: Option<ImageRow>) -> Result<BoardItem, RepositoryError> {
        Ok(BoardItem {
            id: self
                .id
                .parse()
                .map_err(|_| corrupt("board item id", &self.id))?,
            board_id: self
                .board_id
                .parse()
                .map_err(|_| corrupt("board id", &self.board_id))?,
            image_id: self
                .image_id
                .as_deref()
                .map(|i| i.parse().map_err(|_| corrupt("image id", i)))
                .transpose()?,
            kind: ItemKind::parse(&self.item_type)
                .ok_or_else(|| corrupt("item type", &self.item_type))?,
            position_x: self.position_x,
            position_y: self.position_y,
            scale_x: self.scale_x,
            scale_y: self.scale_y,
            rotation: self.rotation,
            z_index: u32::try_from(self.z_index).map_err(|_| corrupt("z index", self.z_index))?,
            opacity: self.opacity,
            width: stored(self.width, "width")?,
            height: stored(self.height, "height")?,
            text_content: self.text_content,
            font_size: stored(self.font_size, "font size")?,
            color: self.color,
            properties: self.properties,
            created_at: from_millis(self.created_at)?,
            image: image.map(ImageRow::into_image).transpose()?,
        })
    }
}

impl ImageRow {
    fn into_image(self) -> Result<ItemImage, RepositoryError> {
        Ok(ItemImage {
            id: self.id.parse().map_err(|_| corrupt("image id", &self.id))?,
            public_url: self.public_url,
            width: stored(self.width, "image width")?,
            height: stored(self.height, "image height")?,
            prompt: self.prompt,
            blurhash: self.blurhash,
        })
    }
}

/// Items with their joined images.
pub(super) fn into_items(
    rows: Vec<(ItemRow, Option<ImageRow>)>,
) -> Result<Vec<BoardItem>, RepositoryError> {
    rows.into_iter()
        .map(|(item, image)| item.into_item(image))
        .collect()
}
