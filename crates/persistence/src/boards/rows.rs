//! The `boards` row and the columns a change writes.

use diesel::prelude::*;
use picture_domain::ports::BoardCopy;
use picture_domain::{Board, BoardChange, NewBoard, RepositoryError, UserId};

use crate::error::corrupt;
use crate::schema::boards;
use crate::time::{from_millis, to_millis};

/// A `boards` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = boards)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct BoardRow {
    pub(super) id: String,
    user_id: String,
    pub(super) name: String,
    description: Option<String>,
    thumbnail_url: Option<String>,
    thumbnail_key: Option<String>,
    thumbnail_blurhash: Option<String>,
    canvas_width: i32,
    canvas_height: i32,
    background_color: String,
    is_public: bool,
    created_at: i64,
    updated_at: i64,
}

fn dimension(value: i32, what: &str) -> Result<u32, RepositoryError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

/// A dimension in bounds (100 to 20000) always fits the column.
fn column(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl BoardRow {
    /// The row of a new board.
    pub(super) fn new(board: &NewBoard) -> Self {
        let at = to_millis(board.created_at);
        Self {
            id: board.id.to_string(),
            user_id: board.user_id.as_str().to_owned(),
            name: board.name.as_str().to_owned(),
            description: board.description.as_ref().map(|d| d.as_str().to_owned()),
            thumbnail_url: None,
            thumbnail_key: None,
            thumbnail_blurhash: None,
            canvas_width: column(board.canvas_width.get()),
            canvas_height: column(board.canvas_height.get()),
            background_color: board.background_color.as_str().to_owned(),
            is_public: board.is_public,
            created_at: at,
            updated_at: at,
        }
    }

    /// The row of a copy of this board named `name`: private, without thumbnail, owned and
    /// dated as `copy` says.
    pub(super) fn copy_for(&self, copy: &BoardCopy, name: String) -> Self {
        let at = to_millis(copy.at);
        Self {
            id: copy.id.to_string(),
            user_id: copy.owner.as_str().to_owned(),
            name,
            description: self.description.clone(),
            thumbnail_url: None,
            thumbnail_key: None,
            thumbnail_blurhash: None,
            canvas_width: self.canvas_width,
            canvas_height: self.canvas_height,
            background_color: self.background_color.clone(),
            is_public: false,
            created_at: at,
            updated_at: at,
        }
    }

    /// The board it stores.
    pub(super) fn into_board(self) -> Result<Board, RepositoryError> {
        Ok(Board {
            id: self.id.parse().map_err(|_| corrupt("board id", &self.id))?,
            user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
            name: self.name,
            description: self.description,
            thumbnail_url: self.thumbnail_url,
            thumbnail_blurhash: self.thumbnail_blurhash,
            canvas_width: dimension(self.canvas_width, "canvas width")?,
            canvas_height: dimension(self.canvas_height, "canvas height")?,
            background_color: self.background_color,
            is_public: self.is_public,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

/// The columns a [`BoardChange`] sets; `None` leaves a column alone (`updated_at` always
/// changes, so the change set is never empty).
#[derive(AsChangeset)]
#[diesel(table_name = boards)]
pub(super) struct BoardChangeRow {
    name: Option<String>,
    description: Option<Option<String>>,
    canvas_width: Option<i32>,
    canvas_height: Option<i32>,
    background_color: Option<String>,
    is_public: Option<bool>,
    thumbnail_url: Option<Option<String>>,
    thumbnail_key: Option<Option<String>>,
    thumbnail_blurhash: Option<Option<String>>,
    updated_at: i64,
}

impl BoardChangeRow {
    /// The columns of `change` at `now` (ms), with the thumbnail columns already decided: a
    /// change of the thumbnail (`thumbnail_url` set) also forgets the stored thumbnail's
    /// blurhash, which only [`set_thumbnail`](picture_domain::ports::BoardRepository::set_thumbnail)
    /// writes.
    pub(super) fn new(
        change: &BoardChange,
        thumbnail_url: Option<Option<String>>,
        thumbnail_key: Option<Option<String>>,
        now: i64,
    ) -> Self {
        let thumbnail_blurhash = thumbnail_url.as_ref().map(|_| None);
        Self {
            name: change.name.as_ref().map(|n| n.as_str().to_owned()),
            description: change
                .description
                .new_value()
                .map(|d| d.map(|d| d.as_str().to_owned())),
            canvas_width: change.canvas_width.map(|w| column(w.get())),
            canvas_height: change.canvas_height.map(|h| column(h.get())),
            background_color: change
                .background_color
                .as_ref()
                .map(|c| c.as_str().to_owned()),
            is_public: change.is_public,
            thumbnail_url,
            thumbnail_key,
            thumbnail_blurhash,
            updated_at: now,
        }
    }
}
