//! User profiles, created from the token's claims on first use.

use chrono::{DateTime, Utc};

use crate::ids::UserId;

/// A profile to create for a user seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProfile {
    /// The user (`sub` claim).
    pub id: UserId,
    /// The e-mail from the token, or empty when the token has none.
    pub email: String,
}

/// A user's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The user.
    pub id: UserId,
    /// Their chosen user name.
    pub username: Option<String>,
    /// Their e-mail.
    pub email: String,
    /// Their avatar.
    pub avatar_url: Option<String>,
    /// When the profile was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What the profile tab counts for a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileStats {
    /// Images not archived.
    pub total_images: u64,
    /// Favourite images not archived.
    pub favorite_images: u64,
    /// Archived images.
    pub archived_images: u64,
    /// Public images not archived.
    pub public_images: u64,
    /// Generations ever started (every status).
    pub total_generations: u64,
    /// Generations pending, queued or processing.
    pub active_generations: u64,
    /// Likes on the user's images (archived ones too), by anyone.
    pub likes_received: u64,
}
