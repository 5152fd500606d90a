//! Mood boards: a canvas of images and text owned by one user.
//!
//! Only the owner changes a board; a public board is readable (and duplicable) by anyone signed
//! in; another user's private board behaves as a missing one. The field types here parse what
//! the clients send (names trimmed, canvas sizes whole numbers in bounds, colours `#rrggbb`,
//! thumbnail URLs http(s)), so a [`NewBoard`] or a [`BoardChange`] is valid by construction.

use chrono::{DateTime, Utc};

use crate::color::HexColor;
use crate::ids::{BoardId, UserId};
use crate::profile_change::FieldChange;
use crate::validation::ValidationErrors;

mod fields;

pub use fields::{BoardDescription, BoardName, CanvasDimension, ThumbnailUrl};

/// Longest board name, in characters (after trimming).
pub const MAX_BOARD_NAME_CHARS: usize = 100;
/// Longest board description, in characters.
pub const MAX_BOARD_DESCRIPTION_CHARS: usize = 2000;
/// Smallest canvas width or height, in pixels.
pub const MIN_CANVAS: u32 = 100;
/// Largest canvas width or height, in pixels.
pub const MAX_CANVAS: u32 = 20_000;
/// Longest thumbnail URL, in characters.
pub const MAX_THUMBNAIL_URL_CHARS: usize = 2048;
/// Canvas width of a board created without one.
pub const DEFAULT_CANVAS_WIDTH: u32 = 2000;
/// Canvas height of a board created without one.
pub const DEFAULT_CANVAS_HEIGHT: u32 = 1500;
/// Background of a board created without one.
pub const DEFAULT_BACKGROUND: &str = "#ffffff";
/// What a duplicate's name ends with.
pub const COPY_SUFFIX: &str = " (Copy)";

/// A board to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBoard {
    /// Its id.
    pub id: BoardId,
    /// Its owner.
    pub user_id: UserId,
    /// Its name.
    pub name: BoardName,
    /// Its description, if any.
    pub description: Option<BoardDescription>,
    /// Canvas width in pixels.
    pub canvas_width: CanvasDimension,
    /// Canvas height in pixels.
    pub canvas_height: CanvasDimension,
    /// Canvas background.
    pub background_color: HexColor,
    /// Whether anyone signed in may read it.
    pub is_public: bool,
    /// When it is created (also its first `updated_at`).
    pub created_at: DateTime<Utc>,
}

/// What a client sends to create a board: every field but the name optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardDraft {
    /// The name.
    pub name: Option<BoardName>,
    /// The description.
    pub description: Option<BoardDescription>,
    /// Canvas width; [`DEFAULT_CANVAS_WIDTH`] when absent.
    pub canvas_width: Option<CanvasDimension>,
    /// Canvas height; [`DEFAULT_CANVAS_HEIGHT`] when absent.
    pub canvas_height: Option<CanvasDimension>,
    /// Background; [`DEFAULT_BACKGROUND`] when absent.
    pub background_color: Option<HexColor>,
    /// Visibility; private when absent.
    pub is_public: Option<bool>,
}

/// What an owner changes in a board; `None` / [`FieldChange::Keep`] leaves a field as it is.
/// Applying a change always sets `updated_at`, even when it changes nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardChange {
    /// A new name.
    pub name: Option<BoardName>,
    /// A new description, or cleared.
    pub description: FieldChange<BoardDescription>,
    /// A new canvas width.
    pub canvas_width: Option<CanvasDimension>,
    /// A new canvas height.
    pub canvas_height: Option<CanvasDimension>,
    /// A new background.
    pub background_color: Option<HexColor>,
    /// A new visibility.
    pub is_public: Option<bool>,
    /// A new thumbnail URL, or cleared. A URL other than the stored one forgets the stored
    /// thumbnail object (it is deleted); the same URL leaves the thumbnail as it is.
    pub thumbnail_url: FieldChange<ThumbnailUrl>,
}

/// A stored board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Its id.
    pub id: BoardId,
    /// Its owner.
    pub user_id: UserId,
    /// Its name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Where its thumbnail is read, if it has one.
    pub thumbnail_url: Option<String>,
    /// The blurhash of its stored thumbnail (none for a thumbnail URL set by a client).
    pub thumbnail_blurhash: Option<String>,
    /// Canvas width in pixels.
    pub canvas_width: u32,
    /// Canvas height in pixels.
    pub canvas_height: u32,
    /// Canvas background (`#rrggbb`).
    pub background_color: String,
    /// Whether anyone signed in may read it.
    pub is_public: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it or one of its items last changed.
    pub updated_at: DateTime<Utc>,
}

/// A board with the number of items on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardWithCount {
    /// The board.
    pub board: Board,
    /// How many items lie on it.
    pub item_count: u32,
}

/// Which boards a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardScope {
    /// The viewer's own boards.
    Own,
    /// The viewer's own boards and every public board.
    OwnAndPublic,
    /// Every public board (the viewer's included when public).
    Public,
}

/// One page of a board listing, newest change first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardQuery {
    /// Who is looking.
    pub viewer: UserId,
    /// Which boards.
    pub scope: BoardScope,
    /// 1-based page.
    pub page: u32,
    /// Boards per page.
    pub limit: u32,
}

impl BoardQuery {
    /// How many boards come before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.limit)
    }
}

/// The name of a duplicate of a board named `name`: `"{name} (Copy)"`, with `name` cut so the
/// whole stays within [`MAX_BOARD_NAME_CHARS`] characters.
pub fn copy_name(name: &str) -> String {
    let room = MAX_BOARD_NAME_CHARS - COPY_SUFFIX.chars().count();
    let kept: String = name.trim().chars().take(room).collect();
    format!("{kept}{COPY_SUFFIX}")
}

impl BoardDraft {
    /// The board this draft creates for `owner` at `at`, defaults filled in.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when the name is missing.
    pub fn into_new(
        self,
        id: BoardId,
        owner: UserId,
        at: DateTime<Utc>,
    ) -> Result<NewBoard, ValidationErrors> {
        let name = self
            .name
            .ok_or_else(|| ValidationErrors::single("name must be a string"))?;
        Ok(NewBoard {
            id,
            user_id: owner,
            name,
            description: self.description,
            canvas_width: self.canvas_width.unwrap_or(CanvasDimension::DEFAULT_WIDTH),
            canvas_height: self
                .canvas_height
                .unwrap_or(CanvasDimension::DEFAULT_HEIGHT),
            background_color: match self.background_color {
                Some(color) => color,
                None => HexColor::parse_field("backgroundColor", DEFAULT_BACKGROUND)?,
            },
            is_public: self.is_public.unwrap_or(false),
            created_at: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_name_keeps_the_suffix_within_the_limit() {
        assert_eq!(copy_name("Ideas"), "Ideas (Copy)");
        let long = "ä".repeat(MAX_BOARD_NAME_CHARS);
        let copied = copy_name(&long);
        assert_eq!(copied.chars().count(), MAX_BOARD_NAME_CHARS);
        assert!(copied.ends_with(" (Copy)"));
        assert!(BoardName::parse(&copied).is_ok());
        assert!(BoardName::parse(&copy_name(&copied)).is_ok());
    }

    #[test]
    fn a_draft_fills_in_the_originals_defaults() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let draft = BoardDraft {
            name: Some(BoardName::parse("Moods").unwrap()),
            ..BoardDraft::default()
        };
        let new = draft
            .into_new(BoardId::new_random(), UserId::parse("u").unwrap(), at)
            .unwrap();
        assert_eq!(new.canvas_width.get(), DEFAULT_CANVAS_WIDTH);
        assert_eq!(new.canvas_height.get(), DEFAULT_CANVAS_HEIGHT);
        assert_eq!(new.background_color.as_str(), DEFAULT_BACKGROUND);
        assert!(!new.is_public);
        assert_eq!(new.description, None);
        let nameless =
            BoardDraft::default().into_new(BoardId::new_random(), UserId::parse("u").unwrap(), at);
        assert!(nameless.is_err());
    }

    #[test]
    fn pages_start_at_one() {
        let query = |page| BoardQuery {
            viewer: UserId::parse("u").unwrap(),
            scope: BoardScope::Own,
            page,
            limit: 20,
        };
        assert_eq!(query(1).offset(), 0);
        assert_eq!(query(3).offset(), 40);
    }
}
