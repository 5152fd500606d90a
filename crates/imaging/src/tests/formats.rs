//! Encodings: JPEG, PNG, WebP with and without transparency; quality; determinism.

use image::{DynamicImage, GenericImageView, ImageFormat};
use picture_domain::ports::ImageRenderer;
use picture_domain::variant::{OutputFormat, Resize};

use super::{decoded, half_transparent, photo_jpeg, photo_png, png, renderer, spec};

#[tokio::test]
async fn jpeg_and_png_outputs_decode_at_their_size() {
    let r = renderer();
    for (format, expected) in [
        (OutputFormat::Jpeg, ImageFormat::Jpeg),
        (OutputFormat::Png, ImageFormat::Png),
    ] {
        let out = r
            .render(
                photo_png(1024, 768, 10),
                spec(Some(256), Some(256), Resize::Cover, 80, format),
            )
            .await
            .unwrap();
        assert_eq!(out.format, format);
        assert_eq!(image::guess_format(&out.bytes).unwrap(), expected);
        assert_eq!(decoded(&out.bytes).dimensions(), (256, 256));
    }
}

#[tokio::test]
async fn jpeg_and_webp_sources_are_read_too() {
    let r = renderer();
    let from_jpeg = r
        .render(
            photo_jpeg(640, 480, 11),
            spec(Some(320), None, Resize::Cover, 80, OutputFormat::Webp),
        )
        .await
        .unwrap();
    assert_eq!(decoded(&from_jpeg.bytes).dimensions(), (320, 240));
    let from_webp = r
        .render(
            from_jpeg.bytes,
            spec(Some(160), None, Resize::Cover, 80, OutputFormat::Png),
        )
        .await
        .unwrap();
    assert_eq!(decoded(&from_webp.bytes).dimensions(), (160, 120));
}

#[tokio::test]
async fn transparency_becomes_white_in_jpeg() {
    let source = png(&DynamicImage::ImageRgba8(half_transparent(64)));
    let r = renderer();
    for width in [None, Some(32)] {
        let out = r
            .render(
                source.clone(),
                spec(width, None, Resize::Cover, 90, OutputFormat::Jpeg),
            )
            .await
            .unwrap();
        let jpeg = decoded(&out.bytes).into_rgb8();
        let side = jpeg.width();
        let left = jpeg.get_pixel(side / 8, side / 2);
        assert!(left.0.iter().all(|&c| c > 240), "white, got {left:?}");
        let right = jpeg.get_pixel(side - side / 8, side / 2);
        assert!(
            right[0] > 200 && right[1] < 60 && right[2] < 60,
            "red, got {right:?}"
        );
    }
}

#[tokio::test]
async fn transparency_is_kept_in_png_and_webp_without_dark_fringes() {
    let source = png(&DynamicImage::ImageRgba8(half_transparent(64)));
    let r = renderer();
    for format in [OutputFormat::Png, OutputFormat::Webp] {
        let out = r
            .render(
                source.clone(),
                spec(Some(24), None, Resize::Cover, 100, format),
            )
            .await
            .unwrap();
        let image = decoded(&out.bytes);
        assert!(
            image.color().has_alpha(),
            "{format:?} keeps the alpha channel"
        );
        let rgba = image.into_rgba8();
        assert_eq!(
            rgba.get_pixel(2, 12)[3],
            0,
            "{format:?}: transparent stays so"
        );
        assert_eq!(
            rgba.get_pixel(21, 12)[3],
            255,
            "{format:?}: opaque stays so"
        );
        if format == OutputFormat::Png {
            // Premultiplied filtering: the edge's half-transparent pixels keep the red
            // instead of mixing with the transparent pixels' black.
            for pixel in rgba.pixels().filter(|p| p[3] > 16) {
                assert!(pixel[0] > 200, "no dark fringe, got {pixel:?}");
            }
        }
    }
}

#[tokio::test]
async fn lower_quality_gives_fewer_bytes() {
    let r = renderer();
    for format in [OutputFormat::Webp, OutputFormat::Jpeg] {
        let at = |quality| {
            let r = r.clone();
            async move {
                r.render(
                    photo_png(1024, 1024, 12),
                    spec(Some(256), Some(256), Resize::Cover, quality, format),
                )
                .await
                .unwrap()
                .bytes
                .len()
            }
        };
        let (low, high) = (at(20).await, at(90).await);
        assert!(low < high, "{format:?}: q20 {low} bytes, q90 {high} bytes");
    }
}

#[tokio::test]
async fn the_same_input_gives_the_same_bytes() {
    let r = renderer();
    let source = photo_png(1024, 768, 13);
    for format in [OutputFormat::Webp, OutputFormat::Jpeg, OutputFormat::Png] {
        let variant = spec(Some(256), Some(256), Resize::Cover, 80, format);
        let first = r.render(source.clone(), variant).await.unwrap();
        let second = r.render(source.clone(), variant).await.unwrap();
        assert_eq!(first, second, "{format:?}");
    }
}
