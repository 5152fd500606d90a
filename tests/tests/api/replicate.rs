//! The pipeline against a wiremock Replicate (API and output files), with signed webhooks.

use std::time::Duration;

use chrono::Utc;
use picture_replicate::WebhookVerifier;
use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::fake_replicate::{
    self, Fake, WEBHOOK_SECRET, output_png, output_response, post_webhook, prediction,
    signature_headers,
};

/// A server on `db` talking to a fresh fake Replicate, polling every 50 ms; `None` when
/// PostgreSQL is absent on a developer's machine.
async fn setup(db: Db, configure: impl FnOnce(&mut RawSettings)) -> Option<Fake> {
    fake_replicate::setup(db, "replicate-user", |raw| {
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
        configure(raw);
    })
    .await
}

picture_tests::for_both_databases!(
    a_signed_webhook_completes_the_generation_exactly_once_whatever_races_it,
    forged_stale_and_unsigned_webhooks_are_401_and_change_nothing,
    a_failed_prediction_fails_the_generation_and_gives_the_free_slot_back,
    a_waiting_request_polls_until_the_prediction_succeeds,
    an_output_from_a_host_not_allowed_fails_the_generation,
    an_invalid_provider_token_is_a_clear_502_and_costs_nothing,
    a_webhook_arriving_before_the_submit_call_returns_still_finds_its_generation,
    after_a_restart_the_reconciler_finishes_a_generation_left_processing_and_charges_it_once,
    a_paid_generation_is_charged_once_however_often_its_webhook_arrives,
    a_replayed_delivery_is_recognised_by_another_instance,
    cancelling_a_processing_generation_cancels_the_prediction_and_gives_the_slot_back,
);

async fn cancelling_a_processing_generation_cancels_the_prediction_and_gives_the_slot_back(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(Sequence::new(vec![
            prediction("p-cancel", "starting", Value::Null),
            prediction("p-after-cancel", "starting", Value::Null),
        ]))
        .mount(&fake.replicate)
        .await;
    fake.get_answers(prediction("p-cancel", "processing", Value::Null))
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions/p-cancel/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            "p-cancel",
            "canceled",
            Value::Null,
        )))
        .expect(1)
        .mount(&fake.replicate)
        .await;
    let id = fake.start_generation().await;
    let cancel = fake
        .app
        .send(
            Method::POST,
            &format!("/api/v1/generate/{id}/cancel"),
            Some(&fake.token),
        )
        .await;
    assert_eq!(cancel.status(), 204);
    let status = fake.status(&id).await;
    assert_eq!(status["status"], "cancelled");
    assert_eq!(status["errorMessage"], "Cancelled by user");
    // Cancelling again (the web client's DELETE) changes nothing and is still 204.
    let again = fake
        .app
        .send(
            Method::DELETE,
            &format!("/api/v1/generate/{id}"),
            Some(&fake.token),
        )
        .await;
    assert_eq!(again.status(), 204);
    // A late success webhook cannot revive it.
    let done = prediction("p-cancel", "succeeded", json!([fake.output_url()]));
    assert_eq!(
        fake.signed("", &done, WEBHOOK_SECRET, Utc::now().timestamp())
            .await,
        200
    );
    assert_eq!(fake.status(&id).await["status"], "cancelled");
    assert!(fake.gallery().await.is_empty());
    let next: Value = fake.generate(false).await.json().await.unwrap();
    assert_eq!(
        next["freeGenerationsRemaining"], 2,
        "the cancelled one gave its slot back"
    );
    fake.replicate.verify().await;
}

async fn a_paid_generation_is_charged_once_however_often_its_webhook_arrives(db: Db) {
    let Some(fake) = setup(db, |raw| {
        raw.set("APP_ENV", "staging");
        raw.set("FREE_GENERATIONS", "0");
        // The reconciler races the webhooks and the polls too.
        raw.set("RECONCILER_INTERVAL_SECS", "1");
        raw.set("RECONCILER_MIN_AGE_SECS", "0");
    })
    .await
    else {
        return;
    };
    let user = "replicate-user";
    assert_eq!(fake.app.grant(user, 20, "g-1").await.status(), 201);
    fake.create_answers(prediction("p-paid", "starting", Value::Null))
        .await;
    let done = prediction("p-paid", "succeeded", json!([fake.output_url()]));
    fake.get_answers(done.clone()).await;
    fake.serve_output(1).await;
    let id = fake.start_generation().await;
    let held = fake.app.account(user).await;
    assert_eq!(held.credits.balance.get(), 10, "the price is held at once");
    assert_eq!(held.held.get() + held.credits.total_spent.get(), 10);
    let now = Utc::now().timestamp();
    let (a, b, c, d, e, _, _, _, ()) = tokio::join!(
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.status(&id),
        fake.status(&id),
        fake.status(&id),
        tokio::time::sleep(Duration::from_millis(1_500)),
    );
    assert_eq!([a, b, c, d, e], [200; 5]);
    let status = fake.status(&id).await;
    assert_eq!(status["status"], "completed");
    assert_eq!(status["creditsUsed"], 10);
    let account = fake.app.account(user).await;
    assert_eq!(account.credits.balance.get(), 10);
    assert_eq!(account.held.get(), 0);
    assert_eq!(account.credits.total_spent.get(), 10);
    fake.replicate.verify().await;
}

async fn a_replayed_delivery_is_recognised_by_another_instance(db: Db) {
    let Some(shared) = picture_tests::SharedDatabase::create(db).await else {
        return;
    };
    let (database, data_dir) = (shared.url.clone(), shared.data_dir.clone());
    let on_shared = |database: String, data_dir: String| {
        move |raw: &mut RawSettings| {
            raw.set("DATABASE_URL", database);
            raw.set("DATA_DIR", data_dir);
        }
    };
    let first = setup(Db::Sqlite, on_shared(database.clone(), data_dir.clone()))
        .await
        .unwrap();
    let second = setup(Db::Sqlite, on_shared(database, data_dir))
        .await
        .unwrap();
    first
        .create_answers(prediction("p-replay", "starting", Value::Null))
        .await;
    let id = first.start_generation().await;
    let failed = json!({"id": "p-replay", "status": "failed", "error": "NSFW", "output": null});
    let timestamp = Utc::now().timestamp().to_string();
    let delivery = "msg_replayed_delivery";
    let signature = WebhookVerifier::new(WEBHOOK_SECRET).unwrap().sign(
        delivery,
        timestamp.parse().unwrap(),
        failed.to_string().as_bytes(),
    );
    let headers = [
        ("webhook-id", delivery.to_owned()),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ];
    let answer = |fake: &Fake| {
        let request = fake
            .app
            .client
            .post(format!("{}/api/v1/generate/webhook", fake.app.address))
            .header("content-type", "application/json")
            .body(failed.to_string());
        headers
            .iter()
            .fold(request, |request, (name, value)| {
                request.header(*name, value)
            })
            .send()
    };
    let applied: Value = answer(&first).await.unwrap().json().await.unwrap();
    assert_eq!(applied, json!({"received": true}));
    let replayed: Value = answer(&second).await.unwrap().json().await.unwrap();
    assert_eq!(replayed, json!({"received": true, "duplicate": true}));
    assert_eq!(first.status(&id).await["status"], "failed");
    drop((first, second));
    drop(shared);
}

impl Fake {
    async fn serve_output(&self, times: u64) {
        Mock::given(method("GET"))
            .and(path("/delivery/out-0.png"))
            .respond_with(output_response())
            .expect(times)
            .mount(&self.replicate)
            .await;
    }

    async fn create_answers(&self, prediction: Value) {
        Mock::given(method("POST"))
            .and(path("/v1/predictions"))
            .respond_with(ResponseTemplate::new(201).set_body_json(prediction))
            .mount(&self.replicate)
            .await;
    }

    async fn get_answers(&self, prediction: Value) {
        let id = prediction["id"].as_str().unwrap().to_owned();
        Mock::given(method("GET"))
            .and(path(format!("/v1/predictions/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(prediction))
            .mount(&self.replicate)
            .await;
    }

    async fn generate(&self, wait: bool) -> reqwest::Response {
        self.app.generate(&self.token, &self.model, wait).await
    }

    async fn status(&self, id: &str) -> Value {
        self.app.status(&self.token, id).await
    }

    async fn gallery(&self) -> Vec<Value> {
        self.app
            .get("/api/v1/images", Some(&self.token))
            .await
            .json()
            .await
            .unwrap()
    }

    async fn webhook_to(&self, query: &str, body: &Value, headers: &[(&str, String)]) -> u16 {
        post_webhook(&self.app.client, &self.app.address, query, body, headers).await
    }

    /// Posts `body` signed with `secret` at `timestamp`.
    async fn signed(&self, query: &str, body: &Value, secret: &str, timestamp: i64) -> u16 {
        self.webhook_to(query, body, &signature_headers(secret, body, timestamp))
            .await
    }
}

/// Answers 201 with each prediction in turn (Replicate gives every create a new id).
struct Sequence {
    predictions: Vec<Value>,
    next: std::sync::atomic::AtomicUsize,
}

impl Sequence {
    fn new(predictions: Vec<Value>) -> Self {
        Self {
            predictions,
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl wiremock::Respond for Sequence {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let last = self.predictions.len() - 1;
        ResponseTemplate::new(201).set_body_json(&self.predictions[i.min(last)])
    }
}

async fn a_signed_webhook_completes_the_generation_exactly_once_whatever_races_it(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    fake.create_answers(prediction("p-once", "starting", Value::Null))
        .await;
    let done = prediction("p-once", "succeeded", json!([fake.output_url()]));
    fake.get_answers(done.clone()).await;
    fake.serve_output(1).await;
    let id = fake.start_generation().await;

    // Five deliveries of the same webhook and three status polls, all at once.
    let now = Utc::now().timestamp();
    let (a, b, c, d, e, _, _, _) = tokio::join!(
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.signed("", &done, WEBHOOK_SECRET, now),
        fake.status(&id),
        fake.status(&id),
        fake.status(&id),
    );
    assert_eq!([a, b, c, d, e], [200; 5]);
    let status = fake.status(&id).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["replicatePredictionId"], "p-once");
    assert_eq!(status["image"]["width"], 320);
    assert_eq!(fake.gallery().await.len(), 1);
    // The output was downloaded once (wiremock checks `expect(1)` on drop).
    fake.replicate.verify().await;
}

async fn forged_stale_and_unsigned_webhooks_are_401_and_change_nothing(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    fake.create_answers(prediction("p-forged", "starting", Value::Null))
        .await;
    fake.get_answers(prediction("p-forged", "processing", Value::Null))
        .await;
    fake.serve_output(0).await;
    let id = fake.start_generation().await;
    let done = prediction("p-forged", "succeeded", json!([fake.output_url()]));
    let now = Utc::now().timestamp();
    let other_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    assert_eq!(fake.signed("", &done, other_secret, now).await, 401);
    assert_eq!(fake.signed("", &done, WEBHOOK_SECRET, now - 600).await, 401);
    assert_eq!(fake.signed("", &done, WEBHOOK_SECRET, now + 600).await, 401);
    assert_eq!(fake.webhook_to("", &done, &[]).await, 401);
    // A valid signature over another body does not cover this one.
    let signature = WebhookVerifier::new(WEBHOOK_SECRET)
        .unwrap()
        .sign("msg_1", now, b"{}");
    let tampered = fake
        .webhook_to(
            "",
            &done,
            &[
                ("webhook-id", "msg_1".into()),
                ("webhook-timestamp", now.to_string()),
                ("webhook-signature", signature),
            ],
        )
        .await;
    assert_eq!(tampered, 401);
    assert_eq!(fake.status(&id).await["status"], "processing");
    assert!(fake.gallery().await.is_empty());
    fake.replicate.verify().await;
}

async fn a_failed_prediction_fails_the_generation_and_gives_the_free_slot_back(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(Sequence::new(vec![
            prediction("p-nsfw", "starting", Value::Null),
            prediction("p-next", "starting", Value::Null),
        ]))
        .mount(&fake.replicate)
        .await;
    fake.get_answers(prediction("p-nsfw", "processing", Value::Null))
        .await;
    let id = fake.start_generation().await;
    let mut failed = prediction("p-nsfw", "failed", Value::Null);
    failed["error"] = json!(
        "All generated images contained NSFW content. Try running it again with a different prompt."
    );
    assert_eq!(
        fake.signed("", &failed, WEBHOOK_SECRET, Utc::now().timestamp())
            .await,
        200
    );
    let status = fake.status(&id).await;
    assert_eq!(status["status"], "failed");
    assert!(status["errorMessage"].as_str().unwrap().contains("NSFW"));
    assert_eq!(status["creditsUsed"], 0);
    // The slot came back: the next generation still has 2 left after it.
    let next: Value = fake.generate(false).await.json().await.unwrap();
    assert_eq!(next["freeGenerationsRemaining"], 2, "{next}");
}

async fn a_waiting_request_polls_until_the_prediction_succeeds(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .and(header("prefer", "wait=10"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            "p-sync",
            "processing",
            json!([fake.output_url()]),
        )))
        .expect(1)
        .mount(&fake.replicate)
        .await;
    fake.get_answers(prediction(
        "p-sync",
        "succeeded",
        json!([fake.output_url()]),
    ))
    .await;
    fake.serve_output(1).await;
    let response = fake.generate(true).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["image"]["format"], "png");
    let metrics = fake.app.get("/metrics", None).await.text().await.unwrap();
    for family in [
        r#"picture_provider_request_duration_seconds_bucket{call="create""#,
        r#"picture_provider_request_duration_seconds_bucket{call="read""#,
        r#"picture_ingest_bytes_total{source="url"}"#,
    ] {
        assert!(metrics.contains(family), "{family} missing");
    }
    fake.replicate.verify().await;
}

async fn an_output_from_a_host_not_allowed_fails_the_generation(db: Db) {
    let Some(fake) = setup(db, |raw| {
        raw.set("OUTPUT_ALLOWED_HOSTS", "replicate.delivery");
    })
    .await
    else {
        return;
    };
    fake.create_answers(prediction("p-host", "starting", Value::Null))
        .await;
    fake.get_answers(prediction("p-host", "processing", Value::Null))
        .await;
    fake.serve_output(0).await;
    let id = fake.start_generation().await;
    let done = prediction("p-host", "succeeded", json!([fake.output_url()]));
    assert_eq!(
        fake.signed("", &done, WEBHOOK_SECRET, Utc::now().timestamp())
            .await,
        200
    );
    let status = fake.status(&id).await;
    assert_eq!(status["status"], "failed");
    assert!(
        status["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{status}"
    );
    fake.replicate.verify().await;
}

async fn an_invalid_provider_token_is_a_clear_502_and_costs_nothing(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthenticated",
            "detail": "You did not pass a valid authentication token",
            "status": 401
        })))
        .up_to_n_times(1)
        .mount(&fake.replicate)
        .await;
    fake.create_answers(prediction("p-after", "starting", Value::Null))
        .await;
    let refused = fake.generate(false).await;
    assert_eq!(refused.status(), 502);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "provider_error");
    assert_eq!(
        body["message"],
        "The image provider refused our credentials"
    );
    let next: Value = fake.generate(false).await.json().await.unwrap();
    assert_eq!(
        next["freeGenerationsRemaining"], 2,
        "the failed attempt gave its slot back"
    );
    let metrics = fake.app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"picture_provider_errors_total{call="create",kind="unauthorized"}"#),
        "{metrics}"
    );
}

async fn a_webhook_arriving_before_the_submit_call_returns_still_finds_its_generation(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(prediction("p-early", "starting", Value::Null))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&fake.replicate)
        .await;
    fake.get_answers(prediction(
        "p-early",
        "succeeded",
        json!([fake.output_url()]),
    ))
    .await;
    fake.serve_output(1).await;
    let generate = {
        let client = fake.app.client.clone();
        let url = format!("{}/api/v1/generate", fake.app.address);
        let body = json!({"prompt": "early", "modelId": fake.model});
        let token = fake.token.clone();
        tokio::spawn(async move { client.post(url).bearer_auth(token).json(&body).send().await })
    };
    // Wait for the create call to reach the fake, and read our webhook URL from it.
    let mut webhook = None;
    for _ in 0..100 {
        let requests = fake.replicate.received_requests().await.unwrap_or_default();
        if let Some(create) = requests.iter().find(|r| r.url.path() == "/v1/predictions") {
            let body: Value = serde_json::from_slice(&create.body).unwrap();
            webhook = body["webhook"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(webhook) = webhook else {
        panic!("the create call carries our webhook URL");
    };
    assert!(webhook.starts_with("https://picture.example/api/v1/generate/webhook?generation="));
    let query = &webhook[webhook.find('?').unwrap()..];
    let done = prediction("p-early", "succeeded", json!([fake.output_url()]));
    assert_eq!(
        fake.signed(query, &done, WEBHOOK_SECRET, Utc::now().timestamp())
            .await,
        200
    );
    let response = generate.await.unwrap().unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let id = body["generationId"].as_str().unwrap();
    assert_eq!(fake.status(id).await["status"], "completed");
    assert_eq!(fake.gallery().await.len(), 1);
    fake.replicate.verify().await;
}

async fn after_a_restart_the_reconciler_finishes_a_generation_left_processing_and_charges_it_once(
    db: Db,
) {
    let Some(shared) = picture_tests::SharedDatabase::create(db).await else {
        return;
    };
    let (database, data_dir) = (shared.url.clone(), shared.data_dir.clone());
    let first = {
        let (database, data_dir) = (database.clone(), data_dir.clone());
        setup(Db::Sqlite, move |raw| {
            raw.set("DATABASE_URL", database);
            raw.set("DATA_DIR", data_dir);
            raw.unset("REPLICATE_WEBHOOK_SECRET");
            raw.set("APP_ENV", "staging");
            raw.set("FREE_GENERATIONS", "0");
        })
        .await
        .unwrap()
    };
    assert_eq!(
        first.app.grant("replicate-user", 10, "g").await.status(),
        201
    );
    first
        .create_answers(prediction("p-restart", "starting", Value::Null))
        .await;
    let id = first.start_generation().await;
    let replicate_uri = first.replicate.uri();
    drop(first.app);

    // The provider has finished meanwhile (mounted before the second server starts: its
    // reconciler runs at once).
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p-restart"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            "p-restart",
            "succeeded",
            json!([format!("{replicate_uri}/delivery/out-0.png")]),
        )))
        .mount(&first.replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/delivery/out-0.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(output_png()))
        .mount(&first.replicate)
        .await;
    let second = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("DATABASE_URL", database);
        raw.set("DATA_DIR", data_dir);
        raw.set("REPLICATE_API_TOKEN", "r8_test_token");
        raw.set("REPLICATE_API_BASE_URL", format!("{replicate_uri}/v1"));
        raw.set("OUTPUT_ALLOWED_HOSTS", "127.0.0.1");
        raw.set("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true");
        raw.set("RECONCILER_INTERVAL_SECS", "1");
        raw.set("RECONCILER_MIN_AGE_SECS", "0");
        raw.set("APP_ENV", "staging");
        raw.set("FREE_GENERATIONS", "0");
    })
    .await
    .unwrap();
    let token = second.token("replicate-user", None);
    // The gallery does not ask the provider: only the reconciler can complete it.
    let mut images = Vec::new();
    for _ in 0..100 {
        images = second
            .get("/api/v1/images", Some(&token))
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap();
        if !images.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(images.len(), 1, "the reconciler completed the generation");
    assert_eq!(images[0]["generationId"], id);
    // Charged once, after the restart: the hold taken by the first server was captured.
    let status: Value = second
        .get(&format!("/api/v1/generate/{id}/status"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["creditsUsed"], 10);
    let account = second.account("replicate-user").await;
    assert_eq!(
        (
            account.credits.balance.get(),
            account.held.get(),
            account.credits.total_spent.get()
        ),
        (0, 0, 10)
    );
    drop(second);
    drop(shared);
}
