use picture_tests::{TestApp, on_both_databases};
use serde_json::Value;

on_both_databases!(
    health_answers_without_auth_on_every_prefix,
    ready_checks_the_database,
    unknown_routes_are_404_in_the_contract_shape,
    every_response_carries_a_request_id,
    cors_follows_the_allowed_origins,
);

async fn health_answers_without_auth_on_every_prefix(app: TestApp) {
    for path in ["/health", "/api/v1/health", "/api/health"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["service"], "picture-backend");
        let timestamp = body["timestamp"].as_str().unwrap();
        assert!(
            timestamp.ends_with('Z') && timestamp.len() == 24,
            "{timestamp}"
        );
    }
}

async fn ready_checks_the_database(app: TestApp) {
    let response = app.get("/ready", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
}

async fn unknown_routes_are_404_in_the_contract_shape(app: TestApp) {
    let response = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"statusCode": 404, "error": "Not Found", "code": "not_found",
                           "message": "Cannot GET /api/v1/nothing-here"})
    );
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let first = app.get("/health", None).await;
    let second = app.get("/api/v1/nope", None).await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&first).len(), 36);
    assert_ne!(id(&first), id(&second));
}

async fn cors_follows_the_allowed_origins(app: TestApp) {
    let with_origin = |origin: &'static str| {
        app.client
            .get(format!("{}/api/v1/models", app.address))
            .header("Origin", origin)
            .send()
    };
    let allowed = with_origin("http://localhost:5173").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    // Another origin is not refused, it just gets no CORS headers (as the original did).
    let other = with_origin("https://evil.example").await.unwrap();
    assert_eq!(other.status(), 200);
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/profiles/me", app.address),
        )
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
}
