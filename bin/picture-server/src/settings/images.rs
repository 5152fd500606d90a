//! Image variants and placeholders: the allowed sizes, the renderer's pool and limits.

use std::time::Duration;

use picture_domain::variant::VariantSettings;
use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// The sizes variants are rendered at, in pixels, comma-separated (default
    /// `64,128,256,384,512,768,1024`); a `width` or `height` in between is rounded up to the
    /// next, one above the largest becomes the largest.
    IMAGE_VARIANT_WIDTHS,
    /// The quality of a variant whose query names none (default 80, 1 to 100).
    IMAGE_VARIANT_DEFAULT_QUALITY,
    /// The largest `width` or `height` a variant query may name (default 8192); larger is a 400.
    IMAGE_VARIANT_MAX_DIMENSION,
    /// Threads rendering variants and placeholders at once (default: the number of cores; at
    /// least 1). Further renders wait, up to the time limit.
    IMAGE_RENDER_THREADS,
    /// The most pixels (width × height) of an image the renderer decodes (default 50000000);
    /// an image with more is refused (400 `image_too_large`) before anything is decoded.
    IMAGE_RENDER_MAX_PIXELS,
    /// The longest a render may take or wait for a thread, in seconds (default 10, 1 to 120).
    IMAGE_RENDER_TIMEOUT_SECS,
}

/// The variant and renderer settings.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// The allowed sizes, default quality and largest dimension.
    pub variants: VariantSettings,
    /// [`IMAGE_RENDER_THREADS`].
    pub render_threads: usize,
    /// [`IMAGE_RENDER_MAX_PIXELS`].
    pub max_pixels: u64,
    /// [`IMAGE_RENDER_TIMEOUT_SECS`].
    pub render_timeout: Duration,
}

impl ImageSettings {
    /// Reads the variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let widths = match source.list(IMAGE_VARIANT_WIDTHS) {
            None => VariantSettings::DEFAULT_WIDTHS.to_vec(),
            Some(items) => items
                .iter()
                .map(|item| item.trim().parse::<u32>())
                .collect::<Result<Vec<u32>, _>>()
                .map_err(|_| {
                    InvalidSetting::new(
                        IMAGE_VARIANT_WIDTHS,
                        "must be whole numbers separated by commas",
                    )
                })?,
        };
        let quality: u8 = source.parse(
            IMAGE_VARIANT_DEFAULT_QUALITY,
            VariantSettings::DEFAULT_QUALITY,
            "a whole number from 1 to 100",
        )?;
        let max_dimension: u32 = source.parse(
            IMAGE_VARIANT_MAX_DIMENSION,
            VariantSettings::DEFAULT_MAX_DIMENSION,
            "a whole number",
        )?;
        let variants = VariantSettings::new(widths, quality, max_dimension)
            .map_err(|errors| InvalidSetting::new(IMAGE_VARIANT_WIDTHS, errors.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let render_threads: usize = source.parse(IMAGE_RENDER_THREADS, cores, "a whole number")?;
        if render_threads == 0 {
            return Err(InvalidSetting::new(
                IMAGE_RENDER_THREADS,
                "must be at least 1",
            ));
        }
        let max_pixels: u64 =
            source.parse(IMAGE_RENDER_MAX_PIXELS, 50_000_000, "a whole number")?;
        if max_pixels == 0 {
            return Err(InvalidSetting::new(
                IMAGE_RENDER_MAX_PIXELS,
                "must be at least 1",
            ));
        }
        let render_timeout = source.seconds(IMAGE_RENDER_TIMEOUT_SECS, 10)?;
        if render_timeout.is_zero() || render_timeout > Duration::from_secs(120) {
            return Err(InvalidSetting::new(
                IMAGE_RENDER_TIMEOUT_SECS,
                "must be 1 to 120",
            ));
        }
        Ok(Self {
            variants,
            render_threads,
            max_pixels,
            render_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<ImageSettings, InvalidSetting> {
        ImageSettings::from_source(&Source::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        ))
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = read(&[]).unwrap();
        assert_eq!(s.variants, VariantSettings::default());
        assert!(s.render_threads >= 1);
        assert_eq!(s.max_pixels, 50_000_000);
        assert_eq!(s.render_timeout, Duration::from_secs(10));
    }

    #[test]
    fn sizes_are_read_as_a_list_and_bad_values_name_their_variable() {
        let s = read(&[("IMAGE_VARIANT_WIDTHS", "512, 100")]).unwrap();
        assert_eq!(s.variants.widths(), [100, 512]);
        for (name, value) in [
            ("IMAGE_VARIANT_WIDTHS", "a,b"),
            ("IMAGE_VARIANT_WIDTHS", "0,64"),
            ("IMAGE_VARIANT_DEFAULT_QUALITY", "0"),
            ("IMAGE_VARIANT_DEFAULT_QUALITY", "101"),
            ("IMAGE_RENDER_THREADS", "0"),
            ("IMAGE_RENDER_MAX_PIXELS", "0"),
            ("IMAGE_RENDER_TIMEOUT_SECS", "0"),
            ("IMAGE_RENDER_TIMEOUT_SECS", "121"),
        ] {
            let error = read(&[(name, value)]).unwrap_err();
            assert!(error.to_string().contains(name), "{name}={value}: {error}");
        }
    }
}
