//! Which pixels of the original become the variant: the crop and the output size.
//!
//! Images are never enlarged: a box larger than the original is shrunk (keeping the box's
//! proportions for `cover`) until the original covers it.

use super::spec::{Resize, VariantSpec};

/// A rectangle of the original, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropRect {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// How to render a variant of an original of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderPlan {
    /// The part of the original to keep (`None`: all of it).
    pub crop: Option<CropRect>,
    /// The variant's width in pixels (at least 1).
    pub width: u32,
    /// The variant's height in pixels (at least 1).
    pub height: u32,
}

/// `value` rounded to the nearest integer, at least 1 and at most `max`.
fn rounded(value: f64, max: u32) -> u32 {
    // Sizes are at most a few tens of thousands: the conversion is exact.
    (value.round() as u32).clamp(1, max.max(1))
}

/// The plan for `spec` on an original of `width`×`height` pixels (both at least 1).
pub fn plan(width: u32, height: u32, spec: &VariantSpec) -> RenderPlan {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let whole = |out_w: u32, out_h: u32| RenderPlan {
        crop: None,
        width: out_w,
        height: out_h,
    };
    match (spec.width, spec.height) {
        (None, None) => whole(width.max(1), height.max(1)),
        (Some(bw), None) => {
            let scale = (f64::from(bw) / w).min(1.0);
            whole(rounded(w * scale, width), rounded(h * scale, height))
        }
        (None, Some(bh)) => {
            let scale = (f64::from(bh) / h).min(1.0);
            whole(rounded(w * scale, width), rounded(h * scale, height))
        }
        (Some(bw), Some(bh)) => {
            let (bw, bh) = (f64::from(bw), f64::from(bh));
            match spec.resize {
                Resize::Contain => {
                    let scale = (bw / w).min(bh / h).min(1.0);
                    whole(rounded(w * scale, width), rounded(h * scale, height))
                }
                Resize::Fill => whole(rounded(bw.min(w), width), rounded(bh.min(h), height)),
                Resize::Cover => {
                    // The scale at which the original covers the box; above 1 the box shrinks
                    // instead, so the original is never enlarged.
                    let cover = (bw / w).max(bh / h);
                    let (out_w, out_h) = if cover > 1.0 {
                        (bw / cover, bh / cover)
                    } else {
                        (bw, bh)
                    };
                    let scale = cover.min(1.0);
                    let crop_w = rounded(out_w / scale, width);
                    let crop_h = rounded(out_h / scale, height);
                    let crop = (crop_w, crop_h) != (width, height);
                    RenderPlan {
                        crop: crop.then(|| CropRect {
                            left: (width - crop_w) / 2,
                            top: (height - crop_h) / 2,
                            width: crop_w,
                            height: crop_h,
                        }),
                        width: rounded(out_w, width),
                        height: rounded(out_h, height),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::variant::OutputFormat;

    fn spec(width: Option<u32>, height: Option<u32>, resize: Resize) -> VariantSpec {
        VariantSpec {
            width,
            height,
            resize,
            quality: 80,
            format: OutputFormat::Webp,
        }
    }

    #[test]
    fn cover_crops_the_centre_to_the_box() {
        let square = plan(1024, 1024, &spec(Some(256), Some(256), Resize::Cover));
        assert_eq!((square.width, square.height, square.crop), (256, 256, None));
        let wide = plan(1024, 768, &spec(Some(256), Some(256), Resize::Cover));
        assert_eq!((wide.width, wide.height), (256, 256));
        assert_eq!(
            wide.crop,
            Some(CropRect {
                left: 128,
                top: 0,
                width: 768,
                height: 768
            })
        );
    }

    #[test]
    fn contain_fits_inside_without_padding() {
        let p = plan(1024, 768, &spec(Some(256), Some(256), Resize::Contain));
        assert_eq!((p.width, p.height, p.crop), (256, 192, None));
    }

    #[test]
    fn fill_stretches_to_the_box() {
        let p = plan(1024, 768, &spec(Some(256), Some(128), Resize::Fill));
        assert_eq!((p.width, p.height, p.crop), (256, 128, None));
    }

    #[test]
    fn one_size_keeps_the_proportions() {
        let p = plan(1024, 768, &spec(Some(512), None, Resize::Contain));
        assert_eq!((p.width, p.height), (512, 384));
        let p = plan(1024, 768, &spec(None, Some(384), Resize::Contain));
        assert_eq!((p.width, p.height), (512, 384));
    }

    #[test]
    fn nothing_is_enlarged() {
        let p = plan(100, 50, &spec(Some(1024), None, Resize::Contain));
        assert_eq!((p.width, p.height), (100, 50));
        let p = plan(100, 50, &spec(Some(256), Some(256), Resize::Cover));
        assert_eq!((p.width, p.height), (50, 50));
        assert_eq!(p.crop.map(|c| (c.left, c.width)), Some((25, 50)));
        let p = plan(100, 50, &spec(Some(256), Some(256), Resize::Fill));
        assert_eq!((p.width, p.height), (100, 50));
        let p = plan(300, 200, &spec(None, None, Resize::Cover));
        assert_eq!((p.width, p.height, p.crop), (300, 200, None));
    }

    proptest! {
        #[test]
        fn plans_stay_inside_the_original(
            w in 1u32..5000, h in 1u32..5000,
            bw in proptest::option::of(1u32..2000), bh in proptest::option::of(1u32..2000),
            mode in 0usize..3,
        ) {
            let resize = [Resize::Cover, Resize::Contain, Resize::Fill][mode];
            let p = plan(w, h, &spec(bw, bh, resize));
            prop_assert!(p.width >= 1 && p.height >= 1);
            prop_assert!(p.width <= w && p.height <= h);
            if let Some(c) = p.crop {
                prop_assert!(c.width >= 1 && c.height >= 1);
                prop_assert!(c.left + c.width <= w && c.top + c.height <= h);
            }
        }
    }
}
