//! A variant, once snapped: the exact image to render and store.

use std::fmt;

/// How the image is fitted into a box of both a width and a height (Supabase's `resize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resize {
    /// Scaled to cover the box, then cropped to it around the centre (the default).
    #[default]
    Cover,
    /// Scaled to fit inside the box, keeping its proportions, without padding: a 1024×768
    /// image in 256×256 becomes 256×192.
    Contain,
    /// Stretched to the box, proportions ignored.
    Fill,
}

impl Resize {
    /// The query value: `cover`, `contain` or `fill`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cover => "cover",
            Self::Contain => "contain",
            Self::Fill => "fill",
        }
    }

    /// The mode named `value` (exactly as [`as_str`](Self::as_str) writes it).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "cover" => Some(Self::Cover),
            "contain" => Some(Self::Contain),
            "fill" => Some(Self::Fill),
            _ => None,
        }
    }
}

/// The format a variant is encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// Lossy WebP at the variant's quality.
    Webp,
    /// Baseline JPEG at the variant's quality (no transparency: composited on white).
    Jpeg,
    /// Lossless PNG (the quality does not apply).
    Png,
}

impl OutputFormat {
    /// The file extension: `webp`, `jpeg` or `png`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The format whose extension is `extension` (`jpg` too), as an original's key ends.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "webp" => Some(Self::Webp),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            _ => None,
        }
    }

    /// Whether the quality setting changes the output (not for lossless PNG).
    pub fn is_lossy(self) -> bool {
        !matches!(self, Self::Png)
    }
}

/// A variant as rendered and stored: sizes already snapped to the allowed set, the quality
/// snapped (and fixed at 100 for PNG), the format decided. Two requests that snap to the same
/// spec share one stored variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VariantSpec {
    /// The box width, if one was asked for.
    pub width: Option<u32>,
    /// The box height, if one was asked for.
    pub height: Option<u32>,
    /// How the image is fitted when both are given.
    pub resize: Resize,
    /// Encoder quality, 1 to 100.
    pub quality: u8,
    /// Output format.
    pub format: OutputFormat,
}

/// The version of the rendering, part of every variant's name: a change to how variants are
/// rendered bumps it, so that stored variants (served as immutable) are never mistaken for the
/// new rendering.
pub(crate) const RENDER_VERSION: u32 = 1;

impl VariantSpec {
    /// The variant's file name, unique per spec: `v1-256x256-cover-q80.webp`, with `auto` for
    /// a dimension not asked for.
    pub fn file_name(&self) -> String {
        let dimension = |d: Option<u32>| d.map_or_else(|| "auto".to_owned(), |d| d.to_string());
        format!(
            "v{RENDER_VERSION}-{}x{}-{}-q{}.{}",
            dimension(self.width),
            dimension(self.height),
            self.resize.as_str(),
            self.quality,
            self.format.extension()
        )
    }
}

impl fmt::Display for VariantSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_every_field() {
        let spec = VariantSpec {
            width: Some(256),
            height: None,
            resize: Resize::Contain,
            quality: 80,
            format: OutputFormat::Webp,
        };
        assert_eq!(spec.file_name(), "v1-256xauto-contain-q80.webp");
    }

    #[test]
    fn resize_modes_round_trip() {
        for mode in [Resize::Cover, Resize::Contain, Resize::Fill] {
            assert_eq!(Resize::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(Resize::parse("Cover"), None);
        assert_eq!(Resize::parse("bogus"), None);
    }
}
