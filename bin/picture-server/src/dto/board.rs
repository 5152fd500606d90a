//! `Board` and `BoardWithCount`.

use picture_domain::{Board, BoardWithCount};
use serde::Serialize;

use super::timestamp;

/// A board as the clients read it, field for field as the original's `Board`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct BoardDto {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Where the board's thumbnail is read, or null.
    pub thumbnail_url: Option<String>,
    /// Additive: the blurhash of a thumbnail uploaded with `POST /boards/:id/thumbnail`, or
    /// null (no thumbnail, or one set as a URL).
    pub thumbnail_blurhash: Option<String>,
    /// Pixels, 100 to 20000.
    pub canvas_width: u32,
    /// Pixels, 100 to 20000.
    pub canvas_height: u32,
    /// `#rrggbb`.
    pub background_color: String,
    pub is_public: bool,
    pub created_at: String,
    /// Also moves when one of its items changes.
    pub updated_at: String,
}

impl From<Board> for BoardDto {
    fn from(board: Board) -> Self {
        Self {
            id: board.id.to_string(),
            user_id: board.user_id.as_str().to_owned(),
            name: board.name,
            description: board.description,
            thumbnail_url: board.thumbnail_url,
            thumbnail_blurhash: board.thumbnail_blurhash,
            canvas_width: board.canvas_width,
            canvas_height: board.canvas_height,
            background_color: board.background_color,
            is_public: board.is_public,
            created_at: timestamp(board.created_at),
            updated_at: timestamp(board.updated_at),
        }
    }
}

/// A board with the number of items on it (`BoardWithCount`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoardWithCountDto {
    /// The board's fields.
    #[serde(flatten)]
    pub board: BoardDto,
    /// How many items lie on the board.
    pub item_count: u32,
}

impl From<BoardWithCount> for BoardWithCountDto {
    fn from(listed: BoardWithCount) -> Self {
        Self {
            board: listed.board.into(),
            item_count: listed.item_count,
        }
    }
}
