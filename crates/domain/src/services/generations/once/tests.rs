//! Unit tests of `start_once` with a mocked idempotency store.

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;

use super::super::tests::{Mocks, generation_for, request, user};
use super::*;
use crate::freemium::AccessDecision;
use crate::generation::GenerationStatus;
use crate::ids::PredictionId;
use crate::model::tests::sample_model;
use crate::ports::{Created, ProviderState, Submission, Transition};
use crate::{CreditAmount, RepositoryError};

fn key(hash: &str) -> IdempotencyKey {
    IdempotencyKey {
        key: "k-1".into(),
        request_hash: hash.into(),
    }
}

fn answer() -> RecordedResponse {
    RecordedResponse {
        status: 201,
        body: br#"{"generationId":"g","status":"processing","creditBalance":20}"#.to_vec(),
    }
}

/// The store already holds `k-1` for a body hashed `hash`, answered with `response`.
fn existing(mocks: &mut Mocks, hash: &'static str, response: Option<RecordedResponse>) {
    mocks
        .idempotency
        .expect_claim()
        .times(1)
        .returning(move |_, _, _, _, _, _| {
            Ok(IdempotencyClaim::Existing {
                request_hash: hash.into(),
                response: response.clone(),
            })
        });
    mocks.models.expect_get().times(0);
    mocks.generations.expect_create().times(0);
    mocks.idempotency.expect_forget().times(0);
}

#[tokio::test]
async fn a_retry_replays_the_recorded_answer_and_starts_nothing() {
    let mut mocks = Mocks::new();
    existing(&mut mocks, "h", Some(answer()));
    let model = sample_model();
    let outcome = mocks
        .service()
        .start
        .start_once(&user(), request(&model), &key("h"))
        .await
        .unwrap();
    assert_eq!(outcome, KeyedStart::Replay(answer()));
}

#[tokio::test]
async fn a_retry_before_the_first_answer_is_recorded_is_in_progress() {
    let mut mocks = Mocks::new();
    existing(&mut mocks, "h", None);
    let result = mocks
        .service()
        .start
        .start_once(&user(), request(&sample_model()), &key("h"))
        .await;
    assert!(matches!(result, Err(GenerateError::IdempotencyInProgress)));
}

#[tokio::test]
async fn another_body_is_a_mismatch_even_once_answered() {
    for response in [None, Some(answer())] {
        let mut mocks = Mocks::new();
        existing(&mut mocks, "first body", response);
        let result = mocks
            .service()
            .start
            .start_once(&user(), request(&sample_model()), &key("other body"))
            .await;
        assert!(matches!(result, Err(GenerateError::IdempotencyMismatch)));
    }
}

#[tokio::test]
async fn a_claim_treats_keys_older_than_the_time_to_live_as_expired() {
    let mut mocks = Mocks::new();
    mocks
        .idempotency
        .expect_claim()
        .withf(|_, key, hash, _, at, expired_before| {
            key == "k-1"
                && hash == "h"
                && *at == DateTime::UNIX_EPOCH
                && *at - *expired_before == chrono::Duration::hours(24)
        })
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(IdempotencyClaim::New));
    mocks.models.expect_get().returning(|_| Ok(None));
    mocks.idempotency.expect_forget().returning(|_, _| Ok(()));
    let result = mocks
        .service()
        .start
        .start_once(&user(), request(&sample_model()), &key("h"))
        .await;
    assert!(matches!(result, Err(GenerateError::ModelNotFound)));
}

#[tokio::test]
async fn a_refused_start_releases_its_key_and_records_no_answer() {
    let mut mocks = Mocks::new();
    mocks
        .idempotency
        .expect_claim()
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(IdempotencyClaim::New));
    mocks.models.expect_get().times(1).returning(|_| Ok(None));
    mocks
        .idempotency
        .expect_forget()
        .withf(|user, key| user.as_str() == "u" && key == "k-1")
        .times(1)
        .returning(|_, _| Ok(()));
    mocks.idempotency.expect_record().times(0);
    let result = mocks
        .service()
        .start
        .start_once(&user(), request(&sample_model()), &key("h"))
        .await;
    assert!(matches!(result, Err(GenerateError::ModelNotFound)));
}

#[tokio::test]
async fn a_new_key_starts_the_generation_and_its_answer_is_recorded_as_given() {
    let mut mocks = Mocks::new();
    let model = sample_model();
    mocks.with_model();
    mocks
        .idempotency
        .expect_claim()
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(IdempotencyClaim::New));
    let claimed: Arc<std::sync::Mutex<Option<GenerationId>>> = Arc::default();
    let seen = Arc::clone(&claimed);
    mocks
        .generations
        .expect_create()
        .times(1)
        .returning(move |new, _, _| {
            *seen.lock().unwrap() = Some(new.id);
            Ok(Ok(Created {
                generation: generation_for(new),
                decision: AccessDecision::Free { remaining_after: 2 },
                free_generations_remaining: 2,
                balance_after: Some(CreditAmount::new(20).unwrap()),
            }))
        });
    mocks.provider.expect_submit().times(1).returning(|_| {
        Ok(Submission {
            prediction_id: PredictionId::parse("pred-once").unwrap(),
            state: ProviderState::Starting,
        })
    });
    mocks
        .generations
        .expect_transition()
        .withf(|_, t, _| matches!(t, Transition::Processing { .. }))
        .returning(|_, _, _| Ok(true));
    mocks.idempotency.expect_forget().times(0);
    mocks
        .idempotency
        .expect_record()
        .withf(|user, key, response| user.as_str() == "u" && key == "k-1" && *response == answer())
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = mocks.service();
    let key = key("h");
    let KeyedStart::First(started) = service
        .start
        .start_once(&user(), request(&model), &key)
        .await
        .unwrap()
    else {
        panic!("a new key starts a generation");
    };
    assert_eq!(started.view.generation.status, GenerationStatus::Processing);
    assert_eq!(
        Some(started.view.generation.record.id),
        *claimed.lock().unwrap()
    );
    assert_eq!(started.credit_balance, Some(CreditAmount::new(20).unwrap()));
    service.start.record_answer(&user(), &key, &answer()).await;
}

#[tokio::test]
async fn an_answer_that_cannot_be_recorded_is_logged_not_returned() {
    let mut mocks = Mocks::new();
    mocks
        .idempotency
        .expect_record()
        .times(1)
        .returning(|_, _, _| Err(RepositoryError::Unavailable("down".into())));
    mocks
        .service()
        .start
        .record_answer(&user(), &key("h"), &answer())
        .await;
}

#[tokio::test]
async fn purging_deletes_what_is_older_than_the_time_to_live_in_bounded_batches() {
    let mut mocks = Mocks::new();
    mocks
        .idempotency
        .expect_purge_expired()
        .withf(|before, limit| {
            DateTime::UNIX_EPOCH - *before == chrono::Duration::hours(24) && *limit == 50
        })
        .times(1)
        .returning(|_, _| Ok(3));
    assert_eq!(
        mocks
            .service()
            .reconcile
            .purge_expired_keys(50)
            .await
            .unwrap(),
        3
    );
}

#[test]
fn an_enormous_time_to_live_never_overflows() {
    let horizon = expiry_horizon(DateTime::UNIX_EPOCH, Duration::from_secs(u64::MAX));
    assert_eq!(horizon, DateTime::<chrono::Utc>::MIN_UTC);
}
