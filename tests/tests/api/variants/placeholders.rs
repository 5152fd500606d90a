//! Placeholders: new generated and uploaded images carry a blurhash that decodes and a
//! `thumbnailUrl` that loads as a 384×384 image; a board's thumbnail gets a blurhash too.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{BOUNDARY, COUNTERS, generated, image_of, png, uploaded};

on_both_databases!(
    new_images_carry_a_blurhash_and_a_thumbnail_url,
    a_board_thumbnail_gets_a_blurhash,
);

/// `hash` is a 28-character blurhash (4×3 components) that decodes to a 32×32 picture.
fn assert_blurhash(hash: &Value, what: &str) {
    let hash = hash
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no blurhash: {hash}"));
    assert_eq!(hash.len(), 28, "{what}: {hash}");
    let pixels = blurhash::decode(hash, 32, 32, 1.0)
        .unwrap_or_else(|e| panic!("{what}: {hash} does not decode: {e:?}"));
    assert_eq!(pixels.len(), 32 * 32 * 4, "{what}");
}

/// `image`'s `thumbnailUrl`: `{publicUrl}?width=384&height=384&resize=cover`, an absolute URL
/// loading as an image of `size` (384×384, or less: never enlarged).
async fn assert_thumbnail(app: &TestApp, image: &Value, size: (u32, u32), what: &str) {
    let public = image["publicUrl"].as_str().unwrap();
    let url = image["thumbnailUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no thumbnailUrl: {image}"));
    assert_eq!(
        url,
        format!("{public}?width=384&height=384&resize=cover"),
        "{what}"
    );
    assert!(
        url.starts_with("http://") || url.starts_with("https://"),
        "{url}"
    );
    // The test server's public base (`PUBLIC_BASE_URL`) is not its real address: the path is
    // asked of the server itself.
    let (_, path) = url.split_once("/files/").unwrap();
    let response = app
        .client
        .get(format!("{}/files/{path}", app.address))
        .header("Accept", "image/webp,*/*")
        .send()
        .await
        .unwrap();
    let served = image_of(response, url).await;
    assert_eq!(served.size(), size, "{what}");
}

async fn new_images_carry_a_blurhash_and_a_thumbnail_url(app: TestApp) {
    let token = app.token("placeholders", None);
    let _rendering = COUNTERS.read().await;
    let made = generated(&app, &token).await;
    assert_blurhash(&made["blurhash"], "a generated image");
    assert_thumbnail(&app, &made, (384, 384), "a generated image").await;
    let sent = uploaded(&app, &token, 640, 480).await;
    assert_blurhash(&sent["blurhash"], "an uploaded image");
    assert_thumbnail(&app, &sent, (384, 384), "an uploaded image").await;
    let small = uploaded(&app, &token, 200, 100).await;
    assert_blurhash(&small["blurhash"], "a small uploaded image");
    assert_thumbnail(&app, &small, (100, 100), "a small uploaded image").await;
    // The gallery and the image route show the same fields.
    let id = made["id"].as_str().unwrap();
    let read: Value = app
        .get(&format!("/api/v1/images/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["blurhash"], made["blurhash"]);
    assert_eq!(read["thumbnailUrl"], made["thumbnailUrl"]);
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gallery.len(), 3);
    for image in &gallery {
        assert!(image["thumbnailUrl"].is_string(), "{image}");
        assert!(image["blurhash"].is_string(), "{image}");
    }
}

async fn a_board_thumbnail_gets_a_blurhash(app: TestApp) {
    let token = app.token("board-placeholder", None);
    let board: Value = app
        .send_json(
            Method::POST,
            "/api/v1/boards",
            Some(&token),
            &json!({"name": "Placeholders"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = board["id"].as_str().unwrap();
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"thumbnail\"; filename=\"thumbnail.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png(400, 300, 9));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let response = app
        .client
        .post(format!("{}/api/v1/boards/{id}/thumbnail", app.address))
        .bearer_auth(&token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let with_thumbnail: Value = response.json().await.unwrap();
    assert_blurhash(&with_thumbnail["thumbnailBlurhash"], "a board thumbnail");
    let read: Value = app
        .get(&format!("/api/v1/boards/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["thumbnailBlurhash"],
        with_thumbnail["thumbnailBlurhash"]
    );
}
