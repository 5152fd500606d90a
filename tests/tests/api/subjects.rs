//! Token subjects as real auth services issue them (`auth0|…`, `google-oauth2|…`, any
//! Unicode): every one can generate, list and download its images; ordinary subjects keep the
//! storage keys they always had.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    unusual_subjects_generate_list_and_download_their_images,
    ordinary_subjects_keep_todays_storage_keys,
);

/// Generates one image for `subject` on the offline renderer and checks that it completed, is
/// in the gallery and downloads from its public URL. Returns the `/files/…` path and the image.
async fn generate_and_download(app: &TestApp, model: &str, subject: &str) -> (String, Value) {
    let token = app.token(subject, None);
    // The smallest image: the renderer's time is not what this checks.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            &json!({"prompt": "a corgi", "modelId": model, "width": 256, "height": 256,
                    "waitForResult": true}),
        )
        .await;
    assert_eq!(response.status(), 201, "{subject:?}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{subject:?}: {body}");
    let image = body["image"].clone();
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        gallery.iter().any(|listed| listed["id"] == image["id"]),
        "{subject:?}: {gallery:?}"
    );
    let url = image["publicUrl"].as_str().unwrap();
    let path = url
        .split_once("/files/")
        .map(|(_, key)| format!("/files/{key}"))
        .unwrap();
    let file = app.get(&path, None).await;
    assert_eq!(file.status(), 200, "{subject:?}: {path}");
    let bytes = file.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG", "{subject:?}");
    (path, image)
}

async fn unusual_subjects_generate_list_and_download_their_images(app: TestApp) {
    let model = app.default_model_id().await;
    let long_ascii = "x".repeat(255);
    let long_emoji = "🙂".repeat(255);
    let subjects = [
        "auth0|abc:def",
        "google-oauth2|1234",
        "ユーザー名",
        "🙂",
        "a%2Fb",
        "a\\b",
        "{x}",
        "..",
        ".",
        "a/b",
        "~tilde",
        ".hidden",
        "trailing.",
        "bidi\u{202e}gnp.exe",
        "zero\u{200b}width",
        long_ascii.as_str(),
        long_emoji.as_str(),
    ];
    let mut paths = Vec::new();
    for subject in subjects {
        let (path, _) = generate_and_download(&app, &model, subject).await;
        paths.push(path);
    }
    // Each subject has a directory of its own.
    let directories: std::collections::HashSet<&str> = paths
        .iter()
        .map(|path| path.rsplit_once("/images/").unwrap().0)
        .collect();
    assert_eq!(directories.len(), subjects.len(), "{paths:?}");
}

async fn ordinary_subjects_keep_todays_storage_keys(app: TestApp) {
    let model = app.default_model_id().await;
    for subject in [
        "alice",
        "user-1",
        "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J",
        "a.b_c-d",
    ] {
        let (path, image) = generate_and_download(&app, &model, subject).await;
        let id = image["id"].as_str().unwrap();
        assert_eq!(path, format!("/files/users/{subject}/images/{id}.png"));
    }
}
