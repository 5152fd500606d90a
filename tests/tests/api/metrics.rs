//! `/metrics`: Prometheus text with the `picture_` families an operator alerts on.

use picture_tests::{Db, TestApp};

#[tokio::test]
async fn metrics_cover_requests_generations_ingest_reconciler_and_the_pool() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("RECONCILER_INTERVAL_SECS", "1");
    })
    .await
    .unwrap();
    let token = app.token("measured", None);
    let model = app.default_model_id().await;
    assert_eq!(app.generate(&token, &model, true).await.status(), 201);
    assert_eq!(app.get("/api/v1/nowhere", None).await.status(), 404);
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for family in [
        r#"picture_http_requests_total{method="GET",route="/api/v1/models",status="200"}"#,
        r#"picture_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        r#"picture_http_request_duration_seconds_bucket{method="POST",route="/api/v1/generate",le="0.1"}"#,
        r#"picture_generations_started_total{model="offline-preview",mode="sync",billing="free"}"#,
        r#"picture_generations_finished_total{model="offline-preview",status="completed"}"#,
        "picture_ingest_bytes_total",
        "picture_ingest_duration_seconds_bucket",
        r#"picture_credit_operations_total{op="free_slot_taken",ledger="local"}"#,
        "picture_reconciler_runs_total",
        r#"picture_db_pool_connections{state="idle"}"#,
        "picture_db_pool_max_connections",
    ] {
        assert!(text.contains(family), "{family} missing from\n{text}");
    }
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(line.starts_with("picture_"), "unprefixed metric: {line}");
    }
}
