//! Two servers on one PostgreSQL database: a generation started on A and watched on A, its
//! webhooks delivered to B — A's stream gets `processing` with the progress of the logs, then
//! `completed` with the result, and ends; A's user stream gets the credits event of an admin
//! grant made on B.

use std::time::{Duration, Instant};

use picture_test_support::PgTestDb;

use crate::fake_replicate::{FakeReplicate, HALF_WAY_LOGS};
use crate::sse::Event;
use crate::support::{Api, SERIAL, launch};

const USER: &str = "live-two";
/// A generous bound on a webhook applied on B reaching a stream on A.
const BOUND: Duration = Duration::from_secs(5);

/// The delay from the webhook's answer to the event, printed with the one from its sending.
fn report(what: &str, sent: Instant, answered: Instant, arrived: Instant) -> Duration {
    let from_sent = arrived.duration_since(sent);
    let after_answer = arrived.checked_duration_since(answered).map_or_else(
        || format!("-{:?}", answered.duration_since(arrived)),
        |d| format!("{d:?}"),
    );
    eprintln!(
        "{what}: event on A {after_answer} after B answered 200 ({from_sent:?} after sending)"
    );
    from_sent
}

fn generation(event: &Event, status: &str) -> bool {
    event.name == "generation" && event.data["status"] == status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_a_sees_webhooks_and_grants_applied_on_b() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeReplicate::start().await;
    let launch = launch(Some(pg.url()), dir.path(), &fake);
    let token = launch.token(USER);
    let a = launch.start("a").await;
    let b = launch.start("b").await;
    let (on_a, on_b) = (Api::on(&a), Api::on(&b));
    let model = on_a.replicate_model().await;

    let mut user = on_a.stream(&token, "/generate/events").await;
    let (_, ready) = user.event(BOUND).await;
    assert_eq!(ready.name, "ready", "{ready:?}");
    let id = on_a.generate(&token, &model, "watched from A").await;
    let created = fake.created(1, BOUND).await;
    let mut watch = on_a.stream(&token, &format!("/generate/{id}/events")).await;
    let (_, first) = watch.event(BOUND).await;
    assert_eq!(first.name, "generation", "{first:?}");
    assert_eq!(first.data["generationId"], id.as_str(), "{first:?}");
    assert!(
        ["pending", "processing"].contains(&first.data["status"].as_str().unwrap()),
        "the current state first: {first:?}"
    );

    let (sent, status, answered) = fake
        .deliver(&b, &created, "processing", HALF_WAY_LOGS, "msg_live_1")
        .await;
    assert_eq!(status, 200, "{}", b.log_tail());
    let (arrived, progress) = watch
        .until(BOUND, "processing with progress", |event| {
            generation(event, "processing") && event.data["progress"].is_number()
        })
        .await;
    assert_eq!(progress.data["progress"], 0.5, "{progress:?}");
    assert!(progress.id.is_some(), "{progress:?}");
    assert!(report("processing", sent, answered, arrived) < BOUND);

    let (sent, status, answered) = fake
        .deliver(&b, &created, "succeeded", "", "msg_live_2")
        .await;
    assert_eq!(status, 200, "{}", b.log_tail());
    let (arrived, done) = watch
        .until(BOUND, "completed", |event| generation(event, "completed"))
        .await;
    let result = &done.data["result"];
    assert_eq!(result["status"], "completed", "{done:?}");
    assert_eq!(result["id"], id.as_str(), "{done:?}");
    assert!(result["image"].is_object(), "{done:?}");
    assert!(report("completed", sent, answered, arrived) < BOUND);
    let (_, clean) = watch
        .end(BOUND)
        .await
        .expect("the generation's stream ends after its final event");
    assert!(clean, "the server completed the body");

    // The user stream saw the same changes; now a grant on B.
    user.until(BOUND, "the completion on the user stream", |event| {
        generation(event, "completed")
    })
    .await;
    let sent = Instant::now();
    assert_eq!(on_b.grant(USER, 40, "live-two-grant").await, 201);
    let answered = Instant::now();
    let (arrived, credits) = user
        .until(BOUND, "credits after the grant", |event| {
            event.name == "credits" && event.data["balance"] == 40
        })
        .await;
    assert!(credits.id.is_some(), "{credits:?}");
    assert!(report("credits", sent, answered, arrived) < BOUND);
}
