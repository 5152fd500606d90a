//! Sizes and crops of variants.

use image::{DynamicImage, GenericImageView, ImageFormat, Rgb};
use picture_domain::ports::ImageRenderer;
use picture_domain::variant::{OutputFormat, Resize};

use super::{decoded, photo_png, png, renderer, spec};
use crate::sample_photo::photo;

#[tokio::test]
async fn a_square_cover_webp_is_a_lossy_webp_of_the_box() {
    let source = photo_png(1024, 1024, 1);
    let out = renderer()
        .render(
            source,
            spec(Some(256), Some(256), Resize::Cover, 80, OutputFormat::Webp),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.width, out.height, out.format),
        (256, 256, OutputFormat::Webp)
    );
    assert_eq!(&out.bytes[..4], b"RIFF");
    assert_eq!(&out.bytes[8..12], b"WEBP");
    assert_eq!(&out.bytes[12..16], b"VP8 ", "a lossy (VP8) bitstream");
    assert_eq!(image::guess_format(&out.bytes).unwrap(), ImageFormat::WebP);
    assert_eq!(decoded(&out.bytes).dimensions(), (256, 256));
}

#[tokio::test]
async fn contain_fits_inside_the_box() {
    let out = renderer()
        .render(
            photo_png(1024, 768, 2),
            spec(
                Some(256),
                Some(256),
                Resize::Contain,
                80,
                OutputFormat::Webp,
            ),
        )
        .await
        .unwrap();
    assert_eq!((out.width, out.height), (256, 192));
    assert_eq!(decoded(&out.bytes).dimensions(), (256, 192));
}

#[tokio::test]
async fn fill_stretches_to_the_box() {
    let out = renderer()
        .render(
            photo_png(1024, 768, 3),
            spec(Some(256), Some(128), Resize::Fill, 80, OutputFormat::Webp),
        )
        .await
        .unwrap();
    assert_eq!((out.width, out.height), (256, 128));
    assert_eq!(decoded(&out.bytes).dimensions(), (256, 128));
}

#[tokio::test]
async fn one_side_keeps_the_proportions_and_nothing_is_enlarged() {
    let r = renderer();
    let wide = r
        .render(
            photo_png(1024, 768, 4),
            spec(Some(512), None, Resize::Cover, 80, OutputFormat::Webp),
        )
        .await
        .unwrap();
    assert_eq!(decoded(&wide.bytes).dimensions(), (512, 384));
    let small = r
        .render(
            photo_png(100, 50, 4),
            spec(Some(1024), None, Resize::Cover, 80, OutputFormat::Png),
        )
        .await
        .unwrap();
    assert_eq!(decoded(&small.bytes).dimensions(), (100, 50));
}

/// A 1024×512 photo with a pure green band on its left 128 columns.
fn banded() -> Vec<u8> {
    let mut image = photo(1024, 512, 5);
    for (x, _, pixel) in image.enumerate_pixels_mut() {
        if x < 128 {
            *pixel = Rgb([0, 255, 0]);
        }
    }
    png(&DynamicImage::ImageRgb8(image))
}

/// Whether the pixel is the band's green (the photo's greens are mixed with red and blue).
fn is_band(pixel: image::Rgba<u8>) -> bool {
    pixel[0] < 40 && pixel[1] > 215 && pixel[2] < 40
}

#[tokio::test]
async fn cover_of_a_wide_image_crops_its_sides() {
    let r = renderer();
    let cover = r
        .render(
            banded(),
            spec(Some(256), Some(256), Resize::Cover, 100, OutputFormat::Png),
        )
        .await
        .unwrap();
    let cover = decoded(&cover.bytes);
    assert_eq!(cover.dimensions(), (256, 256));
    assert!(
        cover.pixels().all(|(_, _, p)| !is_band(p)),
        "the centre 512 columns are kept: the band is cropped away"
    );

    let contain = r
        .render(
            banded(),
            spec(
                Some(256),
                Some(256),
                Resize::Contain,
                100,
                OutputFormat::Png,
            ),
        )
        .await
        .unwrap();
    let contain = decoded(&contain.bytes);
    assert_eq!(contain.dimensions(), (256, 128));
    assert!(is_band(contain.get_pixel(5, 64)), "contain keeps the band");
    assert!(!is_band(contain.get_pixel(128, 64)));
}
