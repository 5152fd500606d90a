//! Two servers on one PostgreSQL database share one 40-item batch: it completes, each item's
//! prediction is created exactly once, and both servers ran items.

use std::time::Duration;

use picture_test_support::PgTestDb;

use crate::database::{book, items};
use crate::fake_replicate::FakeReplicate;
use crate::support::{Api, FREE, PRICE, SERIAL, launch};

const USER: &str = "batch-shared";
const ITEMS: usize = 40;
const GRANT: i64 = 1_000;
const RUN: &str = "picture_batch_items_run_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_batch_and_run_each_item_once() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeReplicate::start(Duration::from_millis(300), Duration::ZERO, 0).await;
    let launch = launch(pg.url(), dir.path(), &fake)
        .with("BATCH_WORKERS", "2")
        .with("BATCH_CONCURRENCY_PER_USER", "4");
    let token = launch.token(USER);
    let a = launch.start("a").await;
    let b = launch.start("b").await;
    let api = Api::on(&a);
    api.grant(USER, GRANT).await;
    let model = api.replicate_model().await;
    // Queued on A (its workers are woken at once); B's find the items by polling.
    let batch = api.create_batch(&token, &model, ITEMS, "shared").await;
    let progress = api
        .wait_until_ended(&token, &batch, Duration::from_secs(60), &a)
        .await;
    assert_eq!(progress["status"], "completed", "{progress}");
    assert_eq!(progress["completedCount"], ITEMS, "{progress}");

    assert_eq!(fake.creates(), ITEMS, "one prediction per item");
    let stored = items(pg.url(), &batch).await;
    assert_eq!(
        (stored.completed, stored.predictions, stored.images),
        (ITEMS as i64, ITEMS as i64, ITEMS as i64),
        "{stored:?}"
    );
    let (ran_a, ran_b) = (a.counter(RUN).await, b.counter(RUN).await);
    assert!(
        ran_a > 0.0 && ran_b > 0.0,
        "both ran items: {ran_a} and {ran_b}"
    );
    assert_eq!(
        ran_a + ran_b,
        ITEMS as f64,
        "each item ran once: {ran_a} + {ran_b}"
    );
    let paid = ITEMS as i64 - FREE;
    let account = book(pg.url(), USER).await;
    assert_eq!(account.held, 0, "{account:?}");
    assert_eq!(account.total_spent, PRICE * paid, "{account:?}");
    assert_eq!(account.balance + account.total_spent, GRANT, "{account:?}");
    assert_eq!(stored.captures, paid, "{stored:?}");
    eprintln!("server A ran {ran_a} items, server B {ran_b}");
}
