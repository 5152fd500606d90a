//! Embedded-mode tokens: a token from the server's own issuer is accepted, everything an
//! attacker would try is a 401 in the contract shape.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use picture_tests::{TEST_JWT_SECRET, TestApp, on_both_databases, sign_hs256};
use serde_json::{Value, json};

on_both_databases!(
    a_token_from_the_local_issuer_is_accepted,
    requests_without_a_bearer_token_are_401,
    forged_and_invalid_tokens_are_401,
);

fn claims(overrides: Value) -> Value {
    let now = Utc::now().timestamp();
    let mut claims = json!({"sub": "user-1", "aud": "manacore", "iss": "picture-local",
                            "iat": now, "exp": now + 600});
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

async fn assert_401(app: &TestApp, token: Option<&str>, expected_message: &str) {
    let response = app.get("/api/v1/profiles/me", token).await;
    assert_eq!(response.status(), 401, "token {token:?}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["error"], "Unauthorized");
    assert_eq!(body["message"], expected_message, "token {token:?}");
}

async fn a_token_from_the_local_issuer_is_accepted(app: TestApp) {
    let token = app.token("user-1", None);
    assert_eq!(
        app.get("/api/v1/profiles/me", Some(&token)).await.status(),
        200
    );
    let signed_here = sign_hs256(&claims(json!({})), TEST_JWT_SECRET.as_bytes());
    assert_eq!(
        app.get("/api/v1/profiles/me", Some(&signed_here))
            .await
            .status(),
        200
    );
}

async fn requests_without_a_bearer_token_are_401(app: TestApp) {
    assert_401(&app, None, "No token provided").await;
    let token = app.token("user-1", None);
    for header in [
        format!("bearer {token}"),
        format!("Basic {token}"),
        token.clone(),
    ] {
        let response = app
            .client
            .get(format!("{}/api/v1/profiles/me", app.address))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
}

async fn forged_and_invalid_tokens_are_401(app: TestApp) {
    let now = Utc::now().timestamp();
    let secret = TEST_JWT_SECRET.as_bytes();
    let valid = app.token("user-1", None);
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims(json!({"sub": "admin"})).to_string());
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let mut flipped = signature.to_owned();
    let last = if flipped.ends_with('A') { "B" } else { "A" };
    flipped.replace_range(flipped.len() - 1.., last);
    let cases = [
        (
            "tampered payload",
            format!("{head}.{forged_payload}.{signature}"),
        ),
        ("tampered signature", format!("{head}.{payload}.{flipped}")),
        ("alg none", format!("{none_header}.{payload}.")),
        (
            "other secret",
            sign_hs256(&claims(json!({})), b"another-secret-another-secret-0000"),
        ),
        (
            "expired",
            sign_hs256(
                &claims(json!({"iat": now - 7200, "exp": now - 3600})),
                secret,
            ),
        ),
        (
            "not yet valid",
            sign_hs256(&claims(json!({"nbf": now + 3600})), secret),
        ),
        (
            "wrong audience",
            sign_hs256(&claims(json!({"aud": "other"})), secret),
        ),
        (
            "wrong issuer",
            sign_hs256(&claims(json!({"iss": "evil"})), secret),
        ),
        ("no expiry", {
            let mut c = claims(json!({}));
            c.as_object_mut().unwrap().remove("exp");
            sign_hs256(&c, secret)
        }),
        (
            "unusable subject",
            sign_hs256(&claims(json!({"sub": "a b"})), secret),
        ),
        ("malformed", "not.a.jwt".to_owned()),
        ("oversized", "a".repeat(9000)),
    ];
    for (name, token) in cases {
        let response = app.get("/api/v1/profiles/me", Some(&token)).await;
        assert_eq!(response.status(), 401, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Invalid token", "{name}");
        assert_eq!(body["code"], "unauthorized", "{name}");
    }
}
