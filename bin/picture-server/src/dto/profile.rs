//! `Profile`.

use picture_domain::Profile;
use serde::Serialize;

use super::timestamp;

/// A user's profile as the clients read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    missing_docs,
    reason = "each field is the contract's field of the same name"
)]
pub struct ProfileDto {
    pub id: String,
    pub username: Option<String>,
    pub email: String,
    pub avatar_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Profile> for ProfileDto {
    fn from(profile: Profile) -> Self {
        Self {
            id: profile.id.as_str().to_owned(),
            username: profile.username,
            email: profile.email,
            avatar_url: profile.avatar_url,
            created_at: timestamp(profile.created_at),
            updated_at: timestamp(profile.updated_at),
        }
    }
}
