//! The profile tab's calls (mobile `services/api/profiles.ts`: `PATCH /profiles/me`,
//! `GET /profiles/stats`, `GET /profiles/rate-limits`), the gallery's `limit=1000` and a
//! remix whose source is this server's own file.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    a_username_and_avatar_are_set_as_the_mobile_client_sends_them_and_null_clears,
    a_name_taken_in_any_case_is_409_and_changes_nothing,
    concurrent_claims_of_one_name_give_it_to_exactly_one_user,
    bad_input_is_a_clear_400_and_changes_nothing,
    stats_count_the_callers_images_only,
    the_gallery_accepts_a_limit_of_1000_and_refuses_1001,
    a_remix_of_an_own_image_is_accepted_other_plain_http_urls_are_not,
);

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.send_json(Method::PATCH, path, Some(token), body).await
}

async fn json(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

async fn a_username_and_avatar_are_set_as_the_mobile_client_sends_them_and_null_clears(
    app: TestApp,
) {
    let token = app.token("editor", Some("ed@example.com"));
    // The mobile client PATCHes before any GET is needed: the profile is created on the way.
    let renamed = json(
        patch(
            &app,
            "/api/profiles/me",
            &token,
            &json!({"username": "Ed.Itor_1"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(renamed["id"], "editor");
    assert_eq!(renamed["username"], "Ed.Itor_1");
    assert_eq!(renamed["email"], "ed@example.com");
    assert_eq!(renamed["avatarUrl"], Value::Null);
    for key in ["createdAt", "updatedAt"] {
        assert!(renamed[key].as_str().unwrap().ends_with('Z'));
    }
    let with_avatar = json(
        patch(
            &app,
            "/api/v1/profiles/me",
            &token,
            &json!({"avatarUrl": "https://cdn.example.com/ed.png"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(with_avatar["username"], "Ed.Itor_1");
    assert_eq!(with_avatar["avatarUrl"], "https://cdn.example.com/ed.png");
    // GET answers the same profile.
    let got = json(app.get("/api/profiles/me", Some(&token)).await, 200).await;
    assert_eq!(got, with_avatar);
    let cleared = json(
        patch(
            &app,
            "/api/v1/profiles/me",
            &token,
            &json!({"username": null, "avatarUrl": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cleared["username"], Value::Null);
    assert_eq!(cleared["avatarUrl"], Value::Null);
    // An empty body changes nothing.
    let same = json(
        patch(&app, "/api/v1/profiles/me", &token, &json!({})).await,
        200,
    )
    .await;
    assert_eq!(same, cleared);
}

async fn a_name_taken_in_any_case_is_409_and_changes_nothing(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    json(
        patch(
            &app,
            "/api/v1/profiles/me",
            &alice,
            &json!({"username": "Star"}),
        )
        .await,
        200,
    )
    .await;
    for taken in ["Star", "STAR", "star"] {
        let refused = json(
            patch(
                &app,
                "/api/profiles/me",
                &bob,
                &json!({"username": taken, "avatarUrl": "https://e.com/b.png"}),
            )
            .await,
            409,
        )
        .await;
        assert_eq!(refused["code"], "conflict");
        assert_eq!(refused["statusCode"], 409);
    }
    let bob_now = json(app.get("/api/v1/profiles/me", Some(&bob)).await, 200).await;
    assert_eq!(bob_now["username"], Value::Null);
    assert_eq!(bob_now["avatarUrl"], Value::Null);
    let alice_now = json(app.get("/api/v1/profiles/me", Some(&alice)).await, 200).await;
    assert_eq!(alice_now["username"], "Star");
}

async fn concurrent_claims_of_one_name_give_it_to_exactly_one_user(app: TestApp) {
    let tokens: Vec<String> = (0..6)
        .map(|i| app.token(&format!("racer{i}"), None))
        .collect();
    for token in &tokens {
        json(app.get("/api/v1/profiles/me", Some(token)).await, 200).await;
    }
    let claims: Vec<_> = tokens
        .iter()
        .map(|token| {
            let request = app
                .client
                .patch(format!("{}/api/v1/profiles/me", app.address))
                .bearer_auth(token)
                .json(&json!({"username": "only_one"}));
            tokio::spawn(request.send())
        })
        .collect();
    let mut answers = Vec::new();
    for claim in claims {
        answers.push(claim.await.unwrap().unwrap());
    }
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409]);
}

async fn bad_input_is_a_clear_400_and_changes_nothing(app: TestApp) {
    let token = app.token("careful", None);
    json(
        patch(
            &app,
            "/api/v1/profiles/me",
            &token,
            &json!({"username": "kept_name"}),
        )
        .await,
        200,
    )
    .await;
    let thirty_one = "x".repeat(31);
    let long_avatar = format!("https://e.com/{}", "a".repeat(500));
    for body in [
        json!({"username": ""}),
        json!({"username": "ab"}),
        json!({"username": thirty_one}),
        json!({"username": "müller"}),
        json!({"username": "名前です"}),
        json!({"username": "emoji🙂ok"}),
        json!({"username": "a b c"}),
        json!({"username": "x'; DROP TABLE profiles;--"}),
        json!({"username": 12345}),
        json!({"avatarUrl": "http://cdn.example.com/a.png"}),
        json!({"avatarUrl": "javascript:alert(1)"}),
        json!({"avatarUrl": long_avatar}),
        json!({"avatarUrl": true}),
        json!({"email": "new@example.com"}),
        json!({"username": "fine_name", "avatarUrl": "ftp://e.com/a.png"}),
        json!(["username"]),
    ] {
        let answer = patch(&app, "/api/v1/profiles/me", &token, &body).await;
        assert_eq!(answer.status(), 400, "{body}");
        let refused: Value = answer.json().await.unwrap();
        assert_eq!(refused["code"], "validation_failed", "{body}");
    }
    let malformed = app
        .client
        .patch(format!("{}/api/profiles/me", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(json(malformed, 400).await["code"], "validation_failed");
    let unauthenticated = app
        .send_json(
            Method::PATCH,
            "/api/v1/profiles/me",
            None,
            &json!({"username": "x_y_z"}),
        )
        .await;
    assert_eq!(unauthenticated.status(), 401);
    let now = json(app.get("/api/v1/profiles/me", Some(&token)).await, 200).await;
    assert_eq!(now["username"], "kept_name");
    assert_eq!(now["avatarUrl"], Value::Null);
}

/// Generates one image for `token` (waiting for it): its JSON.
async fn image(app: &TestApp, token: &str, model: &str) -> Value {
    let started = json(app.generate(token, model, true).await, 201).await;
    assert_eq!(started["status"], "completed", "{started}");
    started["image"].clone()
}

async fn stats_count_the_callers_images_only(app: TestApp) {
    let model = app.default_model_id().await;
    let owner = app.token("owner", None);
    let fan = app.token("fan", None);
    let empty = json(app.get("/api/profiles/stats", Some(&owner)).await, 200).await;
    assert_eq!(
        empty,
        json!({"totalImages": 0, "favoriteImages": 0, "archivedImages": 0, "publicImages": 0,
               "totalGenerations": 0, "likesReceived": 0})
    );
    let favourite = image(&app, &owner, &model).await;
    let public = image(&app, &owner, &model).await;
    let archived = image(&app, &owner, &model).await;
    image(&app, &fan, &model).await;
    let id = |image: &Value| image["id"].as_str().unwrap().to_owned();
    let ok = |response: reqwest::Response| assert_eq!(response.status(), 200);
    ok(patch(
        &app,
        &format!("/api/v1/images/{}/favorite", id(&favourite)),
        &owner,
        &json!({"isFavorite": true}),
    )
    .await);
    for image in [&public, &archived] {
        ok(app
            .send(
                Method::PATCH,
                &format!("/api/v1/images/{}/publish", id(image)),
                Some(&owner),
            )
            .await);
    }
    let liked = app
        .send(
            Method::POST,
            &format!("/api/v1/images/{}/like", id(&public)),
            Some(&fan),
        )
        .await;
    assert!(liked.status().is_success());
    ok(app
        .send(
            Method::PATCH,
            &format!("/api/v1/images/{}/archive", id(&archived)),
            Some(&owner),
        )
        .await);
    let stats = json(app.get("/api/v1/profiles/stats", Some(&owner)).await, 200).await;
    assert_eq!(
        stats,
        json!({"totalImages": 2, "favoriteImages": 1, "archivedImages": 1, "publicImages": 1,
               "totalGenerations": 3, "likesReceived": 1})
    );
    let fans = json(app.get("/api/profiles/stats", Some(&fan)).await, 200).await;
    assert_eq!(fans["totalImages"], 1);
    assert_eq!(fans["likesReceived"], 0);
    assert_eq!(app.get("/api/v1/profiles/stats", None).await.status(), 401);
}

/// With limits small enough to reach.
mod limited {
    use super::*;

    on_both_databases!(with super::three_per_minute; rate_limits_report_the_enforced_windows_and_their_use);

    fn three_per_minute(raw: &mut picture_server::settings::RawSettings) {
        raw.set("RATE_LIMIT_GENERATIONS_PER_MINUTE", "3");
        raw.set("RATE_LIMIT_GENERATIONS_PER_DAY", "50");
    }

    async fn rate_limits_report_the_enforced_windows_and_their_use(app: TestApp) {
        let model = app.default_model_id().await;
        let token = app.token("limited", None);
        let fresh = json(
            app.get("/api/profiles/rate-limits", Some(&token)).await,
            200,
        )
        .await;
        assert_eq!(fresh["daily_used"], 0);
        assert_eq!(fresh["daily_limit"], 50);
        assert_eq!(fresh["hourly_used"], 0);
        assert_eq!(fresh["hourly_limit"], 3);
        assert_eq!(fresh["hourly_window_seconds"], 60);
        assert_eq!(fresh["daily_window_seconds"], 86_400);
        assert_eq!(fresh["active_generations"], 0);
        assert_eq!(fresh["max_concurrent"], 0);
        assert_eq!(fresh["total_all_time"], 0);
        for key in ["daily_reset_at", "hourly_reset_at"] {
            assert!(fresh[key].as_str().unwrap().ends_with('Z'), "{key}");
        }
        for _ in 0..3 {
            json(app.generate(&token, &model, true).await, 201).await;
        }
        let used = json(
            app.get("/api/v1/profiles/rate-limits", Some(&token)).await,
            200,
        )
        .await;
        assert_eq!(used["hourly_used"], 3);
        assert_eq!(used["hourly_remaining"], 0);
        assert_eq!(used["daily_used"], 3);
        assert_eq!(used["daily_remaining"], 47);
        assert_eq!(used["total_all_time"], 3);
        // The report is true: the next start is refused, and the refusal is not counted.
        let refused = app.generate(&token, &model, true).await;
        assert_eq!(refused.status(), 429);
        let after = json(
            app.get("/api/v1/profiles/rate-limits", Some(&token)).await,
            200,
        )
        .await;
        assert_eq!(after["hourly_used"], 3);
        let reset =
            chrono::DateTime::parse_from_rfc3339(after["hourly_reset_at"].as_str().unwrap())
                .unwrap();
        let until = reset.signed_duration_since(chrono::Utc::now());
        assert!(
            until.num_seconds() > 0 && until.num_seconds() <= 60,
            "{until}"
        );
        // Another user's use is not the caller's.
        let other = app.token("other", None);
        let theirs = json(
            app.get("/api/profiles/rate-limits", Some(&other)).await,
            200,
        )
        .await;
        assert_eq!(theirs["hourly_used"], 0);
        assert_eq!(theirs["total_all_time"], 0);
    }
}

async fn the_gallery_accepts_a_limit_of_1000_and_refuses_1001(app: TestApp) {
    let model = app.default_model_id().await;
    let token = app.token("collector", None);
    let made = image(&app, &token, &model).await;
    let page = json(app.get("/api/images?limit=1000", Some(&token)).await, 200).await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["id"], made["id"]);
    let too_many = json(
        app.get("/api/v1/images?limit=1001", Some(&token)).await,
        400,
    )
    .await;
    assert_eq!(too_many["code"], "validation_failed");
}

/// What RemixBottomSheet sends on an image-to-image model, waiting for the result.
async fn remix(app: &TestApp, token: &str, model: &str, url: &str) -> reqwest::Response {
    let body = json!({"prompt": "the same, at night", "modelId": model,
                      "sourceImageUrl": url, "generationStrength": 0.6,
                      "waitForResult": true});
    app.send_json(Method::POST, "/api/generate", Some(token), &body)
        .await
}

async fn a_remix_of_an_own_image_is_accepted_other_plain_http_urls_are_not(app: TestApp) {
    let model = app.default_model_id().await;
    let token = app.token("remixer", None);
    let source = image(&app, &token, &model).await;
    let own_url = source["publicUrl"].as_str().unwrap().to_owned();
    assert!(own_url.starts_with("http://"), "{own_url}");
    let started = json(remix(&app, &token, &model, &own_url).await, 201).await;
    assert_eq!(started["status"], "completed", "{started}");
    let id = started["generationId"].as_str().unwrap();
    assert_eq!(app.status(&token, id).await["sourceImageUrl"], own_url);
    let prefix = own_url.split("/files/").next().unwrap().to_owned();
    for refused in [
        "http://example.com/a.png".to_owned(),
        format!("{prefix}/files/users/nobody/images/missing.png"),
        format!("{prefix}/files/../picture.db"),
        format!("{prefix}/files/users/x/images/a.txt"),
        format!("{prefix}/other/a.png"),
    ] {
        let answer = json(remix(&app, &token, &model, &refused).await, 400).await;
        assert_eq!(answer["code"], "validation_failed", "{refused}");
    }
}
