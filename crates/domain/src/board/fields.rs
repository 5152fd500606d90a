//! The fields of a board as the clients send them, each parsed once (messages in the
//! class-validator wording the clients display).

use crate::text::trimmed_name;
use crate::validation::ValidationErrors;

use super::{
    DEFAULT_CANVAS_HEIGHT, DEFAULT_CANVAS_WIDTH, MAX_BOARD_DESCRIPTION_CHARS, MAX_BOARD_NAME_CHARS,
    MAX_CANVAS, MAX_THUMBNAIL_URL_CHARS, MIN_CANVAS,
};

/// A board's name: trimmed, 1 to [`MAX_BOARD_NAME_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardName(String);

impl BoardName {
    /// Parses a name, trimming the whitespace around it.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when the trimmed name is empty, too long or holds control
    /// characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        trimmed_name(raw, MAX_BOARD_NAME_CHARS).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A board's description: at most [`MAX_BOARD_DESCRIPTION_CHARS`] characters, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardDescription(String);

impl BoardDescription {
    /// Parses a description.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is too long.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        if raw.chars().count() > MAX_BOARD_DESCRIPTION_CHARS {
            return Err(ValidationErrors::single(format!(
                "description must be shorter than or equal to {MAX_BOARD_DESCRIPTION_CHARS} characters"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A canvas width or height: a whole number of pixels from [`MIN_CANVAS`] to [`MAX_CANVAS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanvasDimension(u32);

impl CanvasDimension {
    /// The width of a board created without one.
    pub const DEFAULT_WIDTH: Self = Self(DEFAULT_CANVAS_WIDTH);
    /// The height of a board created without one.
    pub const DEFAULT_HEIGHT: Self = Self(DEFAULT_CANVAS_HEIGHT);

    /// Parses the JSON number sent in `field` (`2000` and `2000.0` alike).
    ///
    /// # Errors
    /// A [`ValidationErrors`] naming `field` when the number is not finite, not whole, or out
    /// of bounds.
    pub fn parse(field: &str, raw: f64) -> Result<Self, ValidationErrors> {
        if !raw.is_finite() || raw.fract() != 0.0 {
            return Err(ValidationErrors::single(format!(
                "{field} must be an integer number"
            )));
        }
        if raw < f64::from(MIN_CANVAS) {
            return Err(ValidationErrors::single(format!(
                "{field} must not be less than {MIN_CANVAS}"
            )));
        }
        if raw > f64::from(MAX_CANVAS) {
            return Err(ValidationErrors::single(format!(
                "{field} must not be greater than {MAX_CANVAS}"
            )));
        }
        // Whole and within 100..=20000: the conversion is exact.
        Ok(Self(raw as u32))
    }

    /// The number of pixels.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A thumbnail URL a client sets: `http://` or `https://` with a host, at most
/// [`MAX_THUMBNAIL_URL_CHARS`] characters, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailUrl(String);

impl ThumbnailUrl {
    /// Parses a URL.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is too long or not an http(s) URL.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        if raw.chars().count() > MAX_THUMBNAIL_URL_CHARS {
            return Err(ValidationErrors::single(format!(
                "thumbnailUrl must be shorter than or equal to {MAX_THUMBNAIL_URL_CHARS} characters"
            )));
        }
        let host = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let valid = matches!(host, Some(h) if !h.is_empty() && !h.contains('@'))
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(ValidationErrors::single(
                "thumbnailUrl must be an http or https URL",
            ));
        }
        Ok(Self(raw.to_owned()))
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
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(BoardName::parse("  Moods ").unwrap().as_str(), "Moods");
        assert!(BoardName::parse("").is_err());
        assert!(BoardName::parse(" \t ").is_err());
        assert!(BoardName::parse(&"ä".repeat(100)).is_ok());
        assert!(BoardName::parse(&"ä".repeat(101)).is_err());
        assert!(BoardName::parse("a\u{0}b").is_err());
        assert!(BoardName::parse("line\nbreak").is_err());
    }

    #[test]
    fn descriptions_are_bounded_and_kept_as_sent() {
        assert_eq!(
            BoardDescription::parse(" two\nlines ").unwrap().as_str(),
            " two\nlines "
        );
        assert!(BoardDescription::parse("").is_ok());
        assert!(BoardDescription::parse(&"é".repeat(2000)).is_ok());
        assert!(BoardDescription::parse(&"é".repeat(2001)).is_err());
    }

    #[test]
    fn canvas_sizes_are_whole_finite_and_within_bounds() {
        for good in [100.0, 2000.0, 20_000.0] {
            assert_eq!(
                f64::from(CanvasDimension::parse("canvasWidth", good).unwrap().get()),
                good
            );
        }
        for bad in [
            99.0,
            20_001.0,
            0.0,
            -1.0,
            150.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ] {
            let error = CanvasDimension::parse("canvasHeight", bad).unwrap_err();
            assert!(error.to_string().starts_with("canvasHeight"), "{bad}");
        }
    }

    #[test]
    fn thumbnail_urls_are_http_or_https_with_a_host() {
        for good in [
            "https://cdn.example.com/boards/a/thumbnail.png",
            "http://127.0.0.1:3006/files/boards/x.png",
        ] {
            assert_eq!(ThumbnailUrl::parse(good).unwrap().as_str(), good);
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        for bad in [
            "",
            "ftp://example.com/x.png",
            "javascript:alert(1)",
            "https://",
            "https:///x",
            "https://user@evil.com/x",
            "https://example.com/a b",
            "data:image/png;base64,AAAA",
            long.as_str(),
        ] {
            assert!(ThumbnailUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
