//! [`BatchService::create`]: the model, the money decided for the whole batch (a shortfall
//! refused, the remote balance asked for once when needed), the workers woken once.

use super::*;

#[tokio::test]
async fn a_missing_inactive_or_unserved_model_is_not_found_and_nothing_is_queued() {
    let mut inactive = sample_model();
    inactive.spec.is_active = false;
    let mut unserved = sample_model();
    unserved.spec.provider = ProviderName::OFFLINE;
    for model in [None, Some(inactive), Some(unserved)] {
        let mut mocks = Mocks::new();
        let asked = sample_model();
        mocks
            .models
            .expect_get()
            .returning(move |_| Ok(model.clone()));
        mocks.batches.expect_queue().times(0);
        let woken = Arc::clone(&mocks.woken);
        let result = mocks
            .service()
            .create(&user(), request(&asked, &["a"]))
            .await;
        assert!(
            matches!(result, Err(BatchError::ModelNotFound)),
            "{result:?}"
        );
        assert_eq!(woken.load(Ordering::SeqCst), 0);
    }
}

#[tokio::test]
async fn a_batch_that_cannot_be_paid_is_insufficient_with_its_shortfall() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model(&model);
    let shortfall = BatchShortfall {
        required: credits(30),
        balance: credits(20),
        free_generations_remaining: 3,
        items: 6,
    };
    mocks
        .batches
        .expect_queue()
        .withf(|_, _, _, funds| *funds == Funds::Local)
        .times(1)
        .returning(move |_, _, _, _| Ok(Err(BatchRefusal::Insufficient(shortfall))));
    mocks.batches.expect_find().times(0);
    let woken = Arc::clone(&mocks.woken);
    let result = mocks
        .service()
        .create(&user(), request(&model, &["a"; 6]))
        .await;
    assert!(
        matches!(result, Err(BatchError::Insufficient(s)) if s == shortfall),
        "{result:?}"
    );
    assert_eq!(woken.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_batch_that_needs_the_remote_balance_asks_for_it_once_and_wakes_the_workers_once() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model(&model);
    // A free slot left: the first decision is made without the remote balance.
    mocks
        .accounts
        .expect_account()
        .returning(|_| Ok(crate::ports::CreditAccount::default()));
    let mut remote = MockCreditLedger::new();
    remote.expect_balance().times(1).returning(|_| {
        Ok(CreditBalance {
            balance: credits(25),
            ..CreditBalance::default()
        })
    });
    mocks.remote = Some(remote);
    let seen: Arc<Mutex<Vec<QueueCall>>> = Arc::default();
    let record = Arc::clone(&seen);
    mocks
        .batches
        .expect_queue()
        .times(2)
        .returning(move |target, items, _, funds| {
            let batch = match target {
                BatchTarget::New(batch) => Some(batch.clone()),
                BatchTarget::Retry { .. } => None,
            };
            record.lock().unwrap().push((funds, batch, items.to_vec()));
            Ok(match funds {
                Funds::RemoteNotFetched => Err(BatchRefusal::BalanceNeeded),
                _ => Ok(Some(queued_answer())),
            })
        });
    let found = Arc::new(Mutex::new(None::<BatchId>));
    let asked = Arc::clone(&found);
    mocks
        .batches
        .expect_find()
        .times(1)
        .returning(move |_, id| {
            *asked.lock().unwrap() = Some(id);
            Ok(Some(detail(id, &[(GenerationStatus::Queued, 0); 3])))
        });
    let woken = Arc::clone(&mocks.woken);
    let created = mocks
        .service()
        .create(&user(), request(&model, &["one", "two", "three"]))
        .await
        .unwrap();
    assert_eq!(created.queued, queued_answer());
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    let seen = seen.lock().unwrap();
    let funds: Vec<Funds> = seen.iter().map(|(funds, _, _)| *funds).collect();
    assert_eq!(funds, [Funds::RemoteNotFetched, Funds::Remote(credits(25))]);
    let (_, batch, items) = &seen[1];
    let batch = batch.clone().unwrap();
    assert_eq!(*found.lock().unwrap(), Some(batch.id));
    assert_eq!(created.detail.summary.batch.id, batch.id);
    assert_eq!(
        (batch.user_id.clone(), batch.model_id, batch.created_at),
        (user(), model.id, now())
    );
    assert_eq!(batch.model_version.as_deref(), Some("v-batch"));
    assert!(batch.name.starts_with("Batch "), "{}", batch.name);
    let shape: Vec<_> = items
        .iter()
        .map(|item| {
            (
                item.index,
                item.retry_count,
                item.generation.prompt.as_str(),
                item.generation.created_at,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (0, 0, "one", now()),
            (1, 0, "two", now()),
            (2, 0, "three", now())
        ]
    );
    // The same items both times.
    assert_eq!(seen[0].2, *items);
}
