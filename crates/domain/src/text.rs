//! Bounded text inputs of a generation request, with the bounds of the HTTP contract (api.md).

use crate::ports::ObjectKey;
use crate::validation::ValidationErrors;

/// Longest prompt or negative prompt, in characters.
pub const MAX_PROMPT_CHARS: usize = 10_000;
/// Longest style, in characters.
pub const MAX_STYLE_CHARS: usize = 200;
/// Longest model version, in characters.
pub const MAX_MODEL_VERSION_CHARS: usize = 500;
/// Longest source image URL, in characters.
pub const MAX_SOURCE_URL_CHARS: usize = 2048;

fn bounded(field: &str, raw: String, max: usize) -> Result<String, ValidationErrors> {
    if raw.chars().count() > max {
        return Err(ValidationErrors::single(format!(
            "{field} must be shorter than or equal to {max} characters"
        )));
    }
    if raw.chars().any(|c| c == '\u{0}') {
        return Err(ValidationErrors::single(format!(
            "{field} must not contain NUL characters"
        )));
    }
    Ok(raw)
}

/// A short name (a tag's, a board's): `raw` trimmed, 1 to `max` characters, no control
/// characters; errors name the field `name`, as the clients display them.
///
/// # Errors
/// A [`ValidationErrors`] when the trimmed name is empty, longer than `max` characters or holds
/// control characters.
pub fn trimmed_name(raw: &str, max: usize) -> Result<String, ValidationErrors> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationErrors::single("name should not be empty"));
    }
    if name.chars().count() > max {
        return Err(ValidationErrors::single(format!(
            "name must be shorter than or equal to {max} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationErrors::single(
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Parses a `", $field, "`.")]
            ///
            /// # Errors
            /// A [`ValidationErrors`] naming the field when the text is too long or holds NUL.
            pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
                bounded($field, raw.into(), $max).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// What the image should not show; forwarded to models that support it.
    NegativePrompt,
    "negativePrompt",
    MAX_PROMPT_CHARS
);
bounded_text!(
    /// A free-form style hint.
    Style,
    "style",
    MAX_STYLE_CHARS
);
bounded_text!(
    /// A provider model version overriding the catalogue's.
    ModelVersion,
    "modelVersion",
    MAX_MODEL_VERSION_CHARS
);

/// The prompt of a generation: not blank, at most [`MAX_PROMPT_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(String);

impl Prompt {
    /// Parses a prompt.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when the prompt is blank, too long or holds NUL.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = bounded("prompt", raw.into(), MAX_PROMPT_CHARS)?;
        if raw.trim().is_empty() {
            return Err(ValidationErrors::single("prompt should not be empty"));
        }
        Ok(Self(raw))
    }

    /// The prompt text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The URL of a source image for image-to-image generation: `https://`, no whitespace, at most
/// [`MAX_SOURCE_URL_CHARS`] characters — or, whatever its scheme, a URL of one of this server's
/// own stored files (`{PUBLIC_BASE_URL}/files/{key}`), which is resolved to the stored object
/// instead of being fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImageUrl {
    url: String,
    own_key: Option<ObjectKey>,
    provider_input: Option<String>,
}

impl SourceImageUrl {
    /// Parses a source image URL.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is not an `https://` URL with a host, is too long or
    /// contains whitespace.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationErrors> {
        let raw = bounded("sourceImageUrl", raw.into(), MAX_SOURCE_URL_CHARS)?;
        let host = raw
            .strip_prefix("https://")
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let valid = matches!(host, Some(h) if !h.is_empty())
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(ValidationErrors::single(
                "sourceImageUrl must be an https URL",
            ));
        }
        Ok(Self {
            url: raw,
            own_key: None,
            provider_input: None,
        })
    }

    /// Parses a source image URL, also accepting one under `own_files` (this server's
    /// `{PUBLIC_BASE_URL}/files/`, `http://` on the embedded default) whose rest is a plain
    /// object key: no query, fragment, whitespace, or empty, `.` or `..` segment. Any other
    /// URL must be `https://` as for [`parse`](Self::parse).
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_with_own_files(
        raw: impl Into<String>,
        own_files: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let raw = bounded("sourceImageUrl", raw.into(), MAX_SOURCE_URL_CHARS)?;
        let key = own_files
            .filter(|prefix| !prefix.is_empty())
            .and_then(|prefix| raw.strip_prefix(prefix))
            .filter(|key| is_plain_key(key))
            .map(ObjectKey::from_stored);
        match key {
            Some(key) => Ok(Self {
                url: raw,
                own_key: Some(key),
                provider_input: None,
            }),
            None => Self::parse(raw),
        }
    }

    /// The URL as the client sent it (what the generation records).
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The stored object the URL names, when it is one of this server's own files.
    pub fn own_key(&self) -> Option<&ObjectKey> {
        self.own_key.as_ref()
    }

    /// The same source, handed to the provider as `input` instead of the URL (a data URI of
    /// the stored bytes, for a URL the provider could not reach).
    pub fn with_provider_input(self, input: String) -> Self {
        Self {
            provider_input: Some(input),
            ..self
        }
    }

    /// What the provider receives: the input set by
    /// [`with_provider_input`](Self::with_provider_input), else the URL.
    pub fn for_provider(&self) -> &str {
        self.provider_input.as_deref().unwrap_or(&self.url)
    }
}

/// Whether `key` is a plain object key: segments of visible ASCII other than `?` and `#`,
/// none empty, `.` or `..`.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#' && b != b'%' && b != b'\\')
        && key
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_bounds() {
        assert!(Prompt::parse("a cat").is_ok());
        assert!(Prompt::parse("   ").is_err());
        assert!(Prompt::parse("").is_err());
        assert!(Prompt::parse("é".repeat(MAX_PROMPT_CHARS)).is_ok());
        let too_long = Prompt::parse("a".repeat(MAX_PROMPT_CHARS + 1)).unwrap_err();
        assert_eq!(
            too_long.messages(),
            ["prompt must be shorter than or equal to 10000 characters"]
        );
    }

    #[test]
    fn optional_texts_have_their_bounds() {
        assert!(Style::parse("a".repeat(MAX_STYLE_CHARS)).is_ok());
        assert!(Style::parse("a".repeat(MAX_STYLE_CHARS + 1)).is_err());
        assert!(ModelVersion::parse("a".repeat(MAX_MODEL_VERSION_CHARS + 1)).is_err());
        assert!(NegativePrompt::parse("").is_ok());
        assert!(NegativePrompt::parse("x\u{0}").is_err());
    }

    #[test]
    fn source_urls_must_be_https() {
        assert!(SourceImageUrl::parse("https://example.com/a.png").is_ok());
        assert!(SourceImageUrl::parse("http://example.com/a.png").is_err());
        assert!(SourceImageUrl::parse("https:///a.png").is_err());
        assert!(SourceImageUrl::parse("https://exa mple.com").is_err());
        assert!(SourceImageUrl::parse("file:///etc/passwd").is_err());
        assert!(
            SourceImageUrl::parse("https://example.com/a.png")
                .unwrap()
                .own_key()
                .is_none()
        );
        let long = format!("https://e.com/{}", "a".repeat(MAX_SOURCE_URL_CHARS));
        assert!(SourceImageUrl::parse(long).is_err());
    }

    const OWN: &str = "http://localhost:3006/files/";

    #[test]
    fn own_files_are_accepted_over_http_and_resolved_to_their_key() {
        let own = SourceImageUrl::parse_with_own_files(
            "http://localhost:3006/files/users/alice/images/1.png",
            Some(OWN),
        )
        .unwrap();
        assert_eq!(own.own_key().unwrap().as_str(), "users/alice/images/1.png");
        assert_eq!(
            own.as_str(),
            "http://localhost:3006/files/users/alice/images/1.png"
        );
        assert_eq!(own.for_provider(), own.as_str());
        let inline = own.with_provider_input("data:image/png;base64,AAAA".into());
        assert_eq!(inline.for_provider(), "data:image/png;base64,AAAA");
        assert_eq!(
            inline.as_str(),
            "http://localhost:3006/files/users/alice/images/1.png"
        );
    }

    #[test]
    fn other_http_urls_and_odd_own_keys_are_still_refused() {
        for bad in [
            "http://example.com/a.png",
            "http://localhost:3006/other/a.png",
            "http://localhost:3006/files/",
            "http://localhost:3006/files/../secret",
            "http://localhost:3006/files/users//a.png",
            "http://localhost:3006/files/users/./a.png",
            "http://localhost:3006/files/a.png?x=1",
            "http://localhost:3006/files/a%2e%2e/b.png",
            "http://localhost:3006/files/a b.png",
            "http://localhost:30060/files/a.png",
        ] {
            assert!(
                SourceImageUrl::parse_with_own_files(bad, Some(OWN)).is_err(),
                "{bad}"
            );
        }
        assert!(
            SourceImageUrl::parse_with_own_files("http://localhost:3006/files/a.png", None)
                .is_err()
        );
        let remote =
            SourceImageUrl::parse_with_own_files("https://example.com/a.png", Some(OWN)).unwrap();
        assert!(remote.own_key().is_none());
    }
}
