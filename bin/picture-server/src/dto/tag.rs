//! `Tag`.

use picture_domain::Tag;
use serde::Serialize;

use super::timestamp;

/// A tag as the clients read it: the original's `id, name, color, createdAt`, plus `updatedAt`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct TagDto {
    pub id: String,
    pub name: String,
    /// `#rrggbb`, or null when the tag has no colour.
    pub color: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Tag> for TagDto {
    fn from(tag: Tag) -> Self {
        Self {
            id: tag.id.to_string(),
            name: tag.name,
            color: tag.color,
            created_at: timestamp(tag.created_at),
            updated_at: timestamp(tag.updated_at),
        }
    }
}
