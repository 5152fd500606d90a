//! Another user on every board-item route: a private board's items are a 404 for them on
//! every route; a public board's are readable but not writable; nothing changes either way.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Fixture, image, json_of, listed, on_both, send};

on_both!(another_user_gets_404_on_every_route_and_changes_nothing);

async fn another_user_gets_404_on_every_route_and_changes_nothing(fixture: Fixture) {
    let app = &fixture.app;
    let (alice, bob) = (app.token("alice", None), app.token("bob", None));
    let board = fixture.board("alice", false).await;
    let picture = image(app, &alice).await;
    let bobs_picture = image(app, &bob).await;
    let item = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/image"),
            &alice,
            &json!({"imageId": picture, "positionX": 5, "positionY": 5}),
        )
        .await,
        201,
    )
    .await;
    let id = item["id"].as_str().unwrap();
    // Alice may not place Bob's private image.
    let refused = json_of(
        send(
            app,
            Method::POST,
            &format!("/api/v1/board-items/board/{board}/image"),
            &alice,
            &json!({"imageId": bobs_picture, "positionX": 5, "positionY": 5}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        refused["message"],
        format!("Image with id {bobs_picture} not found")
    );
    let before = listed(app, &alice, &board).await;

    let board_404 = format!("Board with id {board} not found");
    let item_404 = format!("Board item with id {id} not found");
    let writes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            format!("/api/v1/board-items/board/{board}/image"),
            json!({"imageId": bobs_picture}),
        ),
        (
            Method::POST,
            format!("/api/v1/board-items/board/{board}/text"),
            json!({"textContent": "x"}),
        ),
        (
            Method::POST,
            format!("/api/v1/board-items/board/{board}"),
            json!({"itemType": "text"}),
        ),
        (
            Method::POST,
            "/api/v1/board-items/image".into(),
            json!({"boardId": board, "imageId": bobs_picture}),
        ),
        (
            Method::POST,
            "/api/v1/board-items/text".into(),
            json!({"boardId": board, "content": "x"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/board-items/{id}"),
            json!({"positionX": 1}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/board-items/{id}/z-index"),
            json!({"direction": "top"}),
        ),
        (
            Method::PATCH,
            "/api/v1/board-items/batch".into(),
            json!({"items": [{"id": id, "positionX": 1}]}),
        ),
        (
            Method::DELETE,
            "/api/v1/board-items/batch".into(),
            json!({"ids": [id]}),
        ),
        (
            Method::DELETE,
            format!("/api/v1/board-items/{id}"),
            json!({}),
        ),
    ];
    let reads = [
        (
            format!("/api/v1/board-items/board/{board}"),
            Some(&board_404),
        ),
        (format!("/api/v1/board-items/{id}"), Some(&item_404)),
        (
            format!("/api/v1/board-items/board/{board}/image/{picture}/exists"),
            Some(&board_404),
        ),
        (
            format!("/api/v1/board-items/check/{board}/{picture}"),
            Some(&board_404),
        ),
    ];
    for public in [false, true] {
        if public {
            let shared = send(
                app,
                Method::PATCH,
                &format!("/api/v1/boards/{board}"),
                &alice,
                &json!({"isPublic": true}),
            )
            .await;
            assert_eq!(shared.status(), 200);
        }
        for (method, path, body) in &writes {
            let error = json_of(send(app, method.clone(), path, &bob, body).await, 404).await;
            assert_eq!(error["code"], "not_found", "{method} {path}");
            assert_eq!(error["statusCode"], 404);
        }
        for (path, message) in &reads {
            let answer = app.get(path, Some(&bob)).await;
            if public {
                assert_eq!(answer.status(), 200, "{path}");
            } else {
                let error = json_of(answer, 404).await;
                assert_eq!(error["message"], json!(message.unwrap()), "{path}");
            }
        }
        assert_eq!(listed(app, &alice, &board).await, before);
    }
    // Without a token: 401.
    let anonymous = app
        .get(&format!("/api/v1/board-items/board/{board}"), None)
        .await;
    assert_eq!(anonymous.status(), 401);
}
