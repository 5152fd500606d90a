//! The explore feed and its search, called exactly as the web client
//! (`apps/web/src/lib/api/explore.ts`: `/api/v1/explore?page&limit&sortBy&favoritesOnly`,
//! `/api/v1/explore/search?q&page&limit&favoritesOnly`) and the mobile client
//! (`services/api/explore.ts`: `/api/explore?page&limit&sortBy`,
//! `/api/explore/search?searchTerm&page&limit&sortBy`) call it.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    the_web_clients_calls,
    the_mobile_clients_calls,
    bad_input_is_a_clear_400_and_hostile_terms_never_fail,
    the_next_cursor_walks_every_order,
);

/// `URLSearchParams` encoding: space as `+`, everything but `A-Za-z0-9*-._` percent-encoded.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Generates an image of `token` with `prompt` and returns its id; published when `public`.
async fn image(app: &TestApp, token: &str, prompt: &str, public: bool) -> String {
    let model = app.default_model_id().await;
    let body: Value = app
        .send_json(
            Method::POST,
            "/api/v1/generate",
            Some(token),
            &json!({"prompt": prompt, "modelId": model, "width": 256, "height": 256,
                    "steps": 1, "waitForResult": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = body["image"]["id"].as_str().unwrap().to_owned();
    if public {
        publish(app, token, &id, "publish").await;
    }
    id
}

async fn publish(app: &TestApp, token: &str, id: &str, action: &str) {
    let path = format!("/api/v1/images/{id}/{action}");
    let response = app.send(Method::PATCH, &path, Some(token)).await;
    assert_eq!(response.status(), 200);
}

async fn like(app: &TestApp, token: &str, id: &str) {
    let path = format!("/api/v1/images/{id}/like");
    let response = app.send(Method::POST, &path, Some(token)).await;
    assert!(response.status().is_success());
}

/// A 200 page: its images' ids and the images.
async fn page(app: &TestApp, token: &str, path: &str) -> (Vec<String>, Vec<Value>) {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200, "{path}");
    let images: Vec<Value> = response.json().await.unwrap();
    let ids = images
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, images)
}

/// Every field the clients read from an `Image`, with its type, plus `likeCount`.
fn assert_image_shape(image: &Value) {
    for key in [
        "id",
        "userId",
        "prompt",
        "storagePath",
        "filename",
        "createdAt",
        "updatedAt",
    ] {
        assert!(image[key].is_string(), "{key}: {image}");
    }
    for key in ["isPublic", "isFavorite"] {
        assert!(image[key].is_boolean(), "{key}");
    }
    assert_eq!(image["isPublic"], true);
    assert!(image["archivedAt"].is_null());
    assert!(image["downloadCount"].is_i64());
    assert!(image["likeCount"].is_u64());
    assert!(image["publicUrl"].is_string());
    for key in [
        "generationId",
        "sourceImageId",
        "negativePrompt",
        "model",
        "style",
        "format",
        "width",
        "height",
        "fileSize",
        "blurhash",
        "rating",
    ] {
        assert!(image.get(key).is_some(), "{key} missing");
    }
}

/// The web client: `getPublicImages` and `searchPublicImages`, with and without
/// `favoritesOnly` (the images the caller likes).
async fn the_web_clients_calls(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let fox = image(&app, &alice, "a red fox in the snow", true).await;
    let _whale = image(&app, &alice, "a red whale, private", false).await;
    let panda = image(&app, &bob, "Red panda eating bamboo", true).await;
    like(&app, &bob, &fox).await;

    let explore = |sort: &str, favourites: bool| {
        format!("/api/v1/explore?page=1&limit=20&sortBy={sort}&favoritesOnly={favourites}")
    };
    let (ids, images) = page(&app, &bob, &explore("recent", false)).await;
    assert_eq!(ids, [panda.clone(), fox.clone()]);
    images.iter().for_each(assert_image_shape);
    assert_eq!(images[0]["likeCount"], 0);
    assert_eq!(images[1]["likeCount"], 1);
    assert_eq!(images[1]["userId"], "alice");
    assert_eq!(images[1]["prompt"], "a red fox in the snow");
    // Every other field is the gallery's, as the owner reads it there.
    let (_, gallery) = page(&app, &alice, "/api/v1/images?page=1&limit=20").await;
    let mut in_gallery = gallery
        .into_iter()
        .find(|i| i["id"] == fox.as_str())
        .unwrap();
    in_gallery["likeCount"] = json!(1);
    assert_eq!(images[1], in_gallery);

    let (ids, _) = page(&app, &bob, &explore("popular", false)).await;
    assert_eq!(ids, [fox.clone(), panda.clone()]);
    let (ids, _) = page(&app, &bob, &explore("trending", false)).await;
    assert_eq!(ids, [fox.clone(), panda.clone()]);
    let (ids, _) = page(&app, &bob, &explore("recent", true)).await;
    assert_eq!(ids, std::slice::from_ref(&fox));
    let (ids, _) = page(&app, &alice, &explore("recent", true)).await;
    assert!(ids.is_empty());

    let search = |term: &str, favourites: bool| {
        format!(
            "/api/v1/explore/search?q={}&page=1&limit=20&favoritesOnly={favourites}",
            encode(term)
        )
    };
    let (ids, images) = page(&app, &bob, &search("red", false)).await;
    assert_eq!(
        ids,
        [panda.clone(), fox.clone()],
        "the private whale is absent"
    );
    images.iter().for_each(assert_image_shape);
    let (ids, _) = page(&app, &bob, &search("FO sno", false)).await;
    assert_eq!(ids, std::slice::from_ref(&fox));
    let (ids, _) = page(&app, &bob, &search("red", true)).await;
    assert_eq!(ids, std::slice::from_ref(&fox));
    let (ids, _) = page(&app, &bob, &search("whale", false)).await;
    assert!(ids.is_empty());

    // Unpublished: gone at once, from the feed and the search.
    publish(&app, &alice, &fox, "unpublish").await;
    let (ids, _) = page(&app, &bob, &explore("recent", false)).await;
    assert_eq!(ids, std::slice::from_ref(&panda));
    let (ids, _) = page(&app, &bob, &search("fox", false)).await;
    assert!(ids.is_empty());
    // Archived: gone too.
    let path = format!("/api/v1/images/{panda}/archive");
    assert_eq!(
        app.send(Method::PATCH, &path, Some(&bob)).await.status(),
        200
    );
    let (ids, _) = page(&app, &alice, &explore("popular", false)).await;
    assert!(ids.is_empty());
}

/// The mobile client: `getExploreImages` and `searchExploreImages` under `/api`.
async fn the_mobile_clients_calls(app: TestApp) {
    let carol = app.token("carol", None);
    let dave = app.token("dave", None);
    let lake = image(&app, &carol, "Mountain lake at sunrise", true).await;
    let city = image(&app, &dave, "Neon city at night", true).await;
    like(&app, &carol, &lake).await;
    like(&app, &dave, &lake).await;

    for sort in ["recent", "popular", "trending"] {
        let path = format!("/api/explore?page=1&limit=20&sortBy={sort}");
        let (ids, images) = page(&app, &dave, &path).await;
        let expected = if sort == "recent" {
            [city.clone(), lake.clone()]
        } else {
            [lake.clone(), city.clone()]
        };
        assert_eq!(ids, expected, "{sort}");
        images.iter().for_each(assert_image_shape);
    }
    let search = |term: &str, sort: &str| {
        format!(
            "/api/explore/search?searchTerm={}&page=1&limit=20&sortBy={sort}",
            encode(term)
        )
    };
    let (ids, images) = page(&app, &dave, &search("mount", "recent")).await;
    assert_eq!(ids, std::slice::from_ref(&lake));
    assert_eq!(images[0]["likeCount"], 2);
    let (ids, _) = page(&app, &dave, &search("at", "popular")).await;
    assert_eq!(ids, [lake.clone(), city.clone()]);
    // An empty or blank term is the feed itself.
    let (ids, _) = page(&app, &dave, &search("", "recent")).await;
    assert_eq!(ids, [city.clone(), lake.clone()]);
    let (ids, _) = page(&app, &dave, &search("   ", "recent")).await;
    assert_eq!(ids, [city, lake]);
}

async fn assert_validation(app: &TestApp, token: &str, path: &str) {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 400, "{path}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed", "{path}");
    assert_eq!(body["statusCode"], 400);
    assert!(body["message"].is_array(), "{body}");
}

async fn bad_input_is_a_clear_400_and_hostile_terms_never_fail(app: TestApp) {
    let erin = app.token("erin", None);
    let cats = image(&app, &erin, "cats OR dogs near the sea", true).await;
    for path in [
        "/api/v1/explore?sortBy=best",
        "/api/v1/explore?sortBy=",
        "/api/explore/search?searchTerm=cat&sortBy=likes",
        "/api/v1/explore?limit=101",
        "/api/v1/explore?limit=0",
        "/api/v1/explore?page=0",
        "/api/v1/explore?page=abc",
        "/api/v1/explore?cursor=nope",
        "/api/v1/explore?sortBy=popular&cursor=1764000000000_00000000-0000-0000-0000-000000000000",
        "/api/v1/explore?color=red",
        "/api/v1/explore/search?q=cat&tagIds=x",
    ] {
        assert_validation(&app, &erin, path).await;
    }
    let long = format!("/api/v1/explore/search?q={}", "a".repeat(201));
    assert_validation(&app, &erin, &long).await;
    let huge = format!("/api/explore/search?searchTerm={}", "é".repeat(10_001));
    assert_validation(&app, &erin, &huge).await;
    let at_limit = format!("/api/v1/explore/search?q={}", encode(&"é".repeat(200)));
    assert_eq!(app.get(&at_limit, Some(&erin)).await.status(), 200);

    for term in [
        "\"",
        "*",
        "cat*",
        "\"cat\" OR \"dog\"",
        "NEAR(cat dog)",
        "'",
        "'; DROP TABLE images; --",
        "cat & !dog | (sea",
        "-cat",
        "cat:*",
        "\\",
        "%_%",
        "😀🐈",
        "東京",
        "\u{202e}cat",
    ] {
        for prefix in [
            "/api/v1/explore/search?q=",
            "/api/explore/search?searchTerm=",
        ] {
            let path = format!("{prefix}{}", encode(term));
            let (ids, _) = page(&app, &erin, &path).await;
            assert!(ids.len() <= 1, "{term:?}");
        }
    }
    let (ids, _) = page(
        &app,
        &erin,
        &format!("/api/v1/explore/search?q={}", encode("\"cat\" OR near*")),
    )
    .await;
    assert_eq!(ids, [cats]);
    // No token: 401, as every route.
    assert_eq!(app.get("/api/v1/explore", None).await.status(), 401);
    assert_eq!(
        app.get("/api/explore/search?q=cat", None).await.status(),
        401
    );
}

/// Follows `X-Next-Cursor` from `first` and returns the ids walked.
async fn walk(app: &TestApp, token: &str, first: &str) -> Vec<String> {
    let mut walked = Vec::new();
    let mut path = first.to_owned();
    loop {
        let response = app.get(&path, Some(token)).await;
        assert_eq!(response.status(), 200);
        let next = response
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let images: Vec<Value> = response.json().await.unwrap();
        walked.extend(images.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match next {
            Some(cursor) => {
                assert_eq!(images.len(), 2, "a cursor only on full pages");
                path = format!("{first}&cursor={}", encode(&cursor));
            }
            None => break,
        }
    }
    walked
}

async fn the_next_cursor_walks_every_order(app: TestApp) {
    let fay = app.token("fay", None);
    let mut ids = Vec::new();
    for prompt in [
        "tile one",
        "tile two",
        "tile three",
        "tile four",
        "tile five",
    ] {
        ids.push(image(&app, &fay, prompt, true).await);
    }
    like(&app, &fay, &ids[1]).await;
    like(&app, &fay, &ids[3]).await;
    for base in [
        "/api/v1/explore?limit=2&sortBy=recent",
        "/api/v1/explore?limit=2&sortBy=popular",
        "/api/explore?limit=2&sortBy=trending",
        "/api/v1/explore/search?q=til&limit=2",
        "/api/explore/search?searchTerm=tile&limit=2&sortBy=popular",
    ] {
        let all = base.replace("limit=2", "limit=20");
        let (expected, _) = page(&app, &fay, &all).await;
        assert_eq!(expected.len(), 5, "{base}");
        assert_eq!(walk(&app, &fay, base).await, expected, "{base}");
    }
}
