//! Boards with items on them, through the routes only: the list's `itemCount`, duplicates
//! (the owner's, and another user's of a public board) with every item, a deletion that takes
//! the items and the stored thumbnail along, and an image's deletion that takes its items off
//! every board (copies included) leaving the stacks dense.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{board_files, create, json_of, png, post_form, thumbnail_form};
use crate::board_items::{assert_item_shape, image, listed, send};

on_both_databases!(a_board_with_an_image_and_a_text_is_counted_copied_and_deleted_with_them,);

/// `POST /api/v1/boards/{id}/duplicate` as the web client sends it (no body): the copy.
async fn duplicate(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(
        app.client
            .post(format!("{}/api/v1/boards/{id}/duplicate", app.address))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .send()
            .await
            .unwrap(),
        201,
    )
    .await
}

/// The web client's board list (`getBoards()` with its defaults).
async fn boards_of(app: &TestApp, token: &str) -> Vec<Value> {
    let listed = json_of(
        app.get(
            "/api/v1/boards?page=1&limit=20&includePublic=false",
            Some(token),
        )
        .await,
        200,
    )
    .await;
    listed.as_array().unwrap().clone()
}

/// The `itemCount` of board `id` in the list of `token`'s boards.
async fn item_count(app: &TestApp, token: &str, id: &str) -> Value {
    boards_of(app, token)
        .await
        .into_iter()
        .find(|board| board["id"] == id)
        .unwrap_or_else(|| panic!("board {id} not listed"))["itemCount"]
        .clone()
}

/// Checks `copy`'s items are `source`'s: new ids on board `board`, every other field the same
/// (the image's too), in the same stacking order.
fn assert_copied(source: &[Value], copy: &[Value], board: &str) {
    assert_eq!(copy.len(), source.len());
    for (original, copied) in source.iter().zip(copy) {
        assert_item_shape(copied);
        assert_ne!(copied["id"], original["id"]);
        assert_eq!(copied["boardId"], board);
        let strip = |item: &Value| {
            let mut item = item.clone();
            for field in ["id", "boardId", "createdAt"] {
                item.as_object_mut().unwrap().remove(field);
            }
            item
        };
        assert_eq!(strip(copied), strip(original));
    }
}

async fn a_board_with_an_image_and_a_text_is_counted_copied_and_deleted_with_them(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let picture = image(&app, &alice).await;
    let board = create(
        &app,
        &alice,
        "/api/v1",
        &json!({"name": "Moodboard", "description": "Farben"}),
    )
    .await;
    let id = board["id"].as_str().unwrap().to_owned();
    // addImageToBoard, then addTextToBoard as the board page sends them.
    let shown = json_of(
        send(
            &app,
            Method::POST,
            &format!("/api/v1/board-items/board/{id}/image"),
            &alice,
            &json!({"imageId": picture, "positionX": 100, "positionY": 100}),
        )
        .await,
        201,
    )
    .await;
    let note = json_of(
        send(
            &app,
            Method::POST,
            &format!("/api/v1/board-items/board/{id}/text"),
            &alice,
            &json!({"textContent": "Doppelklick zum Bearbeiten", "positionX": 100,
                    "positionY": 100, "fontSize": 24, "color": "#000000",
                    "properties": {"fontFamily": "Arial", "fontWeight": "normal",
                                   "fontStyle": "normal", "textAlign": "left",
                                   "lineHeight": 1.2}}),
        )
        .await,
        201,
    )
    .await;
    let items = listed(&app, &alice, &id).await;
    assert_eq!(items, [shown.clone(), note.clone()]);
    assert!(item_count(&app, &alice, &id).await.is_u64());
    assert_eq!(item_count(&app, &alice, &id).await, 2);

    // duplicateBoard of the owner's own board: every item, new ids, same order.
    let own = duplicate(&app, &alice, &id).await;
    let own_id = own["id"].as_str().unwrap().to_owned();
    assert_eq!(own["userId"], "alice");
    let own_items = listed(&app, &alice, &own_id).await;
    assert_copied(&items, &own_items, &own_id);
    assert!(own_items[0]["image"]["public_url"].is_string());
    assert_eq!(item_count(&app, &alice, &own_id).await, 2);

    // Another user duplicates the board once it is public: a private copy of their own.
    let shared = json_of(
        send(
            &app,
            Method::PATCH,
            &format!("/api/v1/boards/{id}"),
            &alice,
            &json!({"isPublic": true}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shared["isPublic"], true);
    let bobs = duplicate(&app, &bob, &id).await;
    let bobs_id = bobs["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&bobs["userId"], &bobs["isPublic"]),
        (&json!("bob"), &json!(false))
    );
    let bobs_items = listed(&app, &bob, &bobs_id).await;
    assert_copied(&items, &bobs_items, &bobs_id);
    assert!(bobs_items[0]["image"]["public_url"].is_string());
    assert_eq!(item_count(&app, &bob, &bobs_id).await, 2);
    let hidden = app
        .get(
            &format!("/api/v1/board-items/board/{bobs_id}"),
            Some(&alice),
        )
        .await;
    assert_eq!(hidden.status(), 404);

    // deleteBoard takes its items and its stored thumbnail along; the copies stay.
    let thumbnail = post_form(
        &app,
        &format!("/api/v1/boards/{id}/thumbnail"),
        &alice,
        thumbnail_form(&png(400, 300, 100)),
    )
    .await;
    assert_eq!(thumbnail.status(), 201);
    assert!(!board_files(&app).is_empty());
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/boards/{id}"),
            Some(&alice),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    for item in &items {
        let gone = app
            .get(
                &format!("/api/v1/board-items/{}", item["id"].as_str().unwrap()),
                Some(&alice),
            )
            .await;
        assert_eq!(gone.status(), 404);
    }
    assert!(board_files(&app).is_empty(), "{:?}", board_files(&app));
    assert_eq!(listed(&app, &alice, &own_id).await.len(), 2);

    // Deleting the image takes it off both copies; the text drops to zIndex 0.
    let removed = app
        .send(
            Method::DELETE,
            &format!("/api/v1/images/{picture}"),
            Some(&alice),
        )
        .await;
    assert!(removed.status().is_success(), "{}", removed.status());
    for (token, copy) in [(&alice, &own_id), (&bob, &bobs_id)] {
        let left = listed(&app, token, copy).await;
        assert_eq!(left.len(), 1);
        assert_eq!(
            (&left[0]["textContent"], &left[0]["zIndex"]),
            (&json!("Doppelklick zum Bearbeiten"), &json!(0))
        );
        assert_eq!(item_count(&app, token, copy).await, 1);
    }
}
