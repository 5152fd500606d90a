//! The gallery endpoints beyond list/get/delete.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    owners_archive_publish_and_favourite_while_others_get_404,
    batches_affect_only_the_callers_images_and_delete_their_files,
    likes_and_generation_parameters,
    the_next_cursor_walks_the_gallery_and_a_forged_one_is_a_400,
);

/// Generates a small image for `token` and returns (image id, generation id).
async fn image(app: &TestApp, token: &str) -> (String, String) {
    let model = app.default_model_id().await;
    let body: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(token),
            &json!({"prompt": "gallery", "modelId": model, "width": 256, "height": 256,
                    "steps": 1, "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    (
        body["image"]["id"].as_str().unwrap().to_owned(),
        body["generationId"].as_str().unwrap().to_owned(),
    )
}

async fn patch(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    match body {
        Some(body) => app.send_json(Method::PATCH, path, Some(token), &body).await,
        None => app.send(Method::PATCH, path, Some(token)).await,
    }
}

async fn owners_archive_publish_and_favourite_while_others_get_404(app: TestApp) {
    let owner = app.token("owner", None);
    let other = app.token("other", None);
    let (id, _) = image(&app, &owner).await;
    let base = format!("/api/v1/images/{id}");
    for action in ["archive", "unarchive", "publish", "unpublish"] {
        let response = patch(&app, &other, &format!("{base}/{action}"), None).await;
        assert_eq!(response.status(), 404, "{action}");
    }
    let archived: Value = patch(&app, &owner, &format!("{base}/archive"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(archived["archivedAt"].is_string());
    let count: Value = app
        .get("/api/v1/images/archived/count", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!({"count": 1}));
    let archive_page: Vec<Value> = app
        .get("/api/v1/images?archived=true", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archive_page.len(), 1);
    patch(&app, &owner, &format!("{base}/unarchive"), None).await;
    // Private: the other user cannot see it; public: they can read it, not change it.
    assert_eq!(app.get(&base, Some(&other)).await.status(), 404);
    let public: Value = patch(&app, &owner, &format!("{base}/publish"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["isPublic"], true);
    assert_eq!(app.get(&base, Some(&other)).await.status(), 200);
    let favourite = patch(
        &app,
        &owner,
        &format!("{base}/favorite"),
        Some(json!({"isFavorite": true})),
    )
    .await;
    assert_eq!(favourite.status(), 200);
    let favourites: Vec<Value> = app
        .get("/api/v1/images?favoritesOnly=true", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(favourites.len(), 1);
    let bad = patch(
        &app,
        &owner,
        &format!("{base}/favorite"),
        Some(json!({"isFavorite": "yes"})),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let limit = app.get("/api/v1/images?limit=1001", Some(&owner)).await;
    assert_eq!(limit.status(), 400);
    let unknown = app.get("/api/v1/images?sortBy=new", Some(&owner)).await;
    assert_eq!(unknown.status(), 400);
}

async fn batches_affect_only_the_callers_images_and_delete_their_files(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let (a1, _) = image(&app, &alice).await;
    let (b1, _) = image(&app, &bob).await;
    let ids = json!({"imageIds": [a1, b1, "not-a-uuid"]});
    let batch = |action: &'static str, token: String| {
        let ids = ids.clone();
        let app = &app;
        async move {
            let response = app
                .send_json(
                    Method::POST,
                    &format!("/api/v1/images/batch/{action}"),
                    Some(&token),
                    &ids,
                )
                .await;
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["affected"].clone()
        }
    };
    assert_eq!(batch("archive", alice.clone()).await, 1);
    assert_eq!(batch("restore", alice.clone()).await, 1);
    let file = app
        .get(&format!("/api/v1/images/{a1}"), Some(&alice))
        .await
        .json::<Value>()
        .await
        .unwrap()["publicUrl"]
        .as_str()
        .unwrap()
        .split_once("/files/")
        .map(|(_, key)| format!("/files/{key}"))
        .unwrap();
    assert_eq!(app.get(&file, None).await.status(), 200);
    assert_eq!(batch("delete", alice.clone()).await, 1);
    assert_eq!(app.get(&file, None).await.status(), 404);
    assert_eq!(
        app.get(&format!("/api/v1/images/{b1}"), Some(&bob))
            .await
            .status(),
        200
    );
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let refused = app
        .send_json(
            Method::POST,
            "/api/v1/images/batch/delete",
            Some(&alice),
            &json!({"imageIds": too_many}),
        )
        .await;
    assert_eq!(refused.status(), 400);
}

async fn likes_and_generation_parameters(app: TestApp) {
    let artist = app.token("artist", None);
    let fan = app.token("fan", None);
    let (id, generation) = image(&app, &artist).await;
    let like = format!("/api/v1/images/{id}/like");
    assert_eq!(
        app.send(Method::POST, &like, Some(&fan)).await.status(),
        404
    );
    patch(&app, &artist, &format!("/api/v1/images/{id}/publish"), None).await;
    for _ in 0..2 {
        let liked = app.send(Method::POST, &like, Some(&fan)).await;
        assert_eq!(liked.status(), 201);
        assert_eq!(
            liked.json::<Value>().await.unwrap(),
            json!({"liked": true, "likeCount": 1})
        );
    }
    let seen: Value = app
        .get(&format!("/api/v1/images/{id}/likes"), Some(&artist))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen, json!({"liked": false, "likeCount": 1}));
    let unliked: Value = app
        .send(Method::DELETE, &like, Some(&fan))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unliked, json!({"liked": false, "likeCount": 0}));

    let params = app
        .get(
            &format!("/api/v1/images/generation/{generation}"),
            Some(&artist),
        )
        .await;
    assert_eq!(params.status(), 200);
    let params: Value = params.json().await.unwrap();
    assert_eq!(params["steps"], 1);
    assert_eq!(params["status"], "completed");
    let hidden = app
        .get(
            &format!("/api/v1/images/generation/{generation}"),
            Some(&fan),
        )
        .await;
    assert_eq!(hidden.status(), 204);
}

async fn the_next_cursor_walks_the_gallery_and_a_forged_one_is_a_400(app: TestApp) {
    let owner = app.token("walker", None);
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(image(&app, &owner).await.0);
    }
    made.reverse();
    let mut walked = Vec::new();
    let mut path = "/api/v1/images?limit=2".to_owned();
    loop {
        let response = app.get(&path, Some(&owner)).await;
        assert_eq!(response.status(), 200);
        let next = response
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        walked.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match next {
            Some(cursor) => {
                assert_eq!(page.len(), 2, "a cursor only on full pages");
                path = format!("/api/v1/images?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(walked, made);
    for forged in ["nope", "12_34", "1_"] {
        let response = app
            .get(&format!("/api/v1/images?cursor={forged}"), Some(&owner))
            .await;
        assert_eq!(response.status(), 400, "{forged}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "validation_failed", "{body}");
    }
}
