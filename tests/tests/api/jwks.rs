//! Production mode: EdDSA tokens verified against a fake auth service's JWKS.

use chrono::Utc;
use picture_tests::{Db, EdKey, TestApp, sign_hs256};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Setup {
    app: TestApp,
    auth: MockServer,
    key: EdKey,
}

async fn setup(jwks_calls: u64) -> Setup {
    let auth = MockServer::start().await;
    let key = EdKey::new(7, "key-1");
    Mock::given(method("GET"))
        .and(path("/api/v1/auth/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [key.jwk()]})))
        .expect(jwks_calls)
        .mount(&auth)
        .await;
    let auth_url = auth.uri();
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("MANA_CORE_AUTH_URL", auth_url);
        raw.unset("JWT_SECRET");
    })
    .await
    .unwrap();
    Setup { app, auth, key }
}

fn claims(issuer: &str, overrides: Value) -> Value {
    let now = Utc::now().timestamp();
    let mut claims = json!({"sub": "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J", "email": "e@example.com",
                            "role": "user", "sid": "s1", "aud": "manacore", "iss": issuer,
                            "iat": now, "exp": now + 900});
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

#[tokio::test]
async fn tokens_signed_by_the_auth_service_are_accepted_and_keys_cached() {
    let s = setup(1).await;
    let token = s.key.sign(&claims(&s.auth.uri(), json!({})));
    for _ in 0..3 {
        let response = s.app.get("/api/v1/profiles/me", Some(&token)).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["id"], "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J");
    }
    s.auth.verify().await;
}

#[tokio::test]
async fn unknown_kids_cannot_make_the_server_hammer_the_auth_service() {
    let s = setup(1).await;
    let stranger = EdKey::new(9, "key-unknown");
    for _ in 0..10 {
        let token = stranger.sign(&claims(&s.auth.uri(), json!({})));
        assert_eq!(
            s.app
                .get("/api/v1/profiles/me", Some(&token))
                .await
                .status(),
            401
        );
    }
    // One fetch for the first unknown kid; the others fall within the refetch interval.
    s.auth.verify().await;
}

#[tokio::test]
async fn algorithm_confusion_and_foreign_claims_are_refused() {
    let s = setup(1).await;
    let issuer = s.auth.uri();
    let hs256_with_public_key = sign_hs256(&claims(&issuer, json!({})), s.key.x().as_bytes());
    let cases = [
        ("HS256 signed with the public key", hs256_with_public_key),
        (
            "wrong issuer",
            s.key.sign(&claims("https://evil.example", json!({}))),
        ),
        (
            "wrong audience",
            s.key.sign(&claims(&issuer, json!({"aud": "other"}))),
        ),
        (
            "expired",
            s.key.sign(&claims(
                &issuer,
                json!({"exp": Utc::now().timestamp() - 3600}),
            )),
        ),
        ("signed by another key with a known kid", {
            let impostor = EdKey::new(11, "key-1");
            impostor.sign(&claims(&issuer, json!({})))
        }),
    ];
    let valid = s.key.sign(&claims(&issuer, json!({})));
    assert_eq!(
        s.app
            .get("/api/v1/profiles/me", Some(&valid))
            .await
            .status(),
        200
    );
    for (name, token) in cases {
        let response = s.app.get("/api/v1/profiles/me", Some(&token)).await;
        assert_eq!(response.status(), 401, "{name}");
    }
}

#[tokio::test]
async fn an_unreachable_auth_service_refuses_tokens_without_hanging() {
    // A port nobody listens on (wiremock keeps dropped servers listening in a pool).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let auth_url = format!("http://{closed}");
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("MANA_CORE_AUTH_URL", auth_url.clone());
    })
    .await
    .unwrap();
    let token = EdKey::new(7, "key-1").sign(&claims(&auth_url, json!({})));
    let response = app.get("/api/v1/profiles/me", Some(&token)).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Token validation failed");
}
