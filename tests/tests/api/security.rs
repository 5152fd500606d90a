//! What an attacker would try: another user's data on every route, too many generations or
//! requests, and the headers every answer carries.

use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(another_user_reaches_nothing_of_alices_on_any_route);

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn another_user_reaches_nothing_of_alices_on_any_route(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let model = app.default_model_id().await;
    let made = json_of(app.generate(&alice, &model, true).await).await;
    let id = made["generationId"].as_str().unwrap().to_owned();
    let image = made["image"]["id"].as_str().unwrap().to_owned();
    let liked = app
        .send(
            Method::POST,
            &format!("/api/v1/images/{image}/like"),
            Some(&alice),
        )
        .await;
    assert!(liked.status().is_success());
    let before = json_of(
        app.get(&format!("/api/v1/images/{image}"), Some(&alice))
            .await,
    )
    .await;

    let owner_only = [
        (Method::GET, format!("/api/v1/generate/{id}/status"), None),
        (Method::DELETE, format!("/api/v1/generate/{id}"), None),
        (Method::POST, format!("/api/v1/generate/{id}/cancel"), None),
        (Method::DELETE, format!("/api/v1/images/{image}"), None),
        (
            Method::PATCH,
            format!("/api/v1/images/{image}/archive"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/images/{image}/unarchive"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/images/{image}/publish"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/images/{image}/unpublish"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/images/{image}/favorite"),
            Some(json!({"isFavorite": true})),
        ),
    ];
    let private_reads = [
        (Method::GET, format!("/api/v1/images/{image}"), None),
        (Method::POST, format!("/api/v1/images/{image}/like"), None),
        (Method::DELETE, format!("/api/v1/images/{image}/like"), None),
        (Method::GET, format!("/api/v1/images/{image}/likes"), None),
    ];
    for (method, path, body) in owner_only.iter().chain(private_reads.iter()) {
        let response = match body {
            Some(body) => app.send_json(method.clone(), path, Some(&bob), body).await,
            None => app.send(method.clone(), path, Some(&bob)).await,
        };
        assert_eq!(response.status(), 404, "{method} {path}");
        let body = json_of(response).await;
        assert_eq!(body["code"], "not_found");
        assert!(
            !body.to_string().contains("alice"),
            "{method} {path}: {body}"
        );
    }
    // The generation-parameters route answers 204 for a generation that is not the caller's,
    // exactly as for one that does not exist or a malformed id (the mobile client reads 204
    // as "no details").
    for generation in [
        id.clone(),
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".to_owned(),
    ] {
        let response = app
            .get(
                &format!("/api/v1/images/generation/{generation}"),
                Some(&bob),
            )
            .await;
        assert_eq!(response.status(), 204);
        assert!(response.bytes().await.unwrap().is_empty());
    }
    for action in ["archive", "restore", "delete"] {
        let response = app
            .send_json(
                Method::POST,
                &format!("/api/v1/images/batch/{action}"),
                Some(&bob),
                &json!({"imageIds": [image]}),
            )
            .await;
        assert_eq!(json_of(response).await["affected"], 0, "batch {action}");
    }
    let lists = json!({
        "history": json_of(app.get("/api/v1/generate/history", Some(&bob)).await).await["total"],
        "gallery": json_of(app.get("/api/v1/images", Some(&bob)).await).await,
        "archived": json_of(app.get("/api/v1/images/archived/count", Some(&bob)).await).await,
    });
    assert_eq!(
        lists,
        json!({"history": 0, "gallery": [], "archived": {"count": 0}})
    );

    let after = json_of(
        app.get(&format!("/api/v1/images/{image}"), Some(&alice))
            .await,
    )
    .await;
    assert_eq!(after, before, "nothing of alice's image changed");
    let status = app.status(&alice, &id).await;
    assert_eq!(status["status"], "completed");
    let likes = json_of(
        app.get(&format!("/api/v1/images/{image}/likes"), Some(&alice))
            .await,
    )
    .await;
    assert_eq!(likes["likeCount"], 1);

    // Once public, bob may read it, and still change nothing.
    let published = app
        .send(
            Method::PATCH,
            &format!("/api/v1/images/{image}/publish"),
            Some(&alice),
        )
        .await;
    assert!(published.status().is_success());
    let seen = app
        .get(&format!("/api/v1/images/{image}"), Some(&bob))
        .await;
    assert_eq!(seen.status(), 200);
    for (method, path, body) in &owner_only {
        let response = match body {
            Some(body) => app.send_json(method.clone(), path, Some(&bob), body).await,
            None => app.send(method.clone(), path, Some(&bob)).await,
        };
        assert_eq!(response.status(), 404, "public: {method} {path}");
    }
    let still = json_of(
        app.get(&format!("/api/v1/images/{image}"), Some(&alice))
            .await,
    )
    .await;
    assert_eq!(still["isPublic"], true);
    assert_eq!(still["archivedAt"], Value::Null);
    assert_eq!(still["isFavorite"], false);
}

/// A server on `database` (shared by two instances) with a daily quota of 3.
async fn limited_instance(database: String, data_dir: String) -> TestApp {
    TestApp::spawn_with(Db::Sqlite, move |raw: &mut RawSettings| {
        raw.set("RATE_LIMIT_GENERATIONS_PER_MINUTE", "0");
        raw.set("RATE_LIMIT_GENERATIONS_PER_DAY", "3");
        raw.set("DATABASE_URL", database);
        raw.set("DATA_DIR", data_dir);
    })
    .await
    .unwrap()
}

pub(crate) async fn generation_quota_holds_across_instances(db: Db) {
    let Some(shared) = picture_tests::SharedDatabase::create(db).await else {
        return;
    };
    let (database, data_dir) = (shared.url.clone(), shared.data_dir.clone());
    let first = limited_instance(database.clone(), data_dir.clone()).await;
    let second = limited_instance(database, data_dir).await;
    let token = first.token("eager", None);
    let model = first.default_model_id().await;
    for app in [&first, &second, &first] {
        assert_eq!(app.generate(&token, &model, false).await.status(), 201);
    }
    let refused = second.generate(&token, &model, false).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let body = json_of(refused).await;
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(body["statusCode"], 429);
    let other = first.token("patient", None);
    assert_eq!(first.generate(&other, &model, false).await.status(), 201);
    drop((first, second));
    drop(shared);
}

mod quota {
    use super::generation_quota_holds_across_instances;

    picture_tests::for_both_databases!(generation_quota_holds_across_instances);
}

#[tokio::test]
async fn the_ip_limit_answers_429_with_retry_after_and_spares_probes() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("RATE_LIMIT_IP_PER_MINUTE", "5");
    })
    .await
    .unwrap();
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/models", None).await.status(), 200);
    }
    let refused = app
        .client
        .get(format!("{}/api/v1/models", app.address))
        .header("Origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let headers = refused.headers().clone();
    assert!(headers.contains_key("retry-after"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["access-control-allow-origin"], "http://localhost:5173",
        "browsers can read the 429"
    );
    let body = json_of(refused).await;
    assert_eq!(body["code"], "rate_limited");
    for probe in ["/health", "/ready", "/metrics", "/api/v1/health"] {
        assert_eq!(app.get(probe, None).await.status(), 200, "{probe}");
    }
}

#[tokio::test]
async fn zero_switches_the_ip_limit_off() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("RATE_LIMIT_IP_PER_MINUTE", "0");
    })
    .await
    .unwrap();
    for _ in 0..50 {
        assert_eq!(app.get("/api/v1/models", None).await.status(), 200);
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    for (path, status) in [
        ("/api/v1/models", 200),
        ("/api/v1/nowhere", 404),
        ("/api/v1/profiles/me", 401),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), status, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
}
