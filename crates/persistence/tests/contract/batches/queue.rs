//! The durable queue of batch items ([`BatchQueue`]): concurrent claims never take an item twice
//! nor let a user past `per_user`; claims are fair (fewest in flight, then the oldest batch, then
//! the lowest index); lapsed claims are taken again with when they began; released items come
//! back at once or from `not_before`; processing items count as in flight; cancelled and
//! detached items are never claimed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use picture_domain::ports::{
    BatchQueue, BatchRepository, BatchTarget, ClaimedItem, Funds, GenerationLifecycle, Transition,
};
use picture_domain::{GenerationId, GenerationStatus};
use picture_persistence::{DieselBatchRepository, DieselGenerationRepository};

use super::{Raw, count, failed, item_of, new_batch, processing, queued, user};
use crate::generations::off;
use crate::{TestDatabase, at};

contract!(
    concurrent_claims_never_take_an_item_twice,
    concurrent_claims_never_let_a_user_past_per_user,
    claims_go_to_fewest_in_flight_then_the_oldest_batch_then_the_lowest_index,
    a_retried_item_keeps_its_batchs_place_in_the_queue,
    a_lapsed_claim_is_taken_again_and_tells_when_the_first_began,
    a_released_item_comes_back_at_once_or_from_not_before,
    processing_items_count_as_in_flight,
    cancelled_and_detached_items_are_never_claimed,
);

/// A lease long enough that no claim lapses unless the test moves time past it.
const LEASE: Duration = Duration::from_secs(60);

/// The most claim attempts a concurrent worker makes before it calls itself stuck.
const ATTEMPTS: usize = 20_000;

async fn claim(
    repo: &DieselBatchRepository,
    owner: &str,
    per_user: u32,
    ms: i64,
) -> Option<ClaimedItem> {
    repo.claim(owner, per_user, LEASE, at(ms)).await.unwrap()
}

/// The id of what `claim` took, if anything.
async fn claimed_id(
    repo: &DieselBatchRepository,
    owner: &str,
    per_user: u32,
    ms: i64,
) -> Option<GenerationId> {
    claim(repo, owner, per_user, ms)
        .await
        .map(|item| item.generation.record.id)
}

/// `owner`'s batch items in flight at `ms`: processing, or claimed under a live lease.
async fn in_flight(raw: &Raw, owner: &str, ms: i64) -> i64 {
    raw.count(&format!(
        "SELECT count(*) AS n FROM image_generations WHERE user_id = '{owner}' \
         AND batch_id IS NOT NULL AND (status = 'processing' OR (status = 'queued' \
         AND claim_owner IS NOT NULL AND claim_until >= {ms}))"
    ))
    .await
}

fn cancelled() -> Transition {
    Transition::Cancelled {
        message: "Cancelled by user".into(),
    }
}

async fn concurrent_claims_never_take_an_item_twice(db: &TestDatabase) {
    let repo = Arc::new(DieselBatchRepository::new(db.database.clone()));
    let mut all = HashSet::new();
    for (n, owner) in (0_i64..).zip(["ann", "bob", "cyd", "dee", "eve"]) {
        for item in queued(&repo, &new_batch(owner, 1_000 + n), 8).await {
            all.insert(item.generation.id);
        }
    }
    assert_eq!(all.len(), 40);
    let taken: Arc<Mutex<Vec<GenerationId>>> = Arc::default();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let repo = Arc::clone(&repo);
            let taken = Arc::clone(&taken);
            tokio::spawn(async move {
                let owner = format!("worker-{w}");
                for _ in 0..ATTEMPTS {
                    if taken.lock().unwrap().len() >= 40 {
                        return;
                    }
                    // A claim of a user whom another claim holds answers `None` at once.
                    match claimed_id(&repo, &owner, 100, 10_000).await {
                        Some(id) => taken.lock().unwrap().push(id),
                        None => tokio::task::yield_now().await,
                    }
                }
                panic!("{owner} made no progress");
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let taken = taken.lock().unwrap().clone();
    let distinct: HashSet<GenerationId> = taken.iter().copied().collect();
    assert_eq!(taken.len(), 40, "every item claimed exactly once");
    assert_eq!(distinct, all);
    assert_eq!(claimed_id(&repo, "late", 100, 10_000).await, None);
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM image_generations WHERE claim_owner LIKE 'worker-%' \
             AND claimed_at = 10000 AND claim_until = 70000",
        )
        .await,
        40
    );
}

async fn concurrent_claims_never_let_a_user_past_per_user(db: &TestDatabase) {
    let repo = Arc::new(DieselBatchRepository::new(db.database.clone()));
    let generations = Arc::new(DieselGenerationRepository::new(db.database.clone()));
    for (n, owner) in (0_i64..).zip(["fay", "gus", "hal"]) {
        queued(&repo, &new_batch(owner, 1_000 + n), 10).await;
    }
    let per_user = 2;
    let now = 10_000;
    let raw = Raw::of(db);
    let ended: Arc<Mutex<usize>> = Arc::default();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let repo = Arc::clone(&repo);
            let generations = Arc::clone(&generations);
            let ended = Arc::clone(&ended);
            let raw = raw.clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut most: HashMap<String, i64> = HashMap::new();
                for _ in 0..ATTEMPTS {
                    if *ended.lock().unwrap() >= 30 {
                        return most;
                    }
                    let Some(item) = claim(&repo, &worker, per_user, now).await else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    let id = item.generation.record.id;
                    let owner = item.generation.record.user_id.as_str().to_owned();
                    let claimed = in_flight(&raw, &owner, now).await;
                    // At the provider: still in flight.
                    assert!(
                        generations
                            .transition(id, &processing(id), at(now))
                            .await
                            .unwrap()
                    );
                    let running = in_flight(&raw, &owner, now).await;
                    let seen = most.entry(owner).or_default();
                    *seen = (*seen).max(claimed).max(running);
                    assert!(
                        generations
                            .transition(id, &failed(), at(now))
                            .await
                            .unwrap()
                    );
                    *ended.lock().unwrap() += 1;
                }
                panic!("{worker} made no progress");
            })
        })
        .collect();
    let mut most: HashMap<String, i64> = HashMap::new();
    for worker in workers {
        for (owner, seen) in worker.await.unwrap() {
            let entry = most.entry(owner).or_default();
            *entry = (*entry).max(seen);
        }
    }
    assert_eq!(most.len(), 3, "{most:?}");
    assert!(
        most.values().all(|&seen| seen <= i64::from(per_user)),
        "a user went past {per_user} in flight: {most:?}"
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM image_generations WHERE status = 'failed'"
        )
        .await,
        30
    );
}

async fn claims_go_to_fewest_in_flight_then_the_oldest_batch_then_the_lowest_index(
    db: &TestDatabase,
) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let newer = new_batch("amy", 2_000);
    // Queued first, its items in reverse order.
    let newer_items = vec![item_of(&newer, 1, 0), item_of(&newer, 0, 0)];
    repo.queue(
        &BatchTarget::New(newer.clone()),
        &newer_items,
        &off(),
        Funds::Local,
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let other = queued(&repo, &new_batch("ben", 3_000), 2).await;
    let older = queued(&repo, &new_batch("amy", 1_000), 2).await;
    let mut order = Vec::new();
    while let Some(item) = claim(&repo, "w", 10, 10_000).await {
        assert_eq!(item.generation.status, GenerationStatus::Queued);
        assert_eq!(item.model_version.as_deref(), Some("v-batch"));
        assert_eq!(item.earlier_claim, None);
        order.push(item.generation.record.id);
        assert!(order.len() <= 6, "{order:?}");
    }
    let expected = [
        older[0].generation.id,
        other[0].generation.id,
        older[1].generation.id,
        other[1].generation.id,
        newer_items[1].generation.id,
        newer_items[0].generation.id,
    ];
    assert_eq!(order, expected);
}

async fn a_retried_item_keeps_its_batchs_place_in_the_queue(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let oldest = new_batch("ola", 1_000);
    let failed_id = queued(&repo, &oldest, 1).await[0].generation.id;
    assert!(
        generations
            .transition(failed_id, &failed(), at(1_500))
            .await
            .unwrap()
    );
    let newer = queued(&repo, &new_batch("ola", 2_000), 1).await;
    let other = queued(&repo, &new_batch("ype", 3_000), 1).await;
    // Retried after both newer batches were queued.
    let mut retried = item_of(&oldest, 0, 1);
    retried.generation.created_at = at(4_000);
    let replacing = [failed_id];
    repo.queue(
        &BatchTarget::Retry {
            user: oldest.user_id.clone(),
            batch: oldest.id,
            replacing: replacing.to_vec(),
        },
        std::slice::from_ref(&retried),
        &off(),
        Funds::Local,
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let mut order = Vec::new();
    while let Some(id) = claimed_id(&repo, "w", 10, 10_000).await {
        order.push(id);
        assert!(order.len() <= 3, "{order:?}");
    }
    assert_eq!(
        order,
        [
            retried.generation.id,
            other[0].generation.id,
            newer[0].generation.id
        ]
    );
}

async fn a_lapsed_claim_is_taken_again_and_tells_when_the_first_began(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let id = queued(&repo, &new_batch("lea", 1_000), 1).await[0]
        .generation
        .id;
    let first = claim(&repo, "w1", 2, 10_000).await.unwrap();
    assert_eq!(
        (first.generation.record.id, first.earlier_claim),
        (id, None)
    );
    // The lease lasts until 70 000.
    assert_eq!(claimed_id(&repo, "w2", 2, 69_999).await, None);
    let second = claim(&repo, "w2", 2, 70_001).await.unwrap();
    assert_eq!(
        (second.generation.record.id, second.earlier_claim),
        (id, Some(at(10_000)))
    );
    // Still the same unbroken run of claims.
    let third = claim(&repo, "w3", 2, 130_002).await.unwrap();
    assert_eq!(third.earlier_claim, Some(at(10_000)));
    // A stopped worker's late release does not give back another's claim.
    repo.release(id, "w1", None, true).await.unwrap();
    repo.release(id, "w2", None, true).await.unwrap();
    assert_eq!(claimed_id(&repo, "w4", 2, 130_003).await, None);
    repo.release(id, "w3", None, true).await.unwrap();
    let fresh = claim(&repo, "w4", 2, 130_003).await.unwrap();
    assert_eq!(
        (fresh.generation.record.id, fresh.earlier_claim),
        (id, None)
    );
    // Given back unsure (the worker may have submitted it): the next claim is told since when.
    repo.release(id, "w4", None, false).await.unwrap();
    let unsure = claim(&repo, "w5", 2, 130_004).await.unwrap();
    assert_eq!(
        (unsure.generation.record.id, unsure.earlier_claim),
        (id, Some(at(130_003)))
    );
}

async fn a_released_item_comes_back_at_once_or_from_not_before(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let items = queued(&repo, &new_batch("rex", 1_000), 2).await;
    let (first, second) = (items[0].generation.id, items[1].generation.id);
    let per_user = 1;
    assert_eq!(claimed_id(&repo, "w", per_user, 10_000).await, Some(first));
    repo.release(first, "w", Some(at(50_000)), true)
        .await
        .unwrap();
    // Hidden, and no longer in flight: the next item may run.
    assert_eq!(claimed_id(&repo, "w", per_user, 10_001).await, Some(second));
    assert_eq!(claimed_id(&repo, "w", per_user, 10_002).await, None);
    assert!(
        generations
            .transition(second, &failed(), at(10_003))
            .await
            .unwrap()
    );
    assert_eq!(claimed_id(&repo, "w", per_user, 20_000).await, None);
    assert_eq!(claimed_id(&repo, "w", per_user, 50_000).await, None);
    let back = claim(&repo, "w", per_user, 50_001).await.unwrap();
    assert_eq!(
        (back.generation.record.id, back.earlier_claim),
        (first, None)
    );
    // Given back without a time: claimable at once, as never claimed.
    repo.release(first, "w", None, true).await.unwrap();
    let again = claim(&repo, "v", per_user, 50_001).await.unwrap();
    assert_eq!(
        (again.generation.record.id, again.earlier_claim),
        (first, None)
    );
    // A released item that was submitted meanwhile stays with the provider.
    assert!(
        generations
            .transition(first, &processing(first), at(50_002))
            .await
            .unwrap()
    );
    repo.release(first, "v", None, true).await.unwrap();
    assert_eq!(claimed_id(&repo, "w", 5, 50_003).await, None);
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT count(*) AS n FROM image_generations WHERE id = '{first}' \
                 AND status = 'processing' AND claim_owner = 'v'"
            ),
        )
        .await,
        1
    );
}

async fn processing_items_count_as_in_flight(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let items = queued(&repo, &new_batch("pat", 1_000), 3).await;
    let [a, b, c] = [0, 1, 2].map(|i| items[i].generation.id);
    let per_user = 2;
    assert_eq!(claimed_id(&repo, "w", per_user, 10_000).await, Some(a));
    assert!(
        generations
            .transition(a, &processing(a), at(10_000))
            .await
            .unwrap()
    );
    assert_eq!(claimed_id(&repo, "w", per_user, 10_000).await, Some(b));
    assert_eq!(claimed_id(&repo, "w", per_user, 10_000).await, None);
    // Both leases lapsed: `b` is taken again; `a`, at the provider, still counts.
    let again = claim(&repo, "v", per_user, 70_001).await.unwrap();
    assert_eq!(
        (again.generation.record.id, again.earlier_claim),
        (b, Some(at(10_000)))
    );
    assert_eq!(claimed_id(&repo, "v", per_user, 70_001).await, None);
    assert!(
        generations
            .transition(a, &failed(), at(70_002))
            .await
            .unwrap()
    );
    assert_eq!(claimed_id(&repo, "v", per_user, 70_002).await, Some(c));
    assert_eq!(claimed_id(&repo, "v", 10, 70_002).await, None);
}

async fn cancelled_and_detached_items_are_never_claimed(db: &TestDatabase) {
    let repo = DieselBatchRepository::new(db.database.clone());
    let generations = DieselGenerationRepository::new(db.database.clone());
    let items = queued(&repo, &new_batch("cal", 1_000), 2).await;
    let (first, second) = (items[0].generation.id, items[1].generation.id);
    assert!(
        generations
            .transition(first, &cancelled(), at(2_000))
            .await
            .unwrap()
    );
    assert_eq!(claimed_id(&repo, "w", 10, 10_000).await, Some(second));
    // Cancelled while claimed: not taken again once the lease lapses.
    assert!(
        generations
            .transition(second, &cancelled(), at(10_001))
            .await
            .unwrap()
    );
    assert_eq!(claimed_id(&repo, "w", 10, 100_000).await, None);

    // A deleted batch's queued items are no longer in a batch.
    let gone = new_batch("dan", 3_000);
    queued(&repo, &gone, 2).await;
    assert!(repo.delete(&user("dan"), gone.id).await.unwrap());
    assert_eq!(claimed_id(&repo, "w", 10, 100_001).await, None);
}
