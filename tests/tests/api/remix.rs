//! Remix with the image's own `publicUrl` on a server whose files are plain `http://` (the
//! embedded default's local store): the provider cannot reach that address, so it receives the
//! stored bytes as a `data:` URI — checked here against a Replicate fake.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

picture_tests::for_both_databases!(a_remix_of_an_own_http_image_reaches_the_provider_as_its_bytes);

async fn a_remix_of_an_own_http_image_reaches_the_provider_as_its_bytes(db: Db) {
    let replicate = MockServer::start().await;
    let base = replicate.uri();
    let Some(app) = TestApp::spawn_with(db, |raw| {
        raw.set("REPLICATE_API_TOKEN", "r8_test_token");
        raw.set("REPLICATE_API_BASE_URL", format!("{base}/v1"));
        raw.set("OUTPUT_ALLOWED_HOSTS", "127.0.0.1");
        raw.set("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true");
    })
    .await
    else {
        return;
    };
    let output = format!("{base}/delivery/out.png");
    // Each prediction has its own id (the first answers the source's generation, the
    // second the remix).
    for (n, id) in ["p-source", "p-remix"].into_iter().enumerate() {
        Mock::given(method("POST"))
            .and(path("/v1/predictions"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "id": id, "model": "m", "version": "v", "input": {}, "logs": "",
                "output": [output], "error": null, "status": "succeeded",
                "created_at": "2026-11-30T00:00:00Z", "urls": {}, "metrics": {"predict_time": 1.0}
            })))
            .up_to_n_times(1)
            .with_priority(u8::try_from(n + 1).unwrap())
            .mount(&replicate)
            .await;
    }
    let png = picture_offline::render_png("remix source", Some(1), 64, 48).unwrap();
    Mock::given(method("GET"))
        .and(path("/delivery/out.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(png))
        .mount(&replicate)
        .await;
    let models: Value = app.get("/api/v1/models", None).await.json().await.unwrap();
    let id_of = |name: &str| {
        models
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let token = app.token("remixer", None);
    let first: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            &json!({"prompt": "a lighthouse", "modelId": id_of("flux-schnell"), "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "completed", "{first}");
    let public_url = first["image"]["publicUrl"].as_str().unwrap().to_owned();
    assert!(public_url.starts_with("http://"), "{public_url}");
    // The test server's public base URL is nominal (port 0): read the file by its path.
    let file_path = &public_url[public_url.find("/files/").unwrap()..];
    let stored = app.get(file_path, None).await.bytes().await.unwrap();
    assert!(!stored.is_empty());

    let remix = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            &json!({"prompt": "the lighthouse at night", "modelId": id_of("nano-banana"),
                    "sourceImageUrl": public_url, "waitForResult": true}),
        )
        .await;
    let status = remix.status();
    let answer = remix.text().await.unwrap();
    assert_eq!(status, 201, "{answer}");
    let requests = replicate.received_requests().await.unwrap();
    let bodies: Vec<Value> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/predictions")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    let sent = bodies[1]["input"]["image_input"][0].as_str().unwrap();
    let encoded = sent
        .strip_prefix("data:image/png;base64,")
        .unwrap_or_else(|| {
            panic!(
                "a data URI of the stored PNG, got {}",
                &sent[..sent.len().min(80)]
            )
        });
    assert_eq!(STANDARD.decode(encoded).unwrap(), stored.to_vec());
}
