//! `GET /files/…` on hostile paths, without a login: a 404 (or 400) in the JSON error shape,
//! never a 500 and never a file.
//!
//! The requests go over a raw TCP connection so that no client normalises `..` or
//! percent-escapes before the server sees them.

use std::time::Duration;

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_databases!(hostile_file_paths_answer_404_or_400_in_the_error_shape_never_500);

/// The status and body of `GET {path}` sent as written, on a connection of its own.
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let address = app.address.trim_start_matches("http://");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

async fn hostile_file_paths_answer_404_or_400_in_the_error_shape_never_500(app: TestApp) {
    // The subject `alice.png` gives a directory whose name looks like an image file.
    let token = app.token("alice.png", None);
    let model = app.default_model_id().await;
    let made: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            &json!({"prompt": "a corgi", "modelId": model, "width": 256, "height": 256,
                    "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = made["image"]["publicUrl"].as_str().unwrap();
    let existing = url.split_once("/files/").unwrap().1.to_owned();
    assert!(
        existing.starts_with("users/alice.png/images/"),
        "{existing}"
    );
    let (status, _) = raw_get(&app, &format!("/files/{existing}")).await;
    assert_eq!(status, 200, "the stored file itself is served");

    let long = "a".repeat(300);
    let deep = "ab/".repeat(1500);
    let hostile = [
        // A segment longer than any file name may be.
        format!("/files/users/x/images/{long}.png"),
        format!("/files/{long}.png"),
        // A path longer than any path may be.
        format!("/files/{deep}x.png"),
        // A file used as a directory.
        format!("/files/{existing}/child.png"),
        format!("/files/{existing}/../x.png"),
        // A directory used as a file.
        "/files/users/alice.png".to_owned(),
        "/files/users/alice.png/".to_owned(),
        "/files/users/alice.png/images".to_owned(),
        // Traversal, plain and encoded.
        "/files/../../etc/passwd".to_owned(),
        "/files/users/../../../etc/passwd.png".to_owned(),
        "/files/users/%2e%2e/%2e%2e/%2e%2e/etc/passwd.png".to_owned(),
        "/files/users/..%2f..%2f..%2fetc%2fpasswd.png".to_owned(),
        "/files/users/..%5c..%5c..%5cetc%5cpasswd.png".to_owned(),
        "/files/users/%c0%ae%c0%ae/x.png".to_owned(),
        "/files//etc/passwd.png".to_owned(),
        // NUL and other odd bytes.
        "/files/users/a%00b.png".to_owned(),
        "/files/users/x/images/%00.png".to_owned(),
        "/files/users/%ff%fe.png".to_owned(),
        // Empty and unknown.
        "/files/".to_owned(),
        "/files".to_owned(),
        "/files/users//x.png".to_owned(),
        "/files/users/x/images/00000000-0000-0000-0000-000000000000.png".to_owned(),
        "/files/users/x/images/x.exe".to_owned(),
    ];
    for path in &hostile {
        let (status, body) = raw_get(&app, path).await;
        let shown = &path[..path.len().min(80)];
        assert!(status == 404 || status == 400, "{shown}: {status} {body}");
        let body: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{shown}: not JSON ({e}): {body}"));
        assert_eq!(body["statusCode"], status, "{shown}: {body}");
        assert!(body["code"].is_string(), "{shown}: {body}");
        assert!(body["message"].is_string(), "{shown}: {body}");
    }
}
