//! Who may open a stream: 404 for another user's generation or an unknown one, 400 for a
//! malformed `Last-Event-ID`; stream tokens open both streams without `Authorization`, forged,
//! garbage and expired ones are 401, and they are no bearer tokens elsewhere.

use std::time::Duration;

use chrono::Utc;
use picture_domain::UserId;
use picture_live::StreamTokens;
use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::Value;

use super::sse::{get, open};
use super::{assert_completed, assert_error};

/// The stream-token key of these servers, so a test can mint its own.
const TOKEN_KEY: &str = "event-token-key-event-token-key-0123456789";

fn known_token_key(raw: &mut RawSettings) {
    raw.set("EVENT_TOKEN_SECRET", TOKEN_KEY);
}

on_both_databases!(with super::known_token_key;
    another_users_or_an_unknown_generation_is_404_and_a_bad_last_event_id_is_400,
    a_stream_token_opens_both_streams_without_a_header,
    forged_garbage_and_expired_stream_tokens_are_401,
    a_stream_token_is_not_a_bearer_token,
);

/// A generation of `token`'s user, completed on the offline renderer: its id.
async fn completed(app: &TestApp, token: &str) -> String {
    let model = app.default_model_id().await;
    let body: Value = app
        .generate(token, &model, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    body["generationId"].as_str().unwrap().to_owned()
}

/// `POST /api/v1/generate/events/token` for `bearer`'s user, its shape checked.
async fn stream_token(app: &TestApp, bearer: &str) -> String {
    let response = app
        .send(Method::POST, "/api/v1/generate/events/token", Some(bearer))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let expires_in = body["expiresIn"].as_u64().unwrap();
    assert!((55..=60).contains(&expires_in), "{body}");
    let expires_at = chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let from_now = (expires_at - Utc::now()).num_seconds();
    assert!((50..=61).contains(&from_now), "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    token
}

async fn another_users_or_an_unknown_generation_is_404_and_a_bad_last_event_id_is_400(
    app: TestApp,
) {
    let owner = app.token("owner", None);
    let intruder = app.token("intruder", None);
    let id = completed(&app, &owner).await;
    let path = format!("/api/v1/generate/{id}/events");
    assert_error(
        get(&app.address, &path, Some(&intruder), &[]).await,
        404,
        "not_found",
    )
    .await;
    let unknown = format!("/api/v1/generate/{}/events", uuid::Uuid::new_v4());
    assert_error(
        get(&app.address, &unknown, Some(&owner), &[]).await,
        404,
        "not_found",
    )
    .await;
    // Another user's stream token is no key either.
    let intruders = stream_token(&app, &intruder).await;
    let with_token = format!("{path}?access_token={intruders}");
    assert_error(
        get(&app.address, &with_token, None, &[]).await,
        404,
        "not_found",
    )
    .await;
    for bad in ["abc", "-1", "1.5", ""] {
        let response = get(&app.address, &path, Some(&owner), &[("Last-Event-ID", bad)]).await;
        assert_error(response, 400, "validation_failed").await;
    }
    let query = format!("{path}?lastEventId=abc");
    assert_error(
        get(&app.address, &query, Some(&owner), &[]).await,
        400,
        "validation_failed",
    )
    .await;
    let user_stream = get(
        &app.address,
        "/api/v1/generate/events",
        Some(&owner),
        &[("Last-Event-ID", "abc")],
    )
    .await;
    assert_error(user_stream, 400, "validation_failed").await;
    assert_error(
        get(&app.address, &path, None, &[]).await,
        401,
        "unauthorized",
    )
    .await;
}

async fn a_stream_token_opens_both_streams_without_a_header(app: TestApp) {
    let bearer = app.token("browser-user", None);
    let id = completed(&app, &bearer).await;
    let token = stream_token(&app, &bearer).await;
    let mut one = open(
        &app.address,
        &format!("/api/v1/generate/{id}/events?access_token={token}"),
        None,
        &[],
    )
    .await;
    assert_completed(&one.event().await, &id);
    one.expect_end().await;
    let mut all = open(
        &app.address,
        &format!("/api/v1/generate/events?access_token={token}"),
        None,
        &[],
    )
    .await;
    assert_eq!(all.event().await.name, "ready");
    // The servers sign with the configured key: a token minted with it by hand opens too.
    let own = StreamTokens::new(TOKEN_KEY.as_bytes().to_vec(), Duration::from_secs(60))
        .mint(&UserId::parse("browser-user").unwrap(), Utc::now());
    let mut again = open(
        &app.address,
        &format!("/api/v1/generate/{id}/events?access_token={}", own.token),
        None,
        &[],
    )
    .await;
    assert_completed(&again.event().await, &id);
}

async fn forged_garbage_and_expired_stream_tokens_are_401(app: TestApp) {
    let user = UserId::parse("browser-user").unwrap();
    let bearer = app.token(user.as_str(), None);
    let id = completed(&app, &bearer).await;
    let lifetime = Duration::from_secs(60);
    let expired = StreamTokens::new(TOKEN_KEY.as_bytes().to_vec(), lifetime)
        .mint(&user, Utc::now() - chrono::Duration::seconds(120))
        .token;
    let forged = StreamTokens::new(b"another-key-another-key-another-key".to_vec(), lifetime)
        .mint(&user, Utc::now())
        .token;
    let real = stream_token(&app, &bearer).await;
    let (signed, _) = real.rsplit_once('.').unwrap();
    let resigned = format!("{signed}.AAAA");
    for token in [expired.as_str(), &forged, "garbage", &resigned, &bearer] {
        for path in [
            format!("/api/v1/generate/{id}/events?access_token={token}"),
            format!("/api/v1/generate/events?access_token={token}"),
        ] {
            let response = get(&app.address, &path, None, &[]).await;
            assert_error(response, 401, "unauthorized").await;
        }
    }
}

async fn a_stream_token_is_not_a_bearer_token(app: TestApp) {
    let bearer = app.token("browser-user", None);
    let token = stream_token(&app, &bearer).await;
    for path in [
        "/api/v1/images",
        "/api/v1/credits/balance",
        "/api/v1/generate/active",
    ] {
        assert_error(app.get(path, Some(&token)).await, 401, "unauthorized").await;
    }
    let mint_again = app
        .send(Method::POST, "/api/v1/generate/events/token", Some(&token))
        .await;
    assert_error(mint_again, 401, "unauthorized").await;
    let stream = get(&app.address, "/api/v1/generate/events", Some(&token), &[]).await;
    assert_error(stream, 401, "unauthorized").await;
}
