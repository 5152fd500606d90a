//! [`BatchService::retry`] (a fresh item for each failed one under the retry limit, nothing when
//! nothing is left) and [`BatchService::cancel`] (queued items before running ones).

use super::*;

#[tokio::test]
async fn a_retry_queues_a_fresh_item_for_each_failed_one_under_the_retry_limit() {
    let mut mocks = Mocks::new();
    let id = BatchId::new_random();
    let stored = detail(
        id,
        &[
            (GenerationStatus::Failed, 0),
            (GenerationStatus::Completed, 0),
            (GenerationStatus::Failed, MAX_ITEM_RETRIES),
            (GenerationStatus::Failed, MAX_ITEM_RETRIES - 1),
            (GenerationStatus::Queued, 0),
            (GenerationStatus::Cancelled, 0),
        ],
    );
    let answer = stored.clone();
    mocks
        .batches
        .expect_find()
        .returning(move |_, _| Ok(Some(answer.clone())));
    let seen: Arc<Mutex<Option<RetryCall>>> = Arc::default();
    let record = Arc::clone(&seen);
    mocks
        .batches
        .expect_queue()
        .times(1)
        .returning(move |target, items, _, _| {
            let BatchTarget::Retry {
                user: owner,
                batch,
                replacing,
            } = target
            else {
                panic!("a retry queued a new batch");
            };
            assert_eq!(*owner, user());
            *record.lock().unwrap() = Some((*batch, replacing.to_vec(), items.to_vec()));
            Ok(Ok(Some(queued_answer())))
        });
    let woken = Arc::clone(&mocks.woken);
    let affected = mocks.service().retry(&user(), id).await.unwrap();
    assert_eq!(affected, 2);
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    let (batch, replacing, items) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(batch, id);
    let old = |i: usize| &stored.items[i].generation.record;
    assert_eq!(replacing, [old(0).id, old(3).id]);
    let shape: Vec<(u32, u32)> = items.iter().map(|i| (i.index, i.retry_count)).collect();
    assert_eq!(shape, [(0, 1), (3, MAX_ITEM_RETRIES)]);
    for (item, was) in items.iter().zip([old(0), old(3)]) {
        assert_ne!(item.generation.id, was.id);
        assert_eq!(
            item.generation,
            NewGeneration {
                id: item.generation.id,
                created_at: now(),
                ..was.clone()
            }
        );
    }
    assert_ne!(items[0].generation.id, items[1].generation.id);
}

#[tokio::test]
async fn a_retry_with_nothing_left_to_retry_queues_nothing_and_wakes_no_one() {
    let id = BatchId::new_random();
    // Nothing failed under the limit.
    let mut mocks = Mocks::new();
    let done = detail(
        id,
        &[
            (GenerationStatus::Completed, 0),
            (GenerationStatus::Failed, MAX_ITEM_RETRIES),
        ],
    );
    mocks
        .batches
        .expect_find()
        .returning(move |_, _| Ok(Some(done.clone())));
    mocks.batches.expect_queue().times(0);
    let woken = Arc::clone(&mocks.woken);
    assert_eq!(mocks.service().retry(&user(), id).await.unwrap(), 0);
    assert_eq!(woken.load(Ordering::SeqCst), 0);

    // A concurrent retry took the failed items first.
    let mut mocks = Mocks::new();
    let failed = detail(id, &[(GenerationStatus::Failed, 0)]);
    mocks
        .batches
        .expect_find()
        .returning(move |_, _| Ok(Some(failed.clone())));
    mocks
        .batches
        .expect_queue()
        .times(1)
        .returning(|_, _, _, _| Ok(Ok(None)));
    let woken = Arc::clone(&mocks.woken);
    assert_eq!(mocks.service().retry(&user(), id).await.unwrap(), 0);
    assert_eq!(woken.load(Ordering::SeqCst), 0);

    // Another user's (or no) batch.
    let mut mocks = Mocks::new();
    mocks.batches.expect_find().returning(|_, _| Ok(None));
    let result = mocks.service().retry(&user(), id).await;
    assert!(matches!(result, Err(BatchError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn cancel_ends_the_queued_items_before_the_running_ones() {
    let mut mocks = Mocks::new();
    let id = BatchId::new_random();
    let stored = detail(
        id,
        &[
            (GenerationStatus::Processing, 0),
            (GenerationStatus::Queued, 0),
            (GenerationStatus::Completed, 0),
            (GenerationStatus::Queued, 1),
            (GenerationStatus::Processing, 0),
            (GenerationStatus::Failed, 0),
        ],
    );
    let generations: Vec<Generation> = stored.items.iter().map(|i| i.generation.clone()).collect();
    let answer = stored.clone();
    mocks
        .batches
        .expect_find()
        .returning(move |_, _| Ok(Some(answer.clone())));
    mocks
        .generations
        .expect_find_for_user()
        .returning(move |_, wanted| {
            Ok(generations.iter().find(|g| g.record.id == wanted).cloned())
        });
    mocks
        .provider
        .expect_cancel()
        .times(2)
        .returning(|_| Ok(()));
    let ended: Arc<Mutex<Vec<GenerationId>>> = Arc::default();
    let record = Arc::clone(&ended);
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Cancelled { .. }))
        .returning(move |id, _, _| {
            record.lock().unwrap().push(id);
            Ok(true)
        });
    let cancelled = mocks.service().cancel(&user(), id).await.unwrap();
    assert_eq!(cancelled, 4);
    let item = |i: usize| stored.items[i].generation.record.id;
    assert_eq!(*ended.lock().unwrap(), [item(1), item(3), item(0), item(4)]);
}
