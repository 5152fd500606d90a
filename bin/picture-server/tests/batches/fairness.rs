//! Fairness: user A's 50-item batch, user B's single generation and user C's 2-item batch
//! submitted together, with two batch workers and at most two items of a user in flight. B's
//! generation does not wait for the queue at all, and C's items are claimed before A's next
//! ones (C has fewer in flight): both end before A's batch is half done.

use std::path::Path;
use std::time::Duration;

use picture_test_support::PgTestDb;

use crate::fake_replicate::FakeReplicate;
use crate::support::{Api, SERIAL, launch};

const A: &str = "batch-fair-a";
const B: &str = "batch-fair-b";
const C: &str = "batch-fair-c";
const A_ITEMS: u64 = 50;

async fn another_users_work_is_not_held_back_by_a_big_batch(database: &str, dir: &Path) {
    // Each prediction takes 150 ms.
    let fake = FakeReplicate::start(Duration::from_millis(150), Duration::ZERO, 0).await;
    let launch = launch(database, dir, &fake)
        .with("BATCH_WORKERS", "2")
        .with("BATCH_CONCURRENCY_PER_USER", "2");
    let tokens = [launch.token(A), launch.token(B), launch.token(C)];
    let server = launch.start("server").await;
    let api = Api::on(&server);
    api.grant(A, 1_000).await;
    let model = api.replicate_model().await;

    let big = api
        .create_batch(&tokens[0], &model, A_ITEMS as usize, "big")
        .await;
    let (generated, small) = tokio::join!(
        async {
            let generated = api.generate(&tokens[1], &model, "a single one").await;
            (generated, api.progress(&tokens[0], &big).await)
        },
        async {
            let small = api.create_batch(&tokens[2], &model, 2, "small").await;
            let progress = api
                .wait_until_ended(&tokens[2], &small, Duration::from_secs(30), &server)
                .await;
            (progress, api.progress(&tokens[0], &big).await)
        }
    );
    let (generated, a_when_b) = generated;
    let (small, a_when_c) = small;
    assert_eq!(generated["status"], "completed", "{generated}");
    assert_eq!(small["status"], "completed", "{small}");
    let done = |progress: &serde_json::Value| progress["completedCount"].as_u64().unwrap();
    assert!(
        done(&a_when_b) < A_ITEMS / 2,
        "B's generation ended with A's batch at {a_when_b}"
    );
    assert!(
        done(&a_when_c) < A_ITEMS / 2,
        "C's batch ended with A's batch at {a_when_c}"
    );
    let a_end = api
        .wait_until_ended(&tokens[0], &big, Duration::from_secs(60), &server)
        .await;
    assert_eq!(a_end["completedCount"], A_ITEMS, "{a_end}");
    eprintln!(
        "A's batch had {} of {A_ITEMS} items completed when B's generation ended, {} when C's batch ended",
        done(&a_when_b),
        done(&a_when_c)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_work_is_not_held_back_by_a_big_batch_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    another_users_work_is_not_held_back_by_a_big_batch(pg.url(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_work_is_not_held_back_by_a_big_batch_on_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("picture.db").display());
    another_users_work_is_not_held_back_by_a_big_batch(&database, dir.path()).await;
}
