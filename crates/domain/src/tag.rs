//! A user's tags: labels with an optional colour that the user puts on their own images.
//!
//! Tags belong to one user (the original backend's were global, so anyone could rename anyone's
//! tag). A user's tag names are unique without regard to case: [`TagName::key`] is the folded
//! form the uniqueness rule compares, computed here so both databases fold alike (SQLite's
//! `lower()` folds ASCII only).

use chrono::{DateTime, Utc};

use crate::color::HexColor;
use crate::ids::{TagId, UserId};
use crate::text::trimmed_name;
use crate::validation::ValidationErrors;

/// Longest tag name, in characters (after trimming).
pub const MAX_TAG_NAME_CHARS: usize = 50;

/// A tag's name: trimmed, 1 to [`MAX_TAG_NAME_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName(String);

impl TagName {
    /// Parses a name, trimming the whitespace around it.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when the trimmed name is empty, longer than
    /// [`MAX_TAG_NAME_CHARS`] characters or holds control characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        trimmed_name(raw, MAX_TAG_NAME_CHARS).map(Self)
    }

    /// The name as the user wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form the per-user uniqueness rule compares: the name in lower case (Unicode).
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A tag's colour (`#rrggbb`, kept as written).
pub type TagColor = HexColor;

/// A tag to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTag {
    /// Its id.
    pub id: TagId,
    /// Its owner.
    pub user_id: UserId,
    /// Its name.
    pub name: TagName,
    /// Its colour, if any.
    pub color: Option<TagColor>,
    /// When it is created.
    pub created_at: DateTime<Utc>,
}

/// What an owner changes in a tag; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChange {
    /// A new name.
    pub name: Option<TagName>,
    /// A new colour: `Some(None)` removes it.
    pub color: Option<Option<TagColor>>,
}

/// A stored tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Its id.
    pub id: TagId,
    /// Its owner.
    pub user_id: UserId,
    /// Its name, as the user wrote it.
    pub name: String,
    /// Its colour (`#rrggbb`), if any.
    pub color: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(TagName::parse("  Katze ").unwrap().as_str(), "Katze");
        assert!(TagName::parse("").is_err());
        assert!(TagName::parse(" \t ").is_err());
        assert!(TagName::parse(&"ä".repeat(50)).is_ok());
        assert!(TagName::parse(&"ä".repeat(51)).is_err());
        assert!(TagName::parse("a\u{0}b").is_err());
        assert!(TagName::parse("line\nbreak").is_err());
    }

    #[test]
    fn the_key_folds_case_beyond_ascii() {
        assert_eq!(TagName::parse("ÄPFEL Tree").unwrap().key(), "äpfel tree");
    }
}
