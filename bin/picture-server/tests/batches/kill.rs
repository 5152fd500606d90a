//! A server killed with SIGKILL while a batch's items are being submitted and run, then
//! started again on the same database: the batch completes, every item's prediction was
//! created exactly once (the restarted server follows what the dead one submitted), and the
//! ledger balances.

use std::path::Path;
use std::time::Duration;

use picture_test_support::PgTestDb;

use crate::database::{book, items};
use crate::fake_replicate::FakeReplicate;
use crate::support::{Api, FREE, PRICE, SERIAL, launch};

const USER: &str = "batch-killed";
const ITEMS: usize = 20;
/// Enough for every paid item, and some left.
const GRANT: i64 = 200;

async fn a_batch_killed_mid_way_completes_once_each(database: &str, dir: &Path) {
    // Every second create is answered after 400 ms: the kill lands while one has reached the
    // provider and its answer has not reached the server.
    let fake =
        FakeReplicate::start(Duration::from_millis(700), Duration::from_millis(400), 2).await;
    let launch = launch(database, dir, &fake)
        .with("BATCH_WORKERS", "4")
        .with("BATCH_CONCURRENCY_PER_USER", "4");
    let token = launch.token(USER);
    let mut first = launch.start("first").await;
    let api = Api::on(&first);
    api.grant(USER, GRANT).await;
    let model = api.replicate_model().await;
    let batch = api.create_batch(&token, &model, ITEMS, "killed").await;

    // The sixth create is held 400 ms; the fifth was answered and is processing.
    fake.wait_for_creates(6, Duration::from_secs(20)).await;
    first.kill();
    let created_before_kill = fake.creates();
    let at_kill = items(database, &batch).await;
    assert!(
        at_kill.completed < ITEMS as i64,
        "killed mid-batch: {at_kill:?}"
    );

    let second = launch.start("second").await;
    let api = Api::on(&second);
    let progress = api
        .wait_until_ended(&token, &batch, Duration::from_secs(60), &second)
        .await;
    assert_eq!(progress["status"], "completed", "{progress}");
    assert_eq!(progress["completedCount"], ITEMS, "{progress}");
    let detail = api.batch(&token, &batch).await;
    let listed = detail["items"].as_array().unwrap();
    assert_eq!(listed.len(), ITEMS);
    for item in listed {
        assert_eq!(item["status"], "completed", "{item}");
        assert!(item["imageUrl"].is_string(), "{item}");
    }

    assert_eq!(
        fake.creates(),
        ITEMS,
        "one prediction per item ({created_before_kill} created before the kill)"
    );
    // The held create's prediction existed at the provider, unknown to the database: the
    // restarted server found it in the list and followed it.
    let followed = second.log_lines("following the prediction a stopped worker started");
    assert!(
        fake.lists() > 0 && followed > 0,
        "the restarted server found a prediction the dead one started: {} lists, {followed} followed",
        fake.lists()
    );
    let stored = items(database, &batch).await;
    let paid = ITEMS as i64 - FREE;
    assert_eq!(
        (
            stored.total,
            stored.completed,
            stored.predictions,
            stored.images
        ),
        (ITEMS as i64, ITEMS as i64, ITEMS as i64, ITEMS as i64),
        "{stored:?}"
    );
    assert_eq!((stored.paid, stored.captures), (paid, paid), "{stored:?}");
    let account = book(database, USER).await;
    assert_eq!(account.held, 0, "nothing stays held: {account:?}");
    assert_eq!(
        account.balance + account.held + account.total_spent,
        GRANT,
        "{account:?}"
    );
    assert_eq!(account.total_spent, PRICE * paid, "{account:?}");
    assert_eq!(account.free_used, FREE, "{account:?}");
    eprintln!(
        "killed with {created_before_kill} predictions created and {} items completed; \
         the restarted server listed predictions {} times and followed {followed}",
        at_kill.completed,
        fake.lists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_mid_way_completes_once_each_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    a_batch_killed_mid_way_completes_once_each(pg.url(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_mid_way_completes_once_each_on_sqlite() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("picture.db").display());
    a_batch_killed_mid_way_completes_once_each(&database, dir.path()).await;
}
