//! The generation pipeline on the embedded defaults: the offline renderer, the local file
//! store, the local ledger.

use picture_tests::{Db, TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    a_waited_generation_completes_and_its_image_is_listed_served_and_deleted,
    free_generations_count_down_and_development_never_blocks,
    invalid_requests_are_400_with_every_message,
    unknown_models_are_404,
    other_users_see_nothing_of_a_generation_or_its_image,
    an_idempotency_key_starts_one_generation_however_often_it_is_retried,
);

async fn generate(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.send_json(Method::POST, "/api/v1/generate", Some(token), &body)
        .await
}

async fn a_waited_generation_completes_and_its_image_is_listed_served_and_deleted(app: TestApp) {
    let token = app.token("alice", None);
    let model = app.default_model_id().await;
    let response = generate(
        &app,
        &token,
        json!({"prompt": "a lighthouse at dusk", "modelId": model, "width": 512,
               "height": 384, "seed": 7, "waitForResult": true}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["creditsUsed"], 0);
    assert_eq!(body["freeGenerationsRemaining"], 2);
    let image = &body["image"];
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(512), Some(384))
    );
    assert_eq!(image["format"], "png");
    assert_eq!(image["generationId"], body["generationId"]);

    // The file is served at its public URL, with its type and cache headers.
    let url = image["publicUrl"].as_str().unwrap();
    assert!(url.starts_with("http://localhost:"), "{url}");
    let path = url
        .split_once("/files/")
        .map(|(_, k)| format!("/files/{k}"))
        .unwrap();
    let file = app.get(&path, None).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "image/png");
    assert!(
        file.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let bytes = file.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");
    assert_eq!(bytes.len() as u64, image["fileSize"].as_u64().unwrap());

    // The status view and the gallery agree.
    let id = body["generationId"].as_str().unwrap();
    let status: Value = app
        .get(&format!("/api/v1/generate/{id}/status"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "completed");
    assert_eq!(status["image"]["id"], image["id"]);
    assert_eq!(status["creditsUsed"], 0);
    assert_eq!(status["guidanceScale"], 0.0);
    assert_eq!(status["seed"], 7);
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gallery.len(), 1);
    assert_eq!(gallery[0]["id"], image["id"]);
    let image_id = image["id"].as_str().unwrap();
    let one = app
        .get(&format!("/api/v1/images/{image_id}"), Some(&token))
        .await;
    assert_eq!(one.status(), 200);

    // Deleting removes the row and the file; deleting again is a 404.
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/images/{image_id}"),
            Some(&token),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get(&path, None).await.status(), 404);
    let again = app
        .send(
            Method::DELETE,
            &format!("/api/v1/images/{image_id}"),
            Some(&token),
        )
        .await;
    assert_eq!(again.status(), 404);
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(gallery.is_empty());
}

async fn free_generations_count_down_and_development_never_blocks(app: TestApp) {
    let token = app.token("dev-user", None);
    let model = app.default_model_id().await;
    let mut remaining = Vec::new();
    for _ in 0..4 {
        let response = generate(&app, &token, json!({"prompt": "p", "modelId": model})).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["creditsUsed"], 0);
        remaining.push(body["freeGenerationsRemaining"].as_u64().unwrap());
    }
    assert_eq!(remaining, [2, 1, 0, 0]);
}

async fn invalid_requests_are_400_with_every_message(app: TestApp) {
    let token = app.token("u", None);
    let model = app.default_model_id().await;
    let cases = [
        json!({"prompt": "p", "modelId": model, "width": 100, "steps": 151}),
        json!({"prompt": "p", "modelId": model, "width": "1024"}),
        json!({"prompt": "p", "modelId": model, "favoriteColour": "blue"}),
        json!({"modelId": model}),
        json!({"prompt": "p", "modelId": "not-a-uuid"}),
    ];
    for case in cases {
        let response = generate(&app, &token, case.clone()).await;
        assert_eq!(response.status(), 400, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "validation_failed", "{case}");
        assert!(body["message"].is_array(), "{body}");
    }
    let both: Value = generate(
        &app,
        &token,
        json!({"prompt": "p", "modelId": model, "width": 100, "steps": 151}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        both["message"],
        json!([
            "width must not be less than 256",
            "steps must not be greater than 150"
        ])
    );
    let malformed = app
        .client
        .post(format!("{}/api/v1/generate", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let unauthenticated = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            None,
            &json!({"prompt": "p"}),
        )
        .await;
    assert_eq!(unauthenticated.status(), 401);
}

async fn unknown_models_are_404(app: TestApp) {
    let token = app.token("u", None);
    let response = generate(
        &app,
        &token,
        json!({"prompt": "p", "modelId": "00000000-0000-4000-8000-000000000000"}),
    )
    .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    // Nothing was counted against the free tier.
    let model = app.default_model_id().await;
    let ok: Value = generate(&app, &token, json!({"prompt": "p", "modelId": model}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["freeGenerationsRemaining"], 2);
}

async fn other_users_see_nothing_of_a_generation_or_its_image(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let model = app.default_model_id().await;
    let body: Value = generate(
        &app,
        &alice,
        json!({"prompt": "private", "modelId": model, "waitForResult": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = body["generationId"].as_str().unwrap();
    let image = body["image"]["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/v1/generate/{id}/status")),
        (Method::DELETE, format!("/api/v1/generate/{id}")),
        (Method::POST, format!("/api/v1/generate/{id}/cancel")),
        (Method::GET, format!("/api/v1/images/{image}")),
        (Method::DELETE, format!("/api/v1/images/{image}")),
    ] {
        let response = app.send(method.clone(), &path, Some(&bob)).await;
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let bobs: Vec<Value> = app
        .get("/api/v1/images", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert!(bobs.is_empty());
    let still: Value = app
        .get(&format!("/api/v1/images/{image}"), Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["id"], image);
}

#[tokio::test]
async fn staging_refuses_the_fourth_generation_without_credits() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("APP_ENV", "staging");
    })
    .await
    .unwrap();
    let token = app.token("stage", None);
    let model = app.default_model_id().await;
    for remaining in [2, 1, 0] {
        let body: Value = generate(&app, &token, json!({"prompt": "p", "modelId": model}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["freeGenerationsRemaining"], remaining);
    }
    let refused = generate(&app, &token, json!({"prompt": "p", "modelId": model})).await;
    assert_eq!(refused.status(), 402);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body,
        json!({"statusCode": 402, "error": "Payment Required", "code": "insufficient_credits",
               "message": "Insufficient credits. You need 10 credits. Current balance: 0",
               "details": {"required": 10, "balance": 0, "freeGenerationsRemaining": 0}})
    );
}

#[tokio::test]
async fn a_storage_failure_fails_the_generation_and_gives_the_slot_back() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("S3_ENDPOINT", format!("http://{closed}"));
        raw.set("S3_ACCESS_KEY", "key");
        raw.set("S3_SECRET_KEY", "secret");
    })
    .await
    .unwrap();
    let token = app.token("unlucky", None);
    let model = app.default_model_id().await;
    let body: Value = generate(
        &app,
        &token,
        json!({"prompt": "p", "modelId": model, "width": 256, "height": 256, "waitForResult": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Storing the image failed")
    );
    assert_eq!(body["creditsUsed"], 0);
    let next: Value = generate(
        &app,
        &token,
        json!({"prompt": "p", "modelId": model, "width": 256, "height": 256}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        next["freeGenerationsRemaining"], 2,
        "the failed one gave its slot back"
    );
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(gallery.is_empty());
}

async fn an_idempotency_key_starts_one_generation_however_often_it_is_retried(app: TestApp) {
    let token = app.token("retrier", None);
    let model = app.default_model_id().await;
    let body = json!({"prompt": "once", "modelId": model, "width": 256, "height": 256,
                      "waitForResult": true});
    let send = |key: &'static str, body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .post(format!("{}/api/v1/generate", app.address))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first: Value = send("key-1", body.clone()).await.json().await.unwrap();
    assert_eq!(first["status"], "completed");
    // Same key, same body (keys in another order): the same generation, nothing new started.
    let reordered = json!({"waitForResult": true, "height": 256, "width": 256,
                           "modelId": model, "prompt": "once"});
    let retry = send("key-1", reordered).await;
    assert_eq!(retry.status(), 201);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["generationId"], first["generationId"]);
    assert_eq!(
        retry["freeGenerationsRemaining"],
        first["freeGenerationsRemaining"]
    );
    assert_eq!(retry["image"]["id"], first["image"]["id"]);
    // Same key, another body: 409.
    let mut other = body.clone();
    other["prompt"] = json!("twice");
    let conflict = send("key-1", other).await;
    assert_eq!(conflict.status(), 409);
    assert_eq!(conflict.json::<Value>().await.unwrap()["code"], "conflict");
    // Only one image and one free slot were used.
    let gallery: Vec<Value> = app
        .get("/api/v1/images", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gallery.len(), 1);
    let next: Value = send("key-2", body).await.json().await.unwrap();
    assert_eq!(next["freeGenerationsRemaining"], 1);
    assert_ne!(next["generationId"], first["generationId"]);
    // Another user's identical key is theirs alone.
    let stranger = app.token("stranger", None);
    let theirs: Value = app
        .client
        .post(format!("{}/api/v1/generate", app.address))
        .bearer_auth(stranger)
        .header("Idempotency-Key", "key-1")
        .json(&json!({"prompt": "once", "modelId": model, "width": 256, "height": 256}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(theirs["generationId"], first["generationId"]);
}
