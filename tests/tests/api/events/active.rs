//! `GET /generate/active` as the queue's first paint: the unfinished generations with the
//! `/status` shape and the event number to open the user stream with, which then brings every
//! later change of them.

use picture_tests::{Db, TestApp};
use serde_json::Value;

use super::fake::setup;
use super::sse::open;
use super::{assert_completed, assert_generation};

picture_tests::for_both_databases!(the_active_list_and_its_last_event_id_lead_into_the_user_stream,);

async fn active(app: &TestApp, prefix: &str, token: &str) -> Value {
    let response = app
        .get(&format!("{prefix}/generate/active"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["lastEventId"].is_i64(), "{body}");
    assert!(body["data"].is_array(), "{body}");
    body
}

async fn the_active_list_and_its_last_event_id_lead_into_the_user_stream(db: Db) {
    let Some(fake) = setup(db, |_| {}).await else {
        return;
    };
    fake.mount_prediction("p-active").await;
    let empty = active(&fake.app, "/api/v1", &fake.token).await;
    assert_eq!(empty["data"], Value::Array(Vec::new()));
    let id = fake.start_generation().await;
    let listed = active(&fake.app, "/api/v1", &fake.token).await;
    let data = listed["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{listed}");
    let item = &data[0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["status"], "processing");
    assert_eq!(item["replicatePredictionId"], "p-active");
    assert!(
        item["creditsUsed"].is_i64() && item["prompt"].is_string(),
        "{item}"
    );
    assert!(item.get("image").is_none(), "{item}");
    let last = listed["lastEventId"].as_i64().unwrap();
    assert!(
        last > empty["lastEventId"].as_i64().unwrap(),
        "{listed} after {empty}"
    );
    let mobile = active(&fake.app, "/api", &fake.token).await;
    assert_eq!(mobile["data"][0]["id"], id.as_str());
    assert_eq!(
        fake.app.get("/api/v1/generate/active", None).await.status(),
        401
    );

    let mut stream = open(
        &fake.app.address,
        &format!("/api/v1/generate/events?lastEventId={last}"),
        Some(&fake.token),
        &[],
    )
    .await;
    fake.half_way("p-active").await;
    fake.succeed("p-active").await;
    let progress = stream.generation_event().await;
    assert_generation(&progress, &id);
    assert!(progress.id.unwrap() > last);
    assert_eq!(progress.data["status"], "processing");
    assert_eq!(progress.data["progress"], 0.5);
    let done = stream.generation_event().await;
    assert_completed(&done, &id);
    let after = active(&fake.app, "/api/v1", &fake.token).await;
    assert_eq!(after["data"], Value::Array(Vec::new()), "{after}");
    assert!(after["lastEventId"].as_i64().unwrap() >= done.id.unwrap());
}
