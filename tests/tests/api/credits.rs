//! Money on the embedded local ledger, through the real server in staging (credits enforced):
//! the free tier running out, 402s, grants, paid generations, races, retries, history.

use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

on_both_databases!(
    with super::staging;
    the_free_tier_runs_out_then_402_then_a_grant_pays_and_the_balance_goes_down_by_ten,
    twenty_racing_requests_spend_exactly_three_free_slots_and_twenty_five_credits,
    a_retried_idempotency_key_charges_once,
    admin_grants_need_the_service_key_and_are_idempotent,
    history_pages_the_callers_generations_only,
);

fn staging(raw: &mut RawSettings) {
    raw.set("APP_ENV", "staging");
}

async fn generate(app: &TestApp, token: &str, model: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        "/api/v1/generate",
        Some(token),
        &json!({"prompt": "a paid cat", "modelId": model, "waitForResult": true}),
    )
    .await
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn balance(app: &TestApp, token: &str) -> Value {
    json_of(app.get("/api/v1/credits/balance", Some(token)).await).await
}

async fn the_free_tier_runs_out_then_402_then_a_grant_pays_and_the_balance_goes_down_by_ten(
    app: TestApp,
) {
    let token = app.token("walker", None);
    let model = app.default_model_id().await;
    for remaining in [2, 1, 0] {
        let response = generate(&app, &token, &model).await;
        assert_eq!(response.status(), 201);
        let body = json_of(response).await;
        assert_eq!(body["status"], "completed");
        assert_eq!(body["creditsUsed"], 0);
        assert_eq!(body["freeGenerationsRemaining"], remaining);
    }
    assert_eq!(
        balance(&app, &token).await,
        json!({"balance": 0, "freeGenerationsRemaining": 0, "freeGenerationsLimit": 3,
               "creditsPerGeneration": 10, "enforcement": "enforce"})
    );
    let refused = generate(&app, &token, &model).await;
    assert_eq!(refused.status(), 402);
    let refused = json_of(refused).await;
    assert_eq!(refused["code"], "insufficient_credits");
    assert_eq!(
        refused["details"],
        json!({"required": 10, "balance": 0, "freeGenerationsRemaining": 0})
    );

    assert_eq!(app.grant("walker", 25, "welcome").await.status(), 201);
    assert_eq!(balance(&app, &token).await["balance"], 25);
    let paid = generate(&app, &token, &model).await;
    assert_eq!(paid.status(), 201);
    let paid = json_of(paid).await;
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["creditsUsed"], 10);
    assert_eq!(paid["creditBalance"], 15);
    assert_eq!(paid["freeGenerationsRemaining"], 0);
    assert_eq!(balance(&app, &token).await["balance"], 15);
    assert_eq!(
        json_of(app.get("/api/v1/generate/credits", Some(&token)).await).await,
        json!({"balance": 15, "totalEarned": 25, "totalSpent": 10, "creditsPerGeneration": 10})
    );
    let status = json_of(
        app.get(
            &format!(
                "/api/v1/generate/{}/status",
                paid["generationId"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await,
    )
    .await;
    assert_eq!(status["creditsUsed"], 10);
    let account = app.account("walker").await;
    assert_eq!(account.held.get(), 0);

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for counter in [
        r#"picture_credit_operations_total{op="capture",ledger="local"}"#,
        r#"picture_credit_operations_total{op="reserve",ledger="local"}"#,
        r#"picture_credit_operations_total{op="grant",ledger="local"}"#,
        "picture_insufficient_credits_total",
    ] {
        assert!(
            metrics.contains(counter),
            "{counter} missing from\n{metrics}"
        );
    }
}

async fn twenty_racing_requests_spend_exactly_three_free_slots_and_twenty_five_credits(
    app: TestApp,
) {
    let token = app.token("racer", None);
    let model = app.default_model_id().await;
    assert_eq!(app.grant("racer", 25, "race").await.status(), 201);
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = app
            .client
            .post(format!("{}/api/v1/generate", app.address))
            .bearer_auth(&token)
            .json(&json!({"prompt": "a racing cat", "modelId": model, "waitForResult": true}));
        racing.spawn(async move { request.send().await.unwrap() });
    }
    let responses = racing.join_all().await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![201; 5], vec![402; 15]].concat());
    let mut used = Vec::new();
    for response in responses {
        if response.status() == 201 {
            used.push(json_of(response).await["creditsUsed"].as_i64().unwrap());
        }
    }
    used.sort_unstable();
    assert_eq!(used, [0, 0, 0, 10, 10]);
    assert_eq!(balance(&app, &token).await["balance"], 5);
    let account = app.account("racer").await;
    assert_eq!(
        (account.held.get(), account.credits.total_spent.get()),
        (0, 20)
    );
}

async fn a_retried_idempotency_key_charges_once(app: TestApp) {
    let token = app.token("retrier", None);
    let model = app.default_model_id().await;
    for _ in 0..3 {
        assert_eq!(generate(&app, &token, &model).await.status(), 201);
    }
    assert_eq!(app.grant("retrier", 20, "g").await.status(), 201);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let response = app
            .client
            .post(format!("{}/api/v1/generate", app.address))
            .bearer_auth(&token)
            .header("Idempotency-Key", "paid-once")
            .json(&json!({"prompt": "a paid cat", "modelId": model, "waitForResult": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body = json_of(response).await;
        assert_eq!(body["creditsUsed"], 10);
        ids.push(body["generationId"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(balance(&app, &token).await["balance"], 10);
    let history = json_of(app.get("/api/v1/generate/history", Some(&token)).await).await;
    assert_eq!(history["total"], 4);
}

async fn admin_grants_need_the_service_key_and_are_idempotent(app: TestApp) {
    let url = format!("{}/api/v1/admin/credits/grant", app.address);
    let body =
        json!({"userId": "granted", "amount": 50, "reason": "welcome", "idempotencyKey": "k1"});
    let missing = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(json_of(missing).await["message"], "Missing service key");
    let wrong = app
        .client
        .post(&url)
        .header("X-Service-Key", "not-the-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(json_of(wrong).await["message"], "Invalid service key");
    let bad = app
        .client
        .post(&url)
        .header("X-Service-Key", picture_tests::TEST_ADMIN_KEY)
        .json(&json!({"userId": "", "amount": -5, "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = json_of(bad).await;
    assert_eq!(bad["code"], "validation_failed");
    assert_eq!(bad["message"].as_array().unwrap().len(), 3, "{bad}");

    let first = app.grant("granted", 50, "k1").await;
    assert_eq!(first.status(), 201);
    assert_eq!(json_of(first).await["balance"], 50);
    let again = app.grant("granted", 50, "k1").await;
    assert_eq!(again.status(), 200);
    let again = json_of(again).await;
    assert_eq!(
        (again["applied"].clone(), again["balance"].clone()),
        (json!(false), json!(50))
    );
    let token = app.token("granted", None);
    assert_eq!(balance(&app, &token).await["balance"], 50);
}

async fn history_pages_the_callers_generations_only(app: TestApp) {
    let token = app.token("historian", None);
    let model = app.default_model_id().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let body = json_of(generate(&app, &token, &model).await).await;
        ids.push(body["generationId"].as_str().unwrap().to_owned());
    }
    let other = app.token("someone-else", None);
    assert_eq!(generate(&app, &other, &model).await.status(), 201);
    let page = json_of(
        app.get("/api/v1/generate/history?page=1&limit=2", Some(&token))
            .await,
    )
    .await;
    assert_eq!(
        (page["total"].clone(), page["totalPages"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(
        (page["page"].clone(), page["limit"].clone()),
        (json!(1), json!(2))
    );
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], ids[2]);
    assert_eq!(data[1]["id"], ids[1]);
    for item in data {
        assert_eq!(item["status"], "completed");
        assert_eq!(item["creditsUsed"], 0);
        assert_eq!(item["image"]["generationId"], item["id"]);
        assert_eq!(item["userId"], "historian");
    }
    let last = json_of(
        app.get("/api/v1/generate/history?page=2&limit=2", Some(&token))
            .await,
    )
    .await;
    assert_eq!(last["data"][0]["id"], ids[0]);
    let lenient = json_of(
        app.get("/api/v1/generate/history?page=abc&limit=500", Some(&token))
            .await,
    )
    .await;
    assert_eq!(
        (lenient["page"].clone(), lenient["limit"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(
        app.get("/api/v1/generate/history", None).await.status(),
        401
    );
}

#[tokio::test]
async fn admin_routes_are_hidden_without_a_key() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.unset("ADMIN_SERVICE_KEY");
    })
    .await
    .unwrap();
    assert_eq!(app.grant("anyone", 5, "k").await.status(), 404);
}

#[tokio::test]
async fn development_counts_free_generations_but_never_charges() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let token = app.token("dev", None);
    let model = app.default_model_id().await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let body = json_of(generate(&app, &token, &model).await).await;
        seen.push((
            body["freeGenerationsRemaining"].as_u64().unwrap(),
            body["creditsUsed"].as_i64().unwrap(),
        ));
    }
    assert_eq!(seen, [(2, 0), (1, 0), (0, 0), (0, 0), (0, 0)]);
    assert_eq!(balance(&app, &token).await["enforcement"], "off");
}
