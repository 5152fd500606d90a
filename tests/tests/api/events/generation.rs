//! One generation's stream: its current state first, progress from the provider's logs, the
//! final event with the `/status` shape, then the end; a stream opened after the end gets the
//! final event at once; the mobile prefix.

use std::time::Instant;

use picture_tests::{Db, TestApp};
use serde_json::Value;

use super::fake::setup;
use super::sse::{WITHIN, open};
use super::{assert_completed, assert_generation};

picture_tests::for_both_databases!(
    a_watched_generation_shows_its_state_progress_and_completion_then_ends,
    a_stream_opened_after_completion_sends_the_final_event_and_ends,
    the_mobile_prefix_serves_the_same_stream,
);

async fn a_watched_generation_shows_its_state_progress_and_completion_then_ends(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    fake.mount_prediction("p-live").await;
    let id = fake.start_generation().await;
    let mut stream = open(
        &fake.app.address,
        &format!("/api/v1/generate/{id}/events"),
        Some(&fake.token),
        &[],
    )
    .await;
    let first = stream.event().await;
    assert_generation(&first, &id);
    let status = first.data["status"].as_str().unwrap();
    assert!(matches!(status, "pending" | "processing"), "{first:?}");

    fake.half_way("p-live").await;
    let answered = Instant::now();
    let progress = stream.event().await;
    report("progress", db, answered);
    assert_generation(&progress, &id);
    assert_eq!(progress.data["status"], "processing");
    assert_eq!(progress.data["progress"], 0.5);

    fake.succeed("p-live").await;
    let answered = Instant::now();
    let done = stream.event().await;
    report("completed", db, answered);
    assert_completed(&done, &id);
    assert_eq!(done.data["result"]["creditsUsed"], 0, "a free generation");
    assert_eq!(done.data["result"]["replicatePredictionId"], "p-live");
    assert_eq!(
        done.data["result"],
        status_of(&fake.app, &fake.token, &id).await
    );
    stream.expect_end().await;
}

/// Prints how long the event took after the webhook's 200, and bounds it generously.
fn report(what: &str, db: Db, answered: Instant) {
    let delay = answered.elapsed();
    eprintln!(
        "{db:?}: webhook 200 → `{what}` event: {} ms",
        delay.as_millis()
    );
    assert!(delay < WITHIN, "{what} took {delay:?}");
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.status(token, id).await
}

/// A generation completed on the offline renderer (the default): its id.
async fn completed_generation(app: &TestApp, token: &str) -> String {
    let model = app.default_model_id().await;
    let response = app.generate(token, &model, true).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    body["generationId"].as_str().unwrap().to_owned()
}

async fn a_stream_opened_after_completion_sends_the_final_event_and_ends(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let token = app.token("finished-user", None);
    let id = completed_generation(&app, &token).await;
    let mut stream = open(
        &app.address,
        &format!("/api/v1/generate/{id}/events"),
        Some(&token),
        &[],
    )
    .await;
    let done = stream.event().await;
    assert_completed(&done, &id);
    assert_eq!(done.data["result"], status_of(&app, &token, &id).await);
    stream.expect_end().await;
}

async fn the_mobile_prefix_serves_the_same_stream(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let token = app.token("mobile-user", None);
    let id = completed_generation(&app, &token).await;
    let mut stream = open(
        &app.address,
        &format!("/api/generate/{id}/events"),
        Some(&token),
        &[],
    )
    .await;
    let done = stream.event().await;
    assert_completed(&done, &id);
    stream.expect_end().await;
    let minted = app
        .send(
            reqwest::Method::POST,
            "/api/generate/events/token",
            Some(&token),
        )
        .await;
    assert_eq!(minted.status(), 200);
    let minted: Value = minted.json().await.unwrap();
    let token_query = minted["token"].as_str().unwrap();
    let mut user_stream = open(
        &app.address,
        &format!("/api/generate/events?access_token={token_query}"),
        None,
        &[],
    )
    .await;
    assert_eq!(user_stream.event().await.name, "ready");
    let active = app.get("/api/generate/active", Some(&token)).await;
    assert_eq!(active.status(), 200);
}
