//! `Idempotency-Key` on `POST /generate`: a retry answers the first response's status and body
//! byte for byte (with `Idempotent-Replayed: true`), whatever happened to the generation since;
//! a concurrent duplicate is 409 while the first runs; a refused first request (402, 5xx) is
//! not kept, so a retry with the same key can succeed; a key expires after its time to live.

use std::time::Duration;

use chrono::Utc;
use picture_domain::ports::{IdempotencyClaim, IdempotencyStore, RecordedResponse};
use picture_domain::{GenerationId, UserId};
use picture_persistence::{Database, DieselIdempotencyStore, PoolOptions};
use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

picture_tests::for_both_databases!(
    a_retried_sync_request_answers_the_first_status_and_body_byte_for_byte,
    an_async_request_replayed_after_completion_still_answers_the_first_processing_body,
    a_concurrent_duplicate_is_409_while_the_first_runs_and_replays_it_after,
    a_refused_first_request_is_not_kept_so_a_retry_after_a_grant_succeeds,
    a_provider_outage_is_not_kept_so_a_retry_with_the_same_key_succeeds,
    an_expired_key_is_a_new_key,
);

/// An answer as the client received it.
struct Answer {
    status: u16,
    content_type: String,
    replayed: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Self {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (content_type, replayed) = (header("content-type"), header("idempotent-replayed"));
        Self {
            status: response.status().as_u16(),
            content_type: content_type.unwrap_or_default(),
            replayed,
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Asserts that this is a replay of `first`: same status, type and bytes.
    fn assert_replays(&self, first: &Self) {
        assert_eq!(self.status, first.status);
        assert_eq!(self.content_type, first.content_type);
        assert_eq!(
            String::from_utf8_lossy(&self.body),
            String::from_utf8_lossy(&first.body),
            "the replay is the first body byte for byte"
        );
        assert_eq!(self.replayed.as_deref(), Some("true"));
    }
}

async fn post(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    let response = app
        .client
        .post(format!("{}/api/v1/generate", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

fn staging(raw: &mut RawSettings) {
    raw.set("APP_ENV", "staging");
}

/// A staging server (credits enforced) whose `user` has used the free tier up.
async fn paying_user(db: Db, user: &str) -> Option<(TestApp, String, String)> {
    let app = TestApp::spawn_with(db, staging).await?;
    let token = app.token(user, None);
    let model = app.default_model_id().await;
    for _ in 0..3 {
        assert_eq!(app.generate(&token, &model, true).await.status(), 201);
    }
    Some((app, token, model))
}

async fn a_retried_sync_request_answers_the_first_status_and_body_byte_for_byte(db: Db) {
    let Some((app, token, model)) = paying_user(db, "replayer").await else {
        return;
    };
    assert_eq!(app.grant("replayer", 25, "g").await.status(), 201);
    let body = json!({"prompt": "a paid lighthouse", "modelId": model, "waitForResult": true});
    let first = post(&app, &token, "sync-1", &body).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.replayed, None, "the first answer is not a replay");
    let first_json = first.json();
    assert_eq!(first_json["status"], "completed");
    assert_eq!(first_json["creditsUsed"], 10);
    assert_eq!(first_json["creditBalance"], 15);

    // The same body with its keys in another order is the same request.
    let reordered = json!({"waitForResult": true, "modelId": model, "prompt": "a paid lighthouse"});
    for retry in [&body, &reordered] {
        post(&app, &token, "sync-1", retry)
            .await
            .assert_replays(&first);
    }
    // Nothing was charged again.
    let balance: Value = app
        .get("/api/v1/credits/balance", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(balance["balance"], 15);

    // The same key with another body keeps its 409 `conflict`, and is no replay.
    let other = json!({"prompt": "another lighthouse", "modelId": model, "waitForResult": true});
    let conflict = post(&app, &token, "sync-1", &other).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.replayed, None);
    let conflict = conflict.json();
    assert_eq!(conflict["code"], "conflict");
    assert_eq!(
        conflict["message"],
        "This Idempotency-Key was used with a different request"
    );
}

async fn a_refused_first_request_is_not_kept_so_a_retry_after_a_grant_succeeds(db: Db) {
    let Some((app, token, model)) = paying_user(db, "topper").await else {
        return;
    };
    let body = json!({"prompt": "after the top-up", "modelId": model, "waitForResult": true});
    let refused = post(&app, &token, "top-up", &body).await;
    assert_eq!(refused.status, 402);
    assert_eq!(refused.json()["code"], "insufficient_credits");
    // The user buys credits and taps "retry", which sends the same key.
    assert_eq!(app.grant("topper", 10, "bought").await.status(), 201);
    let paid = post(&app, &token, "top-up", &body).await;
    assert_eq!(paid.status, 201, "{}", String::from_utf8_lossy(&paid.body));
    assert_eq!(paid.replayed, None);
    assert_eq!(paid.json()["creditBalance"], 0);
    // From now on the key answers that success.
    post(&app, &token, "top-up", &body)
        .await
        .assert_replays(&paid);
    // An unknown model (404) is not kept either: nothing was started.
    let unknown = json!({"prompt": "x", "modelId": uuid::Uuid::new_v4().to_string()});
    assert_eq!(post(&app, &token, "missing", &unknown).await.status, 404);
    let later = json!({"prompt": "x", "modelId": model});
    assert_eq!(post(&app, &token, "missing", &later).await.status, 402);
}

async fn an_expired_key_is_a_new_key(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    assert_eq!(
        app.settings.generation.idempotency_key_ttl,
        Duration::from_secs(86_400),
        "keys live 24 h by default"
    );
    let token = app.token("returner", None);
    let model = app.default_model_id().await;
    let body = json!({"prompt": "yesterday", "modelId": model, "waitForResult": true});
    // Two keys used 25 hours ago (one with another body), seen through the store itself.
    let database = Database::connect(&app.settings.database.url, PoolOptions::default())
        .await
        .unwrap();
    let store = DieselIdempotencyStore::new(database);
    let user = UserId::parse("returner").unwrap();
    let yesterday = Utc::now() - chrono::Duration::hours(25);
    let stale = RecordedResponse {
        status: 201,
        body: br#"{"stale":true}"#.to_vec(),
    };
    // The hash the server computes: SHA-256 of the canonical body.
    let same_hash = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(body.to_string().as_bytes()))
    };
    for (key, hash) in [("old-same", None), ("old-other", Some("another request"))] {
        let hash = hash.map_or_else(|| same_hash.clone(), str::to_owned);
        let claimed = store
            .claim(
                &user,
                key,
                &hash,
                GenerationId::new_random(),
                yesterday,
                yesterday - chrono::Duration::hours(24),
            )
            .await
            .unwrap();
        assert_eq!(claimed, IdempotencyClaim::New);
        store.record(&user, key, &stale).await.unwrap();
    }
    // The same kind of record an hour old is alive: replayed as stored (so the hash above is
    // the server's, and "old-same" differs from it only by its age).
    let recent = Utc::now() - chrono::Duration::hours(1);
    let claimed = store
        .claim(
            &user,
            "recent",
            &same_hash,
            GenerationId::new_random(),
            recent,
            recent - chrono::Duration::hours(24),
        )
        .await
        .unwrap();
    assert_eq!(claimed, IdempotencyClaim::New);
    store.record(&user, "recent", &stale).await.unwrap();
    let replayed = post(&app, &token, "recent", &body).await;
    assert_eq!(replayed.body, stale.body);
    assert_eq!(replayed.replayed.as_deref(), Some("true"));
    for key in ["old-same", "old-other"] {
        let fresh = post(&app, &token, key, &body).await;
        assert_eq!(
            fresh.status,
            201,
            "{}",
            String::from_utf8_lossy(&fresh.body)
        );
        assert_eq!(fresh.replayed, None, "an expired key is not replayed");
        assert_eq!(fresh.json()["status"], "completed");
        // …and the new answer is the one kept from now on.
        post(&app, &token, key, &body).await.assert_replays(&fresh);
    }
}

/// A server talking to a fake Replicate without webhooks (polls finish generations).
async fn with_fake_replicate(db: Db) -> Option<(TestApp, MockServer, String, String)> {
    let replicate = MockServer::start().await;
    let base = replicate.uri();
    let app = TestApp::spawn_with(db, |raw| {
        raw.set("REPLICATE_API_TOKEN", "r8_test_token");
        raw.set("REPLICATE_API_BASE_URL", format!("{base}/v1"));
        raw.set("OUTPUT_ALLOWED_HOSTS", "127.0.0.1");
        raw.set("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true");
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
    })
    .await?;
    let token = app.token("async-user", None);
    let model = app.default_model_id().await;
    Some((app, replicate, token, model))
}

fn prediction(id: &str, status: &str, output: Value) -> Value {
    json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
           "status": status, "output": output, "error": null, "logs": "",
           "metrics": {"predict_time": 0.5}})
}

fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(prediction(id, "starting", Value::Null))
}

/// Makes prediction `id` succeed with a PNG served by the fake.
async fn succeed(replicate: &MockServer, id: &str) {
    let output = format!("{}/delivery/{id}.png", replicate.uri());
    Mock::given(method("GET"))
        .and(path(format!("/v1/predictions/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            id,
            "succeeded",
            json!([output]),
        )))
        .mount(replicate)
        .await;
    let png = picture_offline::render_png("idempotent", Some(1), 256, 256).unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/delivery/{id}.png")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(png),
        )
        .mount(replicate)
        .await;
}

/// Polls the status route until generation `id` is completed (bounded).
async fn until_completed(app: &TestApp, token: &str, id: &str) {
    for _ in 0..100 {
        if app.status(token, id).await["status"] == "completed" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("generation {id} did not complete");
}

async fn an_async_request_replayed_after_completion_still_answers_the_first_processing_body(
    db: Db,
) {
    let Some((app, replicate, token, model)) = with_fake_replicate(db).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(created("p-async"))
        .expect(1)
        .mount(&replicate)
        .await;
    let body = json!({"prompt": "later", "modelId": model, "waitForResult": false});
    let first = post(&app, &token, "async-1", &body).await;
    assert_eq!(first.status, 201);
    let first_json = first.json();
    assert_eq!(first_json["status"], "processing", "{first_json}");
    assert!(first_json.get("image").is_none());
    succeed(&replicate, "p-async").await;
    until_completed(&app, &token, first_json["generationId"].as_str().unwrap()).await;

    let replay = post(&app, &token, "async-1", &body).await;
    replay.assert_replays(&first);
    assert_eq!(replay.json()["status"], "processing");
    // One prediction was created (wiremock checks `expect(1)`).
    replicate.verify().await;
}

async fn a_concurrent_duplicate_is_409_while_the_first_runs_and_replays_it_after(db: Db) {
    let Some((app, replicate, token, model)) = with_fake_replicate(db).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(created("p-slow").set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&replicate)
        .await;
    let body = json!({"prompt": "slowly", "modelId": model, "waitForResult": false});
    let first = {
        let (client, url, token, body) = (
            app.client.clone(),
            format!("{}/api/v1/generate", app.address),
            token.clone(),
            body.clone(),
        );
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "slow-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            Answer::of(response).await
        })
    };
    // Wait until the first request's create call has reached the fake: it is in flight.
    let mut in_flight = false;
    for _ in 0..100 {
        let requests = replicate.received_requests().await.unwrap_or_default();
        if requests.iter().any(|r| r.url.path() == "/v1/predictions") {
            in_flight = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(in_flight, "the first request reached the provider");
    let duplicate = post(&app, &token, "slow-1", &body).await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.replayed, None);
    let duplicate = duplicate.json();
    assert_eq!(duplicate["code"], "conflict");
    assert_eq!(
        duplicate["message"],
        "A request with this Idempotency-Key is still in progress; retry shortly"
    );

    let first = first.await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["status"], "processing");
    post(&app, &token, "slow-1", &body)
        .await
        .assert_replays(&first);
    replicate.verify().await;
}

async fn a_provider_outage_is_not_kept_so_a_retry_with_the_same_key_succeeds(db: Db) {
    let Some((app, replicate, token, model)) = with_fake_replicate(db).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ResponseTemplate::new(500).set_body_string("down"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&replicate)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(created("p-after-outage"))
        .expect(1)
        .mount(&replicate)
        .await;
    let body = json!({"prompt": "through an outage", "modelId": model, "waitForResult": false});
    let outage = post(&app, &token, "outage-1", &body).await;
    assert_eq!(outage.status, 503);
    assert_eq!(outage.json()["code"], "provider_unavailable");
    let retry = post(&app, &token, "outage-1", &body).await;
    assert_eq!(
        retry.status,
        201,
        "{}",
        String::from_utf8_lossy(&retry.body)
    );
    assert_eq!(retry.replayed, None);
    assert_eq!(retry.json()["status"], "processing");
    post(&app, &token, "outage-1", &body)
        .await
        .assert_replays(&retry);
    replicate.verify().await;
}
