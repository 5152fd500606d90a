//! Reading a variant query: `?width&height&resize&quality&format`, checked and snapped.

use super::spec::{OutputFormat, Resize, VariantSpec};
use crate::validation::{Collector, ValidationErrors};

/// The variant query parameters as they arrived (absent ones `None`), before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawVariantQuery {
    /// `width`: pixels, a positive integer.
    pub width: Option<String>,
    /// `height`: pixels, a positive integer.
    pub height: Option<String>,
    /// `resize`: `cover`, `contain` or `fill`.
    pub resize: Option<String>,
    /// `quality`: 1 to 100.
    pub quality: Option<String>,
    /// `format`: `webp`, `jpeg`, `png` or `origin`.
    pub format: Option<String>,
}

impl RawVariantQuery {
    /// Whether no variant parameter was given (the original is wanted).
    pub fn is_empty(&self) -> bool {
        self.width.is_none()
            && self.height.is_none()
            && self.resize.is_none()
            && self.quality.is_none()
            && self.format.is_none()
    }
}

/// Which variants may exist (`IMAGE_VARIANT_*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantSettings {
    widths: Vec<u32>,
    default_quality: u8,
    max_dimension: u32,
}

impl VariantSettings {
    /// The default allowed sizes: 64, 128, 256, 384, 512, 768 and 1024 pixels.
    pub const DEFAULT_WIDTHS: [u32; 7] = [64, 128, 256, 384, 512, 768, 1024];
    /// The quality of a variant whose query names none (Supabase's default).
    pub const DEFAULT_QUALITY: u8 = 80;
    /// The largest `width` or `height` a query may name (larger is a 400, not snapped).
    pub const DEFAULT_MAX_DIMENSION: u32 = 8192;

    /// Settings allowing `widths` (sorted and deduplicated here), with `default_quality` (1 to
    /// 100) for queries naming none, and `max_dimension` the largest size a query may name.
    ///
    /// # Errors
    /// When `widths` is empty or holds 0 or a size above `max_dimension`, or
    /// `default_quality` is not within 1 to 100.
    pub fn new(
        mut widths: Vec<u32>,
        default_quality: u8,
        max_dimension: u32,
    ) -> Result<Self, ValidationErrors> {
        widths.sort_unstable();
        widths.dedup();
        if widths.is_empty() || widths[0] == 0 || widths[widths.len() - 1] > max_dimension {
            return Err(ValidationErrors::single(format!(
                "the allowed variant sizes must be 1 to {max_dimension} pixels, at least one"
            )));
        }
        if !(1..=100).contains(&default_quality) {
            return Err(ValidationErrors::single(
                "the default variant quality must be 1 to 100",
            ));
        }
        Ok(Self {
            widths,
            default_quality,
            max_dimension,
        })
    }

    /// The allowed sizes, ascending.
    pub fn widths(&self) -> &[u32] {
        &self.widths
    }

    /// The quality of queries naming none.
    pub fn default_quality(&self) -> u8 {
        self.default_quality
    }

    /// The largest size a query may name.
    pub fn max_dimension(&self) -> u32 {
        self.max_dimension
    }

    /// `asked` rounded up to the next allowed size; the largest allowed size for anything
    /// above it.
    pub fn snap(&self, asked: u32) -> u32 {
        self.widths
            .iter()
            .copied()
            .find(|&allowed| allowed >= asked)
            .unwrap_or(self.widths[self.widths.len() - 1])
    }
}

impl Default for VariantSettings {
    fn default() -> Self {
        Self {
            widths: Self::DEFAULT_WIDTHS.to_vec(),
            default_quality: Self::DEFAULT_QUALITY,
            max_dimension: Self::DEFAULT_MAX_DIMENSION,
        }
    }
}

/// A checked variant request: what to render, and whether its format came from the `Accept`
/// header (then the response varies with it: `Vary: Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantRequest {
    /// The variant, snapped.
    pub spec: VariantSpec,
    /// Whether the format was chosen from `Accept` (no `format` in the query).
    pub negotiated: bool,
}

/// Qualities are snapped up to a multiple of this, so one image has at most 20 per size.
const QUALITY_STEP: u8 = 5;

impl VariantRequest {
    /// Checks `query` for an original stored as `original` (from its key's extension), with
    /// `accept` the request's `Accept` header. `Ok(None)` when the query asks for the original
    /// itself: no parameter, or only `format` naming the original's format (or `origin`).
    ///
    /// - `width`, `height`: integers from 1 to the settings' largest dimension, each rounded
    ///   up to the next allowed size (the largest allowed above it).
    /// - `resize`: `cover` (default), `contain` or `fill`; it matters only with both sizes.
    /// - `quality`: an integer from 1 to 100, rounded up to a multiple of 5; the settings'
    ///   default when absent; fixed at 100 for PNG, which is lossless.
    /// - `format`: `webp`, `jpeg`, `png` or `origin`; when absent, WebP if `Accept` names
    ///   `image/webp` (see [`accepts_webp`]), else JPEG.
    ///
    /// # Errors
    /// Every bad parameter at once, in the contract's wording (`width must be an integer from 1
    /// to 8192`, `resize must be one of cover, contain, fill`, …).
    pub fn parse(
        query: &RawVariantQuery,
        accept: Option<&str>,
        original: OutputFormat,
        settings: &VariantSettings,
    ) -> Result<Option<Self>, ValidationErrors> {
        if query.is_empty() {
            return Ok(None);
        }
        let max = settings.max_dimension;
        let width = dimension("width", query.width.as_deref(), max);
        let height = dimension("height", query.height.as_deref(), max);
        let resize = match query.resize.as_deref() {
            None => Ok(Resize::default()),
            Some(value) => Resize::parse(value).ok_or_else(|| {
                ValidationErrors::single("resize must be one of cover, contain, fill")
            }),
        };
        let quality = match query.quality.as_deref() {
            None => Ok(None),
            Some(value) => match value.parse::<u8>() {
                Ok(q) if (1..=100).contains(&q) => Ok(Some(q)),
                _ => Err(ValidationErrors::single(
                    "quality must be an integer from 1 to 100",
                )),
            },
        };
        let format = match query.format.as_deref() {
            None => Ok(None),
            Some("webp") => Ok(Some(OutputFormat::Webp)),
            Some("jpeg") => Ok(Some(OutputFormat::Jpeg)),
            Some("png") => Ok(Some(OutputFormat::Png)),
            Some("origin") => Ok(Some(original)),
            Some(_) => Err(ValidationErrors::single(
                "format must be one of webp, jpeg, png, origin",
            )),
        };
        Collector::default()
            .note(&width)
            .note(&height)
            .note(&resize)
            .note(&quality)
            .note(&format)
            .finish()?;
        let (Ok(width), Ok(height), Ok(resize), Ok(quality), Ok(format)) =
            (width, height, resize, quality, format)
        else {
            // The collector returned every error above.
            return Err(ValidationErrors::single("invalid variant query"));
        };
        if width.is_none() && height.is_none() && quality.is_none() && format == Some(original) {
            return Ok(None);
        }
        let negotiated = format.is_none();
        let format = format.unwrap_or(if accepts_webp(accept) {
            OutputFormat::Webp
        } else {
            OutputFormat::Jpeg
        });
        let quality = if format.is_lossy() {
            snap_quality(quality.unwrap_or(settings.default_quality))
        } else {
            100
        };
        let width = width.map(|w| settings.snap(w));
        let height = height.map(|h| settings.snap(h));
        // With fewer than two sizes the proportions are kept whatever the mode: one name for
        // one rendering.
        let resize = if width.is_some() && height.is_some() {
            resize
        } else {
            Resize::Contain
        };
        Ok(Some(Self {
            spec: VariantSpec {
                width,
                height,
                resize,
                quality,
                format,
            },
            negotiated,
        }))
    }
}

/// A size parameter: absent, or an integer from 1 to `max`.
fn dimension(name: &str, value: Option<&str>, max: u32) -> Result<Option<u32>, ValidationErrors> {
    match value {
        None => Ok(None),
        Some(value) => match value.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ValidationErrors::single(format!(
                "{name} must be an integer from 1 to {max}"
            ))),
        },
    }
}

/// `quality` rounded up to a multiple of [`QUALITY_STEP`] (at most 100).
fn snap_quality(quality: u8) -> u8 {
    quality
        .div_ceil(QUALITY_STEP)
        .saturating_mul(QUALITY_STEP)
        .min(100)
}

/// Whether an `Accept` header names `image/webp` with a quality above zero. Only an explicit
/// `image/webp` counts (as image proxies do): `image/*` and `*/*` are also sent by clients
/// that cannot decode WebP.
pub fn accepts_webp(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("image/webp") {
            return false;
        }
        parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .all(|q| q.trim().parse::<f32>().map_or(true, |q| q > 0.0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> RawVariantQuery {
        let mut query = RawVariantQuery::default();
        for (name, value) in pairs {
            let value = Some((*value).to_owned());
            match *name {
                "width" => query.width = value,
                "height" => query.height = value,
                "resize" => query.resize = value,
                "quality" => query.quality = value,
                "format" => query.format = value,
                other => panic!("{other}"),
            }
        }
        query
    }

    fn parse(
        pairs: &[(&str, &str)],
        accept: Option<&str>,
    ) -> Result<Option<VariantRequest>, ValidationErrors> {
        VariantRequest::parse(
            &query(pairs),
            accept,
            OutputFormat::Png,
            &VariantSettings::default(),
        )
    }

    #[test]
    fn the_mobile_clients_query_is_a_snapped_webp_cover() {
        let request = parse(
            &[
                ("width", "256"),
                ("height", "256"),
                ("resize", "cover"),
                ("quality", "80"),
            ],
            Some("image/webp,image/apng,image/*,*/*;q=0.8"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            request.spec,
            VariantSpec {
                width: Some(256),
                height: Some(256),
                resize: Resize::Cover,
                quality: 80,
                format: OutputFormat::Webp,
            }
        );
        assert!(request.negotiated);
    }

    #[test]
    fn odd_sizes_round_up_to_the_next_allowed_and_cap_at_the_largest() {
        let spec = |w: &str| parse(&[("width", w)], None).unwrap().unwrap().spec.width;
        assert_eq!(spec("1"), Some(64));
        assert_eq!(spec("64"), Some(64));
        assert_eq!(spec("65"), Some(128));
        assert_eq!(spec("300"), Some(384));
        assert_eq!(spec("1024"), Some(1024));
        assert_eq!(spec("1500"), Some(1024));
        assert_eq!(spec("8192"), Some(1024));
    }

    #[test]
    fn bad_parameters_are_all_reported() {
        let errors = parse(
            &[
                ("width", "0"),
                ("height", "100000"),
                ("resize", "bogus"),
                ("quality", "1000"),
                ("format", "gif"),
            ],
            None,
        )
        .unwrap_err();
        assert_eq!(
            errors.messages(),
            [
                "width must be an integer from 1 to 8192",
                "height must be an integer from 1 to 8192",
                "resize must be one of cover, contain, fill",
                "quality must be an integer from 1 to 100",
                "format must be one of webp, jpeg, png, origin",
            ]
        );
        for bad in ["-1", "1.5", "", " 5", "abc", "4294967296"] {
            assert!(parse(&[("width", bad)], None).is_err(), "{bad:?}");
            assert!(parse(&[("quality", bad)], None).is_err(), "{bad:?}");
        }
        assert!(parse(&[("quality", "0")], None).is_err());
    }

    #[test]
    fn quality_snaps_up_to_a_multiple_of_five_and_png_ignores_it() {
        let quality = |q: &str, f: &str| {
            parse(&[("quality", q), ("format", f)], None)
                .unwrap()
                .unwrap()
                .spec
                .quality
        };
        assert_eq!(quality("1", "jpeg"), 5);
        assert_eq!(quality("76", "webp"), 80);
        assert_eq!(quality("100", "webp"), 100);
        assert_eq!(quality("5", "png"), 100);
        let default = parse(&[("width", "256")], None).unwrap().unwrap();
        assert_eq!(default.spec.quality, 80);
    }

    #[test]
    fn the_format_follows_accept_unless_named() {
        let format = |pairs: &[(&str, &str)], accept| parse(pairs, accept).unwrap().unwrap();
        assert_eq!(
            format(&[("width", "64")], Some("image/webp")).spec.format,
            OutputFormat::Webp
        );
        assert_eq!(
            format(&[("width", "64")], Some("image/png,image/*;q=0.8"))
                .spec
                .format,
            OutputFormat::Jpeg
        );
        assert_eq!(
            format(&[("width", "64")], None).spec.format,
            OutputFormat::Jpeg
        );
        let named = format(&[("width", "64"), ("format", "png")], Some("image/webp"));
        assert_eq!(named.spec.format, OutputFormat::Png);
        assert!(!named.negotiated);
        let origin = format(&[("width", "64"), ("format", "origin")], Some("image/webp"));
        assert_eq!(origin.spec.format, OutputFormat::Png);
    }

    #[test]
    fn asking_for_the_original_is_no_variant() {
        assert_eq!(parse(&[], Some("image/webp")).unwrap(), None);
        assert_eq!(parse(&[("format", "origin")], None).unwrap(), None);
        assert_eq!(parse(&[("format", "png")], None).unwrap(), None);
        assert!(parse(&[("format", "webp")], None).unwrap().is_some());
    }

    #[test]
    fn resize_matters_only_with_both_sizes() {
        let one = parse(&[("width", "256"), ("resize", "fill")], None)
            .unwrap()
            .unwrap();
        assert_eq!(one.spec.resize, Resize::Contain);
        let both = parse(
            &[("width", "256"), ("height", "128"), ("resize", "fill")],
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(both.spec.resize, Resize::Fill);
    }

    #[test]
    fn webp_must_be_named_with_a_positive_quality() {
        assert!(accepts_webp(Some("image/avif,image/webp,*/*")));
        assert!(accepts_webp(Some("IMAGE/WEBP;q=0.5")));
        assert!(!accepts_webp(Some("image/webp;q=0")));
        assert!(!accepts_webp(Some("image/*,*/*;q=0.8")));
        assert!(!accepts_webp(None));
    }

    #[test]
    fn settings_snap_and_refuse_empty_or_zero_sizes() {
        let settings = VariantSettings::new(vec![512, 100, 100], 75, 4096).unwrap();
        assert_eq!(settings.widths(), [100, 512]);
        assert_eq!(settings.snap(101), 512);
        assert!(VariantSettings::new(vec![], 80, 4096).is_err());
        assert!(VariantSettings::new(vec![0, 5], 80, 4096).is_err());
        assert!(VariantSettings::new(vec![5000], 80, 4096).is_err());
        assert!(VariantSettings::new(vec![64], 0, 4096).is_err());
    }
}
