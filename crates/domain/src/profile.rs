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
