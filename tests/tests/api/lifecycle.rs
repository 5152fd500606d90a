//! Who wins when a cancel races a finaliser, and how fast a stopped instance's generations are
//! recovered: a wiremock Replicate, signed webhooks, and rows left as a killed instance leaves
//! them.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use picture_domain::ports::{Funds, GenerationLifecycle, Transition};
use picture_domain::{
    CreditAmount, Enforcement, FreemiumPolicy, GenerationId, GenerationParams, NewGeneration,
    PredictionId, UserId,
};
use picture_persistence::{Database, DatabaseUrl, DieselGenerationRepository, PoolOptions};
use picture_server::settings::RawSettings;
use picture_tests::{Db, SharedDatabase, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_replicate::{
    WEBHOOK_SECRET, output_response, post_webhook, prediction, signature_headers, signed_webhook,
    use_fake_replicate,
};

const USER: &str = "lifecycle-user";

picture_tests::for_both_databases!(
    a_cancel_during_the_download_waits_for_the_finaliser_and_leaves_no_orphan_file,
    a_pending_generation_of_a_stopped_instance_is_failed_by_one_pass_and_its_slot_returned,
    a_dead_finalisers_lease_is_taken_over_by_the_reconciler_after_the_lease,
);

/// A server on `db` talking to `replicate`, with a reconciler that runs at start only.
async fn server(
    db: Db,
    replicate: &MockServer,
    configure: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    let base = replicate.uri();
    TestApp::spawn_with(db, |raw| {
        use_fake_replicate(raw, &base);
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        configure(raw);
    })
    .await
}

/// How many files lie under `dir`, however deep.
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|entry| entry.unwrap().path())
        .map(|path| if path.is_dir() { files_under(&path) } else { 1 })
        .sum()
}

async fn gallery(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/images", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn a_cancel_during_the_download_waits_for_the_finaliser_and_leaves_no_orphan_file(db: Db) {
    let replicate = MockServer::start().await;
    let Some(app) = server(db, &replicate, |raw| {
        raw.set("APP_ENV", "staging");
        raw.set("FREE_GENERATIONS", "0");
    })
    .await
    else {
        return;
    };
    let token = app.token(USER, None);
    assert_eq!(app.grant(USER, 10, "g-race").await.status(), 201);
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            "p-race",
            "starting",
            Value::Null,
        )))
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p-race"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            "p-race",
            "processing",
            Value::Null,
        )))
        .mount(&replicate)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions/p-race/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            "p-race",
            "succeeded",
            Value::Null,
        )))
        .mount(&replicate)
        .await;
    // The output download is held open while the cancel arrives.
    Mock::given(method("GET"))
        .and(path("/delivery/out-0.png"))
        .respond_with(output_response().set_delay(Duration::from_millis(1_500)))
        .expect(1)
        .mount(&replicate)
        .await;
    let model = app.default_model_id().await;
    let started: Value = app
        .generate(&token, &model, false)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(started["status"], "processing", "{started}");
    let id = started["generationId"].as_str().unwrap().to_owned();

    let done = prediction(
        "p-race",
        "succeeded",
        json!([format!("{}/delivery/out-0.png", replicate.uri())]),
    );
    let webhook = {
        let (client, address) = (app.client.clone(), app.address.clone());
        let done = done.clone();
        let headers = signature_headers(WEBHOOK_SECRET, &done, Utc::now().timestamp());
        tokio::spawn(async move { post_webhook(&client, &address, "", &done, &headers).await })
    };
    // Wait until the finaliser is downloading, then cancel.
    let mut downloading = false;
    for _ in 0..200 {
        let requests = replicate.received_requests().await.unwrap_or_default();
        if requests
            .iter()
            .any(|r| r.url.path() == "/delivery/out-0.png")
        {
            downloading = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(downloading, "the finaliser started the download");
    let cancel = app
        .send(
            Method::POST,
            &format!("/api/v1/generate/{id}/cancel"),
            Some(&token),
        )
        .await;
    assert_eq!(cancel.status(), 204);
    assert_eq!(webhook.await.unwrap(), 200);

    // The finaliser held the lease: the generation is completed and paid, once.
    let status = app.status(&token, &id).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["creditsUsed"], 10);
    let account = app.account(USER).await;
    assert_eq!(
        (
            account.credits.balance.get(),
            account.held.get(),
            account.credits.total_spent.get()
        ),
        (0, 0, 10)
    );
    // Every stored object has its image row, and no more.
    let images = gallery(&app, &token).await;
    assert_eq!(images.len(), 1);
    assert_eq!(
        files_under(&app.settings.database.data_dir.join("files")),
        images.len()
    );
    // A late duplicate of the webhook changes nothing.
    assert_eq!(signed_webhook(&app, "", &done).await, 200);
    assert_eq!(
        files_under(&app.settings.database.data_dir.join("files")),
        1
    );
    replicate.verify().await;
}

/// A generation of `user` recorded `age` ago and never submitted, as an instance killed
/// between recording and submitting leaves it; its free slot is taken.
async fn left_pending(url: &str, user: &str, age: chrono::Duration) -> GenerationId {
    let repo = generations(url).await;
    let new = new_generation(user, Utc::now() - age);
    let policy = FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce);
    repo.create(&new, &policy, Funds::Local)
        .await
        .unwrap()
        .unwrap();
    new.id
}

async fn generations(url: &str) -> DieselGenerationRepository {
    let url = DatabaseUrl::parse(url).unwrap();
    Database::migrate(&url).await.unwrap();
    let database = Database::connect(&url, PoolOptions::default())
        .await
        .unwrap();
    DieselGenerationRepository::new(database)
}

fn new_generation(user: &str, created_at: chrono::DateTime<Utc>) -> NewGeneration {
    NewGeneration {
        id: GenerationId::new_random(),
        user_id: UserId::parse(user).unwrap(),
        model_id: None,
        model_name: Some("flux-schnell".into()),
        provider: picture_domain::ProviderName::REPLICATE,
        prompt: "left behind".into(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: GenerationParams {
            width: 320,
            height: 240,
            steps: 4,
            guidance_scale: 0.0,
            seed: Some(1),
            generation_strength: None,
        },
        created_at,
    }
}

/// Reads the status of `id` until it is not `from` (bounded: 10 s).
async fn status_after(app: &TestApp, token: &str, id: &str, from: &str) -> Value {
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.status(token, id).await;
        if status["status"] != from {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    status
}

async fn a_pending_generation_of_a_stopped_instance_is_failed_by_one_pass_and_its_slot_returned(
    db: Db,
) {
    let Some(shared) = SharedDatabase::create(db).await else {
        return;
    };
    // Older than the 60 s default pending timeout, far younger than the old 600 s grace.
    let id = left_pending(&shared.url, USER, chrono::Duration::seconds(75)).await;
    let young = left_pending(&shared.url, "someone-else", chrono::Duration::seconds(5)).await;
    let replicate = MockServer::start().await;
    // The reconciler passes once, at start.
    let app = server(Db::Sqlite, &replicate, |raw| shared.apply(raw))
        .await
        .unwrap();
    let token = app.token(USER, None);
    let status = status_after(&app, &token, &id.to_string(), "pending").await;
    assert_eq!(status["status"], "failed", "{status}");
    let account = app.account(USER).await;
    assert_eq!(account.free_generations_used, 0, "the free slot came back");
    // A row younger than the timeout may still be being submitted: left alone.
    let other = app.token("someone-else", None);
    assert_eq!(
        app.status(&other, &young.to_string()).await["status"],
        "pending"
    );
    drop(app);
    drop(shared);
}

async fn a_dead_finalisers_lease_is_taken_over_by_the_reconciler_after_the_lease(db: Db) {
    let Some(shared) = SharedDatabase::create(db).await else {
        return;
    };
    // Submitted 5 s ago (younger than RECONCILER_MIN_AGE_SECS) and claimed 20 s ago by a
    // finaliser that never renewed its 15 s lease: its instance was killed mid-download.
    let repo = generations(&shared.url).await;
    let new = new_generation(USER, Utc::now() - chrono::Duration::seconds(30));
    let policy = FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce);
    repo.create(&new, &policy, Funds::Local)
        .await
        .unwrap()
        .unwrap();
    let processing = Transition::Processing {
        prediction_id: PredictionId::parse("p-dead").unwrap(),
    };
    assert!(
        repo.transition(
            new.id,
            &processing,
            Utc::now() - chrono::Duration::seconds(5)
        )
        .await
        .unwrap()
    );
    assert!(
        repo.claim_finalization(
            new.id,
            Duration::from_secs(15),
            Utc::now() - chrono::Duration::seconds(20),
        )
        .await
        .unwrap()
        .is_some()
    );
    let replicate = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p-dead"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            "p-dead",
            "succeeded",
            json!([format!("{}/delivery/out-0.png", replicate.uri())]),
        )))
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/delivery/out-0.png"))
        .respond_with(output_response())
        .expect(1)
        .mount(&replicate)
        .await;
    let app = server(Db::Sqlite, &replicate, |raw| {
        shared.apply(raw);
        raw.unset("REPLICATE_WEBHOOK_SECRET");
    })
    .await
    .unwrap();
    let token = app.token(USER, None);
    // The gallery does not ask the provider: only the reconciler can complete it.
    let mut images = Vec::new();
    for _ in 0..100 {
        images = gallery(&app, &token).await;
        if !images.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        images.len(),
        1,
        "the reconciler took the dead finaliser's work over"
    );
    assert_eq!(images[0]["generationId"], new.id.to_string());
    assert_eq!(app.account(USER).await.free_generations_used, 1);
    replicate.verify().await;
    drop(app);
    drop(shared);
}
