//! [`BatchRunner::run_next`]: nothing to claim, an item over the user's limits, a database
//! failure before the submit, a refused submit, an item run through the pipeline, and an item
//! claimed again after its worker stopped.

use super::*;
use crate::ports::{Admission, ClaimedItem, ProviderError, ProviderState, Submission};
use crate::services::generations::GenerateError;

const OWNER: &str = "worker-1";

/// A queued item of `user()` (a batch item, on `sample_model()`'s provider).
fn claimed(earlier_claim: Option<DateTime<Utc>>) -> ClaimedItem {
    ClaimedItem {
        generation: generation("a claimed prompt", GenerationStatus::Queued),
        model_version: Some("v-batch".into()),
        earlier_claim,
    }
}

/// The queue hands out `item` once.
fn claims(mocks: &mut Mocks, item: &ClaimedItem) {
    let item = item.clone();
    mocks
        .queue
        .expect_claim()
        .withf(|owner, per_user, lease, at| {
            owner == OWNER && *per_user == 2 && *lease == Duration::from_secs(120) && *at == now()
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(item.clone())));
}

/// The rate limit admits every start.
fn admits(mocks: &mut Mocks) {
    mocks
        .counter
        .expect_admit()
        .returning(|_, _, _| Ok(Admission::Admitted));
}

#[tokio::test]
async fn nothing_claimed_is_idle() {
    let mut mocks = Mocks::new();
    mocks
        .queue
        .expect_claim()
        .times(1)
        .returning(|_, _, _, _| Ok(None));
    mocks.counter.expect_admit().times(0);
    mocks.queue.expect_release().times(0);
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Idle);
}

#[tokio::test]
async fn an_item_over_the_rate_limit_goes_back_until_the_window_has_room() {
    let mut mocks = Mocks::new();
    let item = claimed(None);
    let id = item.generation.record.id;
    claims(&mut mocks, &item);
    mocks.counter.expect_admit().times(1).returning(|_, _, _| {
        Ok(Admission::Refused {
            until: now() + chrono::Duration::milliseconds(42_300),
        })
    });
    mocks
        .queue
        .expect_release()
        .withf(move |released, owner, not_before, forget| {
            *released == id
                && owner == OWNER
                && *not_before == Some(now() + chrono::Duration::seconds(43))
                && *forget
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    mocks.models.expect_get().times(0);
    mocks.provider.expect_submit().times(0);
    mocks.generations.expect_transition().times(0);
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Ran);
}

#[tokio::test]
async fn a_database_failure_leaves_the_item_to_its_lease() {
    let mut mocks = Mocks::new();
    let item = claimed(None);
    claims(&mut mocks, &item);
    admits(&mut mocks);
    mocks
        .models
        .expect_get()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    // It may have been submitted before the database failed: given back, its next claim
    // would not look for that prediction first.
    mocks.queue.expect_release().times(0);
    mocks.provider.expect_submit().times(0);
    let result = mocks.runner().run_next(OWNER).await;
    assert!(
        matches!(
            result,
            Err(GenerateError::Repository(RepositoryError::Unavailable(_)))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_refused_submit_fails_the_item_in_its_batch_and_the_runner_goes_on() {
    let mut mocks = Mocks::new();
    let item = claimed(None);
    let id = item.generation.record.id;
    claims(&mut mocks, &item);
    admits(&mut mocks);
    mocks.with_model(&sample_model());
    mocks
        .provider
        .expect_submit()
        .times(1)
        .returning(|_| Err(ProviderError::Rejected("NSFW content detected".into())));
    // Failed: its slot or hold given back, shown failed in its batch, retriable.
    mocks
        .generations
        .expect_transition()
        .withf(move |failed, t, _| {
            *failed == id && matches!(t, Transition::Failed { message } if message.contains("NSFW"))
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    // Nothing to give back: the item is no longer queued.
    mocks.queue.expect_release().times(0);
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Ran);
}

#[tokio::test]
async fn a_claimed_item_is_submitted_with_its_batchs_version_and_left_running() {
    let mut mocks = Mocks::new();
    let item = claimed(None);
    let id = item.generation.record.id;
    claims(&mut mocks, &item);
    admits(&mut mocks);
    mocks.with_model(&sample_model());
    mocks
        .provider
        .expect_submit()
        .withf(move |r| {
            r.generation_id == id
                && r.model_ref == "owner/sample"
                && r.model_version.as_deref() == Some("v-batch")
                && r.prompt == "a claimed prompt"
                && !r.wait
        })
        .times(1)
        .returning(|_| {
            Ok(Submission {
                prediction_id: PredictionId::parse("pred-batch").unwrap(),
                state: ProviderState::Starting,
            })
        });
    mocks
        .generations
        .expect_transition()
        .withf(move |processing, t, _| {
            *processing == id
                && matches!(t, Transition::Processing { prediction_id } if prediction_id.as_str() == "pred-batch")
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    let mut running = item.generation.clone();
    running.status = GenerationStatus::Processing;
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(running.clone())));
    mocks.queue.expect_release().times(0);
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Ran);
}

#[tokio::test]
async fn an_item_claimed_again_follows_the_prediction_its_stopped_worker_started() {
    let mut mocks = Mocks::new();
    let began = now() - chrono::Duration::minutes(3);
    let item = claimed(Some(began));
    let id = item.generation.record.id;
    claims(&mut mocks, &item);
    admits(&mut mocks);
    mocks.with_model(&sample_model());
    mocks
        .provider
        .expect_find_submitted()
        .withf(move |generation, since| *generation == id && *since == began)
        .times(1)
        .returning(|_, _| {
            Ok(Some(Submission {
                prediction_id: PredictionId::parse("pred-earlier").unwrap(),
                state: ProviderState::Processing { progress: None },
            }))
        });
    mocks.provider.expect_submit().times(0);
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| {
            matches!(t, Transition::Processing { prediction_id } if prediction_id.as_str() == "pred-earlier")
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    let mut running = item.generation.clone();
    running.status = GenerationStatus::Processing;
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(Some(running.clone())));
    mocks.queue.expect_release().times(0);
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Ran);
}

#[tokio::test]
async fn an_item_whose_earlier_prediction_cannot_be_looked_for_goes_back_still_unsure() {
    let mut mocks = Mocks::new();
    let item = claimed(Some(now() - chrono::Duration::minutes(3)));
    let id = item.generation.record.id;
    claims(&mut mocks, &item);
    admits(&mut mocks);
    mocks.with_model(&sample_model());
    mocks
        .provider
        .expect_find_submitted()
        .times(1)
        .returning(|_, _| Err(ProviderError::Unavailable("503".into())));
    mocks.provider.expect_submit().times(0);
    mocks.generations.expect_transition().times(0);
    // Back in 30 s, without forgetting its earlier claims: the next claim looks again.
    mocks
        .queue
        .expect_release()
        .withf(move |released, owner, not_before, forget| {
            *released == id
                && owner == OWNER
                && *not_before == Some(now() + chrono::Duration::seconds(30))
                && !*forget
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let outcome = mocks.runner().run_next(OWNER).await.unwrap();
    assert_eq!(outcome, RunOutcome::Ran);
}
