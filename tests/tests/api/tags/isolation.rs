//! Another user's tags and images: 404, and nothing changes.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::json;

use super::{create, image, json_of, names};

on_both_databases!(another_users_tags_and_images_are_404_and_stay_unchanged);

async fn another_users_tags_and_images_are_404_and_stay_unchanged(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let alices_image = image(&app, &alice).await;
    let bobs_image = image(&app, &bob).await;
    let alices_tag = create(
        &app,
        &alice,
        "/api/v1",
        &json!({"name": "mine", "color": "#111111"}),
    )
    .await;
    let bobs_tag = create(&app, &bob, "/api/v1", &json!({"name": "his"})).await;
    let (a_tag, b_tag) = (
        alices_tag["id"].as_str().unwrap(),
        bobs_tag["id"].as_str().unwrap(),
    );
    let added = app
        .send(
            Method::POST,
            &format!("/api/v1/tags/image/{alices_image}/{a_tag}"),
            Some(&alice),
        )
        .await;
    assert_eq!(added.status(), 204);
    // Even public, alice's image shows bob none of its tags.
    app.send(
        Method::PATCH,
        &format!("/api/v1/images/{alices_image}/publish"),
        Some(&alice),
    )
    .await;

    let attempts = [
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/tags/{a_tag}"),
            Some(&bob),
            &json!({"name": "stolen", "color": "#000000"}),
        )
        .await,
        app.send(Method::DELETE, &format!("/api/v1/tags/{a_tag}"), Some(&bob))
            .await,
        app.get(&format!("/api/v1/tags/image/{alices_image}"), Some(&bob))
            .await,
        // Bob's tag on alice's image; alice's tag on bob's image; alice's link removed by bob.
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{alices_image}/{b_tag}"),
            Some(&bob),
        )
        .await,
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{bobs_image}/{a_tag}"),
            Some(&bob),
        )
        .await,
        app.send(
            Method::DELETE,
            &format!("/api/v1/tags/image/{alices_image}/{a_tag}"),
            Some(&bob),
        )
        .await,
        // Alice cannot use bob's tag on her own image either.
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{alices_image}/{b_tag}"),
            Some(&alice),
        )
        .await,
    ];
    for (i, response) in attempts.into_iter().enumerate() {
        let body = json_of(response, 404).await;
        assert_eq!(body["code"], "not_found", "attempt {i}: {body}");
    }
    // Nothing changed for alice; bob sees only his own tag.
    assert_eq!(
        json_of(app.get("/api/v1/tags", Some(&alice)).await, 200).await,
        json!([alices_tag])
    );
    assert_eq!(
        json_of(app.get("/api/v1/tags", Some(&bob)).await, 200).await,
        json!([bobs_tag])
    );
    let on_alices = json_of(
        app.get(&format!("/api/v1/tags/image/{alices_image}"), Some(&alice))
            .await,
        200,
    )
    .await;
    assert_eq!(names(&on_alices), ["mine"]);
    let on_bobs = json_of(
        app.get(&format!("/api/v1/tags/image/{bobs_image}"), Some(&bob))
            .await,
        200,
    )
    .await;
    assert_eq!(on_bobs, json!([]));
    // Filtering by another user's tag finds none of the caller's images.
    let by_alices_tag = json_of(
        app.get(&format!("/api/v1/images?tagIds={a_tag}"), Some(&bob))
            .await,
        200,
    )
    .await;
    assert_eq!(by_alices_tag, json!([]));
    // The same name is fine for another user.
    create(&app, &bob, "/api/v1", &json!({"name": "MINE"})).await;
}
