//! Board items: every call of the web client (`lib/api/boardItems.ts`) as it sends it, with
//! every field the board canvas reads; the original's routes; both prefixes; an image's
//! deletion; concurrent restacking; another user on every route (`isolation`) and bad input
//! (`input`). Boards are made with `POST /api/v1/boards`.

use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

mod input;
mod isolation;

/// A server on its own database.
pub(super) struct Fixture {
    pub(super) app: TestApp,
}

impl Fixture {
    pub(super) async fn sqlite() -> Option<Self> {
        let app = TestApp::spawn(Db::Sqlite).await?;
        Some(Self { app })
    }

    pub(super) async fn postgres() -> Option<Self> {
        let app = TestApp::spawn(Db::Postgres).await?;
        Some(Self { app })
    }

    /// A board of `owner`, public or not, made with `POST /api/v1/boards`; its id.
    pub(super) async fn board(&self, owner: &str, public: bool) -> String {
        let token = self.app.token(owner, None);
        let board = json_of(
            send(
                &self.app,
                Method::POST,
                "/api/v1/boards",
                &token,
                &json!({"name": "Moods", "isPublic": public}),
            )
            .await,
            201,
        )
        .await;
        board["id"].as_str().unwrap().to_owned()
    }
}

/// Declares each test on both databases.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Fixture::sqlite().await.unwrap()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(fixture) = super::Fixture::postgres().await else { return };
                    super::$name(fixture).await;
                }
            )*
        }
    };
}
pub(super) use on_both;

on_both!(
    the_web_client_builds_edits_and_clears_a_board,
    the_original_routes_and_the_api_prefix_work_too,
    deleting_an_image_takes_it_off_every_board,
    twenty_concurrent_moves_leave_the_stack_unique_and_dense,
);

/// Generates a small image for `token`; its id.
pub(super) async fn image(app: &TestApp, token: &str) -> String {
    let model = app.default_model_id().await;
    let body: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(token),
            &json!({"prompt": "pinned", "modelId": model, "width": 256, "height": 256,
                    "steps": 1, "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    body["image"]["id"].as_str().unwrap().to_owned()
}

/// The answer's JSON, after checking its status.
pub(super) async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// `method path` with a JSON body, as the web client sends it.
pub(super) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    app.send_json(method, path, Some(token), body).await
}

/// The board's items as its owner (or a reader) lists them, checking `zIndex` is `0..n-1`.
pub(super) async fn listed(app: &TestApp, token: &str, board: &str) -> Vec<Value> {
    let items = json_of(
        app.get(&format!("/api/v1/board-items/board/{board}"), Some(token))
            .await,
        200,
    )
    .await;
    let items = items.as_array().unwrap().clone();
    for (place, item) in items.iter().enumerate() {
        assert_eq!(item["zIndex"], json!(place), "{items:?}");
    }
    items
}

fn is_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// Every field the canvas reads, with its type.
pub(super) fn assert_item_shape(item: &Value) {
    let object = item.as_object().unwrap();
    for field in [
        "id",
        "boardId",
        "imageId",
        "itemType",
        "positionX",
        "positionY",
        "scaleX",
        "scaleY",
        "rotation",
        "zIndex",
        "opacity",
        "width",
        "height",
        "textContent",
        "fontSize",
        "font_size",
        "color",
        "properties",
        "createdAt",
        "image",
    ] {
        assert!(object.contains_key(field), "{field} missing in {item}");
    }
    assert!(item["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    for number in [
        "positionX",
        "positionY",
        "scaleX",
        "scaleY",
        "rotation",
        "opacity",
    ] {
        assert!(item[number].is_number(), "{number}");
    }
    assert!(item["zIndex"].is_u64());
    assert!(is_timestamp(&item["createdAt"]));
    assert_eq!(item["fontSize"], item["font_size"]);
    match item["itemType"].as_str().unwrap() {
        "image" => {
            let image = &item["image"];
            assert_eq!(image["id"], item["imageId"]);
            assert!(image["publicUrl"].is_string(), "{image}");
            assert_eq!(image["public_url"], image["publicUrl"]);
            assert!(image["width"].is_u64() && image["height"].is_u64());
            assert!(image["prompt"].is_string());
            assert!(image["blurhash"].is_null() || image["blurhash"].is_string());
        }
        "text" => {
            assert!(item["image"].is_null());
            assert!(item["textContent"].is_string());
            assert!(item["fontSize"].is_u64());
            assert!(item["color"].is_string());
        }
        other => panic!("item type {other}"),
    }
}

async fn the_web_client_builds_edits_and_clears_a_board(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("web-user", None);
    let picture = image(app, &token).await;
    let board = fixture.board("web-user", false).await;
    let base = "/api/v1/board-items";

    // addImageToBoard.
    let shown = json_of(
        send(
            app,
            Method::POST,
            &format!("{base}/board/{board}/image"),
            &token,
            &json!({"imageId": picture, "positionX": 100, "positionY": 100}),
        )
        .await,
        201,
    )
    .await;
    assert_item_shape(&shown);
    assert_eq!(
        (
            &shown["boardId"],
            &shown["imageId"],
            &shown["itemType"],
            &shown["zIndex"]
        ),
        (&json!(board), &json!(picture), &json!("image"), &json!(0))
    );
    assert_eq!(
        (shown["positionX"].as_f64(), shown["scaleX"].as_f64()),
        (Some(100.0), Some(1.0))
    );
    assert_eq!(shown["opacity"].as_f64(), Some(1.0));
    assert!(shown["textContent"].is_null() && shown["font_size"].is_null());

    // addTextToBoard, exactly as the board page sends it.
    let properties = json!({"fontFamily": "Arial", "fontWeight": "normal", "fontStyle": "normal",
                            "textAlign": "left", "lineHeight": 1.2});
    let note = json_of(
        send(
            app,
            Method::POST,
            &format!("{base}/board/{board}/text"),
            &token,
            &json!({"textContent": "Doppelklick zum Bearbeiten", "positionX": 100, "positionY": 100,
                    "fontSize": 24, "color": "#000000", "properties": properties}),
        )
        .await,
        201,
    )
    .await;
    assert_item_shape(&note);
    assert_eq!(note["textContent"], "Doppelklick zum Bearbeiten");
    assert_eq!(
        (&note["fontSize"], &note["font_size"]),
        (&json!(24), &json!(24))
    );
    assert_eq!(
        (&note["color"], &note["properties"]),
        (&json!("#000000"), &properties)
    );
    assert_eq!(note["zIndex"], 1);

    // addBoardItem (ImagePickerModal): the whole item, boardId included; 0 stays 0.
    let picked = json_of(
        send(
            app,
            Method::POST,
            &format!("{base}/board/{board}"),
            &token,
            &json!({"boardId": board, "itemType": "image", "imageId": picture,
                    "positionX": 0, "positionY": 0}),
        )
        .await,
        201,
    )
    .await;
    assert_item_shape(&picked);
    assert_eq!(
        (picked["positionX"].as_f64(), picked["positionY"].as_f64()),
        (Some(0.0), Some(0.0))
    );

    // getBoardItems, getBoardItemById.
    let items = listed(app, &token, &board).await;
    assert_eq!(items.len(), 3);
    items.iter().for_each(assert_item_shape);
    assert_eq!(items[1], note);
    let id = note["id"].as_str().unwrap();
    let fetched = json_of(app.get(&format!("{base}/{id}"), Some(&token)).await, 200).await;
    assert_eq!(fetched, note);

    // updateBoardItem: a drag, a text transform, an edit, the properties panel.
    for (change, field, expected) in [
        (
            json!({"positionX": 250.5, "positionY": -20}),
            "positionX",
            json!(250.5),
        ),
        (
            json!({"width": 320, "scaleX": 1, "scaleY": 1.5, "rotation": 45}),
            "width",
            json!(320),
        ),
        (
            json!({"textContent": "Hallo"}),
            "textContent",
            json!("Hallo"),
        ),
        (json!({"opacity": 0.5}), "opacity", json!(0.5)),
        (
            json!({"scaleX": 0.25, "scaleY": 0.25}),
            "scaleY",
            json!(0.25),
        ),
    ] {
        let updated = json_of(
            send(app, Method::PATCH, &format!("{base}/{id}"), &token, &change).await,
            200,
        )
        .await;
        assert_item_shape(&updated);
        assert_eq!(updated[field], expected, "{change}");
    }

    // updateBoardItems (the canvas's batch).
    let (first, third) = (
        items[0]["id"].as_str().unwrap(),
        items[2]["id"].as_str().unwrap(),
    );
    let batch = json_of(
        send(
            app,
            Method::PATCH,
            &format!("{base}/batch"),
            &token,
            &json!({"items": [{"id": first, "positionX": 10, "positionY": 20},
                              {"id": third, "positionX": 30, "positionY": 40}]}),
        )
        .await,
        200,
    )
    .await;
    let batch = batch.as_array().unwrap();
    assert_eq!(batch.len(), 2);
    batch.iter().for_each(assert_item_shape);
    assert_eq!(
        (batch[1]["id"].as_str(), batch[1]["positionY"].as_f64()),
        (Some(third), Some(40.0))
    );

    // changeBoardItemZIndex: the top item goes down one place, the nearest swap.
    let moved = json_of(
        send(
            app,
            Method::PATCH,
            &format!("{base}/{third}/z-index"),
            &token,
            &json!({"direction": "down"}),
        )
        .await,
        200,
    )
    .await;
    assert_item_shape(&moved);
    assert_eq!(moved["zIndex"], 1);
    let order: Vec<Value> = listed(app, &token, &board)
        .await
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(order, [json!(first), json!(third), json!(id)]);

    // isImageOnBoard.
    let exists = json_of(
        app.get(
            &format!("{base}/board/{board}/image/{picture}/exists"),
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(exists, json!({"exists": true}));

    // removeBoardItem: 204, no body; the stack closes up.
    let removed = app
        .send(Method::DELETE, &format!("{base}/{third}"), Some(&token))
        .await;
    assert_eq!(removed.status(), 204);
    assert!(removed.text().await.unwrap().is_empty());
    assert_eq!(listed(app, &token, &board).await.len(), 2);

    // removeBoardItems: the web client sends no body (400, nothing deleted); with {ids}, 204.
    let bodiless = app
        .send(Method::DELETE, &format!("{base}/batch"), Some(&token))
        .await;
    let error = json_of(bodiless, 400).await;
    assert_eq!(error["code"], "validation_failed");
    assert_eq!(listed(app, &token, &board).await.len(), 2);
    let cleared = send(
        app,
        Method::DELETE,
        &format!("{base}/batch"),
        &token,
        &json!({"ids": [first, id]}),
    )
    .await;
    assert_eq!(cleared.status(), 204);
    assert!(listed(app, &token, &board).await.is_empty());
    let gone = json_of(app.get(&format!("{base}/{id}"), Some(&token)).await, 404).await;
    assert_eq!(
        gone["message"],
        format!("Board item with id {id} not found")
    );
}

async fn the_original_routes_and_the_api_prefix_work_too(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("mobile-user", None);
    let picture = image(app, &token).await;
    let board = fixture.board("mobile-user", false).await;
    // The original's POST /board-items/text reads `content`; positions default to 100.
    let note = json_of(
        send(
            app,
            Method::POST,
            "/api/board-items/text",
            &token,
            &json!({"boardId": board, "content": "Old field"}),
        )
        .await,
        201,
    )
    .await;
    assert_item_shape(&note);
    assert_eq!(
        (&note["textContent"], &note["fontSize"], &note["color"]),
        (&json!("Old field"), &json!(24), &json!("#000000"))
    );
    assert_eq!(
        (note["positionX"].as_f64(), note["positionY"].as_f64()),
        (Some(100.0), Some(100.0))
    );
    // Defaults, and textContent wins over content.
    let plain = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/text"),
            &token,
            &json!({"content": "loser", "textContent": "winner", "positionX": null}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (&plain["textContent"], plain["positionX"].as_f64()),
        (&json!("winner"), Some(100.0))
    );
    let empty = json_of(
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
    assert_eq!(empty["textContent"], "New Text");
    let shown = json_of(
        send(
            app,
            Method::POST,
            "/api/v1/board-items/image",
            &token,
            &json!({"boardId": board, "imageId": picture}),
        )
        .await,
        201,
    )
    .await;
    assert_item_shape(&shown);
    assert_eq!(shown["zIndex"], 3);
    let check = json_of(
        app.get(
            &format!("/api/board-items/check/{board}/{picture}"),
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(check, json!({"isOnBoard": true}));
    let other = image(app, &token).await;
    let check = json_of(
        app.get(
            &format!("/api/v1/board-items/check/{board}/{other}"),
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(check, json!({"isOnBoard": false}));
    let items = json_of(
        app.get(&format!("/api/board-items/board/{board}"), Some(&token))
            .await,
        200,
    )
    .await;
    assert_eq!(items.as_array().unwrap().len(), 4);
    for direction in ["bottom", "top", "up"] {
        let moved = json_of(
            send(
                app,
                Method::PATCH,
                &format!("/api/board-items/{}/z-index", note["id"].as_str().unwrap()),
                &token,
                &json!({"direction": direction}),
            )
            .await,
            200,
        )
        .await;
        let expected = if direction == "bottom" { 0 } else { 3 };
        assert_eq!(moved["zIndex"], expected, "{direction}");
    }
    // A zIndex in a PATCH moves the item there (clamped), the others shift.
    let moved = json_of(
        send(
            app,
            Method::PATCH,
            &format!("/api/v1/board-items/{}", note["id"].as_str().unwrap()),
            &token,
            &json!({"zIndex": 1}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(moved["zIndex"], 1);
    assert_eq!(listed(app, &token, &board).await[1]["id"], note["id"]);
}

async fn deleting_an_image_takes_it_off_every_board(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("pruner", None);
    let (gone, kept) = (image(app, &token).await, image(app, &token).await);
    let (one, two) = (
        fixture.board("pruner", false).await,
        fixture.board("pruner", true).await,
    );
    for (board, picture) in [(&one, &gone), (&one, &kept), (&one, &gone), (&two, &gone)] {
        json_of(
            send(
                app,
                Method::POST,
                &format!("/api/v1/board-items/board/{board}/image"),
                &token,
                &json!({"imageId": picture, "positionX": 1, "positionY": 2}),
            )
            .await,
            201,
        )
        .await;
    }
    json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{one}/text"),
            &token,
            &json!({"textContent": "caption"}),
        )
        .await,
        201,
    )
    .await;
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/images/{gone}"),
            Some(&token),
        )
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let left = listed(app, &token, &one).await;
    assert_eq!(left.len(), 2);
    assert_eq!(
        (&left[0]["imageId"], &left[1]["textContent"]),
        (&json!(kept), &json!("caption"))
    );
    assert!(listed(app, &token, &two).await.is_empty());
    let exists = json_of(
        app.get(
            &format!("/api/v1/board-items/board/{one}/image/{gone}/exists"),
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(exists, json!({"exists": false}));
}

async fn twenty_concurrent_moves_leave_the_stack_unique_and_dense(fixture: Fixture) {
    let app = &fixture.app;
    let token = app.token("mover", None);
    let board = fixture.board("mover", false).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        let item = json_of(
            send(
                app,
                Method::POST,
                &format!("/api/v1/board-items/board/{board}/text"),
                &token,
                &json!({"textContent": n.to_string()}),
            )
            .await,
            201,
        )
        .await;
        ids.push(item["id"].as_str().unwrap().to_owned());
    }
    let directions = ["up", "down", "top", "bottom"];
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..20 {
        let url = format!(
            "{}/api/v1/board-items/{}/z-index",
            app.address,
            ids[n % ids.len()]
        );
        let body = json!({"direction": directions[n % directions.len()]});
        let (client, token) = (app.client.clone(), token.clone());
        racing.spawn(async move {
            client
                .patch(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    for status in racing.join_all().await {
        assert_eq!(status, 200);
    }
    let order = listed(app, &token, &board).await;
    let unique: std::collections::BTreeSet<_> = order.iter().map(|i| i["id"].to_string()).collect();
    assert_eq!(unique.len(), 8);
}
