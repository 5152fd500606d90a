//! What a user may change on their profile: the user name and the avatar, each validated.

use crate::validation::{Collector, ValidationErrors};

/// Shortest user name, in characters.
pub const MIN_USERNAME_CHARS: usize = 3;
/// Longest user name, in characters.
pub const MAX_USERNAME_CHARS: usize = 30;
/// Longest avatar URL, in characters (the original's bound).
pub const MAX_AVATAR_URL_CHARS: usize = 500;

/// A user name: 3 to 30 of `[A-Za-z0-9_.-]`. Unique among users regardless of case; the case
/// the user chose is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a user name.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is too short, too long or has other characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = raw.into();
        let length = raw.chars().count();
        if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&length) {
            return Err(ValidationErrors::single(format!(
                "username must be {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters long"
            )));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(ValidationErrors::single(
                "username may contain only letters A-Z and a-z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(raw))
    }

    /// The name as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as uniqueness compares it: lower case (the name is ASCII, so this is the same
    /// on every database).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An avatar URL: `https://` with a host, no whitespace or control characters, at most
/// [`MAX_AVATAR_URL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Parses an avatar URL.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is not such a URL.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = raw.into();
        if raw.chars().count() > MAX_AVATAR_URL_CHARS {
            return Err(ValidationErrors::single(format!(
                "avatarUrl must be shorter than or equal to {MAX_AVATAR_URL_CHARS} characters"
            )));
        }
        let host = raw
            .strip_prefix("https://")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let valid = matches!(host, Some(h) if !h.is_empty() && !h.contains('@'))
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(ValidationErrors::single("avatarUrl must be an https URL"));
        }
        Ok(Self(raw))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field of a change: left as it is, cleared (JSON `null`), or set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldChange<T> {
    /// Absent from the request: unchanged.
    #[default]
    Keep,
    /// `null`: cleared.
    Clear,
    /// A new value.
    Set(T),
}

impl<T> FieldChange<T> {
    /// The new stored value, or `None` when the field is kept.
    pub fn new_value(&self) -> Option<Option<&T>> {
        match self {
            Self::Keep => None,
            Self::Clear => Some(None),
            Self::Set(value) => Some(Some(value)),
        }
    }
}

/// A profile change as the request sends it: each field absent, `null` or a string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawProfileChange {
    /// `username`.
    pub username: Option<Option<String>>,
    /// `avatarUrl`.
    pub avatar_url: Option<Option<String>>,
}

/// A validated profile change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// The user name.
    pub username: FieldChange<Username>,
    /// The avatar.
    pub avatar_url: FieldChange<AvatarUrl>,
}

fn field<T>(
    raw: Option<Option<String>>,
    parse: impl FnOnce(String) -> Result<T, ValidationErrors>,
) -> Result<FieldChange<T>, ValidationErrors> {
    match raw {
        None => Ok(FieldChange::Keep),
        Some(None) => Ok(FieldChange::Clear),
        Some(Some(value)) => parse(value).map(FieldChange::Set),
    }
}

impl ProfileChange {
    /// Parses a raw change, reporting every invalid field at once.
    ///
    /// # Errors
    /// A [`ValidationErrors`] with one message per invalid field.
    pub fn parse(raw: RawProfileChange) -> Result<Self, ValidationErrors> {
        let username = field(raw.username, Username::parse);
        let avatar_url = field(raw.avatar_url, AvatarUrl::parse);
        Collector::default()
            .note(&username)
            .note(&avatar_url)
            .finish()?;
        Ok(Self {
            username: username?,
            avatar_url: avatar_url?,
        })
    }

    /// Whether the change leaves everything as it is.
    pub fn is_empty(&self) -> bool {
        matches!(
            (&self.username, &self.avatar_url),
            (FieldChange::Keep, FieldChange::Keep)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_3_to_30_of_the_allowed_characters() {
        for good in ["abc", "a.b-c_d", "ABC123", &"x".repeat(30)] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            &"x".repeat(31),
            "a b",
            "ab@c",
            "müller",
            "名前です",
            "abc\u{0}",
            "abc\n",
            "../x",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn three_multibyte_characters_are_not_a_valid_name() {
        // Three characters long, but not of the allowed set.
        let error = Username::parse("äöü").unwrap_err();
        assert!(error.messages()[0].contains("may contain only"));
    }

    #[test]
    fn the_uniqueness_key_is_the_lower_case_name() {
        assert_eq!(Username::parse("Alice.B").unwrap().key(), "alice.b");
        assert_eq!(Username::parse("Alice.B").unwrap().as_str(), "Alice.B");
    }

    #[test]
    fn avatars_are_https_urls_within_the_length() {
        assert!(AvatarUrl::parse("https://cdn.example.com/a.png").is_ok());
        let long = format!("https://e.com/{}", "a".repeat(MAX_AVATAR_URL_CHARS));
        for bad in [
            "http://cdn.example.com/a.png",
            "https://",
            "https:///a.png",
            "https://a b.com/",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://example.com/a.png",
            "https://user@evil.com/",
            long.as_str(),
        ] {
            assert!(AvatarUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn absent_fields_are_kept_null_clears_and_every_error_is_reported() {
        let change = ProfileChange::parse(RawProfileChange {
            username: None,
            avatar_url: Some(None),
        })
        .unwrap();
        assert_eq!(change.username, FieldChange::Keep);
        assert_eq!(change.avatar_url, FieldChange::Clear);
        assert!(!change.is_empty());
        assert!(
            ProfileChange::parse(RawProfileChange::default())
                .unwrap()
                .is_empty()
        );
        let both = ProfileChange::parse(RawProfileChange {
            username: Some(Some("x".into())),
            avatar_url: Some(Some("http://e.com/a.png".into())),
        })
        .unwrap_err();
        assert_eq!(both.messages().len(), 2);
    }
}
