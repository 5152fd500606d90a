//! Bad input on the board routes: every bound, malformed JSON, ids that are not boards, and
//! refused thumbnails — a 4xx in the error shape, and nothing stored.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{board_files, create, json_of, png, post_form, thumbnail_form};

on_both_databases!(
    every_bound_and_malformed_body_is_a_400_and_stores_nothing,
    ids_that_are_no_boards_are_404,
    oversized_and_non_image_thumbnails_are_refused_and_store_nothing,
);

async fn refused(response: reqwest::Response, status: u16, code: &str) -> Value {
    let body = json_of(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["statusCode"], status);
    body
}

async fn every_bound_and_malformed_body_is_a_400_and_stores_nothing(app: TestApp) {
    let token = app.token("alice", None);
    let board = create(&app, &token, "/api/v1", &json!({"name": "kept"})).await;
    let id = board["id"].as_str().unwrap();
    let bad_bodies = [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "a\u{7}b"}),
        json!({"name": 42}),
        json!({"name": "ok", "description": "d".repeat(2001)}),
        json!({"name": "ok", "canvasWidth": 99}),
        json!({"name": "ok", "canvasWidth": 20_001}),
        json!({"name": "ok", "canvasHeight": 1500.5}),
        json!({"name": "ok", "canvasHeight": "1500"}),
        json!({"name": "ok", "canvasWidth": 1e300}),
        json!({"name": "ok", "backgroundColor": "white"}),
        json!({"name": "ok", "backgroundColor": "#fff"}),
        json!({"name": "ok", "isPublic": "yes"}),
        json!({"name": "ok", "userId": "bob"}),
    ];
    for body in &bad_bodies {
        let response = app
            .send_json(Method::POST, "/api/v1/boards", Some(&token), body)
            .await;
        let error = refused(response, 400, "validation_failed").await;
        assert!(error["message"].is_array(), "{body}: {error}");
    }
    // Several problems are reported together.
    let many = refused(
        app.send_json(
            Method::POST,
            "/api/v1/boards",
            Some(&token),
            &json!({"name": "", "canvasWidth": 5, "backgroundColor": "red"}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(many["message"].as_array().unwrap().len(), 3, "{many}");
    // Malformed JSON and non-finite numbers (not JSON at all).
    for raw in [
        "{\"name\": ",
        "{\"name\": \"x\", \"canvasWidth\": NaN}",
        "{\"name\": \"x\", \"canvasWidth\": Infinity}",
    ] {
        let response = app
            .client
            .post(format!("{}/api/v1/boards", app.address))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        refused(response, 400, "validation_failed").await;
    }
    let patches = [
        json!({"name": ""}),
        json!({"canvasWidth": 0}),
        json!({"canvasHeight": 20_001}),
        json!({"backgroundColor": "#12345g"}),
        json!({"description": "d".repeat(2001)}),
        json!({"thumbnailUrl": "javascript:alert(1)"}),
        json!({"thumbnailUrl": format!("https://x.example/{}", "a".repeat(2048))}),
        json!({"thumbnailUrl": 5}),
        json!({"isPublic": "true"}),
        json!({"unknown": 1}),
    ];
    for body in &patches {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}"),
                Some(&token),
                body,
            )
            .await;
        refused(response, 400, "validation_failed").await;
    }
    for body in [
        json!({}),
        json!({"isPublic": null}),
        json!({"isPublic": "true"}),
    ] {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}/visibility"),
                Some(&token),
                &body,
            )
            .await;
        refused(response, 400, "validation_failed").await;
    }
    for query in [
        "limit=0",
        "limit=101",
        "page=0",
        "page=x",
        "includePublic=maybe",
    ] {
        let response = app
            .get(&format!("/api/v1/boards?{query}"), Some(&token))
            .await;
        refused(response, 400, "validation_failed").await;
    }
    // `GET /boards/public` ignores `includePublic`, whatever it says.
    assert_eq!(
        app.get("/api/v1/boards/public?includePublic=maybe", Some(&token))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/boards?limit=100&page=3", Some(&token))
            .await
            .status(),
        200
    );
    // Nothing stored or changed.
    let all = json_of(app.get("/api/v1/boards", Some(&token)).await, 200).await;
    assert_eq!(super::ids(&all), [id]);
    assert_eq!(all[0]["name"], "kept");
    assert_eq!(all[0]["updatedAt"], board["updatedAt"]);
}

async fn ids_that_are_no_boards_are_404(app: TestApp) {
    let token = app.token("alice", None);
    let model = app.default_model_id().await;
    let generated: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(&token),
            &json!({"prompt": "not a board", "modelId": model, "width": 256, "height": 256,
                    "steps": 1, "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let image = generated["image"]["id"].as_str().unwrap().to_owned();
    let missing = uuid::Uuid::new_v4().to_string();
    for id in [image.as_str(), missing.as_str(), "not-a-uuid"] {
        let attempts = [
            app.get(&format!("/api/v1/boards/{id}"), Some(&token)).await,
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}"),
                Some(&token),
                &json!({"name": "x"}),
            )
            .await,
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}/visibility"),
                Some(&token),
                &json!({"isPublic": true}),
            )
            .await,
            app.send(
                Method::DELETE,
                &format!("/api/v1/boards/{id}"),
                Some(&token),
            )
            .await,
            app.send(
                Method::POST,
                &format!("/api/v1/boards/{id}/duplicate"),
                Some(&token),
            )
            .await,
            post_form(
                &app,
                &format!("/api/v1/boards/{id}/thumbnail"),
                &token,
                thumbnail_form(&png(10, 10, 10)),
            )
            .await,
        ];
        for response in attempts {
            let body = refused(response, 404, "not_found").await;
            assert_eq!(body["message"], format!("Board with id {id} not found"));
        }
    }
    assert!(board_files(&app).is_empty());
    let boards = json_of(app.get("/api/v1/boards", Some(&token)).await, 200).await;
    assert_eq!(boards, json!([]));
}

async fn oversized_and_non_image_thumbnails_are_refused_and_store_nothing(app: TestApp) {
    let token = app.token("alice", None);
    let board = create(&app, &token, "/api/v1", &json!({"name": "thumbs"})).await;
    let id = board["id"].as_str().unwrap();
    let path = format!("/api/v1/boards/{id}/thumbnail");
    let six_megabytes = png(2000, 2000, 6 * 1024 * 1024);
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();

    refused(
        post_form(&app, &path, &token, thumbnail_form(&six_megabytes)).await,
        413,
        "payload_too_large",
    )
    .await;
    refused(
        post_form(&app, &path, &token, thumbnail_form(&html)).await,
        415,
        "unsupported_media_type",
    )
    .await;
    refused(
        post_form(&app, &path, &token, thumbnail_form(&[])).await,
        400,
        "validation_failed",
    )
    .await;
    // The multipart body without the `thumbnail` field.
    let empty = b"------WebKitFormBoundaryBoards7MA4YWxk--\r\n".to_vec();
    refused(
        post_form(&app, &path, &token, empty).await,
        400,
        "validation_failed",
    )
    .await;

    let encode = |bytes: &[u8]| {
        use base64::Engine;
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    let json_cases = [
        (
            json!({"dataUrl": encode(&six_megabytes)}),
            413,
            "payload_too_large",
        ),
        (
            json!({"dataUrl": encode(&html)}),
            415,
            "unsupported_media_type",
        ),
        (
            json!({"dataUrl": "data:image/png;base64,***"}),
            400,
            "validation_failed",
        ),
        (json!({"dataUrl": 5}), 400, "validation_failed"),
        (json!({}), 400, "validation_failed"),
    ];
    for (body, status, code) in json_cases {
        let response = app
            .send_json(Method::POST, &path, Some(&token), &body)
            .await;
        refused(response, status, code).await;
    }
    // A JSON body much larger than a 5 MB image's base64.
    let huge = format!("{{\"dataUrl\": \"{}\"}}", "A".repeat(8 * 1024 * 1024));
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    refused(response, 413, "payload_too_large").await;

    assert!(board_files(&app).is_empty(), "{:?}", board_files(&app));
    let read = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(read, board);
}
