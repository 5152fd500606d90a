//! Batches on a wiremock Replicate with signed webhooks: each item submitted once and charged
//! once however often its webhook arrives; cancel mid-way (queued items released at once,
//! running ones cancelled at the provider); retry of failed items, bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{create, detail, gallery, id_of, json_of, mobile_body, progress, wait_until};
use crate::fake_replicate::{output_response, prediction, signed_webhook, use_fake_replicate};

picture_tests::for_both_databases!(
    webhooks_complete_three_free_and_two_paid_items_each_charged_once,
    cancel_releases_queued_items_at_once_and_cancels_running_ones_at_the_provider,
    retry_runs_failed_items_again_at_most_three_times,
);

/// What the fake provider does with a prediction: its prompt and how many predictions of that
/// prompt came before it decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// `succeeded` with an output when read.
    Succeeds,
    /// `failed` when read.
    Fails,
    /// `processing` for ever (only a webhook ends it).
    Hangs,
}

/// A prediction the fake created.
#[derive(Debug, Clone)]
struct Created {
    id: String,
    prompt: String,
    /// The query of the webhook URL the server gave (`?generation=…`).
    query: String,
}

type Rule = dyn Fn(&str, usize) -> Outcome + Send + Sync;

/// The fake's predictions, shared by its responders.
#[derive(Clone)]
struct Predictions {
    created: Arc<Mutex<Vec<Created>>>,
    rule: Arc<Rule>,
    output: String,
}

impl Predictions {
    fn all(&self) -> Vec<Created> {
        self.created.lock().unwrap().clone()
    }

    fn outcome(&self, id: &str) -> Option<Outcome> {
        let created = self.created.lock().unwrap();
        let position = created.iter().position(|c| c.id == id)?;
        let prompt = &created[position].prompt;
        let attempt = created[..position]
            .iter()
            .filter(|c| &c.prompt == prompt)
            .count();
        Some((self.rule)(prompt, attempt))
    }
}

/// `POST /v1/predictions`: a new `starting` prediction, recorded.
struct Create(Predictions);

impl Respond for Create {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let webhook = body["webhook"].as_str().unwrap_or_default();
        let query = webhook
            .find('?')
            .map_or_else(String::new, |at| webhook[at..].to_owned());
        let mut created = self.0.created.lock().unwrap();
        let id = format!("p-{}", created.len());
        created.push(Created {
            id: id.clone(),
            prompt: body["input"]["prompt"].as_str().unwrap().to_owned(),
            query,
        });
        ResponseTemplate::new(201).set_body_json(prediction(&id, "starting", Value::Null))
    }
}

/// `GET /v1/predictions/{id}`: the prediction as its [`Outcome`] says.
struct Read(Predictions);

impl Respond for Read {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().rsplit('/').next().unwrap_or_default();
        let body = match self.0.outcome(id) {
            None => {
                return ResponseTemplate::new(404).set_body_json(json!({"detail": "Not found"}));
            }
            Some(Outcome::Succeeds) => prediction(id, "succeeded", json!([self.0.output])),
            Some(Outcome::Fails) => failed(id),
            Some(Outcome::Hangs) => prediction(id, "processing", Value::Null),
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// `POST /v1/predictions/{id}/cancel`.
struct Cancel;

impl Respond for Cancel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let id = path
            .trim_end_matches("/cancel")
            .rsplit('/')
            .next()
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(prediction(id, "canceled", Value::Null))
    }
}

fn failed(id: &str) -> Value {
    let mut failed = prediction(id, "failed", Value::Null);
    failed["error"] = json!("CUDA out of memory");
    failed
}

struct Fake {
    app: TestApp,
    replicate: MockServer,
    predictions: Predictions,
    token: String,
    model: String,
}

/// A server on `db` talking to a fresh fake Replicate whose predictions end as `rule` says;
/// `None` when PostgreSQL is absent on a developer's machine.
async fn setup(
    db: Db,
    rule: impl Fn(&str, usize) -> Outcome + Send + Sync + 'static,
    configure: impl FnOnce(&mut RawSettings),
) -> Option<Fake> {
    let replicate = MockServer::start().await;
    let base = replicate.uri();
    let predictions = Predictions {
        created: Arc::default(),
        rule: Arc::new(rule),
        output: format!("{base}/delivery/out-0.png"),
    };
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(Create(predictions.clone()))
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/predictions/[^/]+$"))
        .respond_with(Read(predictions.clone()))
        .mount(&replicate)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1/predictions/[^/]+/cancel$"))
        .respond_with(Cancel)
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/delivery/out-0.png"))
        .respond_with(output_response())
        .mount(&replicate)
        .await;
    let app = TestApp::spawn_with(db, |raw| {
        use_fake_replicate(raw, &base);
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
        raw.set("PROVIDER_POLL_MIN_INTERVAL_MS", "0");
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
        configure(raw);
    })
    .await?;
    let token = app.token("batch-user", None);
    let model = app.default_model_id().await;
    Some(Fake {
        app,
        replicate,
        predictions,
        token,
        model,
    })
}

impl Fake {
    /// How many requests the fake received of `verb` on paths `matching`.
    async fn requests(&self, verb: &str, matching: impl Fn(&str) -> bool) -> usize {
        self.replicate
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == verb && matching(r.url.path()))
            .count()
    }

    /// How many predictions were created (`POST /v1/predictions`).
    async fn creates(&self) -> usize {
        self.requests("POST", |p| p == "/v1/predictions").await
    }

    /// Delivers `body` as Replicate would to the webhook URL of `created`, signed: its status.
    async fn deliver(&self, created: &Created, body: &Value) -> u16 {
        signed_webhook(&self.app, &created.query, body).await
    }

    /// `(balance, held, spent, free generations used)` of the user.
    async fn money(&self) -> (i64, i64, i64, u32) {
        let account = self.app.account("batch-user").await;
        (
            account.credits.balance.get(),
            account.held.get(),
            account.credits.total_spent.get(),
            account.free_generations_used,
        )
    }

    async fn create(&self, prompts: &[&str]) -> String {
        let batch = create(
            &self.app,
            &self.token,
            "/api",
            &mobile_body(&self.model, prompts, "on replicate"),
        )
        .await;
        id_of(&batch)
    }

    async fn retry(&self, id: &str) -> Value {
        let response = self
            .app
            .send(
                Method::POST,
                &format!("/api/batch/{id}/retry"),
                Some(&self.token),
            )
            .await;
        json_of(response, 201).await
    }
}

fn enforced(raw: &mut RawSettings) {
    raw.set("CREDITS_ENFORCEMENT", "enforce");
}

async fn webhooks_complete_three_free_and_two_paid_items_each_charged_once(db: Db) {
    let Some(fake) = setup(db, |_, _| Outcome::Hangs, enforced).await else {
        return;
    };
    assert_eq!(fake.app.grant("batch-user", 20, "g-1").await.status(), 201);
    let id = fake.create(&["w0", "w1", "w2", "w3", "w4"]).await;
    assert_eq!(fake.money().await, (0, 20, 0, 3), "3 free, 2 paid held");
    let output = fake.predictions.output.clone();
    let mut delivered = 0;
    let deadline = tokio::time::Instant::now() + super::BATCH_DEADLINE;
    loop {
        let created = fake.predictions.all();
        for new in &created[delivered..] {
            let done = prediction(&new.id, "succeeded", json!([output]));
            assert_eq!(fake.deliver(new, &done).await, 200);
            if delivered == 0 {
                // Replicate may deliver the same event twice.
                assert_eq!(fake.deliver(new, &done).await, 200);
            }
            delivered += 1;
        }
        let now = progress(&fake.app, &fake.token, &id).await;
        if now["status"] == "completed" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The first one's webhook once more, after everything ended.
    let first = &fake.predictions.all()[0];
    let again = prediction(&first.id, "succeeded", json!([output]));
    assert_eq!(fake.deliver(first, &again).await, 200);

    let batch = detail(&fake.app, &fake.token, &id).await;
    for item in batch["items"].as_array().unwrap() {
        assert_eq!(item["status"], "completed", "{item}");
        let status = fake
            .app
            .status(&fake.token, item["id"].as_str().unwrap())
            .await;
        assert!(
            [0, 10].contains(&status["creditsUsed"].as_i64().unwrap()),
            "{status}"
        );
    }
    let images = gallery(&fake.app, &fake.token).await;
    assert_eq!(images.len(), 5, "each item completed once");
    assert_eq!(fake.creates().await, 5, "each item submitted once");
    assert_eq!(delivered, 5);
    assert_eq!(
        fake.money().await,
        (0, 0, 20, 3),
        "charged exactly once each"
    );
    let history = json_of(
        fake.app
            .get("/api/v1/generate/history", Some(&fake.token))
            .await,
        200,
    )
    .await;
    assert_eq!(history["total"], 5, "{history}");
}

async fn cancel_releases_queued_items_at_once_and_cancels_running_ones_at_the_provider(db: Db) {
    let Some(fake) = setup(
        db,
        |_, _| Outcome::Hangs,
        |raw| {
            raw.set("CREDITS_ENFORCEMENT", "enforce");
            raw.set("BATCH_CONCURRENCY_PER_USER", "2");
        },
    )
    .await
    else {
        return;
    };
    assert_eq!(fake.app.grant("batch-user", 30, "g-1").await.status(), 201);
    let id = fake.create(&["c0", "c1", "c2", "c3", "c4", "c5"]).await;
    assert_eq!(fake.money().await, (0, 30, 0, 3));
    let running = wait_until(&fake.app, &fake.token, &id, "two running", |p| {
        p["processingCount"] == 2
    })
    .await;
    assert_eq!(running["pendingCount"], 4, "{running}");
    assert_eq!(running["status"], "processing");
    // No third one starts while two run.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.creates().await, 2);

    let cancelled = fake
        .app
        .send(
            Method::POST,
            &format!("/api/batch/{id}/cancel"),
            Some(&fake.token),
        )
        .await;
    assert_eq!(cancelled.status(), 204);
    let after = progress(&fake.app, &fake.token, &id).await;
    assert_eq!(
        after,
        json!({"totalCount": 6, "completedCount": 0, "failedCount": 0, "processingCount": 0,
               "pendingCount": 0, "cancelledCount": 6, "status": "failed"})
    );
    let batch = detail(&fake.app, &fake.token, &id).await;
    for item in batch["items"].as_array().unwrap() {
        assert_eq!(item["status"], "cancelled", "{item}");
        assert_eq!(item["imageUrl"], Value::Null);
    }
    assert_eq!(
        fake.money().await,
        (30, 0, 0, 0),
        "every hold and free slot given back"
    );
    for created in fake.predictions.all() {
        let cancel = format!("/v1/predictions/{}/cancel", created.id);
        assert_eq!(
            fake.requests("POST", |p| p == cancel).await,
            1,
            "{} cancelled at the provider",
            created.id
        );
    }
    // Nothing starts afterwards.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(fake.creates().await, 2);
    assert_eq!(progress(&fake.app, &fake.token, &id).await, after);
    // A late success cannot revive a cancelled item.
    let first = &fake.predictions.all()[0];
    let late = prediction(
        &first.id,
        "succeeded",
        json!([fake.predictions.output.clone()]),
    );
    assert_eq!(fake.deliver(first, &late).await, 200);
    assert_eq!(progress(&fake.app, &fake.token, &id).await, after);
    assert!(gallery(&fake.app, &fake.token).await.is_empty());
    assert_eq!(fake.money().await, (30, 0, 0, 0));
}

async fn retry_runs_failed_items_again_at_most_three_times(db: Db) {
    let rule = |prompt: &str, attempt: usize| match prompt {
        "flaky" if attempt == 0 => Outcome::Fails,
        "doomed" => Outcome::Fails,
        _ => Outcome::Succeeds,
    };
    let Some(fake) = setup(db, rule, |_| {}).await else {
        return;
    };
    let id = fake.create(&["steady", "flaky", "calm", "doomed"]).await;
    let settled = |failed: u64| {
        move |p: &Value| {
            p["failedCount"] == failed && p["pendingCount"] == 0 && p["processingCount"] == 0
        }
    };
    let first = wait_until(&fake.app, &fake.token, &id, "two failed", settled(2)).await;
    assert_eq!(first["status"], "partial", "{first}");
    assert_eq!(first["completedCount"], 2);
    let batch = detail(&fake.app, &fake.token, &id).await;
    let items = batch["items"].as_array().unwrap();
    for i in [1, 3] {
        assert_eq!(items[i]["status"], "failed", "{}", items[i]);
        assert!(
            items[i]["errorMessage"]
                .as_str()
                .unwrap()
                .contains("CUDA out of memory"),
            "{}",
            items[i]
        );
    }
    let failed_flaky = items[1]["id"].clone();

    assert_eq!(fake.retry(&id).await, json!({"affected": 2}));
    let second = wait_until(&fake.app, &fake.token, &id, "one failed", settled(1)).await;
    assert_eq!(second["completedCount"], 3, "{second}");
    assert_eq!(
        second["totalCount"], 4,
        "a retried item replaces the failed one"
    );
    let batch = detail(&fake.app, &fake.token, &id).await;
    let items = batch["items"].as_array().unwrap();
    assert_eq!(items[1]["status"], "completed");
    assert_eq!(items[1]["retryCount"], 1);
    assert_ne!(items[1]["id"], failed_flaky, "a fresh generation");
    assert_eq!(items[1]["prompt"], "flaky");
    assert_eq!(items[3]["status"], "failed");
    assert_eq!(items[3]["retryCount"], 1);

    for retry_count in [2, 3] {
        assert_eq!(fake.retry(&id).await, json!({"affected": 1}));
        // The failed item was replaced at once by a queued one.
        let now = wait_until(&fake.app, &fake.token, &id, "settled again", settled(1)).await;
        assert_eq!(now["status"], "partial", "{now}");
        let batch = detail(&fake.app, &fake.token, &id).await;
        assert_eq!(batch["items"][3]["retryCount"], retry_count);
        assert_eq!(batch["items"][3]["status"], "failed");
    }
    // Retried three times: left failed.
    assert_eq!(fake.retry(&id).await, json!({"affected": 0}));
    assert_eq!(fake.retry(&id).await, json!({"affected": 0}));
    let last = progress(&fake.app, &fake.token, &id).await;
    assert_eq!(
        (
            &last["completedCount"],
            &last["failedCount"],
            &last["status"]
        ),
        (&json!(3), &json!(1), &json!("partial"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 4 first attempts, 2 on the first retry, 1 on each of the two others.
    assert_eq!(fake.creates().await, 8);
    assert_eq!(gallery(&fake.app, &fake.token).await.len(), 3);
}
