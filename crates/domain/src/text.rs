//! Bounded text inputs of a generation request, with the bounds of the HTTP contract (api.md).

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
/// [`MAX_SOURCE_URL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImageUrl(String);

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
        Ok(Self(raw))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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
        let long = format!("https://e.com/{}", "a".repeat(MAX_SOURCE_URL_CHARS));
        assert!(SourceImageUrl::parse(long).is_err());
    }
}
