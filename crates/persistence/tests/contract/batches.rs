//! Batches ([`BatchRepository`]): a new batch queued with its money decided for every item at
//! once — free slots first, then a hold per item; refused as a whole, writing nothing. Retries
//! are in `batches/retry.rs`, reads and deletes in `batches/reads.rs`, the queue's claims in
//! `batches/queue.rs`; the helpers they share are here.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use picture_domain::batch::{BatchStatus, NewBatch};
use picture_domain::money::{BatchRefusal, BatchShortfall};
use picture_domain::ports::{
    BatchRepository, BatchTarget, CreditAccounts, Funds, Grant, NewBatchItem, Queued, Transition,
};
use picture_domain::{
    BatchId, Billing, CreditAmount, Enforcement, FreemiumPolicy, GenerationId, GenerationStatus,
    ModelId, PredictionId, UserId,
};
use picture_persistence::{DieselBatchRepository, DieselLedger};

use crate::generations::{new_generation, off};
use crate::{TestDatabase, at};

mod queue;
mod reads;
mod retry;

contract!(
    a_new_batch_takes_the_free_slots_first_then_holds_each_price,
    a_batch_that_cannot_be_paid_in_full_is_refused_and_writes_nothing,
    an_unfetched_remote_balance_is_asked_for_only_when_an_item_is_paid,
);

pub(crate) fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

pub(crate) fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

/// 3 free generations, then 10 credits each, enforced.
fn enforce() -> FreemiumPolicy {
    FreemiumPolicy::new(3, credits(10), Enforcement::Enforce)
}

/// No free generations, 10 credits each, enforced.
fn paid_only() -> FreemiumPolicy {
    FreemiumPolicy::new(0, credits(10), Enforcement::Enforce)
}

/// A batch of `owner` created at `created_ms`.
pub(crate) fn new_batch(owner: &str, created_ms: i64) -> NewBatch {
    NewBatch {
        id: BatchId::new_random(),
        user_id: user(owner),
        name: format!("Batch of {owner} at {created_ms}"),
        model_id: ModelId::new_random(),
        model_version: Some("v-batch".into()),
        width: 1344,
        height: 768,
        steps: 4,
        guidance_scale: 0.0,
        created_at: at(created_ms),
    }
}

/// `count` items of `batch`, indexes 0.., created with it.
pub(crate) fn items_of(batch: &NewBatch, count: u32) -> Vec<NewBatchItem> {
    (0..count).map(|index| item_of(batch, index, 0)).collect()
}

/// The item at `index` of `batch`, retried `retry_count` times before.
fn item_of(batch: &NewBatch, index: u32, retry_count: u32) -> NewBatchItem {
    let mut generation = new_generation(batch.user_id.as_str(), None);
    generation.prompt = format!("prompt {index}");
    generation.created_at = batch.created_at;
    NewBatchItem {
        generation,
        index,
        retry_count,
    }
}

/// Queues `batch` with `count` items and the unbilled development rule: its items.
pub(crate) async fn queued(
    repo: &DieselBatchRepository,
    batch: &NewBatch,
    count: u32,
) -> Vec<NewBatchItem> {
    let items = items_of(batch, count);
    repo.queue(
        &BatchTarget::New(batch.clone()),
        &items,
        &off(),
        Funds::Local,
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    items
}

async fn grant(db: &TestDatabase, owner: &str, amount: i64) {
    let granted = DieselLedger::new(db.database.clone())
        .grant(
            &Grant {
                user: user(owner),
                amount: credits(amount),
                reason: "test".into(),
                idempotency_key: format!("grant-{owner}-{amount}"),
            },
            at(0),
        )
        .await
        .unwrap();
    assert!(granted.applied);
}

async fn account(db: &TestDatabase, owner: &str) -> picture_domain::money::CreditAccount {
    DieselLedger::new(db.database.clone())
        .account(&user(owner))
        .await
        .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Where the test database is, to read it directly (from any task).
#[derive(Clone)]
pub(crate) enum Raw {
    Postgres(String),
    Sqlite(String),
}

impl Raw {
    pub(crate) fn of(db: &TestDatabase) -> Self {
        match (&db._pg, db.url.sqlite_path()) {
            (Some(pg), _) => Self::Postgres(pg.url().to_owned()),
            (None, Some(path)) => Self::Sqlite(path.display().to_string()),
            (None, None) => panic!("no database to read"),
        }
    }

    /// The `n` that `sql` selects.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        match self {
            Self::Postgres(url) => {
                let mut conn = AsyncPgConnection::establish(url).await.unwrap();
                sql_query(sql)
                    .get_result::<Count>(&mut conn)
                    .await
                    .unwrap()
                    .n
            }
            Self::Sqlite(path) => {
                let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .unwrap();
                sql_query(sql)
                    .get_result::<Count>(&mut conn)
                    .await
                    .unwrap()
                    .n
            }
        }
    }
}

/// The `n` that `sql` selects, read from the test database directly.
pub(crate) async fn count(db: &TestDatabase, sql: &str) -> i64 {
    Raw::of(db).count(sql).await
}

/// `owner`'s ledger entries of `kind`.
async fn entries(db: &TestDatabase, owner: &str, kind: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT count(*) AS n FROM credit_entries WHERE user_id = '{owner}' AND kind = '{kind}'"
        ),
    )
    .await
}

/// `owner`'s generations, in a batch or not.
async fn generations_of(db: &TestDatabase, owner: &str) -> i64 {
    count(
        db,
        &format!("SELECT count(*) AS n FROM image_generations WHERE user_id = '{owner}'"),
    )
    .await
}

fn failed() -> Transition {
    Transition::Failed {
        message: "NSFW content detected".into(),
    }
}

fn processing(id: GenerationId) -> Transition {
    Transition::Processing {
        prediction_id: PredictionId::parse(format!("p-{id}")).unwrap(),
    }
}

async fn a_new_batch_takes_the_free_slots_first_then_holds_each_price(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    grant(db, "payer", 30).await;
    let batch = new_batch("payer", 1_000);
    let items = items_of(&batch, 5);
    let queued = repo
        .queue(
            &BatchTarget::New(batch.clone()),
            &items,
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queued,
        Some(Queued {
            free_generations_remaining: 0,
            balance_after: Some(credits(10)),
        })
    );
    let after = account(db, "payer").await;
    assert_eq!(after.free_generations_used, 3);
    assert_eq!(after.credits.balance, credits(10));
    assert_eq!(after.held, credits(20));
    assert_eq!(entries(db, "payer", "reserve").await, 2);

    let detail = repo.find(&user("payer"), batch.id).await.unwrap().unwrap();
    assert_eq!(detail.summary.batch, batch);
    assert_eq!(detail.summary.counts.total, 5);
    assert_eq!(detail.summary.counts.pending, 5);
    assert_eq!(detail.summary.counts.status(), BatchStatus::Pending);
    assert_eq!(detail.summary.completed_at, None);
    let seen: Vec<_> = detail
        .items
        .iter()
        .map(|item| {
            (
                item.index,
                item.retry_count,
                item.generation.record.id,
                item.generation.status,
                item.generation.billing,
                item.image_url.clone(),
            )
        })
        .collect();
    let expected: Vec<_> = items
        .iter()
        .zip([
            Billing::Free,
            Billing::Free,
            Billing::Free,
            Billing::Paid,
            Billing::Paid,
        ])
        .map(|(item, billing)| {
            (
                item.index,
                0,
                item.generation.id,
                GenerationStatus::Queued,
                billing,
                None,
            )
        })
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(detail.items[3].generation.record, items[3].generation);
}

async fn a_batch_that_cannot_be_paid_in_full_is_refused_and_writes_nothing(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    grant(db, "short", 15).await;
    let before = account(db, "short").await;
    // 5 items: 3 free, the 2 paid ones need 20 of the 15 there are.
    let batch = new_batch("short", 1_000);
    let refused = repo
        .queue(
            &BatchTarget::New(batch.clone()),
            &items_of(&batch, 5),
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(BatchRefusal::Insufficient(BatchShortfall {
            required: credits(20),
            balance: credits(15),
            free_generations_remaining: 3,
            items: 5,
        }))
    );
    assert_eq!(account(db, "short").await, before);
    assert_eq!(generations_of(db, "short").await, 0);
    assert_eq!(entries(db, "short", "reserve").await, 0);
    assert_eq!(
        count(db, "SELECT count(*) AS n FROM batch_generations").await,
        0
    );
    assert_eq!(repo.summary(&user("short"), batch.id).await.unwrap(), None);
    assert!(repo.list(&user("short"), 0, 10).await.unwrap().is_empty());

    // One item fewer fits exactly.
    let fits = new_batch("short", 2_000);
    let queued = repo
        .queue(
            &BatchTarget::New(fits.clone()),
            &items_of(&fits, 4),
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(queued.balance_after, Some(credits(5)));
    assert_eq!(generations_of(db, "short").await, 4);
}

async fn an_unfetched_remote_balance_is_asked_for_only_when_an_item_is_paid(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let big = new_batch("remote", 1_000);
    let refused = repo
        .queue(
            &BatchTarget::New(big.clone()),
            &items_of(&big, 4),
            &enforce(),
            Funds::RemoteNotFetched,
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(BatchRefusal::BalanceNeeded));
    assert_eq!(generations_of(db, "remote").await, 0);
    assert_eq!(account(db, "remote").await.free_generations_used, 0);

    // Only free items: no balance needed.
    let free = new_batch("remote", 2_000);
    let queued = repo
        .queue(
            &BatchTarget::New(free.clone()),
            &items_of(&free, 3),
            &enforce(),
            Funds::RemoteNotFetched,
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(queued.free_generations_remaining, 0);

    // With the remote balance: held here, and what is held counts against it.
    let paid = new_batch("remote", 3_000);
    repo.queue(
        &BatchTarget::New(paid.clone()),
        &items_of(&paid, 2),
        &enforce(),
        Funds::Remote(credits(25)),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    assert_eq!(account(db, "remote").await.held, credits(20));
    let more = new_batch("remote", 4_000);
    let refused = repo
        .queue(
            &BatchTarget::New(more.clone()),
            &items_of(&more, 1),
            &enforce(),
            Funds::Remote(credits(25)),
        )
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(BatchRefusal::Insufficient(BatchShortfall {
            required: credits(10),
            balance: credits(5),
            free_generations_remaining: 0,
            items: 1,
        }))
    );
    assert_eq!(generations_of(db, "remote").await, 5);
}
