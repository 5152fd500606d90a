//! Tags: every call of the web client (`/api/v1`, `lib/api/tags.ts`) and of the mobile client
//! (`/api`, `services/api/tags.ts`) as they send it, the gallery's `tagIds` filter, another
//! user's tags and images (`isolation`), and bad input (`input`).

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

mod input;
mod isolation;

on_both_databases!(
    the_web_client_creates_renames_applies_and_deletes_a_tag,
    the_mobile_client_gets_already_exists_and_filters_its_gallery_by_tags,
);

/// Generates a small image for `token`; returns its id.
pub(super) async fn image(app: &TestApp, token: &str) -> String {
    let model = app.default_model_id().await;
    let body: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(token),
            &json!({"prompt": "tagged", "modelId": model, "width": 256, "height": 256,
                    "steps": 1, "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    body["image"]["id"].as_str().unwrap().to_owned()
}

/// `POST {prefix}/tags` with `body`; the created tag.
pub(super) async fn create(app: &TestApp, token: &str, prefix: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, &format!("{prefix}/tags"), Some(token), body)
        .await;
    assert_eq!(response.status(), 201, "{body}");
    response.json().await.unwrap()
}

pub(super) async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

/// The mobile client's `fetchApi`: always a JSON content type, no body on these calls.
async fn mobile_send(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap()
}

pub(super) fn ids(images: &Value) -> Vec<&str> {
    images
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

pub(super) fn names(tags: &Value) -> Vec<&str> {
    tags.as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

fn is_timestamp(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

async fn the_web_client_creates_renames_applies_and_deletes_a_tag(app: TestApp) {
    let token = app.token("web-user", None);
    let picture = image(&app, &token).await;
    // createTag: the tags page trims the name and sends its palette colour.
    let tag = create(
        &app,
        &token,
        "/api/v1",
        &json!({"name": "Sunset", "color": "#3B82F6"}),
    )
    .await;
    let id = tag["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<uuid::Uuid>().is_ok());
    assert_eq!(tag["name"], "Sunset");
    assert_eq!(tag["color"], "#3B82F6");
    assert!(is_timestamp(&tag["createdAt"]));
    // getAllTags.
    let all = json_of(app.get("/api/v1/tags", Some(&token)).await, 200).await;
    assert_eq!(all, json!([tag]));
    // updateTag {name, color}.
    let updated = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/tags/{id}"),
            Some(&token),
            &json!({"name": "Dusk", "color": "#EF4444"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&updated["id"], &updated["name"], &updated["color"]),
        (&json!(id), &json!("Dusk"), &json!("#EF4444"))
    );
    assert_eq!(updated["createdAt"], tag["createdAt"]);
    // getImageTags, addTagToImage (twice: idempotent), getImageTags.
    let on_image = format!("/api/v1/tags/image/{picture}");
    assert_eq!(
        json_of(app.get(&on_image, Some(&token)).await, 200).await,
        json!([])
    );
    for _ in 0..2 {
        let added = app
            .send(Method::POST, &format!("{on_image}/{id}"), Some(&token))
            .await;
        assert_eq!(added.status(), 204);
    }
    let tags_on_image = json_of(app.get(&on_image, Some(&token)).await, 200).await;
    assert_eq!(names(&tags_on_image), ["Dusk"]);
    assert_eq!(tags_on_image[0]["id"], json!(id));
    // getImages with tagIds (the web client's query).
    let other = image(&app, &token).await;
    let gallery =
        format!("/api/v1/images?page=1&limit=20&archived=false&favoritesOnly=false&tagIds={id}");
    let filtered = json_of(app.get(&gallery, Some(&token)).await, 200).await;
    assert_eq!(ids(&filtered), [picture.as_str()]);
    let unfiltered = json_of(app.get("/api/v1/images", Some(&token)).await, 200).await;
    assert_eq!(ids(&unfiltered), [other.as_str(), picture.as_str()]);
    // removeTagFromImage (twice: idempotent).
    for _ in 0..2 {
        let removed = app
            .send(Method::DELETE, &format!("{on_image}/{id}"), Some(&token))
            .await;
        assert_eq!(removed.status(), 204);
    }
    assert_eq!(
        json_of(app.get(&on_image, Some(&token)).await, 200).await,
        json!([])
    );
    // deleteTag takes it off its images.
    app.send(Method::POST, &format!("{on_image}/{id}"), Some(&token))
        .await;
    let deleted = app
        .send(Method::DELETE, &format!("/api/v1/tags/{id}"), Some(&token))
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        json_of(app.get(&on_image, Some(&token)).await, 200).await,
        json!([])
    );
    assert_eq!(
        json_of(app.get(&gallery, Some(&token)).await, 200).await,
        json!([])
    );
    assert_eq!(
        json_of(app.get("/api/v1/tags", Some(&token)).await, 200).await,
        json!([])
    );
    let again = app
        .send(Method::DELETE, &format!("/api/v1/tags/{id}"), Some(&token))
        .await;
    assert_eq!(again.status(), 404);
}

async fn the_mobile_client_gets_already_exists_and_filters_its_gallery_by_tags(app: TestApp) {
    let token = app.token("mobile-user", None);
    // tagStore.createTag lower-cases the name and makes up a lower-case colour.
    let cat = create(
        &app,
        &token,
        "/api",
        &json!({"name": "cat", "color": "#a1b2c3"}),
    )
    .await;
    assert_eq!(cat["color"], "#a1b2c3");
    let duplicate = app
        .send_json(
            Method::POST,
            "/api/tags",
            Some(&token),
            &json!({"name": " CAT ", "color": "#000000"}),
        )
        .await;
    let body = json_of(duplicate, 409).await;
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["statusCode"], 409);
    assert!(
        body["message"].as_str().unwrap().contains("already exists"),
        "{body}"
    );
    // Without a colour (allowed by both clients' types) the tag's colour is null.
    let dog = create(&app, &token, "/api", &json!({"name": "dog"})).await;
    assert_eq!(dog["color"], Value::Null);
    // updateTag sends only what changed.
    let recoloured = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/tags/{}", dog["id"].as_str().unwrap()),
            Some(&token),
            &json!({"color": "#00ff00"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&recoloured["name"], &recoloured["color"]),
        (&json!("dog"), &json!("#00ff00"))
    );
    let renamed_onto_cat = app
        .send_json(
            Method::PATCH,
            &format!("/api/tags/{}", dog["id"].as_str().unwrap()),
            Some(&token),
            &json!({"name": "Cat"}),
        )
        .await;
    assert_eq!(json_of(renamed_onto_cat, 409).await["code"], "conflict");
    let listed = json_of(app.get("/api/tags", Some(&token)).await, 200).await;
    assert_eq!(names(&listed), ["cat", "dog"]);

    // addTagsToImage: one POST per tag, JSON content type and no body.
    let (first, second, third) = (
        image(&app, &token).await,
        image(&app, &token).await,
        image(&app, &token).await,
    );
    let (cat, dog) = (cat["id"].as_str().unwrap(), dog["id"].as_str().unwrap());
    for (picture, tag) in [(&first, cat), (&second, cat), (&second, dog), (&third, dog)] {
        let added = mobile_send(
            &app,
            Method::POST,
            &format!("/api/tags/image/{picture}/{tag}"),
            &token,
        )
        .await;
        assert_eq!(added.status(), 204);
    }
    let on_second = json_of(
        app.get(&format!("/api/tags/image/{second}"), Some(&token))
            .await,
        200,
    )
    .await;
    assert_eq!(names(&on_second), ["cat", "dog"]);
    // getImages joins tagIds with commas; several tags: images carrying all of them.
    let gallery = |tags: String| {
        format!("/api/images?page=1&limit=20&archived=false&favoritesOnly=false&tagIds={tags}")
    };
    let with_cat = json_of(app.get(&gallery(cat.to_owned()), Some(&token)).await, 200).await;
    assert_eq!(ids(&with_cat), [second.as_str(), first.as_str()]);
    let with_both = json_of(
        app.get(&gallery(format!("{cat},{dog}")), Some(&token))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&with_both), [second.as_str()]);
    // Keyset paging keeps the filter: one a page, then the cursor.
    let page = app
        .get(&format!("/api/images?limit=1&tagIds={dog}"), Some(&token))
        .await;
    let cursor = page.headers()["x-next-cursor"].to_str().unwrap().to_owned();
    assert_eq!(ids(&json_of(page, 200).await), [third.as_str()]);
    let next = json_of(
        app.get(
            &format!("/api/images?limit=1&tagIds={dog}&cursor={cursor}"),
            Some(&token),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&next), [second.as_str()]);
    // removeTagFromImage and deleteTag, as the mobile client sends them.
    let removed = mobile_send(
        &app,
        Method::DELETE,
        &format!("/api/tags/image/{second}/{cat}"),
        &token,
    )
    .await;
    assert_eq!(removed.status(), 204);
    let deleted = mobile_send(&app, Method::DELETE, &format!("/api/tags/{dog}"), &token).await;
    assert_eq!(deleted.status(), 204);
    let on_second = json_of(
        app.get(&format!("/api/tags/image/{second}"), Some(&token))
            .await,
        200,
    )
    .await;
    assert_eq!(on_second, json!([]));
    // Deleting an image leaves the tags.
    let gone = app
        .send(
            Method::DELETE,
            &format!("/api/images/{first}"),
            Some(&token),
        )
        .await;
    assert_eq!(gone.status(), 204);
    assert_eq!(
        names(&json_of(app.get("/api/tags", Some(&token)).await, 200).await),
        ["cat"]
    );
    assert_eq!(
        json_of(app.get(&gallery(cat.to_owned()), Some(&token)).await, 200).await,
        json!([])
    );
}
