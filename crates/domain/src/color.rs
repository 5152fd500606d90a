//! Colours as the clients write them: `#rrggbb`.

use crate::validation::ValidationErrors;

/// A colour: `#` and six hexadecimal digits in either case, kept as written (the web client
/// compares a stored colour with its own upper-case palette). Tags, board backgrounds and
/// board texts use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexColor(String);

impl HexColor {
    /// Parses a colour.
    ///
    /// # Errors
    /// A [`ValidationErrors`] unless `raw` is `#` followed by exactly six hexadecimal digits.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        Self::parse_field("color", raw)
    }

    /// Parses a colour sent in the field `field` (named in the error).
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let digits = raw.strip_prefix('#').unwrap_or("");
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationErrors::single(format!(
                "{field} must be a hex colour like #3b82f6"
            )))
        }
    }

    /// The colour as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_six_hex_digits_in_either_case_kept_as_written() {
        assert_eq!(HexColor::parse("#3B82F6").unwrap().as_str(), "#3B82F6");
        assert_eq!(HexColor::parse("#0a0b0c").unwrap().as_str(), "#0a0b0c");
        for bad in [
            "",
            "#",
            "3b82f6",
            "#3b82f",
            "#3b82f6a",
            "#gggggg",
            "red",
            "#3b82f６",
        ] {
            assert!(HexColor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_error_names_the_field() {
        let error = HexColor::parse_field("backgroundColor", "white").unwrap_err();
        assert!(error.to_string().contains("backgroundColor"), "{error}");
    }
}
