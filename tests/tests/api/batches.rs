//! Batches (issue 19): every call of the mobile client (`services/api/batch.ts`, `/api`) as it
//! sends it, with every field it and the progress tracker read, on the offline renderer; the
//! money (`money`), the Replicate fake with webhooks, cancel and retry (`replicate`), another
//! user's batches and bad input (`input`) and the rate limits (`limits`).

use std::time::Duration;

use picture_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

mod input;
mod limits;
mod money;
mod replicate;
mod routes;

/// How long a batch may take to end.
const BATCH_DEADLINE: Duration = Duration::from_secs(60);

/// The mobile client's body (`CreateBatchDto`) for `prompts` on `model`: a seed and tags on
/// every other prompt, `modelVersion` `""` (what `selectedModel?.version || ''` sends), a float
/// guidance scale.
pub(super) fn mobile_body(model: &str, prompts: &[&str], name: &str) -> Value {
    let prompts: Vec<Value> = prompts
        .iter()
        .zip(0_u32..)
        .map(|(text, i)| {
            if i % 2 == 0 {
                json!({"text": text})
            } else {
                json!({"text": text, "negativePrompt": "blurry", "seed": 1000 + i,
                       "tags": ["batch", "mobile"]})
            }
        })
        .collect();
    json!({
        "prompts": prompts,
        "sharedSettings": {"modelId": model, "modelVersion": "", "width": 512, "height": 512,
                           "steps": 4, "guidanceScale": 7.5},
        "batchName": name,
    })
}

/// The response's JSON after checking its status.
pub(super) async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{body}");
    body
}

/// `POST {prefix}/batch` with `body`: the created batch (201).
pub(super) async fn create(app: &TestApp, token: &str, prefix: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, &format!("{prefix}/batch"), Some(token), body)
        .await;
    json_of(response, 201).await
}

/// The id of a batch answer.
pub(super) fn id_of(batch: &Value) -> String {
    batch["id"].as_str().unwrap().to_owned()
}

/// `GET /api/v1/batch/{id}/progress`, its shape checked.
pub(super) async fn progress(app: &TestApp, token: &str, id: &str) -> Value {
    let body = json_of(
        app.get(&format!("/api/v1/batch/{id}/progress"), Some(token))
            .await,
        200,
    )
    .await;
    assert_progress_shape(&body);
    body
}

/// `GET /api/v1/batch/{id}`.
pub(super) async fn detail(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(
        app.get(&format!("/api/v1/batch/{id}"), Some(token)).await,
        200,
    )
    .await
}

/// Polls the progress of batch `id` until `done` holds of it (at most [`BATCH_DEADLINE`]).
pub(super) async fn wait_until(
    app: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + BATCH_DEADLINE;
    loop {
        let now = progress(app, token, id).await;
        if done(&now) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch {id}: not {what} in time: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until every item of batch `id` has ended: its final progress.
pub(super) async fn wait_until_final(app: &TestApp, token: &str, id: &str) -> Value {
    wait_until(app, token, id, "final", |p| {
        ["completed", "partial", "failed"].contains(&p["status"].as_str().unwrap())
    })
    .await
}

/// The caller's gallery (`GET /api/v1/images`, up to 100).
pub(super) async fn gallery(app: &TestApp, token: &str) -> Vec<Value> {
    let body = json_of(app.get("/api/v1/images?limit=100", Some(token)).await, 200).await;
    body.as_array().unwrap().clone()
}

/// Every field of the progress tracker's `BatchProgress`, of the right type, adding up.
pub(super) fn assert_progress_shape(progress: &Value) {
    let count = |name: &str| {
        progress[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} is a count: {progress}"))
    };
    let parts = count("completedCount")
        + count("failedCount")
        + count("processingCount")
        + count("pendingCount")
        + count("cancelledCount");
    assert_eq!(count("totalCount"), parts, "{progress}");
    let status = progress["status"].as_str().unwrap();
    assert!(
        ["pending", "processing", "completed", "partial", "failed"].contains(&status),
        "{progress}"
    );
}

/// Every field of the mobile client's `BatchGeneration` (and of its `BatchItem`s when
/// `items` is there), of the type it declares.
pub(super) fn assert_batch_shape(batch: &Value) {
    for name in ["id", "userId", "createdAt"] {
        assert!(batch[name].is_string(), "{name}: {batch}");
    }
    assert!(
        chrono::DateTime::parse_from_rfc3339(batch["createdAt"].as_str().unwrap()).is_ok(),
        "{batch}"
    );
    assert_progress_shape(batch);
    for name in ["name", "modelId", "modelVersion", "completedAt"] {
        assert!(
            batch[name].is_string() || batch[name].is_null(),
            "{name}: {batch}"
        );
    }
    for name in ["width", "height", "steps"] {
        assert!(
            batch[name].is_u64() || batch[name].is_null(),
            "{name}: {batch}"
        );
    }
    assert!(
        batch["guidanceScale"].is_number() || batch["guidanceScale"].is_null(),
        "{batch}"
    );
    let Some(items) = batch.get("items") else {
        return;
    };
    let items = items.as_array().unwrap();
    assert_eq!(items.len() as u64, batch["totalCount"].as_u64().unwrap());
    for (index, item) in items.iter().enumerate() {
        assert!(item["id"].is_string(), "{item}");
        assert_eq!(item["index"], index, "items in index order: {item}");
        assert!(item["prompt"].is_string(), "{item}");
        let status = item["status"].as_str().unwrap();
        assert!(
            [
                "queued",
                "pending",
                "processing",
                "completed",
                "failed",
                "cancelled"
            ]
            .contains(&status),
            "{item}"
        );
        assert!(item["retryCount"].is_u64(), "{item}");
        for name in ["errorMessage", "imageUrl"] {
            assert!(
                item[name].is_string() || item[name].is_null(),
                "{name}: {item}"
            );
        }
        assert_eq!(
            item["imageUrl"].is_string(),
            status == "completed",
            "an image URL exactly when completed: {item}"
        );
    }
}
