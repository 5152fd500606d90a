//! Bad input on the board-item routes: every bound, malformed JSON, wrong types, unknown and
//! malformed ids, a board id that is an image id, a full board — each a 4xx in the error shape,
//! and nothing stored.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Fixture, image, json_of, listed, on_both, send};

on_both!(
    every_bound_is_a_400_and_nothing_is_stored,
    unknown_boards_and_items_are_404_and_a_full_board_is_409,
);

async fn every_bound_is_a_400_and_nothing_is_stored(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("careless", None);
    let board = fixture.board("careless", false).await;
    let text = format!("/api/v1/board-items/board/{board}/text");
    let item = json_of(
        send(
            app,
            Method::POST,
            &text,
            &token,
            &json!({"textContent": "ok"}),
        )
        .await,
        201,
    )
    .await;
    let id = item["id"].as_str().unwrap();
    let patch = format!("/api/v1/board-items/{id}");
    let big = "x".repeat(16 * 1024);
    let bad: Vec<Value> = vec![
        json!({"positionX": "5"}),
        json!({"positionX": 1.0e7}),
        json!({"rotation": -2.0e6}),
        json!({"scaleX": 0}),
        json!({"scaleY": 100.5}),
        json!({"opacity": 1.5}),
        json!({"opacity": -0.1}),
        json!({"width": 0}),
        json!({"height": 20_001}),
        json!({"fontSize": 12.5}),
        json!({"zIndex": -1}),
        json!({"textContent": "ä".repeat(5001)}),
        json!({"color": "red"}),
        json!({"color": "#12345"}),
        json!({"properties": [1, 2]}),
        json!({"properties": "bold"}),
        json!({"properties": {"padding": big}}),
    ];
    for body in &bad {
        let error = json_of(send(app, Method::PATCH, &patch, &token, body).await, 400).await;
        assert_eq!(error["code"], "validation_failed", "{body}");
        assert!(error["message"].is_array(), "{body}");
        // The fields a new text item takes are checked alike when it is created.
        let creatable = [
            "positionX",
            "positionY",
            "fontSize",
            "textContent",
            "color",
            "properties",
        ];
        if body
            .as_object()
            .unwrap()
            .keys()
            .all(|k| creatable.contains(&k.as_str()))
        {
            let error = json_of(send(app, Method::POST, &text, &token, body).await, 400).await;
            assert_eq!(error["code"], "validation_failed", "POST {body}");
        }
    }
    // NaN and Infinity are no JSON; neither is a cut-off body.
    for raw in [
        r#"{"positionX": NaN}"#,
        r#"{"positionX": Infinity}"#,
        r#"{"positionX": 1e999}"#,
        "{\"positionX\": 1",
    ] {
        for (method, path) in [(Method::PATCH, &patch), (Method::POST, &text)] {
            let answer = app
                .client
                .request(method, format!("{}{path}", app.address))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            let error = json_of(answer, 400).await;
            assert_eq!(error["code"], "validation_failed", "{raw}");
        }
    }
    // The generic route: an unknown itemType, a body boardId that is not the path's.
    let generic = format!("/api/v1/board-items/board/{board}");
    for body in [
        json!({"itemType": "video"}),
        json!({"itemType": "text", "boardId": uuid::Uuid::new_v4()}),
        json!({"itemType": "image"}),
        json!({"itemType": "image", "imageId": "not-a-uuid"}),
    ] {
        let error = json_of(send(app, Method::POST, &generic, &token, &body).await, 400).await;
        assert_eq!(error["code"], "validation_failed", "{body}");
    }
    // Batches: empty, too many, a bad field; a bad direction.
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({"id": id, "positionX": 1}))
        .collect();
    for body in [
        json!({"items": []}),
        json!({"items": too_many}),
        json!({"items": [{"id": id, "opacity": 9}]}),
        json!({}),
    ] {
        let error = json_of(
            send(
                app,
                Method::PATCH,
                "/api/v1/board-items/batch",
                &token,
                &body,
            )
            .await,
            400,
        )
        .await;
        assert_eq!(error["code"], "validation_failed");
    }
    for body in [json!({"ids": []}), json!({"ids": "all"}), json!({})] {
        let error = json_of(
            send(
                app,
                Method::DELETE,
                "/api/v1/board-items/batch",
                &token,
                &body,
            )
            .await,
            400,
        )
        .await;
        assert_eq!(error["code"], "validation_failed");
    }
    let error = json_of(
        send(
            app,
            Method::PATCH,
            &format!("{patch}/z-index"),
            &token,
            &json!({"direction": "left"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["code"], "validation_failed");
    // Nothing changed.
    let items = listed(app, &token, &board).await;
    assert_eq!(items, vec![item]);
}

async fn unknown_boards_and_items_are_404_and_a_full_board_is_409(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("lost", None);
    let picture = image(app, &token).await;
    let missing = uuid::Uuid::new_v4().to_string();
    for board in [picture.as_str(), missing.as_str(), "not-a-uuid"] {
        let error = json_of(
            send(
                app,
                Method::POST,
                &format!("/api/v1/board-items/board/{board}/text"),
                &token,
                &json!({}),
            )
            .await,
            404,
        )
        .await;
        assert_eq!(error["message"], format!("Board with id {board} not found"));
        let error = json_of(
            app.get(&format!("/api/v1/board-items/board/{board}"), Some(&token))
                .await,
            404,
        )
        .await;
        assert_eq!(error["code"], "not_found");
    }
    for item in [picture.as_str(), "not-a-uuid"] {
        let error = json_of(
            app.get(&format!("/api/v1/board-items/{item}"), Some(&token))
                .await,
            404,
        )
        .await;
        assert_eq!(
            error["message"],
            format!("Board item with id {item} not found")
        );
    }
    let board = fixture.board("lost", false).await;
    let error = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/image"),
            &token,
            &json!({"imageId": missing}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        error["message"],
        format!("Image with id {missing} not found")
    );
    // A batch naming one unknown item changes nothing.
    let item = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/text"),
            &token,
            &json!({}),
        )
        .await,
        201,
    )
    .await;
    let id = item["id"].as_str().unwrap();
    let error = json_of(
        send(
            app,
            Method::PATCH,
            "/api/v1/board-items/batch",
            &token,
            &json!({"items": [{"id": id, "positionX": 7}, {"id": missing, "positionX": 7}]}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    let error = json_of(
        send(
            app,
            Method::DELETE,
            "/api/v1/board-items/batch",
            &token,
            &json!({"ids": [id, missing]}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    assert_eq!(listed(app, &token, &board).await, vec![item]);
    // A full board: the 501st item is a 409. The board is filled through the route, a few
    // requests at a time.
    let url = format!("{}/api/v1/board-items/board/{board}/text", app.address);
    let mut filled = 1;
    while filled < 500 {
        let batch = (500 - filled).min(8);
        let mut adds = tokio::task::JoinSet::new();
        for _ in 0..batch {
            let request = app.client.post(&url).bearer_auth(&token).json(&json!({}));
            adds.spawn(async move { request.send().await.unwrap().status() });
        }
        while let Some(status) = adds.join_next().await {
            assert_eq!(status.unwrap(), 201);
        }
        filled += batch;
    }
    let error = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/text"),
            &token,
            &json!({}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(error["code"], "conflict");
    assert_eq!(
        error["message"],
        format!("Board {board} is full (500 items)")
    );
    assert_eq!(listed(app, &token, &board).await.len(), 500);
}
