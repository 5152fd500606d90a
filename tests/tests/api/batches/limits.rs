//! The per-user generation rate limit counts batch items like generations: a batch larger than
//! the limit is accepted, and its items beyond the limit wait in the queue instead of failing.

use std::time::Duration;

use picture_server::settings::RawSettings;
use picture_tests::{TestApp, on_both_databases};

use super::{create, detail, id_of, json_of, mobile_body, progress, wait_until};

on_both_databases!(
    with super::three_a_minute;
    items_over_the_rate_limit_wait_in_the_queue_instead_of_failing,
);

fn three_a_minute(raw: &mut RawSettings) {
    raw.set("RATE_LIMIT_GENERATIONS_PER_MINUTE", "3");
}

async fn items_over_the_rate_limit_wait_in_the_queue_instead_of_failing(app: TestApp) {
    let token = app.token("hasty", None);
    let model = app.default_model_id().await;
    let batch = create(
        &app,
        &token,
        "/api",
        &mobile_body(&model, &["a", "b", "c", "d", "e"], "five"),
    )
    .await;
    let id = id_of(&batch);
    wait_until(&app, &token, &id, "three completed", |p| {
        p["completedCount"] == 3
    })
    .await;
    // A while later the other two still wait, neither failed nor started.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let now = progress(&app, &token, &id).await;
    assert_eq!(
        (
            &now["completedCount"],
            &now["pendingCount"],
            &now["failedCount"],
            &now["processingCount"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!(2),
            &serde_json::json!(0),
            &serde_json::json!(0)
        ),
        "{now}"
    );
    assert_eq!(now["status"], "processing");
    let items = detail(&app, &token, &id).await;
    let statuses: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["completed", "completed", "completed", "queued", "queued"]
    );
    // The same limit refuses the user's interactive generation meanwhile.
    let refused = json_of(app.generate(&token, &model, true).await, 429).await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
}
