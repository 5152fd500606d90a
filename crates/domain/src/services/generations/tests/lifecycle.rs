//! Who wins once a finaliser holds the lease, what a loser does with what it stored, lease
//! renewal, and the reconciler's timeouts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use super::*;
use crate::ports::{FetchError, FetchedImage, ImageSource, LeaseToken, OutputFetcher};

fn new_generation() -> NewGeneration {
    NewGeneration {
        id: GenerationId::new_random(),
        user_id: user(),
        model_id: None,
        model_name: Some("flux-schnell".into()),
        provider: crate::ProviderName::REPLICATE,
        prompt: "p".into(),
        negative_prompt: None,
        style: None,
        source_image_url: None,
        params: request(&sample_model()).resolve(&sample_model()),
        created_at: DateTime::UNIX_EPOCH,
    }
}

fn in_status(new: &NewGeneration, status: GenerationStatus) -> Generation {
    let mut generation = generation_for(new);
    generation.status = status;
    generation.prediction_id = Some(PredictionId::parse("pred-1").unwrap());
    generation
}

fn success() -> ProviderState {
    ProviderState::Succeeded {
        outputs: vec![ImageSource::Url("https://replicate.delivery/a.png".into())],
        predict_time: None,
    }
}

fn image() -> FetchedImage {
    FetchedImage {
        bytes: vec![1, 2, 3],
        extension: "png",
        content_type: "image/png",
        width: 1,
        height: 1,
    }
}

/// `find` answers `now` for ever: the generation as the finaliser finds it once it has
/// stored its object (it reads the row only then).
fn find_answers(mocks: &mut Mocks, now: Generation) {
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(now.clone())));
}

/// A webhook reports success for `new` (processing); the finaliser claims the lease with
/// token `t-1`, downloads and stores the image, and `complete` answers `completed`.
fn finaliser(new: &NewGeneration, completed: bool) -> Mocks {
    let mut mocks = Mocks::new();
    let processing = in_status(new, GenerationStatus::Processing);
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks
        .generations
        .expect_claim_finalization()
        .times(1)
        .returning(|_, _, _| Ok(Some(LeaseToken::from_stored("t-1"))));
    mocks.fetcher.expect_fetch().returning(|_| Ok(image()));
    mocks
        .store
        .expect_put()
        .times(1)
        .returning(|_, _, _| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| format!("http://files/{}", key.as_str()));
    let done = in_status(new, GenerationStatus::Completed);
    mocks
        .generations
        .expect_complete()
        .withf(|_, token, _, _, _| token.as_str() == "t-1")
        .times(1)
        .returning(move |_, _, image, _, _| {
            Ok(completed.then(|| crate::ports::Completion {
                generation: done.clone(),
                image: Image {
                    record: image.clone(),
                    source_image_id: None,
                    download_count: 0,
                    rating: None,
                    is_public: false,
                    is_favorite: false,
                    archived_at: None,
                    updated_at: image.created_at,
                },
                charge: None,
            }))
        });
    mocks
}

async fn report_success(service: &GenerationServices) {
    let prediction = PredictionId::parse("pred-1").unwrap();
    service
        .finalize
        .on_provider_report(
            &crate::ProviderName::REPLICATE,
            &prediction,
            success(),
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_finaliser_that_loses_to_a_cancel_deletes_the_object_it_stored() {
    let new = new_generation();
    let mut mocks = finaliser(&new, false);
    find_answers(&mut mocks, in_status(&new, GenerationStatus::Cancelled));
    let key = format!("users/u/images/{}.png", new.id);
    mocks
        .store
        .expect_delete()
        .withf(move |deleted| deleted.as_str() == key)
        .times(1)
        .returning(|_| Ok(()));
    report_success(&mocks.service()).await;
}

#[tokio::test]
async fn a_finaliser_that_loses_to_another_finaliser_keeps_the_shared_object() {
    let new = new_generation();
    let mut mocks = finaliser(&new, false);
    find_answers(&mut mocks, in_status(&new, GenerationStatus::Completed));
    mocks.store.expect_delete().times(0);
    report_success(&mocks.service()).await;
}

#[tokio::test]
async fn a_finaliser_that_completes_deletes_nothing() {
    let new = new_generation();
    let mut mocks = finaliser(&new, true);
    let processing = in_status(&new, GenerationStatus::Processing);
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks.store.expect_delete().times(0);
    report_success(&mocks.service()).await;
}

#[tokio::test]
async fn a_failed_download_fails_the_generation_as_the_lease_holder() {
    let new = new_generation();
    let mut mocks = Mocks::new();
    let processing = in_status(&new, GenerationStatus::Processing);
    let found = processing.clone();
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(Some(found.clone())));
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks
        .generations
        .expect_claim_finalization()
        .returning(|_, _, _| Ok(Some(LeaseToken::from_stored("t-1"))));
    mocks
        .fetcher
        .expect_fetch()
        .returning(|_| Err(FetchError("host not allowed".into())));
    mocks.store.expect_put().times(0);
    mocks.generations.expect_transition().times(0);
    mocks
        .generations
        .expect_fail_finalization()
        .withf(|_, token, message, _| token.as_str() == "t-1" && message == "host not allowed")
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    report_success(&mocks.service()).await;
}

/// Mocks of a cancel of `new` (processing) whose compare-and-set is refused (a finaliser
/// holds a live lease), and whose row reads `processing` `reads_processing` times, then
/// `completed`. Returns the counter of refused transitions.
fn refused_cancel(new: &NewGeneration, reads_processing: usize) -> (Mocks, Arc<AtomicUsize>) {
    let mut mocks = Mocks::new();
    let processing = in_status(new, GenerationStatus::Processing);
    mocks
        .generations
        .expect_find_for_user()
        .returning(move |_, _| Ok(Some(processing.clone())));
    mocks
        .provider
        .expect_cancel()
        .times(1)
        .returning(|_| Ok(()));
    let refused = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&refused);
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Cancelled { .. }))
        .returning(move |_, _, _| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(false)
        });
    let reads = AtomicUsize::new(0);
    let (running, completed) = (
        in_status(new, GenerationStatus::Processing),
        in_status(new, GenerationStatus::Completed),
    );
    mocks.generations.expect_find().returning(move |_| {
        let read = reads.fetch_add(1, Ordering::SeqCst);
        Ok(Some(if read < reads_processing {
            running.clone()
        } else {
            completed.clone()
        }))
    });
    (mocks, refused)
}

#[tokio::test]
async fn a_cancel_refused_by_a_live_lease_waits_until_the_finaliser_has_finished() {
    let new = new_generation();
    let (mocks, refused) = refused_cancel(&new, 2);
    assert!(
        mocks
            .service()
            .cancel
            .cancel(&user(), new.id)
            .await
            .unwrap()
    );
    // Refused, re-read (processing), refused, re-read (processing), refused, re-read: final.
    assert_eq!(refused.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_cancel_stops_waiting_for_a_finaliser_after_about_one_lease() {
    let new = new_generation();
    let (mocks, refused) = refused_cancel(&new, usize::MAX);
    assert!(
        mocks
            .service()
            .cancel
            .cancel(&user(), new.id)
            .await
            .unwrap()
    );
    // A 60 s lease read every 50 ms (the shortest pause): 1 200 waits, and the tries around.
    assert_eq!(refused.load(Ordering::SeqCst), 1_202);
}

/// A clock fixed at the epoch whose sleeps yield to the executor once instead of waiting.
struct YieldingClock;

/// Pending once (waking itself), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[async_trait::async_trait]
impl Clock for YieldingClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        DateTime::UNIX_EPOCH
    }

    async fn sleep(&self, _: Duration) {
        YieldOnce(false).await;
    }
}

/// A download that yields to the executor `yields` times before it delivers.
struct SlowFetcher {
    yields: usize,
}

#[async_trait::async_trait]
impl OutputFetcher for SlowFetcher {
    async fn fetch(&self, _: &ImageSource) -> Result<FetchedImage, FetchError> {
        for _ in 0..self.yields {
            YieldOnce(false).await;
        }
        Ok(image())
    }
}

#[tokio::test]
async fn a_finaliser_renews_its_lease_while_it_downloads_and_stops_when_done() {
    let new = new_generation();
    let mut mocks = finaliser(&new, true);
    let processing = in_status(&new, GenerationStatus::Processing);
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(processing.clone())));
    mocks.clock = Some(Arc::new(YieldingClock));
    mocks.own_fetcher = Some(Arc::new(SlowFetcher { yields: 6 }));
    let renewals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&renewals);
    mocks
        .generations
        .expect_renew_finalization()
        .returning(move |_, token, lease, _| {
            seen.lock()
                .unwrap()
                .push((token.as_str().to_owned(), lease));
            Ok(true)
        });
    report_success(&mocks.service()).await;
    let renewals = renewals.lock().unwrap().clone();
    // The download yields six times; each renewal first waits a third of the lease (one
    // yield here): it renews on each of the five wake-ups before the download delivers, and
    // not after (the finaliser stops polling it).
    assert_eq!(renewals.len(), 5, "{renewals:?}");
    assert!(
        renewals
            .iter()
            .all(|(token, lease)| token == "t-1" && *lease == Duration::from_secs(60))
    );
}

#[tokio::test]
async fn a_submit_answered_after_its_generation_ended_cancels_the_prediction() {
    let mut mocks = Mocks::new();
    mocks.with_model();
    mocks.generations.expect_create().returning(|new, _, _| {
        Ok(Ok(Created {
            generation: generation_for(new),
            decision: AccessDecision::Free { remaining_after: 2 },
            free_generations_remaining: 2,
            balance_after: None,
        }))
    });
    mocks.provider.expect_submit().returning(|_| {
        Ok(crate::ports::Submission {
            prediction_id: PredictionId::parse("pred-late").unwrap(),
            state: ProviderState::Starting,
        })
    });
    // The reconciler's pending timeout (or the user) ended it while the submit was running.
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Processing { .. }))
        .times(1)
        .returning(|_, _, _| Ok(false));
    mocks.generations.expect_find().returning(|id| {
        let mut new = new_generation();
        new.id = id;
        let mut failed = generation_for(&new);
        failed.status = GenerationStatus::Failed;
        Ok(Some(failed))
    });
    mocks
        .images
        .expect_find_for_generation()
        .returning(|_| Ok(None));
    mocks
        .provider
        .expect_cancel()
        .withf(|prediction| prediction.as_str() == "pred-late")
        .times(1)
        .returning(|_| Ok(()));
    let started = mocks
        .service()
        .start
        .start(&user(), request(&sample_model()))
        .await
        .unwrap();
    assert_eq!(started.view.generation.status, GenerationStatus::Failed);
}

#[tokio::test]
async fn the_reconciler_uses_the_pending_timeout_and_takes_rows_for_its_interval() {
    let mut mocks = Mocks::new();
    let hold = Duration::from_secs(7);
    mocks
        .generations
        .expect_stale_processing()
        .withf(move |_, at, taken_for, _| *at == DateTime::UNIX_EPOCH && *taken_for == hold)
        .times(1)
        .returning(|_, _, _, _| Ok(Vec::new()));
    mocks
        .generations
        .expect_stale_pending()
        .withf(move |older_than, _, taken_for, _| {
            *older_than == DateTime::UNIX_EPOCH - chrono::Duration::seconds(45)
                && *taken_for == hold
        })
        .times(1)
        .returning(|_, _, _, _| Ok(Vec::new()));
    let service = mocks.service_with(PipelineSettings {
        callbacks: None,
        sync_timeout: Duration::ZERO,
        poll_interval: Duration::ZERO,
        finalize_lease: Duration::from_secs(15),
        pending_timeout: Duration::from_secs(45),
        reconciler_interval: hold,
        idempotency_ttl: Duration::from_secs(86_400),
        provider_poll_min_interval: Duration::from_secs(2),
    });
    assert_eq!(
        service
            .reconcile
            .reconcile(Duration::ZERO, 10)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_webhook_racing_the_submit_that_recorded_its_prediction_still_settles_it() {
    // The report looks its prediction up before the submit call records it, and its
    // generation up after: recorded as this very prediction, it is settled all the same.
    let new = new_generation();
    let mut mocks = Mocks::new();
    mocks
        .generations
        .expect_find_by_prediction()
        .times(1)
        .returning(|_| Ok(None));
    find_answers(&mut mocks, in_status(&new, GenerationStatus::Processing));
    mocks.generations.expect_transition().times(0);
    mocks
        .generations
        .expect_claim_finalization()
        .times(1)
        .returning(|_, _, _| Ok(None));
    let settled = mocks
        .service()
        .finalize
        .on_provider_report(
            &crate::ProviderName::REPLICATE,
            &PredictionId::parse("pred-1").unwrap(),
            success(),
            Some(new.id),
        )
        .await
        .unwrap();
    assert_eq!(settled, Some(new.id));
}

#[tokio::test]
async fn a_webhook_for_another_prediction_of_its_generation_changes_nothing() {
    let new = new_generation();
    let mut mocks = Mocks::new();
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(|_| Ok(None));
    find_answers(&mut mocks, in_status(&new, GenerationStatus::Processing));
    mocks.generations.expect_transition().times(0);
    mocks.generations.expect_claim_finalization().times(0);
    let settled = mocks
        .service()
        .finalize
        .on_provider_report(
            &crate::ProviderName::REPLICATE,
            &PredictionId::parse("pred-other").unwrap(),
            success(),
            Some(new.id),
        )
        .await
        .unwrap();
    assert_eq!(settled, None);
}
