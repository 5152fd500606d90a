//! The user stream `GET /generate/events`: `ready`, the credits, then the caller's generations,
//! batch items and credit changes as they commit — and nothing of anyone else's.

use std::collections::{BTreeMap, BTreeSet};

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::sse::{Event, Sse, open};
use super::{assert_completed, assert_credits, assert_generation};

on_both_databases!(
    the_user_stream_follows_the_callers_generations_and_credits_only,
    a_batch_shows_its_items_events_with_the_batch_id,
);

/// Opens `token`'s user stream and reads its first events: `ready` (its `id:` is where the
/// stream starts) and the credits now.
async fn open_user_stream(app: &TestApp, token: &str) -> (Sse, Value) {
    let mut stream = open(&app.address, "/api/v1/generate/events", Some(token), &[]).await;
    let ready = stream.event().await;
    assert_eq!(ready.name, "ready", "{ready:?}");
    let id = ready.id.unwrap();
    assert!(id >= 0);
    assert_eq!(ready.data, json!({"lastEventId": id}));
    let credits = stream.event().await;
    assert_credits(&credits);
    (stream, credits.data)
}

/// Events until `done` says the ones read are enough.
async fn events_until(stream: &mut Sse, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let mut events = Vec::new();
    while !done(&events) {
        events.push(stream.event().await);
    }
    events
}

fn is_completed(event: &Event, id: &str) -> bool {
    event.name == "generation"
        && event.data["generationId"] == id
        && event.data["status"] == "completed"
}

async fn the_user_stream_follows_the_callers_generations_and_credits_only(app: TestApp) {
    let token = app.token("queue-user", None);
    let other = app.token("someone-else", None);
    let model = app.default_model_id().await;
    let (mut stream, before) = open_user_stream(&app, &token).await;
    let free_before = before["freeGenerationsRemaining"].as_i64().unwrap();
    assert!(free_before > 0);

    // Someone else's generation commits first, then ours: theirs would come first.
    let theirs: Value = app
        .generate(&other, &model, true)
        .await
        .json()
        .await
        .unwrap();
    let theirs = theirs["generationId"].as_str().unwrap().to_owned();
    let ours: Value = app
        .generate(&token, &model, true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ours["status"], "completed", "{ours}");
    let ours = ours["generationId"].as_str().unwrap().to_owned();
    let events = events_until(&mut stream, |events| {
        events.iter().any(|e| is_completed(e, &ours))
            && events.iter().any(|e| {
                e.name == "credits"
                    && e.data["freeGenerationsRemaining"].as_i64() == Some(free_before - 1)
            })
    })
    .await;
    let mut statuses = Vec::new();
    for event in &events {
        match event.name.as_str() {
            "generation" => {
                assert_generation(event, &ours);
                assert!(event.data["batchId"].is_null());
                statuses.push(event.data["status"].as_str().unwrap());
            }
            "credits" => {
                assert_credits(event);
                assert!(
                    event.id.is_some(),
                    "a change's credits event has an id: {event:?}"
                );
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(statuses.last(), Some(&"completed"), "{events:?}");
    assert_completed(
        events.iter().find(|e| is_completed(e, &ours)).unwrap(),
        &ours,
    );

    // An admin grant: a credits event with the new balance (and nothing of the other user).
    let balance = before["balance"].as_i64().unwrap();
    assert_eq!(app.grant("queue-user", 25, "grant-1").await.status(), 201);
    assert_eq!(app.grant("someone-else", 7, "grant-2").await.status(), 201);
    let events = events_until(&mut stream, |events| {
        events
            .iter()
            .any(|e| e.name == "credits" && e.data["balance"].as_i64() == Some(balance + 25))
    })
    .await;
    for event in &events {
        assert_eq!(event.name, "credits", "only our credits: {event:?}");
        assert_credits(event);
    }
    let all = serde_json::to_string(&events.iter().map(|e| &e.data).collect::<Vec<_>>()).unwrap();
    assert!(
        !all.contains(&theirs),
        "another user's generation leaked: {all}"
    );
    assert!(!all.contains("someone-else"), "{all}");
}

async fn a_batch_shows_its_items_events_with_the_batch_id(app: TestApp) {
    let token = app.token("batch-user", None);
    let model = app.default_model_id().await;
    let (mut stream, _) = open_user_stream(&app, &token).await;
    let body = json!({
        "prompts": [{"text": "a lighthouse"}, {"text": "a fox"}, {"text": "a teapot"}],
        "sharedSettings": {"modelId": model, "modelVersion": "", "width": 512, "height": 512,
                           "steps": 4, "guidanceScale": 7.5},
        "batchName": "live",
    });
    let response = app
        .send_json(Method::POST, "/api/v1/batch", Some(&token), &body)
        .await;
    assert_eq!(response.status(), 201);
    let batch: Value = response.json().await.unwrap();
    let batch_id = batch["id"].as_str().unwrap().to_owned();
    let items: BTreeSet<String> = batch["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(items.len(), 3);
    let mut last_status: BTreeMap<String, String> = BTreeMap::new();
    while last_status.len() < 3 || last_status.values().any(|s| s != "completed") {
        let event = stream.event().await;
        if event.name == "credits" {
            assert_credits(&event);
            continue;
        }
        let id = event.data["generationId"].as_str().unwrap().to_owned();
        assert_generation(&event, &id);
        assert_eq!(event.data["batchId"], batch_id.as_str(), "{event:?}");
        assert!(items.contains(&id), "{id} is one of the batch's items");
        if event.data["status"] == "completed" {
            assert_completed(&event, &id);
            assert_eq!(event.data["result"]["id"], id.as_str());
        }
        last_status.insert(id, event.data["status"].as_str().unwrap().to_owned());
    }
}
