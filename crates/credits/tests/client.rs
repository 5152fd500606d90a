//! The credits adapter against a wiremock fake that follows the mana-credits internal API
//! (original-backend.md §6.4): paths, headers, bodies and error answers.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::time::Duration;

use picture_credits::{CreditsConfig, RemoteCredits};
use picture_domain::ports::{Charge, CreditLedger, LedgerError};
use picture_domain::{CreditAmount, GenerationId, UserId};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "service-key-for-tests";

fn adapter(server: &MockServer) -> RemoteCredits {
    let mut config = CreditsConfig::new(server.uri(), KEY.to_owned().into(), "picture-app".into());
    config.timeout = Duration::from_millis(500);
    RemoteCredits::new(config).unwrap()
}

fn user() -> UserId {
    UserId::parse("Xy7abc0123456789Xy7abc0123456789").unwrap()
}

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

fn charge(generation: GenerationId) -> Charge {
    Charge {
        user: user(),
        generation,
        amount: credits(10),
    }
}

#[tokio::test]
async fn balance_reads_the_internal_route_with_the_service_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/internal/credits/balance/{}", user())))
        .and(header("X-Service-Key", KEY))
        .and(header("X-App-Id", "picture-app"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "userId": user().as_str(), "balance": 25, "totalEarned": 40, "totalSpent": 15,
            "version": 3, "createdAt": "2026-11-01T00:00:00.000Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let balance = adapter(&server).balance(&user()).await.unwrap();
    assert_eq!(balance.balance, credits(25));
    assert_eq!(balance.total_earned, credits(40));
    assert_eq!(balance.total_spent, credits(15));
}

#[tokio::test]
async fn missing_balance_fields_are_zero_and_odd_user_ids_are_one_encoded_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/internal/credits/balance/a%23b%3Fc%25d"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"balance": 7})))
        .expect(1)
        .mount(&server)
        .await;
    let odd = UserId::parse("a#b?c%d").unwrap();
    let balance = adapter(&server).balance(&odd).await.unwrap();
    assert_eq!(balance.balance, credits(7));
    assert_eq!(balance.total_earned, CreditAmount::ZERO);
}

#[tokio::test]
async fn charge_uses_the_generation_id_as_idempotency_key() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    Mock::given(method("POST"))
        .and(path("/api/v1/internal/credits/use"))
        .and(header("X-Service-Key", KEY))
        .and(header("X-App-Id", "picture-app"))
        .and(body_json(json!({
            "userId": user().as_str(),
            "amount": 10,
            "appId": "picture-app",
            "description": format!("Image generation: {generation}"),
            "idempotencyKey": generation.to_string(),
            "metadata": {"operation": "image_generation", "generationId": generation.to_string()}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "transaction": {"id": "t1"}, "newBalance": {"balance": 15, "totalSpent": 25}
        })))
        .expect(1)
        .mount(&server)
        .await;
    adapter(&server).charge(&charge(generation)).await.unwrap();
}

async fn charge_answered(status: u16, body: serde_json::Value) -> LedgerError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/internal/credits/use"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    adapter(&server)
        .charge(&charge(GenerationId::new_random()))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_402_is_insufficient_with_what_is_available() {
    let error = charge_answered(
        402,
        json!({"statusCode": 402, "message": "Insufficient credits", "details": {"required": 10, "available": 4}}),
    )
    .await;
    assert_eq!(
        error,
        LedgerError::Insufficient {
            available: Some(credits(4))
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_404_is_an_unknown_user_and_not_retried() {
    let error = charge_answered(
        404,
        json!({"statusCode": 404, "message": "User balance not found"}),
    )
    .await;
    assert_eq!(error, LedgerError::UnknownUser);
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_409_conflict_and_5xx_are_retryable() {
    for status in [409, 500, 502, 503] {
        let error = charge_answered(status, json!({"statusCode": status, "message": "x"})).await;
        assert!(
            error.is_retryable(),
            "{status} should be retryable: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_service_key_is_retryable_and_the_key_is_never_in_the_error() {
    let error = charge_answered(
        401,
        json!({"statusCode": 401, "message": "Invalid or missing service key"}),
    )
    .await;
    assert!(error.is_retryable());
    assert!(!error.to_string().contains(KEY));
}

#[tokio::test]
async fn other_client_errors_are_rejections() {
    let error = charge_answered(400, json!({"statusCode": 400, "message": "bad amount"})).await;
    assert!(matches!(error, LedgerError::Rejected(ref m) if m.contains("bad amount")));
}

#[tokio::test]
async fn a_slow_service_times_out_as_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"balance": 1}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let error = adapter(&server).balance(&user()).await.unwrap_err();
    assert!(matches!(error, LedgerError::Unavailable(ref m) if m.contains("timeout")));
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable() {
    let config = CreditsConfig::new(
        "http://127.0.0.1:9".to_owned(),
        KEY.to_owned().into(),
        "picture-app".into(),
    );
    let error = RemoteCredits::new(config)
        .unwrap()
        .balance(&user())
        .await
        .unwrap_err();
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_garbled_or_negative_balance_is_unavailable_not_zero() {
    for body in [json!({"balance": -5}), json!("not an object")] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
        let error = adapter(&server).balance(&user()).await.unwrap_err();
        assert!(error.is_retryable(), "{error:?}");
    }
}

#[tokio::test]
async fn refund_posts_the_contracts_body() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    Mock::given(method("POST"))
        .and(path("/api/v1/internal/credits/refund"))
        .and(header("X-Service-Key", KEY))
        .and(body_json(json!({
            "userId": user().as_str(),
            "amount": 10,
            "description": "goodwill",
            "appId": "picture-app",
            "metadata": {"operation": "image_generation", "generationId": generation.to_string()}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    adapter(&server)
        .refund(&user(), generation, credits(10), "goodwill")
        .await
        .unwrap();
}

#[test]
fn only_http_urls_are_accepted() {
    for bad in ["ftp://x", "not a url", "mailto:a@b"] {
        let config = CreditsConfig::new(bad.into(), KEY.to_owned().into(), "a".into());
        assert!(RemoteCredits::new(config).is_err(), "{bad}");
    }
}
