//! Another user's boards: every route answers 404 `not_found` for a private board (and for a
//! change of a public one), and nothing changes.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::json;

use super::{board_files, create, json_of, png, post_form, thumbnail_form};

on_both_databases!(another_users_boards_are_404_on_every_route_and_stay_unchanged);

async fn another_users_boards_are_404_on_every_route_and_stay_unchanged(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let private = create(&app, &alice, "/api/v1", &json!({"name": "secret"})).await;
    let public = create(
        &app,
        &alice,
        "/api/v1",
        &json!({"name": "shared", "isPublic": true}),
    )
    .await;
    let stored = post_form(
        &app,
        &format!(
            "/api/v1/boards/{}/thumbnail",
            public["id"].as_str().unwrap()
        ),
        &alice,
        thumbnail_form(&png(10, 10, 10)),
    )
    .await;
    assert_eq!(stored.status(), 201);
    let public: serde_json::Value = stored.json().await.unwrap();
    let files = board_files(&app);

    for board in [&private, &public] {
        let id = board["id"].as_str().unwrap();
        let mut attempts = vec![
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}"),
                Some(&bob),
                &json!({"name": "stolen", "isPublic": false, "thumbnailUrl": null}),
            )
            .await,
            app.send_json(
                Method::PATCH,
                &format!("/api/v1/boards/{id}/visibility"),
                Some(&bob),
                &json!({"isPublic": false}),
            )
            .await,
            app.send(Method::DELETE, &format!("/api/v1/boards/{id}"), Some(&bob))
                .await,
            post_form(
                &app,
                &format!("/api/v1/boards/{id}/thumbnail"),
                &bob,
                thumbnail_form(&png(10, 10, 10)),
            )
            .await,
            app.send(Method::DELETE, &format!("/api/boards/{id}"), Some(&bob))
                .await,
        ];
        if board["isPublic"] == false {
            attempts.push(app.get(&format!("/api/v1/boards/{id}"), Some(&bob)).await);
            attempts.push(
                app.send(
                    Method::POST,
                    &format!("/api/v1/boards/{id}/duplicate"),
                    Some(&bob),
                )
                .await,
            );
        }
        for response in attempts {
            let body = json_of(response, 404).await;
            assert_eq!(body["code"], "not_found");
            assert_eq!(body["message"], format!("Board with id {id} not found"));
        }
        // Unchanged for its owner.
        let now = json_of(
            app.get(&format!("/api/v1/boards/{id}"), Some(&alice)).await,
            200,
        )
        .await;
        assert_eq!(&now, board);
    }
    // Bob's lists hold no private board of alice's, and he owns nothing.
    let bobs = json_of(
        app.get(
            "/api/v1/boards?page=1&limit=20&includePublic=true",
            Some(&bob),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(super::ids(&bobs), [public["id"].as_str().unwrap()]);
    let own = json_of(app.get("/api/v1/boards", Some(&bob)).await, 200).await;
    assert_eq!(own, json!([]));
    // No file stored by bob's attempts, alice's thumbnail kept.
    assert_eq!(board_files(&app), files);
    // Without a token: 401 on every route.
    let id = private["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, "/api/v1/boards".to_owned()),
        (Method::GET, "/api/v1/boards/public".to_owned()),
        (Method::GET, format!("/api/v1/boards/{id}")),
        (Method::POST, "/api/v1/boards".to_owned()),
        (Method::PATCH, format!("/api/v1/boards/{id}")),
        (Method::PATCH, format!("/api/v1/boards/{id}/visibility")),
        (Method::DELETE, format!("/api/v1/boards/{id}")),
        (Method::POST, format!("/api/v1/boards/{id}/duplicate")),
        (Method::POST, format!("/api/v1/boards/{id}/thumbnail")),
    ] {
        let response = app.send(method.clone(), &path, None).await;
        assert_eq!(response.status(), 401, "{method} {path}");
    }
}
