//! Blurhash placeholders.

use image::DynamicImage;
use picture_domain::ports::ImageRenderer;

use super::{half_transparent, photo_png, png, renderer};

#[tokio::test]
async fn a_blurhash_has_4_by_3_components_and_decodes() {
    let hash = renderer()
        .blurhash(photo_png(1024, 1024, 20))
        .await
        .unwrap();
    assert_eq!(hash.len(), 28, "{hash}");
    let pixels = blurhash::decode(&hash, 32, 32, 1.0).unwrap();
    assert_eq!(pixels.len(), 32 * 32 * 4);
}

#[tokio::test]
async fn different_images_give_different_blurhashes_and_the_same_one_the_same() {
    let r = renderer();
    let first = r.blurhash(photo_png(640, 480, 21)).await.unwrap();
    let other = r.blurhash(photo_png(640, 480, 200)).await.unwrap();
    let again = r.blurhash(photo_png(640, 480, 21)).await.unwrap();
    assert_ne!(first, other);
    assert_eq!(first, again);
}

#[tokio::test]
async fn small_and_transparent_images_have_blurhashes() {
    let r = renderer();
    let tiny = r.blurhash(photo_png(3, 2, 22)).await.unwrap();
    assert_eq!(tiny.len(), 28);
    let transparent = png(&DynamicImage::ImageRgba8(half_transparent(64)));
    let hash = r.blurhash(transparent).await.unwrap();
    let pixels = blurhash::decode(&hash, 8, 8, 1.0).unwrap();
    let top_left = &pixels[..3];
    assert!(
        top_left.iter().all(|&c| c > 180),
        "white-ish, got {top_left:?}"
    );
}
