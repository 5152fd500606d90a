//! Retrying a batch's failed items ([`BatchTarget::Retry`]): each replaced by a fresh
//! generation in its place, billed again; the failed ones leave the batch and stay in the
//! user's history; a retry of items no longer failed, or that cannot be paid, writes nothing.

use picture_domain::money::{BatchRefusal, BatchShortfall};
use picture_domain::ports::{
    BatchRepository, BatchTarget, Funds, GenerationLifecycle, GenerationReads, Queued,
};
use picture_domain::{Enforcement, FreemiumPolicy, GenerationStatus};
use picture_persistence::{DieselBatchRepository, DieselGenerationRepository};

use super::{
    account, count, credits, entries, failed, generations_of, grant, item_of, items_of, new_batch,
    paid_only, queued, user,
};
use crate::generations::off;
use crate::{TestDatabase, at};

contract!(
    a_retry_replaces_the_failed_items_and_bills_them_again,
    a_retry_of_items_no_longer_failed_writes_nothing,
);

async fn a_retry_replaces_the_failed_items_and_bills_them_again(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    grant(db, "retrier", 50).await;
    let batch = new_batch("retrier", 1_000);
    let items = items_of(&batch, 3);
    repo.queue(
        &BatchTarget::New(batch.clone()),
        &items,
        &paid_only(),
        Funds::Local,
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let first = items[0].generation.id;
    let third = items[2].generation.id;
    for id in [first, third] {
        assert!(
            generations
                .transition(id, &failed(), at(2_000))
                .await
                .unwrap()
        );
    }
    let refunded = account(db, "retrier").await;
    assert_eq!(
        (refunded.credits.balance, refunded.held),
        (credits(40), credits(10))
    );

    let again = vec![item_of(&batch, 0, 1), item_of(&batch, 2, 1)];
    let replacing = [first, third];
    let retry = BatchTarget::Retry {
        user: batch.user_id.clone(),
        batch: batch.id,
        replacing: replacing.to_vec(),
    };
    let queued = repo
        .queue(&retry, &again, &paid_only(), Funds::Local)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queued,
        Some(Queued {
            free_generations_remaining: 0,
            balance_after: Some(credits(20)),
        })
    );
    let billed = account(db, "retrier").await;
    assert_eq!(
        (billed.credits.balance, billed.held),
        (credits(20), credits(30))
    );
    assert_eq!(entries(db, "retrier", "reserve").await, 5);

    let detail = repo
        .find(&user("retrier"), batch.id)
        .await
        .unwrap()
        .unwrap();
    let seen: Vec<_> = detail
        .items
        .iter()
        .map(|item| {
            (
                item.index,
                item.retry_count,
                item.generation.record.id,
                item.generation.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (0, 1, again[0].generation.id, GenerationStatus::Queued),
            (1, 0, items[1].generation.id, GenerationStatus::Queued),
            (2, 1, again[1].generation.id, GenerationStatus::Queued),
        ]
    );
    assert_eq!(detail.summary.counts.total, 3);
    assert_eq!(detail.summary.counts.failed, 0);
    // The failed attempts left the batch and stay in the user's history.
    for id in replacing {
        let old = generations.find(id).await.unwrap().unwrap();
        assert_eq!(old.status, GenerationStatus::Failed);
    }
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT count(*) AS n FROM image_generations WHERE id IN ('{first}', '{third}') \
                 AND batch_id IS NULL"
            ),
        )
        .await,
        2
    );

    // A retry that cannot be paid replaces nothing.
    let retried = again[0].generation.id;
    assert!(
        generations
            .transition(retried, &failed(), at(3_000))
            .await
            .unwrap()
    );
    let before = account(db, "retrier").await;
    let pricey = FreemiumPolicy::new(0, credits(100), Enforcement::Enforce);
    let replacing = [retried];
    let refused = repo
        .queue(
            &BatchTarget::Retry {
                user: batch.user_id.clone(),
                batch: batch.id,
                replacing: replacing.to_vec(),
            },
            &[item_of(&batch, 0, 2)],
            &pricey,
            Funds::Local,
        )
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(BatchRefusal::Insufficient(BatchShortfall {
            required: credits(100),
            balance: credits(30),
            free_generations_remaining: 0,
            items: 1,
        }))
    );
    assert_eq!(account(db, "retrier").await, before);
    let detail = repo
        .find(&user("retrier"), batch.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.items[0].generation.record.id, retried);
    assert_eq!(detail.items[0].generation.status, GenerationStatus::Failed);
    assert_eq!(detail.summary.counts.failed, 1);
    assert_eq!(generations_of(db, "retrier").await, 5);
}

async fn a_retry_of_items_no_longer_failed_writes_nothing(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let batch = new_batch("racer", 1_000);
    let items = queued(&repo, &batch, 2).await;
    let failed_id = items[0].generation.id;
    assert!(
        generations
            .transition(failed_id, &failed(), at(2_000))
            .await
            .unwrap()
    );
    let replacing = [failed_id];
    let retry = BatchTarget::Retry {
        user: batch.user_id.clone(),
        batch: batch.id,
        replacing: replacing.to_vec(),
    };
    repo.queue(&retry, &[item_of(&batch, 0, 1)], &off(), Funds::Local)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let before = account(db, "racer").await;
    // A concurrent retry of the same failed item: it is no longer in the batch.
    assert_eq!(
        repo.queue(&retry, &[item_of(&batch, 0, 1)], &off(), Funds::Local)
            .await
            .unwrap(),
        Ok(None)
    );
    // An item that did not fail.
    let queued_id = [items[1].generation.id];
    let not_failed = BatchTarget::Retry {
        user: batch.user_id.clone(),
        batch: batch.id,
        replacing: queued_id.to_vec(),
    };
    assert_eq!(
        repo.queue(&not_failed, &[item_of(&batch, 1, 1)], &off(), Funds::Local)
            .await
            .unwrap(),
        Ok(None)
    );
    // Another user's batch.
    let stranger = user("stranger");
    let mut theirs = item_of(&batch, 1, 1);
    theirs.generation.user_id = stranger.clone();
    assert_eq!(
        repo.queue(
            &BatchTarget::Retry {
                user: stranger.clone(),
                batch: batch.id,
                replacing: replacing.to_vec(),
            },
            &[theirs],
            &off(),
            Funds::Local
        )
        .await
        .unwrap(),
        Ok(None)
    );
    assert_eq!(account(db, "racer").await, before);
    assert_eq!(generations_of(db, "racer").await, 3);
    assert_eq!(generations_of(db, "stranger").await, 0);
    let detail = repo.find(&user("racer"), batch.id).await.unwrap().unwrap();
    assert_eq!(detail.items.len(), 2);
}
