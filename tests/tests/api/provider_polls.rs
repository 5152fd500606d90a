//! Polls of a processing generation against a wiremock Replicate: however many clients poll,
//! on however many instances, and however often a waiting request looks, the provider is
//! asked about a generation at most once per interval (`PROVIDER_POLL_MIN_INTERVAL_MS`, 2 s
//! by default).

use std::time::{Duration, Instant};

use picture_server::settings::RawSettings;
use picture_tests::{Db, SharedDatabase, TestApp};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The default of `PROVIDER_POLL_MIN_INTERVAL_MS`.
const INTERVAL: Duration = Duration::from_secs(2);

/// Concurrent clients, and polls each of them sends.
const CLIENTS: usize = 5;
const POLLS_PER_CLIENT: usize = 10;

picture_tests::for_both_databases!(
    many_clients_polling_a_processing_generation_ask_the_provider_at_most_once_per_interval,
    polls_spread_over_two_instances_ask_the_provider_at_most_once_per_interval,
    a_waiting_request_asks_the_provider_at_most_once_per_interval,
);

fn prediction(id: &str, status: &str) -> Value {
    json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
           "status": status, "output": null, "error": null, "logs": "", "metrics": {}})
}

/// A fake Replicate whose prediction `p-busy` is created `starting` and stays `processing`.
async fn busy_provider() -> MockServer {
    let replicate = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction("p-busy", "starting")))
        .mount(&replicate)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p-busy"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction("p-busy", "processing")))
        .mount(&replicate)
        .await;
    replicate
}

/// A server talking to `replicate`, on `shared` when given (else on a database of its own),
/// with the poll interval left at its default and the reconciler out of the way.
async fn server(
    db: Db,
    replicate: &MockServer,
    shared: Option<&SharedDatabase>,
    configure: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    let base = replicate.uri();
    let shared = shared.map(|s| (s.url.clone(), s.data_dir.clone()));
    TestApp::spawn_with(db, move |raw| {
        raw.set("REPLICATE_API_TOKEN", "r8_test_token");
        raw.set("REPLICATE_API_BASE_URL", format!("{base}/v1"));
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        raw.set("RECONCILER_MIN_AGE_SECS", "3600");
        if let Some((url, data_dir)) = shared {
            raw.set("DATABASE_URL", url);
            raw.set("DATA_DIR", data_dir);
        }
        configure(raw);
    })
    .await
}

/// How many times the fake was asked about `p-busy`.
async fn provider_reads(replicate: &MockServer) -> usize {
    replicate
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == "/v1/predictions/p-busy")
        .count()
}

/// The most provider reads allowed during `elapsed`: one per started interval.
fn bound(elapsed: Duration) -> usize {
    usize::try_from(elapsed.as_millis() / INTERVAL.as_millis()).unwrap() + 1
}

/// Starts an async generation on `app` for `token`: its id (it is `processing`).
async fn processing_generation(app: &TestApp, token: &str) -> String {
    let model = app.default_model_id().await;
    let response = app.generate(token, &model, false).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "processing", "{body}");
    body["generationId"].as_str().unwrap().to_owned()
}

/// `CLIENTS` clients each poll `id` `POLLS_PER_CLIENT` times at once, client `i` on
/// `apps[i % apps.len()]`; every answer is `processing`. Returns how long it took.
async fn poll_concurrently(apps: &[&TestApp], token: &str, id: &str) -> Duration {
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let app = apps[client % apps.len()];
        let (http, url) = (
            app.client.clone(),
            format!("{}/api/v1/generate/{id}/status", app.address),
        );
        let token = token.to_owned();
        clients.spawn(async move {
            for _ in 0..POLLS_PER_CLIENT {
                let response = http.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["status"], "processing", "{body}");
            }
        });
    }
    clients.join_all().await;
    started.elapsed()
}

async fn many_clients_polling_a_processing_generation_ask_the_provider_at_most_once_per_interval(
    db: Db,
) {
    let replicate = busy_provider().await;
    let Some(app) = server(db, &replicate, None, |_| {}).await else {
        return;
    };
    let token = app.token("poller", None);
    let id = processing_generation(&app, &token).await;
    assert_eq!(
        provider_reads(&replicate).await,
        0,
        "the submit said starting"
    );
    let elapsed = poll_concurrently(&[&app], &token, &id).await;
    let reads = provider_reads(&replicate).await;
    assert!(reads >= 1, "a poll asks the provider");
    assert!(
        reads <= bound(elapsed),
        "{reads} provider reads for {} polls in {elapsed:?}",
        CLIENTS * POLLS_PER_CLIENT
    );
}

async fn polls_spread_over_two_instances_ask_the_provider_at_most_once_per_interval(db: Db) {
    let Some(shared) = SharedDatabase::create(db).await else {
        return;
    };
    let replicate = busy_provider().await;
    let first = server(Db::Sqlite, &replicate, Some(&shared), |_| {})
        .await
        .unwrap();
    let second = server(Db::Sqlite, &replicate, Some(&shared), |_| {})
        .await
        .unwrap();
    let token = first.token("poller", None);
    let id = processing_generation(&first, &token).await;
    let elapsed = poll_concurrently(&[&first, &second], &token, &id).await;
    let reads = provider_reads(&replicate).await;
    assert!(reads >= 1, "a poll asks the provider");
    assert!(
        reads <= bound(elapsed),
        "{reads} provider reads for {} polls on two instances in {elapsed:?}",
        CLIENTS * POLLS_PER_CLIENT
    );
    drop((first, second));
    drop(shared);
}

async fn a_waiting_request_asks_the_provider_at_most_once_per_interval(db: Db) {
    let replicate = busy_provider().await;
    let Some(app) = server(db, &replicate, None, |raw| {
        // Without the throttle, a one-second wait would read the prediction about 20 times.
        raw.set("GENERATION_SYNC_TIMEOUT_SECS", "1");
        raw.set("GENERATION_POLL_INTERVAL_MS", "50");
    })
    .await
    else {
        return;
    };
    let token = app.token("waiter", None);
    let model = app.default_model_id().await;
    let started = Instant::now();
    let response = app.generate(&token, &model, true).await;
    let elapsed = started.elapsed();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "processing", "{body}");
    let reads = provider_reads(&replicate).await;
    assert!(
        reads <= bound(elapsed),
        "{reads} provider reads during a wait of {elapsed:?}"
    );
}
