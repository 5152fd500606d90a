//! Boards: every call of the web client (`lib/api/boards.ts`, `/api/v1`) as it sends it, with
//! every field it reads; the `/api` prefix; thumbnails (multipart and `{dataUrl}`); another
//! user's boards (`isolation`) and bad input (`input`).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

mod input;
mod isolation;
mod with_items;

on_both_databases!(
    the_web_client_creates_lists_edits_shares_and_deletes_a_board,
    thumbnails_are_stored_served_with_a_week_of_cache_and_replaced,
    a_duplicate_is_a_private_copy_for_the_caller_on_the_mobile_prefix_too,
);

const BOUNDARY: &str = "----WebKitFormBoundaryBoards7MA4YWxk";

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 4]);
    out
}

/// A PNG of `width`×`height` whose image data is `data` bytes long (a canvas export).
pub(super) fn png(width: u32, height: u32, data: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend(chunk(b"IHDR", &header));
    let mut pixels = vec![0x78, 0x9C];
    pixels.extend((0..data).map(|i| (i % 251) as u8));
    out.extend(chunk(b"IDAT", &pixels));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// The web client's `FormData` with the blob `bytes` as `thumbnail` named `thumbnail.png`.
pub(super) fn thumbnail_form(bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"thumbnail\"; filename=\"thumbnail.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// `POST {path}` of a multipart body as the browser sends it.
pub(super) async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> reqwest::Response {
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

/// `POST {prefix}/boards` with `body`; the created board.
pub(super) async fn create(app: &TestApp, token: &str, prefix: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, &format!("{prefix}/boards"), Some(token), body)
        .await;
    assert_eq!(response.status(), 201, "{body}");
    response.json().await.unwrap()
}

pub(super) async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

fn is_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// Every field of `Board` with the type the web client reads.
pub(super) fn assert_board(board: &Value) {
    assert!(board["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert!(board["userId"].is_string());
    assert!(board["name"].is_string());
    assert!(board["description"].is_string() || board["description"].is_null());
    assert!(board["thumbnailUrl"].is_string() || board["thumbnailUrl"].is_null());
    assert!(board["canvasWidth"].is_u64());
    assert!(board["canvasHeight"].is_u64());
    assert!(board["backgroundColor"].is_string());
    assert!(board["isPublic"].is_boolean());
    assert!(is_timestamp(&board["createdAt"]));
    assert!(is_timestamp(&board["updatedAt"]));
}

/// The ids of a board list.
pub(super) fn ids(boards: &Value) -> Vec<&str> {
    boards
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect()
}

/// Every file under `dir`.
pub(super) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// The stored board files (thumbnails and their headers) of `app`.
pub(super) fn board_files(app: &TestApp) -> Vec<PathBuf> {
    files_under(&app.settings.database.data_dir.join("files/boards"))
}

async fn the_web_client_creates_lists_edits_shares_and_deletes_a_board(app: TestApp) {
    let token = app.token("web-user", None);
    let other = app.token("other-user", None);
    // createBoard: the board list's dialog sends the name and a description.
    let board = create(
        &app,
        &token,
        "/api/v1",
        &json!({"name": "  Sommer  ", "description": "Ideen"}),
    )
    .await;
    assert_board(&board);
    let id = board["id"].as_str().unwrap().to_owned();
    assert_eq!(board["userId"], "web-user");
    assert_eq!(board["name"], "Sommer");
    assert_eq!(board["description"], "Ideen");
    assert_eq!(board["thumbnailUrl"], Value::Null);
    assert_eq!(
        (&board["canvasWidth"], &board["canvasHeight"]),
        (&json!(2000), &json!(1500))
    );
    assert_eq!(board["backgroundColor"], "#ffffff");
    assert_eq!(board["isPublic"], false);
    assert_eq!(board["createdAt"], board["updatedAt"]);
    // Every field sent.
    let full = create(
        &app,
        &token,
        "/api/v1",
        &json!({"name": "Winter", "description": "Kalt", "canvasWidth": 4000,
                "canvasHeight": 3000.0, "backgroundColor": "#1E293B", "isPublic": false}),
    )
    .await;
    assert_eq!(
        (
            &full["canvasWidth"],
            &full["canvasHeight"],
            &full["backgroundColor"]
        ),
        (&json!(4000), &json!(3000), &json!("#1E293B"))
    );

    // getBoards: the client always sends all three parameters.
    let mine = json_of(
        app.get(
            "/api/v1/boards?page=1&limit=20&includePublic=false",
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&mine), [full["id"].as_str().unwrap(), id.as_str()]);
    for listed in mine.as_array().unwrap() {
        assert_board(listed);
        assert_eq!(listed["itemCount"], 0);
    }
    // getBoardById.
    let read = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(read, board);
    assert!(read.get("itemCount").is_none());

    // updateBoard with every field of UpdateBoardInput, `thumbnailUrl` included.
    let updated = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/boards/{id}"),
            Some(&token),
            &json!({"name": "Sommer 2026", "description": "Strand", "canvasWidth": 3000,
                    "canvasHeight": 2000, "backgroundColor": "#FDE68A", "isPublic": false,
                    "thumbnailUrl": "https://cdn.example.com/sommer.png"}),
        )
        .await,
        200,
    )
    .await;
    assert_board(&updated);
    assert_eq!(updated["name"], "Sommer 2026");
    assert_eq!(updated["description"], "Strand");
    assert_eq!(
        updated["thumbnailUrl"],
        "https://cdn.example.com/sommer.png"
    );
    assert_eq!(
        (&updated["canvasWidth"], &updated["canvasHeight"]),
        (&json!(3000), &json!(2000))
    );
    assert_eq!(updated["backgroundColor"], "#FDE68A");
    assert_eq!(updated["createdAt"], board["createdAt"]);
    assert!(updated["updatedAt"].as_str() >= board["updatedAt"].as_str());

    // toggleBoardVisibility: `PATCH /boards/:id {isPublic}`.
    let shared = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/boards/{id}"),
            Some(&token),
            &json!({"isPublic": true}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shared["isPublic"], true);
    assert_eq!(shared["name"], "Sommer 2026");
    // getPublicBoards: anyone signed in sees it, with its count.
    let public = json_of(
        app.get("/api/v1/boards/public?page=1&limit=20", Some(&other))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&public), [id.as_str()]);
    assert_eq!(public[0]["itemCount"], 0);
    assert_board(&public[0]);
    // Readable by the other user, and in their list with includePublic=true.
    let seen = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(&other)).await,
        200,
    )
    .await;
    assert_eq!(seen["userId"], "web-user");
    let with_public = json_of(
        app.get(
            "/api/v1/boards?page=1&limit=20&includePublic=true",
            Some(&other),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&with_public), [id.as_str()]);
    // The original's visibility route.
    let private = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/boards/{id}/visibility"),
            Some(&token),
            &json!({"isPublic": false}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(private["isPublic"], false);
    assert_eq!(
        app.get(&format!("/api/v1/boards/{id}"), Some(&other))
            .await
            .status(),
        404
    );

    // deleteBoard: 204 without a body, then gone.
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/boards/{id}"),
            Some(&token),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert!(deleted.bytes().await.unwrap().is_empty());
    let gone = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(&token)).await,
        404,
    )
    .await;
    assert_eq!(gone["code"], "not_found");
    assert_eq!(gone["message"], format!("Board with id {id} not found"));
    let left = json_of(app.get("/api/v1/boards", Some(&token)).await, 200).await;
    assert_eq!(ids(&left), [full["id"].as_str().unwrap()]);
}

async fn thumbnails_are_stored_served_with_a_week_of_cache_and_replaced(app: TestApp) {
    let token = app.token("web-user", None);
    let board = create(&app, &token, "/api/v1", &json!({"name": "Thumbs"})).await;
    let id = board["id"].as_str().unwrap();
    let path = format!("/api/v1/boards/{id}/thumbnail");
    // generateBoardThumbnail: multipart `thumbnail`, a PNG blob named thumbnail.png.
    let first_png = png(400, 300, 1000);
    let first = json_of(
        post_form(&app, &path, &token, thumbnail_form(&first_png)).await,
        201,
    )
    .await;
    assert_board(&first);
    let url = first["thumbnailUrl"].as_str().unwrap().to_owned();
    let (_, key) = url.split_once("/files/").unwrap();
    assert!(key.starts_with(&format!("boards/{id}/thumbnail-")), "{key}");
    assert!(key.ends_with(".png"));
    let served = app.get(&format!("/files/{key}"), None).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=604800");
    assert_eq!(served.bytes().await.unwrap().as_ref(), first_png.as_slice());
    let read = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(read["thumbnailUrl"], url.as_str());

    // The original's JSON `{dataUrl}` replaces it: the old object is deleted.
    let second_png = png(200, 150, 500);
    let data_url = format!("data:image/png;base64,{}", STANDARD.encode(&second_png));
    let second = json_of(
        app.send_json(
            Method::POST,
            &path,
            Some(&token),
            &json!({"dataUrl": data_url}),
        )
        .await,
        201,
    )
    .await;
    let second_url = second["thumbnailUrl"].as_str().unwrap();
    assert_ne!(second_url, url);
    assert_eq!(app.get(&format!("/files/{key}"), None).await.status(), 404);
    let (_, second_key) = second_url.split_once("/files/").unwrap();
    let served = app.get(&format!("/files/{second_key}"), None).await;
    assert_eq!(
        served.bytes().await.unwrap().as_ref(),
        second_png.as_slice()
    );
    assert_eq!(board_files(&app).len(), 2, "the image and its header only");

    // A 5 MB image as base64 in JSON fits the body limit.
    let large = png(1000, 1000, 5 * 1024 * 1024 - 100);
    assert!(large.len() <= 5 * 1024 * 1024);
    let large_url = format!("data:image/png;base64,{}", STANDARD.encode(&large));
    let stored = app
        .send_json(
            Method::POST,
            &path,
            Some(&token),
            &json!({"dataUrl": large_url}),
        )
        .await;
    assert_eq!(stored.status(), 201);

    // PATCH with another URL forgets the stored thumbnail and deletes its object.
    let repointed = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/boards/{id}"),
            Some(&token),
            &json!({"thumbnailUrl": "https://cdn.example.com/x.png"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(repointed["thumbnailUrl"], "https://cdn.example.com/x.png");
    assert!(board_files(&app).is_empty(), "{:?}", board_files(&app));

    // A board deletion deletes its stored thumbnail.
    let again = json_of(
        post_form(&app, &path, &token, thumbnail_form(&first_png)).await,
        201,
    )
    .await;
    assert!(again["thumbnailUrl"].is_string());
    assert_eq!(board_files(&app).len(), 2);
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/boards/{id}"),
            Some(&token),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert!(board_files(&app).is_empty(), "{:?}", board_files(&app));
}

async fn a_duplicate_is_a_private_copy_for_the_caller_on_the_mobile_prefix_too(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let board = create(
        &app,
        &alice,
        "/api",
        &json!({"name": "Public board", "description": "d", "canvasWidth": 1234,
                "backgroundColor": "#000000", "isPublic": true}),
    )
    .await;
    let id = board["id"].as_str().unwrap();
    let thumbnail = post_form(
        &app,
        &format!("/api/boards/{id}/thumbnail"),
        &alice,
        thumbnail_form(&png(10, 10, 10)),
    )
    .await;
    assert_eq!(thumbnail.status(), 201);
    let before = updated_at(&app, &alice, id).await;
    // duplicateBoard: a POST without a body.
    let copy = json_of(
        app.client
            .post(format!("{}/api/v1/boards/{id}/duplicate", app.address))
            .bearer_auth(&bob)
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_board(&copy);
    assert_ne!(copy["id"], board["id"]);
    assert_eq!(copy["userId"], "bob");
    assert_eq!(copy["name"], "Public board (Copy)");
    assert_eq!(copy["isPublic"], false);
    assert_eq!(copy["thumbnailUrl"], Value::Null);
    assert_eq!(copy["description"], "d");
    assert_eq!(
        (
            &copy["canvasWidth"],
            &copy["canvasHeight"],
            &copy["backgroundColor"]
        ),
        (&json!(1234), &json!(1500), &json!("#000000"))
    );
    let bobs = json_of(app.get("/api/boards", Some(&bob)).await, 200).await;
    assert_eq!(ids(&bobs), [copy["id"].as_str().unwrap()]);
    assert_eq!(bobs[0]["itemCount"], 0);
    // The owner duplicates their own board on `/api`.
    let own = json_of(
        app.send(
            Method::POST,
            &format!("/api/boards/{id}/duplicate"),
            Some(&alice),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(own["userId"], "alice");
    // The source is unchanged.
    assert_eq!(updated_at(&app, &alice, id).await, before);
}

async fn updated_at(app: &TestApp, token: &str, id: &str) -> Value {
    let board = json_of(
        app.get(&format!("/api/v1/boards/{id}"), Some(token)).await,
        200,
    )
    .await;
    board["updatedAt"].clone()
}
