//! Money on the remote credits service: the server against a wiremock fake of the mana-credits
//! internal API (original-backend.md §6.4), in staging, on both databases.

use std::time::Duration;

use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE_KEY: &str = "svc-key-for-tests";
const USER: &str = "remote-user";

picture_tests::for_both_databases!(
    free_generations_never_ask_the_service_and_a_paid_one_is_charged_exactly_once,
    a_low_remote_balance_is_402_and_nothing_is_charged,
    an_unknown_charge_outcome_is_retried_by_the_reconciler_with_the_same_key,
    a_refused_charge_leaves_the_generation_unpaid,
    a_failed_paid_generation_charges_nothing_and_releases_its_hold,
);

struct Remote {
    app: TestApp,
    credits: MockServer,
    token: String,
    model: String,
}

/// A staging server (1 free generation) charging the fake credits service.
async fn setup(db: Db, configure: impl FnOnce(&mut RawSettings)) -> Option<Remote> {
    let credits = MockServer::start().await;
    let url = credits.uri();
    let app = TestApp::spawn_with(db, |raw| {
        raw.set("APP_ENV", "staging");
        raw.set("FREE_GENERATIONS", "1");
        raw.set("MANA_CREDITS_URL", url);
        raw.set("MANA_CORE_SERVICE_KEY", SERVICE_KEY);
        raw.set("APP_ID", "picture-app");
        raw.set("RECONCILER_INTERVAL_SECS", "3600");
        configure(raw);
    })
    .await?;
    let token = app.token(USER, None);
    let model = app.default_model_id().await;
    Some(Remote {
        app,
        credits,
        token,
        model,
    })
}

impl Remote {
    async fn balance_is(&self, balance: i64) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/internal/credits/balance/{USER}")))
            .and(header("X-Service-Key", SERVICE_KEY))
            .and(header("X-App-Id", "picture-app"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"balance": balance, "totalEarned": 100, "totalSpent": 100 - balance}),
            ))
            .mount(&self.credits)
            .await;
    }

    async fn use_answers(&self, status: u16, times: Option<u64>) {
        let mock = Mock::given(method("POST"))
            .and(path("/api/v1/internal/credits/use"))
            .and(header("X-Service-Key", SERVICE_KEY))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "success": status < 300, "statusCode": status, "message": "fake"
            })));
        let mock = match times {
            Some(n) => mock.up_to_n_times(n),
            None => mock,
        };
        mock.mount(&self.credits).await;
    }

    async fn generate(&self) -> reqwest::Response {
        self.app.generate(&self.token, &self.model, true).await
    }

    async fn status(&self, id: &str) -> Value {
        self.app.status(&self.token, id).await
    }

    /// The bodies of the `use` calls the fake received.
    async fn charges(&self) -> Vec<Value> {
        self.credits
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/api/v1/internal/credits/use")
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn free_generations_never_ask_the_service_and_a_paid_one_is_charged_exactly_once(db: Db) {
    let Some(remote) = setup(db, |_| {}).await else {
        return;
    };
    let free = remote.generate().await;
    assert_eq!(free.status(), 201);
    assert_eq!(json_of(free).await["creditsUsed"], 0);
    assert!(
        remote.credits.received_requests().await.unwrap().is_empty(),
        "a free generation never calls the credits service"
    );
    remote.balance_is(25).await;
    remote.use_answers(201, None).await;
    let paid = remote.generate().await;
    assert_eq!(paid.status(), 201);
    let paid = json_of(paid).await;
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["creditsUsed"], 10);
    assert!(paid.get("creditBalance").is_none(), "{paid}");
    let id = paid["generationId"].as_str().unwrap();
    let charges = remote.charges().await;
    assert_eq!(
        charges,
        vec![json!({
            "userId": USER, "amount": 10, "appId": "picture-app",
            "description": format!("Image generation: {id}"),
            "idempotencyKey": id,
            "metadata": {"operation": "image_generation", "generationId": id}
        })]
    );
    // Nothing more on polls, and the balance is the service's.
    assert_eq!(remote.status(id).await["creditsUsed"], 10);
    assert_eq!(remote.charges().await.len(), 1);
    let balance = json_of(
        remote
            .app
            .get("/api/v1/credits/balance", Some(&remote.token))
            .await,
    )
    .await;
    assert_eq!(balance["balance"], 25);
    assert_eq!(balance["freeGenerationsRemaining"], 0);
    let account = remote.app.account(USER).await;
    assert_eq!((account.held.get(), account.credits.balance.get()), (0, 0));
}

async fn a_low_remote_balance_is_402_and_nothing_is_charged(db: Db) {
    let Some(remote) = setup(db, |raw| {
        raw.set("FREE_GENERATIONS", "0");
    })
    .await
    else {
        return;
    };
    remote.balance_is(5).await;
    let refused = remote.generate().await;
    assert_eq!(refused.status(), 402);
    assert_eq!(
        json_of(refused).await["details"],
        json!({"required": 10, "balance": 5, "freeGenerationsRemaining": 0})
    );
    assert!(remote.charges().await.is_empty());
}

async fn an_unknown_charge_outcome_is_retried_by_the_reconciler_with_the_same_key(db: Db) {
    let Some(remote) = setup(db, |raw| {
        raw.set("FREE_GENERATIONS", "0");
        raw.set("RECONCILER_INTERVAL_SECS", "1");
        // Owed charges older than 1 s only: the request's own attempt is never raced.
        raw.set("RECONCILER_MIN_AGE_SECS", "1");
    })
    .await
    else {
        return;
    };
    remote.balance_is(25).await;
    remote.use_answers(503, Some(1)).await;
    remote.use_answers(201, None).await;
    let paid = json_of(remote.generate().await).await;
    assert_eq!(paid["status"], "completed");
    let id = paid["generationId"].as_str().unwrap();
    let mut used = Value::Null;
    for _ in 0..80 {
        used = remote.status(id).await["creditsUsed"].clone();
        if used == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(used, 10, "the reconciler charged the owed generation");
    let charges = remote.charges().await;
    assert!(charges.len() >= 2, "{charges:?}");
    assert!(charges.iter().all(|c| c["idempotencyKey"] == id));
    let settled = charges.len();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        remote.charges().await.len(),
        settled,
        "nothing more once charged"
    );
}

async fn a_refused_charge_leaves_the_generation_unpaid(db: Db) {
    let Some(remote) = setup(db, |raw| {
        raw.set("FREE_GENERATIONS", "0");
        raw.set("RECONCILER_INTERVAL_SECS", "1");
        // Owed charges older than 1 s only: the request's own attempt is never raced.
        raw.set("RECONCILER_MIN_AGE_SECS", "1");
    })
    .await
    else {
        return;
    };
    remote.balance_is(25).await;
    remote.use_answers(402, None).await;
    let paid = json_of(remote.generate().await).await;
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["creditsUsed"], 0, "a refused charge is never reported");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let id = paid["generationId"].as_str().unwrap();
    assert_eq!(remote.status(id).await["creditsUsed"], 0);
    assert_eq!(remote.charges().await.len(), 1, "a refusal is not retried");
}

async fn a_failed_paid_generation_charges_nothing_and_releases_its_hold(db: Db) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let Some(remote) = setup(db, |raw| {
        raw.set("FREE_GENERATIONS", "0");
        // Storing the image fails: the store is unreachable.
        raw.set("S3_ENDPOINT", format!("http://{closed}"));
        raw.set("S3_ACCESS_KEY", "key");
        raw.set("S3_SECRET_KEY", "secret");
    })
    .await
    else {
        return;
    };
    remote.balance_is(25).await;
    remote.use_answers(201, None).await;
    let failed = json_of(remote.generate().await).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["creditsUsed"], 0);
    assert!(remote.charges().await.is_empty());
    assert_eq!(remote.app.account(USER).await.held.get(), 0);
}

#[tokio::test]
async fn an_unreachable_service_is_503_credits_unavailable_unless_fail_open() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let unreachable = format!("http://{closed}");
    for fail_open in [false, true] {
        let url = unreachable.clone();
        let app = TestApp::spawn_with(Db::Sqlite, |raw| {
            raw.set("APP_ENV", "production");
            raw.set("FREE_GENERATIONS", "1");
            raw.set("MANA_CREDITS_URL", url);
            raw.set("MANA_CORE_SERVICE_KEY", SERVICE_KEY);
            raw.set("CREDITS_FAIL_OPEN", fail_open.to_string());
        })
        .await
        .unwrap();
        let token = app.token(USER, None);
        let model = app.default_model_id().await;
        let body = json!({"prompt": "p", "modelId": model, "waitForResult": true});
        let free = app
            .send_json(Method::POST, "/api/v1/generate", Some(&token), &body)
            .await;
        assert_eq!(
            free.status(),
            201,
            "a free generation needs no credits service"
        );
        let next = app
            .send_json(Method::POST, "/api/v1/generate", Some(&token), &body)
            .await;
        if fail_open {
            assert_eq!(next.status(), 201);
            let next = json_of(next).await;
            assert_eq!(next["status"], "completed");
            assert_eq!(next["creditsUsed"], 0);
        } else {
            assert_eq!(next.status(), 503);
            assert!(next.headers().contains_key("retry-after"));
            let next = json_of(next).await;
            assert_eq!(next["code"], "credits_unavailable");
            assert!(!next.to_string().contains(SERVICE_KEY));
            let balance = app.get("/api/v1/credits/balance", Some(&token)).await;
            assert_eq!(balance.status(), 503);
        }
    }
}

#[tokio::test]
async fn grants_are_refused_while_the_remote_service_keeps_the_money() {
    let credits = MockServer::start().await;
    Mock::given(path_regex(".*"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&credits)
        .await;
    let url = credits.uri();
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("MANA_CREDITS_URL", url);
        raw.set("MANA_CORE_SERVICE_KEY", SERVICE_KEY);
    })
    .await
    .unwrap();
    let response = app.grant(USER, 10, "k").await;
    assert_eq!(response.status(), 409);
    assert_eq!(json_of(response).await["code"], "conflict");
}
