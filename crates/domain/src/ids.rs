//! Identifiers. Entity ids are UUIDs; user ids are opaque strings issued by the auth service.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::log_text::LogSafe;
use crate::validation::ValidationErrors;

/// Longest user id accepted, in characters (Better Auth issues 32; `auth0|…` and
/// `google-oauth2|…` ids are under 64). At most 1,020 bytes of UTF-8.
pub const MAX_USER_ID_LEN: usize = 255;

/// The id of a user: the `sub` claim of their token. Opaque text, not a UUID.
///
/// Any text an auth service may issue — `auth0|abc:def`, `ユーザー名`, `..` — except empty ones,
/// ones longer than [`MAX_USER_ID_LEN`] characters, and ones with whitespace or control
/// characters (line breaks would forge log lines). Object keys never hold it raw
/// (`ObjectKey::for_image` makes a safe segment of it), and it is written escaped into logs:
/// its `Display` is [`LogSafe`], `as_str` is the exact id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// Parses a user id.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when the id is empty, too long or contains whitespace or control
    /// characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(ValidationErrors::single("user id must not be empty"));
        }
        if raw.chars().count() > MAX_USER_ID_LEN {
            return Err(ValidationErrors::single(format!(
                "user id must be shorter than or equal to {MAX_USER_ID_LEN} characters"
            )));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationErrors::single(
                "user id must not contain whitespace or control characters",
            ));
        }
        Ok(Self(raw))
    }

    /// The id as text, exactly as the token carried it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id for logs and messages, escaped by [`LogSafe`]: an ordinary id reads as it is, while
/// bidirectional overrides and zero-width characters show as `\u{…}`. Use
/// [`as_str`](UserId::as_str) for the exact id.
impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        LogSafe(&self.0).fmt(f)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = ValidationErrors;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(raw).map(Self).map_err(|_| {
                    ValidationErrors::single(concat!(stringify!($name), " must be a UUID"))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// The id of a model in the catalogue.
    ModelId
);
uuid_id!(
    /// The id of a generation (our id, not the provider's).
    GenerationId
);
uuid_id!(
    /// The id of a stored image.
    ImageId
);
uuid_id!(
    /// The id of a user's tag.
    TagId
);
uuid_id!(
    /// The id of a mood board.
    BoardId
);
uuid_id!(
    /// The id of an item (an image or a text) on a board.
    BoardItemId
);
uuid_id!(
    /// The id of a batch: several prompts generated with shared settings.
    BatchId
);

/// The provider's id for a prediction (Replicate's `id`). Opaque, non-empty, at most 128 chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PredictionId(String);

impl PredictionId {
    /// Parses a provider prediction id.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when empty, longer than 128 characters or not printable ASCII.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > 128 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationErrors::single(
                "prediction id must be 1 to 128 printable ASCII characters",
            ));
        }
        Ok(Self(raw))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PredictionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_opaque_text_not_uuids() {
        let id = UserId::parse("Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J").unwrap();
        assert_eq!(id.as_str(), "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J");
    }

    #[test]
    fn user_ids_reject_empty_long_and_unsafe_text() {
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a".repeat(MAX_USER_ID_LEN + 1)).is_err());
        assert!(UserId::parse("🙂".repeat(MAX_USER_ID_LEN + 1)).is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("a\u{0}").is_err());
        assert!(UserId::parse("a\nb").is_err());
        assert!(UserId::parse("a\u{85}b").is_err());
        assert!(UserId::parse("a\u{2028}b").is_err());
        assert!(UserId::parse("a\u{a0}b").is_err());
        assert!(UserId::parse("a".repeat(MAX_USER_ID_LEN)).is_ok());
        assert!(UserId::parse("🙂".repeat(MAX_USER_ID_LEN)).is_ok());
    }

    #[test]
    fn user_ids_accept_what_auth_services_issue() {
        for raw in [
            "auth0|abc:def",
            "google-oauth2|1234",
            "ユーザー名",
            "🙂",
            "a%2Fb",
            "a\\b",
            "{x}",
            "..",
            ".",
            "a/../b",
            "a..b",
            "bidi\u{202e}x",
            "zero\u{200b}width",
        ] {
            assert_eq!(UserId::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn user_ids_display_escaped_for_logs() {
        let id = UserId::parse("abc\u{202e}gnp.exe\u{200b}").unwrap();
        assert_eq!(id.to_string(), "abc\\u{202e}gnp.exe\\u{200b}");
        assert_eq!(id.as_str(), "abc\u{202e}gnp.exe\u{200b}");
        let plain = UserId::parse("auth0|abc:def").unwrap();
        assert_eq!(plain.to_string(), "auth0|abc:def");
    }

    #[test]
    fn uuid_ids_parse_and_print_hyphenated() {
        let raw = "6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50";
        let id: GenerationId = raw.parse().unwrap();
        assert_eq!(id.to_string(), raw);
        assert!("not-a-uuid".parse::<ModelId>().is_err());
        assert!("".parse::<ImageId>().is_err());
    }

    #[test]
    fn prediction_ids_are_bounded_printable_ascii() {
        assert!(PredictionId::parse("gm3qorzdhgbfurvjtvhg6dckhu").is_ok());
        assert!(PredictionId::parse("").is_err());
        assert!(PredictionId::parse("a b").is_err());
        assert!(PredictionId::parse("x".repeat(129)).is_err());
    }
}
