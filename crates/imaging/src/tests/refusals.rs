//! Sources refused: too many pixels, not an image.

use std::time::{Duration, Instant};

use picture_domain::ports::{ImageRenderer, RenderError};
use picture_domain::variant::{OutputFormat, Resize};

use super::{photo_jpeg, photo_png, renderer, spec};
use crate::{ImagingSettings, Renderer};

fn thumbnail() -> picture_domain::variant::VariantSpec {
    spec(Some(256), Some(256), Resize::Cover, 80, OutputFormat::Webp)
}

#[tokio::test]
async fn more_pixels_than_the_setting_are_refused() {
    let r = Renderer::new(ImagingSettings {
        max_pixels: 1000,
        ..ImagingSettings::default()
    });
    let refused = RenderError::TooManyPixels {
        width: 64,
        height: 64,
        limit: 1000,
    };
    assert_eq!(
        r.render(photo_png(64, 64, 30), thumbnail()).await,
        Err(refused.clone())
    );
    assert_eq!(r.blurhash(photo_png(64, 64, 30)).await, Err(refused));
    assert!(r.render(photo_png(40, 25, 30), thumbnail()).await.is_ok());
}

#[tokio::test]
async fn an_image_of_exactly_the_limit_renders_in_every_source_format() {
    let r = Renderer::new(ImagingSettings {
        max_pixels: 800 * 600,
        ..ImagingSettings::default()
    });
    let rgba = image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(800, 600, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, ((x + y) % 256) as u8])
    }));
    let rgb16 = image::DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(800, 600, |x, _| {
        image::Rgb([(x * 80) as u16, 30_000, 60_000])
    }));
    let webp = renderer()
        .render(
            photo_png(800, 600, 37),
            spec(None, None, Resize::Cover, 80, OutputFormat::Webp),
        )
        .await
        .unwrap()
        .bytes;
    for (name, source) in [
        ("PNG", photo_png(800, 600, 35)),
        ("WebP", webp),
        ("RGBA PNG", super::png(&rgba)),
        ("16-bit PNG", super::png(&rgb16)),
        ("JPEG", photo_jpeg(800, 600, 36)),
    ] {
        let out = r.render(source.clone(), thumbnail()).await;
        assert_eq!(out.map(|o| (o.width, o.height)), Ok((256, 256)), "{name}");
        assert!(r.blurhash(source).await.is_ok(), "{name}");
    }
}

/// A real PNG whose IHDR claims `width`×`height` (its CRC left stale: nothing may read on).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = photo_png(64, 64, 31);
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    png
}

/// A real JPEG whose SOF0 frame header claims `width`×`height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = photo_jpeg(64, 64, 32);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

#[tokio::test]
async fn a_bomb_header_is_refused_without_decoding() {
    let r = renderer();
    for (source, width, height) in [
        (png_claiming(60_000, 60_000), 60_000, 60_000),
        (jpeg_claiming(60_000, 60_000), 60_000, 60_000),
    ] {
        let started = Instant::now();
        let result = r.render(source, thumbnail()).await;
        let took = started.elapsed();
        assert_eq!(
            result,
            Err(RenderError::TooManyPixels {
                width,
                height,
                limit: ImagingSettings::DEFAULT_MAX_PIXELS,
            })
        );
        assert!(took < Duration::from_millis(200), "answered in {took:?}");
    }
}

#[tokio::test]
async fn what_is_not_an_image_is_refused() {
    let r = renderer();
    let full = photo_png(256, 256, 33);
    let truncated_png = full[..full.len() / 2].to_vec();
    let only_a_png_header = full[..33].to_vec();
    let jpeg = photo_jpeg(256, 256, 34);
    let truncated_jpeg = jpeg[..jpeg.len() / 3].to_vec();
    let webp = {
        let r = renderer();
        r.render(full.clone(), thumbnail()).await.unwrap().bytes
    };
    let truncated_webp = webp[..webp.len() / 2].to_vec();
    let gif = b"GIF89a\x10\x00\x10\x00\x80\x00\x00".to_vec();
    let garbage: Vec<u8> = (0u32..4096).map(|i| (i * 7919 % 251) as u8).collect();
    for (name, source) in [
        ("empty", Vec::new()),
        ("garbage", garbage),
        ("text", b"definitely not an image".to_vec()),
        ("truncated PNG", truncated_png),
        ("PNG header only", only_a_png_header),
        ("truncated JPEG", truncated_jpeg),
        ("truncated WebP", truncated_webp),
        ("GIF", gif),
        ("zero-sized PNG", png_claiming(0, 64)),
    ] {
        assert_eq!(
            r.render(source.clone(), thumbnail()).await,
            Err(RenderError::NotAnImage),
            "{name}"
        );
        assert_eq!(
            r.blurhash(source).await,
            Err(RenderError::NotAnImage),
            "{name}"
        );
    }
}

#[tokio::test]
async fn corrupted_images_never_panic() {
    let webp = renderer()
        .render(
            photo_png(48, 40, 38),
            spec(None, None, Resize::Cover, 80, OutputFormat::Webp),
        )
        .await
        .unwrap()
        .bytes;
    let deadline = crate::deadline::Deadline::after(Duration::MAX);
    let small = spec(Some(16), Some(16), Resize::Cover, 80, OutputFormat::Jpeg);
    let mut decoded = 0;
    for original in [photo_png(48, 40, 39), photo_jpeg(48, 40, 40), webp] {
        for round in 0u32..150 {
            let mut bytes = original.clone();
            // Deterministic corruption: a few bytes overwritten, sometimes a cut.
            for k in 0..(1 + round % 4) {
                let at = (round.wrapping_mul(2_654_435_761) ^ k.wrapping_mul(40_503)) as usize
                    % bytes.len();
                bytes[at] = (round * 31 + k * 7) as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(bytes.len() * (round as usize % 97 + 1) / 100);
            }
            let rendered = crate::pipeline::render(&bytes, &small, 10_000_000, deadline);
            let hashed = crate::pipeline::blurhash(&bytes, 10_000_000, deadline);
            match (rendered, hashed) {
                (Ok(_), Ok(_)) => decoded += 1,
                (Err(RenderError::NotAnImage | RenderError::TooManyPixels { .. }), Err(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(
        decoded > 0,
        "some corruptions still decode (e.g. in pixel data)"
    );
}
