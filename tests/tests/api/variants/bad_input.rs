//! Bad input: parameters out of range (400 `validation_failed`), unknown and deleted images
//! (404 `not_found`), objects that are no image (400 `invalid_image`, the code of damaged uploads), images over the render
//! limit (400 `image_too_large`); never a 5xx.

use std::path::PathBuf;

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};

use super::{COUNTERS, assert_error, delete_image, generated, get_variant, key_of, png, variant};

on_both_databases!(
    bad_parameters_are_a_400_in_the_error_shape,
    unknown_and_deleted_images_are_a_404,
    an_object_that_is_no_image_is_a_400,
);

const WEBP: Option<&str> = Some("image/webp");

/// Where the server keeps the object `key` (its local file store).
fn stored_path(app: &TestApp, key: &str) -> PathBuf {
    app.settings.database.data_dir.join("files").join(key)
}

/// Writes `bytes` as the object `key` of the server's local store.
fn store_object(app: &TestApp, key: &str, bytes: &[u8]) {
    let path = stored_path(app, key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

async fn bad_parameters_are_a_400_in_the_error_shape(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let token = app.token("bad-parameters", None);
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    for query in [
        "width=0",
        "height=0",
        "width=100000",
        "width=8193",
        "height=-1",
        "width=abc",
        "width=1.5",
        "resize=bogus",
        "width=256&resize=COVER",
        "format=gif",
        "format=avif",
        "width=0&height=0&resize=bogus&quality=0&format=gif",
        "width=99999999999999999999999",
    ] {
        let response = get_variant(&app, &key, query, WEBP).await;
        assert_error(response, 400, "validation_failed", query).await;
    }
    // Odd queries whose answer the contract leaves open: anything but a 5xx.
    for query in [
        "width=256&width=512",
        "width=%00",
        "width=%ff%fe",
        "width=256&unknown=1",
        "width=&height=",
        "quality=80",
        "resize=cover",
    ] {
        let response = get_variant(&app, &key, query, WEBP).await;
        let status = response.status();
        assert!(!status.is_server_error(), "{query}: {status}");
    }
    // The image is still served afterwards.
    let served = variant(&app, &key, "width=64", WEBP).await;
    assert_eq!(served.size(), (64, 64));
}

async fn unknown_and_deleted_images_are_a_404(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let token = app.token("deleted-variants", None);
    let unknown = "users/nobody/images/00000000-0000-4000-8000-000000000000.png";
    for query in [
        "width=256",
        "width=256&height=256&resize=cover&quality=80&format=webp",
    ] {
        let response = get_variant(&app, unknown, query, WEBP).await;
        assert_error(response, 404, "not_found", query).await;
    }
    let image = generated(&app, &token).await;
    let key = key_of(&image);
    let query = "width=256&height=256&resize=cover&quality=80";
    let served = variant(&app, &key, query, WEBP).await;
    assert_eq!(served.size(), (256, 256));
    delete_image(&app, &token, &image).await;
    assert_error(
        get_variant(&app, &key, "", None).await,
        404,
        "not_found",
        "the original",
    )
    .await;
    for (query, accept) in [(query, WEBP), (query, None), ("width=128", WEBP)] {
        let response = get_variant(&app, &key, query, accept).await;
        assert_error(response, 404, "not_found", query).await;
    }
    let folder = stored_path(&app, &format!("{key}.variants"));
    let left = std::fs::read_dir(&folder).map_or(0, |entries| entries.count());
    assert_eq!(left, 0, "variant files left in {}", folder.display());
}

async fn an_object_that_is_no_image_is_a_400(app: TestApp) {
    let _rendering = COUNTERS.read().await;
    let garbage = "users/garbage/images/11111111-1111-4111-8111-111111111111.png";
    store_object(&app, garbage, b"this is not a PNG, whatever its name says");
    let whole = png(300, 200, 3);
    let truncated = "users/garbage/images/22222222-2222-4222-8222-222222222222.png";
    store_object(&app, truncated, &whole[..whole.len() / 2]);
    let empty = "users/garbage/images/33333333-3333-4333-8333-333333333333.jpeg";
    store_object(&app, empty, b"");
    for key in [garbage, truncated, empty] {
        for query in ["width=256", "width=256&height=256&resize=cover&format=png"] {
            let response = get_variant(&app, key, query, WEBP).await;
            assert_error(response, 400, "invalid_image", &format!("{key}?{query}")).await;
        }
    }
}

mod over_the_pixel_limit {
    use super::*;

    fn tiny_limit(raw: &mut RawSettings) {
        raw.set("IMAGE_RENDER_MAX_PIXELS", "1000");
    }

    on_both_databases!(with super::tiny_limit; an_image_over_the_render_limit_is_a_400);

    async fn an_image_over_the_render_limit_is_a_400(app: TestApp) {
        let _rendering = COUNTERS.read().await;
        // 60 000 pixels, stored directly: the limit applies to what is decoded for a variant.
        let key = "users/large/images/44444444-4444-4444-8444-444444444444.png";
        store_object(&app, key, &png(300, 200, 4));
        for query in ["width=64", "width=256&height=256&resize=cover&quality=80"] {
            let response = get_variant(&app, key, query, WEBP).await;
            assert_error(response, 400, "image_too_large", query).await;
        }
        // The original is still served as it is.
        let original = get_variant(&app, key, "", None).await;
        assert_eq!(original.status(), 200);
        // A tiny image within the limit renders.
        let small = "users/large/images/55555555-5555-4555-8555-555555555555.png";
        store_object(&app, small, &png(30, 20, 5));
        let served = variant(&app, small, "width=64", WEBP).await;
        assert_eq!(served.size(), (30, 20), "never enlarged");
    }
}
