//! The bounds of an item's fields, checked as the request arrives: every number finite,
//! positions and rotations within ±[`MAX_COORDINATE`], scales in `(0, MAX_SCALE]`, opacity in
//! `[0, 1]`, widths, heights and font sizes whole numbers in `1..=MAX_DIMENSION`, texts of at
//! most [`MAX_TEXT_CHARS`] characters, `properties` a JSON object of at most
//! [`MAX_PROPERTIES_BYTES`] bytes, colours `#rrggbb`.

use super::{
    BoardItemChange, MAX_COORDINATE, MAX_DIMENSION, MAX_PROPERTIES_BYTES, MAX_SCALE, MAX_TEXT_CHARS,
};
use crate::color::HexColor;
use crate::validation::{Collector, ValidationErrors};

/// A text item's text: at most [`MAX_TEXT_CHARS`] characters (kept as written, may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemText(String);

impl ItemText {
    /// Checks a text's length.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it has more than [`MAX_TEXT_CHARS`] characters.
    pub fn parse(raw: String) -> Result<Self, ValidationErrors> {
        if raw.chars().count() > MAX_TEXT_CHARS {
            return Err(ValidationErrors::single(format!(
                "textContent must be shorter than or equal to {MAX_TEXT_CHARS} characters"
            )));
        }
        Ok(Self(raw))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An item's `properties`: the serialised text of a JSON object, at most
/// [`MAX_PROPERTIES_BYTES`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemProperties(String);

impl ItemProperties {
    /// Checks the serialised JSON of a value the caller has found to be an object
    /// (`is_object`).
    ///
    /// # Errors
    /// A [`ValidationErrors`] when it is no object or is larger than [`MAX_PROPERTIES_BYTES`].
    pub fn parse(json: String, is_object: bool) -> Result<Self, ValidationErrors> {
        if !is_object || !json.starts_with('{') {
            return Err(ValidationErrors::single("properties must be an object"));
        }
        if json.len() > MAX_PROPERTIES_BYTES {
            return Err(ValidationErrors::single(format!(
                "properties must be at most {MAX_PROPERTIES_BYTES} bytes as JSON"
            )));
        }
        Ok(Self(json))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn finite(field: &str, value: f64) -> Result<f64, ValidationErrors> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ValidationErrors::single(format!(
            "{field} must be a finite number"
        )))
    }
}

/// A position or rotation: finite, within ±[`MAX_COORDINATE`].
///
/// # Errors
/// A [`ValidationErrors`] naming `field` otherwise.
pub fn coordinate(field: &str, value: f64) -> Result<f64, ValidationErrors> {
    let value = finite(field, value)?;
    if value.abs() > MAX_COORDINATE {
        return Err(ValidationErrors::single(format!(
            "{field} must be between -{MAX_COORDINATE} and {MAX_COORDINATE}"
        )));
    }
    Ok(value)
}

/// A scale factor: finite, above 0, at most [`MAX_SCALE`].
///
/// # Errors
/// A [`ValidationErrors`] naming `field` otherwise.
pub fn scale(field: &str, value: f64) -> Result<f64, ValidationErrors> {
    let value = finite(field, value)?;
    if value <= 0.0 || value > MAX_SCALE {
        return Err(ValidationErrors::single(format!(
            "{field} must be above 0 and at most {MAX_SCALE}"
        )));
    }
    Ok(value)
}

/// An opacity: finite, 0 to 1.
///
/// # Errors
/// A [`ValidationErrors`] otherwise.
pub fn opacity(value: f64) -> Result<f64, ValidationErrors> {
    let value = finite("opacity", value)?;
    if !(0.0..=1.0).contains(&value) {
        return Err(ValidationErrors::single("opacity must be between 0 and 1"));
    }
    Ok(value)
}

/// A width, height or font size: a whole number from 1 to [`MAX_DIMENSION`].
///
/// # Errors
/// A [`ValidationErrors`] naming `field` otherwise.
pub fn dimension(field: &str, value: f64) -> Result<u32, ValidationErrors> {
    let value = finite(field, value)?;
    if value.fract() != 0.0 || value < 1.0 || value > f64::from(MAX_DIMENSION) {
        return Err(ValidationErrors::single(format!(
            "{field} must be a whole number from 1 to {MAX_DIMENSION}"
        )));
    }
    // Whole and within 1..=MAX_DIMENSION: the conversion is exact.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked whole and within 1..=MAX_DIMENSION above"
    )]
    Ok(value as u32)
}

/// A requested place in the stack: a whole number from 0 (larger ones are clamped to the top).
///
/// # Errors
/// A [`ValidationErrors`] when it is negative, fractional or not finite.
pub fn stack_place(value: f64) -> Result<u32, ValidationErrors> {
    let value = finite("zIndex", value)?;
    if value.fract() != 0.0 || value < 0.0 {
        return Err(ValidationErrors::single(
            "zIndex must be a whole number from 0",
        ));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "whole and non-negative; larger places saturate and are clamped to the top"
    )]
    Ok(value as u32)
}

/// The fields of a change as sent (numbers unchecked, `properties` serialised with whether it
/// was an object).
#[derive(Debug, Clone, Default)]
pub struct RawItemChange {
    /// `positionX`.
    pub position_x: Option<f64>,
    /// `positionY`.
    pub position_y: Option<f64>,
    /// `scaleX`.
    pub scale_x: Option<f64>,
    /// `scaleY`.
    pub scale_y: Option<f64>,
    /// `rotation`.
    pub rotation: Option<f64>,
    /// `opacity`.
    pub opacity: Option<f64>,
    /// `zIndex`.
    pub z_index: Option<f64>,
    /// `width`.
    pub width: Option<f64>,
    /// `height`.
    pub height: Option<f64>,
    /// `fontSize`.
    pub font_size: Option<f64>,
    /// `textContent`.
    pub text_content: Option<String>,
    /// `color`.
    pub color: Option<String>,
    /// `properties`: its JSON text and whether it is an object.
    pub properties: Option<(String, bool)>,
}

fn each<T, U>(
    value: Option<T>,
    check: impl FnOnce(T) -> Result<U, ValidationErrors>,
) -> Result<Option<U>, ValidationErrors> {
    value.map(check).transpose()
}

impl RawItemChange {
    /// Checks every field against its bounds.
    ///
    /// # Errors
    /// Every field's message, together.
    pub fn parse(self) -> Result<BoardItemChange, ValidationErrors> {
        let position_x = each(self.position_x, |v| coordinate("positionX", v));
        let position_y = each(self.position_y, |v| coordinate("positionY", v));
        let scale_x = each(self.scale_x, |v| scale("scaleX", v));
        let scale_y = each(self.scale_y, |v| scale("scaleY", v));
        let rotation = each(self.rotation, |v| coordinate("rotation", v));
        let opacity = each(self.opacity, opacity);
        let z_index = each(self.z_index, stack_place);
        let width = each(self.width, |v| dimension("width", v));
        let height = each(self.height, |v| dimension("height", v));
        let font_size = each(self.font_size, |v| dimension("fontSize", v));
        let text_content = each(self.text_content, ItemText::parse);
        let color = each(self.color, |c| HexColor::parse_field("color", &c));
        let properties = each(self.properties, |(json, object)| {
            ItemProperties::parse(json, object)
        });
        Collector::default()
            .note(&position_x)
            .note(&position_y)
            .note(&scale_x)
            .note(&scale_y)
            .note(&rotation)
            .note(&opacity)
            .note(&z_index)
            .note(&width)
            .note(&height)
            .note(&font_size)
            .note(&text_content)
            .note(&color)
            .note(&properties)
            .finish()?;
        Ok(BoardItemChange {
            position_x: position_x?,
            position_y: position_y?,
            scale_x: scale_x?,
            scale_y: scale_y?,
            rotation: rotation?,
            opacity: opacity?,
            z_index: z_index?,
            width: width?,
            height: height?,
            font_size: font_size?,
            text_content: text_content?,
            color: color?,
            properties: properties?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A named case: the check, the value, whether it passes.
    type Case = (&'static str, fn(f64) -> bool, f64, bool);

    #[test]
    fn numbers_must_be_finite_and_within_their_bounds() {
        let cases: &[Case] = &[
            ("x 0", |v| coordinate("x", v).is_ok(), 0.0, true),
            ("x neg", |v| coordinate("x", v).is_ok(), -250.5, true),
            (
                "x max",
                |v| coordinate("x", v).is_ok(),
                MAX_COORDINATE,
                true,
            ),
            ("x over", |v| coordinate("x", v).is_ok(), 1.0e7, false),
            ("x nan", |v| coordinate("x", v).is_ok(), f64::NAN, false),
            (
                "x inf",
                |v| coordinate("x", v).is_ok(),
                f64::INFINITY,
                false,
            ),
            ("scale 0", |v| scale("s", v).is_ok(), 0.0, false),
            ("scale tiny", |v| scale("s", v).is_ok(), 0.01, true),
            ("scale max", |v| scale("s", v).is_ok(), 100.0, true),
            ("scale over", |v| scale("s", v).is_ok(), 100.5, false),
            ("scale neg", |v| scale("s", v).is_ok(), -1.0, false),
            ("opacity 0", |v| opacity(v).is_ok(), 0.0, true),
            ("opacity 1", |v| opacity(v).is_ok(), 1.0, true),
            ("opacity over", |v| opacity(v).is_ok(), 1.01, false),
            ("opacity neg", |v| opacity(v).is_ok(), -0.1, false),
            ("dim 1", |v| dimension("w", v).is_ok(), 1.0, true),
            ("dim max", |v| dimension("w", v).is_ok(), 20_000.0, true),
            ("dim over", |v| dimension("w", v).is_ok(), 20_001.0, false),
            ("dim 0", |v| dimension("w", v).is_ok(), 0.0, false),
            ("dim frac", |v| dimension("w", v).is_ok(), 12.5, false),
            ("dim nan", |v| dimension("w", v).is_ok(), f64::NAN, false),
            ("z 0", |v| stack_place(v).is_ok(), 0.0, true),
            ("z big", |v| stack_place(v).is_ok(), 1.0e12, true),
            ("z neg", |v| stack_place(v).is_ok(), -1.0, false),
            ("z frac", |v| stack_place(v).is_ok(), 0.5, false),
        ];
        for (name, check, value, ok) in cases {
            assert_eq!(check(*value), *ok, "{name}");
        }
        assert_eq!(dimension("w", 300.0).unwrap(), 300);
        assert_eq!(stack_place(1.0e12).unwrap(), u32::MAX);
    }

    #[test]
    fn texts_are_bounded_in_characters() {
        assert!(ItemText::parse("ä".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(ItemText::parse("ä".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(ItemText::parse(String::new()).is_ok());
    }

    #[test]
    fn properties_are_objects_of_bounded_size() {
        assert!(ItemProperties::parse("{}".into(), true).is_ok());
        assert!(ItemProperties::parse("[1]".into(), false).is_err());
        assert!(ItemProperties::parse("\"x\"".into(), false).is_err());
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_PROPERTIES_BYTES));
        assert!(ItemProperties::parse(big, true).is_err());
        let fits = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_PROPERTIES_BYTES - 8));
        assert_eq!(fits.len(), MAX_PROPERTIES_BYTES);
        assert!(ItemProperties::parse(fits, true).is_ok());
    }

    #[test]
    fn a_change_reports_every_bad_field_together() {
        let raw = RawItemChange {
            position_x: Some(f64::NAN),
            opacity: Some(2.0),
            color: Some("red".into()),
            properties: Some(("[]".into(), false)),
            ..RawItemChange::default()
        };
        let errors = raw.parse().unwrap_err();
        assert_eq!(errors.messages().len(), 4, "{errors}");
        let good = RawItemChange {
            position_x: Some(0.0),
            z_index: Some(3.0),
            text_content: Some("hi".into()),
            ..RawItemChange::default()
        }
        .parse()
        .unwrap();
        assert_eq!(good.position_x, Some(0.0));
        assert_eq!(good.z_index, Some(3));
        assert!(good.changes_fields());
        let only_z = RawItemChange {
            z_index: Some(1.0),
            ..RawItemChange::default()
        }
        .parse()
        .unwrap();
        assert!(!only_z.changes_fields());
    }
}
