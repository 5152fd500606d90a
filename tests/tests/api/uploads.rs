//! Uploads: `POST /upload` as the web client sends it (multipart field `file`, one request per
//! file), `POST /upload/multiple` (field `files`), `DELETE /upload/:id`, on both prefixes; the
//! metadata stripped; bad input refused with a clear 4xx and nothing stored.

use std::path::Path;

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::Value;

on_both_databases!(
    the_web_client_uploads_a_jpeg_into_its_gallery_without_its_location,
    png_and_webp_are_accepted_on_the_mobile_prefix_too,
    deleting_an_upload_removes_its_file_and_others_get_404,
    several_files_at_once_are_all_or_nothing,
    bad_input_is_a_clear_4xx_and_stores_nothing,
);

/// A location that must never be stored.
const GPS: &[u8] = b"GPS 52.5200N 13.4050E";

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A baseline JPEG header of `width`×`height` with EXIF (and a GPS text), then `data` bytes of
/// entropy-coded data and the end marker.
pub fn jpeg(width: u16, height: u16, data: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0"));
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(GPS);
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xDB, &[0; 65]));
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend(segment(0xC0, &frame));
    out.extend(segment(0xC4, &[0; 20]));
    out.extend(segment(0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0]));
    out.extend((0..data).map(|i| (i % 251) as u8 & 0x7F));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 4]);
    out
}

/// A PNG of `width`×`height` with a text chunk holding a location.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend(chunk(b"IHDR", &header));
    out.extend(chunk(b"tEXt", GPS));
    out.extend(chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3, 4, 5, 6, 7, 8]));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A lossless WebP of `width`×`height` with an EXIF chunk.
fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut header = vec![0x08, 0, 0, 0];
    header.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    header.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    for (kind, data) in [
        (b"VP8X", header),
        (b"EXIF", GPS.to_vec()),
        (b"VP8L", {
            let mut data = vec![0x2F];
            data.extend_from_slice(&((width - 1) | ((height - 1) << 14)).to_le_bytes());
            data.extend_from_slice(&[1, 2, 3]);
            data
        }),
    ] {
        body.extend_from_slice(kind);
        body.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        body.extend_from_slice(&data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

const BOUNDARY: &str = "----WebKitFormBoundaryPicture7MA4YWxk";

/// One part of a multipart body: field name, file name, declared type, bytes.
type Part<'a> = (&'a str, &'a str, &'a str, Vec<u8>);

/// A multipart body as a browser's `FormData` makes it.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, file, content_type, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn upload(app: &TestApp, prefix: &str, token: &str, part: Part<'_>) -> reqwest::Response {
    post(app, &format!("{prefix}/upload"), token, multipart(&[part])).await
}

/// The stored file of an image, fetched the way clients show it.
async fn stored_file(app: &TestApp, image: &Value) -> reqwest::Response {
    let url = image["publicUrl"].as_str().unwrap();
    let (_, key) = url.split_once("/files/").unwrap();
    app.get(&format!("/files/{key}"), None).await
}

fn files_on_disk(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_on_disk(&path)
            } else {
                1
            }
        })
        .sum()
}

/// Nothing stored for `token`'s user: no image in the gallery, no file on disk.
async fn nothing_stored(app: &TestApp, token: &str) {
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(gallery.is_empty(), "{gallery:?}");
    let files = app.settings.database.data_dir.join("files");
    assert_eq!(
        files_on_disk(&files),
        0,
        "files left in {}",
        files.display()
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn the_web_client_uploads_a_jpeg_into_its_gallery_without_its_location(app: TestApp) {
    let token = app.token("alice", None);
    let response = upload(
        &app,
        "/api/v1",
        &token,
        ("file", "holiday.jpg", "image/jpeg", jpeg(1200, 800, 4000)),
    )
    .await;
    assert_eq!(response.status(), 201);
    let image: Value = response.json().await.unwrap();
    // Every field of the `Image` shape, as for a generated image.
    assert!(image["id"].is_string());
    assert_eq!(image["userId"], "alice");
    assert!(image["generationId"].is_null() && image["model"].is_null());
    assert!(image["sourceImageId"].is_null() && image["negativePrompt"].is_null());
    assert_eq!(image["prompt"], "holiday.jpg");
    assert_eq!(image["filename"], "holiday.jpg");
    assert_eq!(image["format"], "jpeg");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(1200), Some(800))
    );
    let id = image["id"].as_str().unwrap();
    assert_eq!(
        image["storagePath"],
        format!("users/alice/images/{id}.jpeg")
    );
    assert_eq!(image["isPublic"], false);
    assert_eq!(image["isFavorite"], false);
    assert_eq!(image["downloadCount"], 0);
    assert!(image["archivedAt"].is_null());
    assert!(image["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(image["updatedAt"].is_string());
    let file = stored_file(&app, &image).await;
    assert_eq!(file.status(), 200);
    let bytes = file.bytes().await.unwrap();
    assert!(!contains(&bytes, GPS) && !contains(&bytes, b"Exif"));
    assert_eq!(image["fileSize"].as_u64(), Some(bytes.len() as u64));
    // In the gallery, and readable alone.
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gallery, vec![image.clone()]);
    let one: Value = app
        .get(&format!("/api/v1/images/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one, image);
}

async fn png_and_webp_are_accepted_on_the_mobile_prefix_too(app: TestApp) {
    let token = app.token("bob", None);
    for (prefix, part, format, size) in [
        (
            "/api",
            ("file", "a.png", "image/png", png(640, 480)),
            "png",
            (640, 480),
        ),
        (
            "/api/v1",
            ("file", "b.webp", "image/webp", webp(300, 200)),
            "webp",
            (300, 200),
        ),
        // The declared type and name do not matter; the bytes do.
        (
            "/api",
            ("file", "c.txt", "text/plain", png(2, 3)),
            "png",
            (2, 3),
        ),
    ] {
        let response = upload(&app, prefix, &token, part).await;
        assert_eq!(response.status(), 201, "{prefix} {format}");
        let image: Value = response.json().await.unwrap();
        assert_eq!(image["format"], format);
        assert_eq!(image["width"].as_u64(), Some(size.0));
        assert_eq!(image["height"].as_u64(), Some(size.1));
        let bytes = stored_file(&app, &image).await.bytes().await.unwrap();
        assert!(!contains(&bytes, GPS));
    }
}

async fn deleting_an_upload_removes_its_file_and_others_get_404(app: TestApp) {
    let owner = app.token("owner", None);
    let other = app.token("other", None);
    let mut images = Vec::new();
    for _ in 0..2 {
        let response = upload(
            &app,
            "/api/v1",
            &owner,
            ("file", "x.png", "image/png", png(4, 4)),
        )
        .await;
        images.push(response.json::<Value>().await.unwrap());
    }
    for (path, image) in [("/api/v1/images", &images[0]), ("/api/upload", &images[1])] {
        let id = image["id"].as_str().unwrap();
        let foreign = app
            .send(Method::DELETE, &format!("{path}/{id}"), Some(&other))
            .await;
        assert_eq!(foreign.status(), 404, "{path}");
        assert_eq!(stored_file(&app, image).await.status(), 200);
        let deleted = app
            .send(Method::DELETE, &format!("{path}/{id}"), Some(&owner))
            .await;
        assert_eq!(deleted.status(), 204, "{path}");
        assert_eq!(stored_file(&app, image).await.status(), 404);
    }
    let malformed = app
        .send(Method::DELETE, "/api/v1/upload/not-a-uuid", Some(&owner))
        .await;
    assert_eq!(malformed.status(), 404);
    nothing_stored(&app, &owner).await;
}

async fn several_files_at_once_are_all_or_nothing(app: TestApp) {
    let token = app.token("carol", None);
    let two = multipart(&[
        ("files", "a.png", "image/png", png(5, 5)),
        ("files", "b.jpg", "image/jpeg", jpeg(7, 9, 10)),
    ]);
    let response = post(&app, "/api/v1/upload/multiple", &token, two).await;
    assert_eq!(response.status(), 201);
    let images: Vec<Value> = response.json().await.unwrap();
    let names: Vec<&str> = images
        .iter()
        .map(|i| i["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.png", "b.jpg"]);
    for image in &images {
        let id = image["id"].as_str().unwrap();
        let deleted = app
            .send(
                Method::DELETE,
                &format!("/api/v1/images/{id}"),
                Some(&token),
            )
            .await;
        assert_eq!(deleted.status(), 204);
    }
    nothing_stored(&app, &token).await;

    let eleven: Vec<Part<'_>> = (0..11)
        .map(|_| ("files", "p.png", "image/png", png(3, 3)))
        .collect();
    let response = post(&app, "/api/v1/upload/multiple", &token, multipart(&eleven)).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    nothing_stored(&app, &token).await;

    // A bad file after good ones takes the good ones back.
    let mixed = multipart(&[
        ("files", "a.png", "image/png", png(5, 5)),
        (
            "files",
            "page.png",
            "image/png",
            b"<!DOCTYPE html><html></html>".to_vec(),
        ),
    ]);
    let response = post(&app, "/api/upload/multiple", &token, mixed).await;
    assert_eq!(response.status(), 415);
    nothing_stored(&app, &token).await;

    let none = post(&app, "/api/v1/upload/multiple", &token, multipart(&[])).await;
    assert_eq!(none.status(), 400);
}

/// Refuses `response` with `status` and `code` in the error shape.
async fn refused(response: reqwest::Response, status: u16, code: &str, what: &str) {
    assert_eq!(response.status(), status, "{what}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], status, "{what}: {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(
        body["message"].is_string() || body["message"].is_array(),
        "{what}"
    );
}

async fn bad_input_is_a_clear_4xx_and_stores_nothing(app: TestApp) {
    let token = app.token("mallory", None);
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    let whole = png(64, 64);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "HTML claiming image/png",
            multipart(&[("file", "x.png", "image/png", html)]),
            415,
            "unsupported_media_type",
        ),
        (
            "a GIF",
            multipart(&[("file", "x.gif", "image/gif", b"GIF89a\x01\0\x01\0".to_vec())]),
            415,
            "unsupported_media_type",
        ),
        (
            "a truncated PNG",
            multipart(&[(
                "file",
                "x.png",
                "image/png",
                whole[..whole.len() - 20].to_vec(),
            )]),
            400,
            "invalid_image",
        ),
        (
            "a 0-byte file",
            multipart(&[("file", "x.png", "image/png", Vec::new())]),
            400,
            "validation_failed",
        ),
        (
            "a decompression bomb (100 megapixels)",
            multipart(&[("file", "bomb.png", "image/png", png(10_000, 10_000))]),
            400,
            "image_too_large",
        ),
        (
            "the wrong field",
            multipart(&[("image", "x.png", "image/png", png(2, 2))]),
            400,
            "validation_failed",
        ),
        (
            "two files",
            multipart(&[
                ("file", "x.png", "image/png", png(2, 2)),
                ("file", "y.png", "image/png", png(2, 2)),
            ]),
            400,
            "validation_failed",
        ),
        ("no file", multipart(&[]), 400, "validation_failed"),
        (
            "malformed multipart",
            b"--nope\r\ngarbage without headers".to_vec(),
            400,
            "validation_failed",
        ),
        (
            "a body cut inside the file",
            {
                let mut body = multipart(&[("file", "x.png", "image/png", png(2, 2))]);
                body.truncate(body.len() - 40);
                body
            },
            400,
            "validation_failed",
        ),
    ];
    for (what, body, status, code) in cases {
        refused(
            post(&app, "/api/v1/upload", &token, body).await,
            status,
            code,
            what,
        )
        .await;
        nothing_stored(&app, &token).await;
    }
    let not_multipart = app
        .send_json(
            Method::POST,
            "/api/v1/upload",
            Some(&token),
            &serde_json::json!({"file": "x"}),
        )
        .await;
    refused(not_multipart, 400, "validation_failed", "a JSON body").await;
    let anonymous = app
        .client
        .post(format!("{}/api/v1/upload", app.address))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&[("file", "x.png", "image/png", png(2, 2))]))
        .send()
        .await
        .unwrap();
    refused(anonymous, 401, "unauthorized", "no token").await;
    // Declared larger than any upload may be: refused before the body is read.
    let declared = post(&app, "/api/v1/upload", &token, vec![0; 11 * 1024 * 1024]).await;
    refused(declared, 413, "payload_too_large", "a body over the limit").await;
    nothing_stored(&app, &token).await;
}

mod small_limit {
    use super::*;

    fn limit(raw: &mut RawSettings) {
        raw.set("UPLOAD_MAX_BYTES", "2000");
    }

    on_both_databases!(with super::limit; a_file_over_the_limit_is_refused_while_it_streams);

    async fn a_file_over_the_limit_is_refused_while_it_streams(app: TestApp) {
        let token = app.token("dave", None);
        // The body is declared within the limit plus the multipart overhead, so the refusal
        // comes from counting the file's bytes as they arrive.
        let big = jpeg(100, 100, 5_000);
        for path in ["/api/v1/upload", "/api/upload/multiple"] {
            let field = if path.ends_with("multiple") {
                "files"
            } else {
                "file"
            };
            let body = multipart(&[(field, "big.jpg", "image/jpeg", big.clone())]);
            refused(
                post(&app, path, &token, body).await,
                413,
                "payload_too_large",
                path,
            )
            .await;
            nothing_stored(&app, &token).await;
        }
        let fits = upload(
            &app,
            "/api/v1",
            &token,
            ("file", "ok.jpg", "image/jpeg", jpeg(10, 10, 500)),
        )
        .await;
        assert_eq!(fits.status(), 201);
    }
}
