//! The per-user cap: one stream over `EVENT_STREAMS_PER_USER` is 429 `too_many_streams` with
//! `Retry-After`; closing one frees its place (asynchronously, once the server notices).

use std::time::{Duration, Instant};

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};

use super::assert_error;
use super::sse::{Sse, get, open};

fn two_per_user(raw: &mut RawSettings) {
    raw.set("EVENT_STREAMS_PER_USER", "2");
}

on_both_databases!(with super::two_per_user;
    a_third_stream_of_a_user_is_429_until_one_closes,
);

async fn ready(app: &TestApp, token: &str) -> Sse {
    let mut stream = open(&app.address, "/api/v1/generate/events", Some(token), &[]).await;
    assert_eq!(stream.event().await.name, "ready");
    stream
}

async fn a_third_stream_of_a_user_is_429_until_one_closes(app: TestApp) {
    let token = app.token("tab-hoarder", None);
    let first = ready(&app, &token).await;
    let _second = ready(&app, &token).await;
    let third = get(&app.address, "/api/v1/generate/events", Some(&token), &[]).await;
    let retry_after = third.headers()["retry-after"].to_str().unwrap().to_owned();
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s > 0),
        "{retry_after}"
    );
    assert_error(third, 429, "too_many_streams").await;
    // A generation's stream counts too.
    let id = uuid::Uuid::new_v4();
    let one = get(
        &app.address,
        &format!("/api/v1/generate/{id}/events"),
        Some(&token),
        &[],
    )
    .await;
    assert_eq!(one.status(), 404, "the generation is checked first");
    // Another user is not affected.
    let _other = ready(&app, &app.token("someone-else", None)).await;

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = get(&app.address, "/api/v1/generate/events", Some(&token), &[]).await;
        if attempt.status() == 200 {
            let mut stream = Sse::new(attempt);
            assert_eq!(stream.event().await.name, "ready");
            break;
        }
        assert_error(attempt, 429, "too_many_streams").await;
        assert!(
            Instant::now() < deadline,
            "the closed stream's place was not freed within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
