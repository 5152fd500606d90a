use picture_tests::{TestApp, on_both_databases};
use serde_json::Value;

on_both_databases!(
    the_profile_is_created_from_the_claims_on_the_first_call,
    each_user_sees_only_their_own_profile,
);

async fn me(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn the_profile_is_created_from_the_claims_on_the_first_call(app: TestApp) {
    let user = "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J";
    let token = app.token(user, Some("ada@example.com"));
    let first = me(&app, &token, "/api/v1/profiles/me").await;
    assert_eq!(first["id"], user);
    assert_eq!(first["email"], "ada@example.com");
    assert_eq!(first["username"], Value::Null);
    assert_eq!(first["avatarUrl"], Value::Null);
    assert_eq!(first["createdAt"], first["updatedAt"]);
    let mut keys: Vec<_> = first.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "avatarUrl",
            "createdAt",
            "email",
            "id",
            "updatedAt",
            "username"
        ]
    );
    // Later calls, and the mobile prefix, return the same row; a new e-mail claim changes nothing.
    let other_email = app.token(user, Some("changed@example.com"));
    assert_eq!(me(&app, &other_email, "/api/profiles/me").await, first);
}

async fn each_user_sees_only_their_own_profile(app: TestApp) {
    let alice = me(
        &app,
        &app.token("alice", Some("a@example.com")),
        "/api/v1/profiles/me",
    )
    .await;
    let bob = me(&app, &app.token("bob", None), "/api/v1/profiles/me").await;
    assert_eq!(alice["id"], "alice");
    assert_eq!(bob["id"], "bob");
    assert_eq!(bob["email"], "");
}
