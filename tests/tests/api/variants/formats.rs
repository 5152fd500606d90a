//! Formats and qualities: WebP only for clients that accept it, else JPEG; `format` names one;
//! `format=origin` alone is the original itself; qualities from 1 to 100 and nothing else.

use image::ImageFormat;
use picture_tests::{TestApp, on_both_databases};

use super::{COUNTERS, assert_error, generated, get_variant, image_of, key_of, variant, vary};

on_both_databases!(
    the_format_follows_accept_unless_one_is_named,
    qualities_from_1_to_100_are_accepted_and_change_the_size,
);

const BOX: &str = "width=256&height=256&resize=cover";

async fn the_format_follows_accept_unless_one_is_named(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let token = app.token("formats", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    let original = image_of(get_variant(&app, &key, "", None).await, "the original").await;
    for (accept, format, content_type) in [
        (Some("image/webp,*/*"), ImageFormat::WebP, "image/webp"),
        (
            Some("image/avif,image/webp,image/apng,*/*;q=0.8"),
            ImageFormat::WebP,
            "image/webp",
        ),
        (
            Some("image/png,image/*;q=0.8"),
            ImageFormat::Jpeg,
            "image/jpeg",
        ),
        (Some("*/*"), ImageFormat::Jpeg, "image/jpeg"),
        (Some("image/webp;q=0"), ImageFormat::Jpeg, "image/jpeg"),
        (None, ImageFormat::Jpeg, "image/jpeg"),
    ] {
        let response = get_variant(&app, &key, BOX, accept).await;
        assert!(
            vary(response.headers()).contains(&"accept".to_owned()),
            "{accept:?}"
        );
        let served = image_of(response, BOX).await;
        assert_eq!(served.format, format, "Accept {accept:?}");
        assert_eq!(served.content_type, content_type, "Accept {accept:?}");
        assert_eq!(served.size(), (256, 256));
    }
    for (query, format, content_type) in [
        ("format=png", ImageFormat::Png, "image/png"),
        ("format=jpeg", ImageFormat::Jpeg, "image/jpeg"),
        ("format=webp", ImageFormat::WebP, "image/webp"),
    ] {
        // The named format wins over Accept, both ways.
        for accept in [Some("image/webp,*/*"), Some("image/jpeg"), None] {
            let response = get_variant(&app, &key, &format!("{BOX}&{query}"), accept).await;
            assert!(
                !vary(response.headers()).contains(&"accept".to_owned()),
                "{query}"
            );
            let served = image_of(response, query).await;
            assert_eq!(served.format, format, "{query} with {accept:?}");
            assert_eq!(served.content_type, content_type);
            assert_eq!(served.size(), (256, 256));
        }
    }
    // `format=origin` with a size: the original's format, resized.
    let same_format = variant(
        &app,
        &key,
        &format!("{BOX}&format=origin"),
        Some("image/webp"),
    )
    .await;
    assert_eq!(same_format.format, original.format);
    assert_eq!(same_format.size(), (256, 256));
    // `format=origin` alone: the original, byte for byte.
    for accept in [Some("image/webp,*/*"), None] {
        let served = variant(&app, &key, "format=origin", accept).await;
        assert_eq!(
            served.bytes, original.bytes,
            "format=origin alone is the original"
        );
        assert_eq!(served.size(), (1024, 1024));
    }
}

async fn qualities_from_1_to_100_are_accepted_and_change_the_size(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let token = app.token("qualities", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    for quality in ["1", "100", "5", "99"] {
        for format in ["webp", "jpeg"] {
            let query = format!("width=512&quality={quality}&format={format}");
            let served = variant(&app, &key, &query, None).await;
            assert_eq!(served.size(), (512, 512), "{query}");
        }
    }
    for quality in ["0", "101", "1000", "abc", "-5", "80.5"] {
        let query = format!("width=512&quality={quality}");
        let response = get_variant(&app, &key, &query, Some("image/webp")).await;
        assert_error(response, 400, "validation_failed", &query).await;
    }
    for format in ["webp", "jpeg"] {
        let low = variant(
            &app,
            &key,
            &format!("width=1024&quality=20&format={format}"),
            None,
        )
        .await;
        let high = variant(
            &app,
            &key,
            &format!("width=1024&quality=90&format={format}"),
            None,
        )
        .await;
        assert!(
            low.bytes.len() < high.bytes.len(),
            "{format}: quality 20 is {} bytes, quality 90 {} bytes",
            low.bytes.len(),
            high.bytes.len()
        );
    }
}
