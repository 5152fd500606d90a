//! Money on every path — free, paid from the local ledger, paid from the remote credits
//! service — × sync / async × success / failure / cancel, with a generation repository mock
//! that keeps the one generation's state, so the pipeline's calls are checked in sequence.

use std::sync::Mutex;

use super::*;
use crate::ports::{
    ChargeOutcome, Completion, CreditAccount, CreditBalance, DueCharge, FetchedImage, ImageSource,
    LeaseToken, LedgerError, Refusal,
};

/// Who pays.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Payer {
    Free,
    Local,
    Remote,
}

type Shared = Arc<Mutex<Option<Generation>>>;

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

fn success() -> ProviderState {
    ProviderState::Succeeded {
        outputs: vec![ImageSource::Url(
            "https://replicate.delivery/out.png".into(),
        )],
        predict_time: Some(Duration::from_secs(2)),
    }
}

fn failure() -> ProviderState {
    ProviderState::Failed {
        message: "NSFW content detected".into(),
    }
}

fn prediction() -> PredictionId {
    PredictionId::parse("pred-1").unwrap()
}

fn image_for(new: &crate::image::NewImage) -> Image {
    Image {
        record: new.clone(),
        source_image_id: None,
        download_count: 0,
        rating: None,
        is_public: false,
        is_favorite: false,
        archived_at: None,
        updated_at: new.created_at,
    }
}

/// Mocks for one generation paid by `payer`, whose provider answers `submitted` to the submit.
/// `completions` and `charges` are how many times the repository may complete it and the
/// remote service may be charged.
fn scenario(payer: Payer, submitted: ProviderState, completions: usize) -> (Mocks, Shared) {
    let mut mocks = Mocks::new();
    let state: Shared = Arc::default();
    mocks.with_model();
    let expected_funds = match payer {
        Payer::Free | Payer::Local => Funds::Local,
        Payer::Remote => Funds::Remote(credits(25)),
    };
    if payer == Payer::Remote {
        mocks.with_free_used(3);
        let mut remote = MockCreditLedger::new();
        remote.expect_balance().times(1).returning(|_| {
            Ok(CreditBalance {
                balance: credits(25),
                ..CreditBalance::default()
            })
        });
        mocks.remote = Some(remote);
    }
    let (decision, billing) = match payer {
        Payer::Free => (AccessDecision::Free { remaining_after: 2 }, Billing::Free),
        Payer::Local | Payer::Remote => (
            AccessDecision::Paid {
                amount: credits(10),
            },
            Billing::Paid,
        ),
    };
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_create()
        .times(1)
        .withf(move |_, _, funds| *funds == expected_funds)
        .returning(move |new, _, _| {
            let mut generation = generation_for(new);
            generation.billing = billing;
            *s.lock().unwrap() = Some(generation.clone());
            Ok(Ok(Created {
                generation,
                decision,
                free_generations_remaining: if payer == Payer::Free { 2 } else { 0 },
                balance_after: None,
            }))
        });
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_find()
        .returning(move |_| Ok(s.lock().unwrap().clone()));
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_find_for_user()
        .returning(move |_, _| Ok(s.lock().unwrap().clone()));
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_find_by_prediction()
        .returning(move |_| Ok(s.lock().unwrap().clone()));
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_transition()
        .returning(move |_, transition, _| {
            let mut guard = s.lock().unwrap();
            let generation = guard.as_mut().unwrap();
            if !generation.status.can_move_to(transition.target()) {
                return Ok(false);
            }
            generation.status = transition.target();
            if let Transition::Processing { prediction_id } = transition {
                generation.prediction_id = Some(prediction_id.clone());
            }
            Ok(true)
        });
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_claim_finalization()
        .returning(move |_, _, _| {
            Ok(
                (s.lock().unwrap().as_ref().unwrap().status == GenerationStatus::Processing)
                    .then(LeaseToken::new_random),
            )
        });
    let s = Arc::clone(&state);
    mocks
        .generations
        .expect_complete()
        .times(completions)
        .returning(move |id, _, image, _, _| {
            let mut guard = s.lock().unwrap();
            let generation = guard.as_mut().unwrap();
            if !generation.status.can_move_to(GenerationStatus::Completed) {
                return Ok(None);
            }
            generation.status = GenerationStatus::Completed;
            if payer == Payer::Local {
                generation.credits_used = 10;
            }
            let charge = (payer == Payer::Remote).then(|| DueCharge {
                generation_id: id,
                user_id: user(),
                amount: credits(10),
            });
            Ok(Some(Completion {
                generation: generation.clone(),
                image: image_for(image),
                charge,
            }))
        });
    mocks
        .generations
        .expect_release_claim()
        .returning(|_, _| Ok(()));
    mocks
        .images
        .expect_find_for_generation()
        .returning(|_| Ok(None));
    mocks.fetcher.expect_fetch().returning(|_| {
        Ok(FetchedImage {
            bytes: vec![1, 2, 3],
            extension: "png",
            content_type: "image/png",
            width: 1,
            height: 1,
        })
    });
    mocks.store.expect_put().returning(|_, _, _| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| format!("http://files/{}", key.as_str()));
    mocks.provider.expect_submit().times(1).returning(move |_| {
        Ok(crate::ports::Submission {
            prediction_id: prediction(),
            state: submitted.clone(),
        })
    });
    (mocks, state)
}

/// Expects exactly `times` charges of the remote service, each settled as charged.
fn expect_remote_charges(mocks: &mut Mocks, times: usize) {
    let remote = mocks.remote.as_mut().unwrap();
    remote
        .expect_charge()
        .times(times)
        .withf(|charge| charge.amount == credits(10) && charge.user == user())
        .returning(|_| Ok(()));
    mocks
        .generations
        .expect_settle_charge()
        .times(times)
        .withf(|_, outcome, _| *outcome == ChargeOutcome::Charged)
        .returning(|_, _, _| Ok(true));
}

fn status_of(state: &Shared) -> GenerationStatus {
    state.lock().unwrap().as_ref().unwrap().status
}

fn sync_request() -> GenerationRequest {
    let mut request = request(&sample_model());
    request.wait_for_result = true;
    request
}

#[tokio::test]
async fn sync_success_completes_once_and_charges_only_the_remote_payer() {
    for payer in [Payer::Free, Payer::Local, Payer::Remote] {
        let (mut mocks, state) = scenario(payer, success(), 1);
        if payer == Payer::Remote {
            expect_remote_charges(&mut mocks, 1);
        }
        let started = mocks
            .service()
            .start
            .start(&user(), sync_request())
            .await
            .unwrap();
        assert_eq!(status_of(&state), GenerationStatus::Completed, "{payer:?}");
        // The answer is the generation as completed, not an earlier state.
        assert_eq!(
            started.view.generation.status,
            GenerationStatus::Completed,
            "{payer:?}"
        );
        let expected_free = if payer == Payer::Free { 2 } else { 0 };
        assert_eq!(started.free_generations_remaining, expected_free);
    }
}

#[tokio::test]
async fn async_success_is_completed_and_charged_by_the_webhook_only_once() {
    for payer in [Payer::Free, Payer::Local, Payer::Remote] {
        let (mut mocks, state) = scenario(payer, ProviderState::Starting, 1);
        if payer == Payer::Remote {
            expect_remote_charges(&mut mocks, 1);
        }
        let service = mocks.service();
        let started = service
            .start
            .start(&user(), request(&sample_model()))
            .await
            .unwrap();
        assert_eq!(started.view.generation.status, GenerationStatus::Processing);
        for _ in 0..3 {
            let applied = service
                .finalize
                .on_provider_report(
                    &crate::ProviderName::REPLICATE,
                    &prediction(),
                    success(),
                    None,
                )
                .await
                .unwrap();
            assert!(applied.is_some());
        }
        assert_eq!(status_of(&state), GenerationStatus::Completed, "{payer:?}");
    }
}

#[tokio::test]
async fn failures_sync_or_async_complete_nothing_and_charge_nothing() {
    for payer in [Payer::Free, Payer::Local, Payer::Remote] {
        let (mut mocks, state) = scenario(payer, failure(), 0);
        if payer == Payer::Remote {
            expect_remote_charges(&mut mocks, 0);
        }
        mocks
            .service()
            .start
            .start(&user(), sync_request())
            .await
            .unwrap();
        assert_eq!(status_of(&state), GenerationStatus::Failed, "{payer:?}");

        let (mut mocks, state) = scenario(payer, ProviderState::Starting, 0);
        if payer == Payer::Remote {
            expect_remote_charges(&mut mocks, 0);
        }
        let service = mocks.service();
        service
            .start
            .start(&user(), request(&sample_model()))
            .await
            .unwrap();
        service
            .finalize
            .on_provider_report(
                &crate::ProviderName::REPLICATE,
                &prediction(),
                failure(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status_of(&state), GenerationStatus::Failed, "{payer:?}");
    }
}

#[tokio::test]
async fn cancel_charges_nothing_and_a_late_success_changes_nothing() {
    for payer in [Payer::Free, Payer::Local, Payer::Remote] {
        let (mut mocks, state) = scenario(payer, ProviderState::Starting, 0);
        if payer == Payer::Remote {
            expect_remote_charges(&mut mocks, 0);
        }
        mocks
            .provider
            .expect_cancel()
            .times(1)
            .returning(|_| Ok(()));
        let service = mocks.service();
        let started = service
            .start
            .start(&user(), request(&sample_model()))
            .await
            .unwrap();
        let id = started.view.generation.record.id;
        assert!(service.cancel.cancel(&user(), id).await.unwrap());
        assert_eq!(status_of(&state), GenerationStatus::Cancelled);
        service
            .finalize
            .on_provider_report(
                &crate::ProviderName::REPLICATE,
                &prediction(),
                success(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(status_of(&state), GenerationStatus::Cancelled, "{payer:?}");
    }
}

/// Mocks of a user without free slots whose remote balance cannot be read.
fn unreachable_remote(fail_open: bool) -> Mocks {
    let mut mocks = Mocks::new();
    mocks.with_model();
    mocks.with_free_used(3);
    let mut remote = MockCreditLedger::new();
    remote
        .expect_balance()
        .returning(|_| Err(LedgerError::Unavailable("connection refused".into())));
    mocks.remote = Some(remote);
    mocks.fail_open = fail_open;
    mocks
}

#[tokio::test]
async fn an_unreachable_credits_service_refuses_and_records_nothing() {
    let mut mocks = unreachable_remote(false);
    mocks.generations.expect_create().times(0);
    mocks.provider.expect_submit().times(0);
    let result = mocks
        .service()
        .start
        .start(&user(), request(&sample_model()))
        .await;
    assert!(matches!(result, Err(GenerateError::CreditsUnavailable)));
}

#[tokio::test]
async fn fail_open_decides_with_the_remote_marked_unavailable() {
    let mut mocks = unreachable_remote(true);
    mocks
        .generations
        .expect_create()
        .times(1)
        .withf(|_, _, funds| *funds == Funds::RemoteUnavailable)
        .returning(|_, _, _| {
            Ok(Err(Refusal::Insufficient(InsufficientCredits {
                required: credits(10),
                balance: CreditAmount::ZERO,
                free_generations_remaining: 0,
            })))
        });
    let result = mocks
        .service()
        .start
        .start(&user(), request(&sample_model()))
        .await;
    assert!(matches!(result, Err(GenerateError::Insufficient(_))));
}

#[tokio::test]
async fn a_free_slot_taken_meanwhile_makes_the_pipeline_ask_for_the_remote_balance() {
    let mut mocks = Mocks::new();
    mocks.with_model();
    mocks.accounts.expect_account().times(1).returning(|_| {
        Ok(CreditAccount {
            free_generations_used: 2,
            ..CreditAccount::default()
        })
    });
    let mut remote = MockCreditLedger::new();
    remote.expect_balance().times(1).returning(|_| {
        Ok(CreditBalance {
            balance: credits(3),
            ..CreditBalance::default()
        })
    });
    mocks.remote = Some(remote);
    let mut calls = 0;
    mocks
        .generations
        .expect_create()
        .times(2)
        .returning(move |_, _, funds| {
            calls += 1;
            match (calls, funds) {
                (1, Funds::RemoteNotFetched) => Ok(Err(Refusal::BalanceNeeded)),
                (2, Funds::Remote(balance)) => {
                    Ok(Err(Refusal::Insufficient(InsufficientCredits {
                        required: credits(10),
                        balance,
                        free_generations_remaining: 0,
                    })))
                }
                other => panic!("unexpected create {other:?}"),
            }
        });
    let result = mocks
        .service()
        .start
        .start(&user(), request(&sample_model()))
        .await;
    assert!(
        matches!(result, Err(GenerateError::Insufficient(refusal)) if refusal.balance == credits(3))
    );
}

fn due() -> DueCharge {
    DueCharge {
        generation_id: GenerationId::new_random(),
        user_id: user(),
        amount: credits(10),
    }
}

#[tokio::test]
async fn an_unknown_charge_outcome_stays_due_until_the_reconciler_charges_it() {
    let mut mocks = Mocks::new();
    let owed = due();
    let mut remote = MockCreditLedger::new();
    let mut attempts = 0;
    remote.expect_charge().times(2).returning(move |charge| {
        attempts += 1;
        assert_eq!(charge.generation, owed.generation_id);
        if attempts == 1 {
            Err(LedgerError::Unavailable("timeout".into()))
        } else {
            Ok(())
        }
    });
    mocks.remote = Some(remote);
    let listed = owed.clone();
    mocks
        .generations
        .expect_stale_processing()
        .returning(|_, _, _, _| Ok(Vec::new()));
    mocks
        .generations
        .expect_stale_pending()
        .returning(|_, _, _, _| Ok(Vec::new()));
    mocks
        .generations
        .expect_due_charges()
        .times(1)
        .returning(move |_, _| Ok(vec![listed.clone()]));
    mocks
        .generations
        .expect_settle_charge()
        .times(1)
        .withf(|_, outcome, _| *outcome == ChargeOutcome::Charged)
        .returning(|_, _, _| Ok(true));
    let service = mocks.service();
    assert_eq!(service.credits.collect(&owed).await.unwrap(), None);
    service
        .reconcile
        .reconcile(Duration::ZERO, 10)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_charge_is_recorded_as_unpaid_and_not_retried() {
    let mut mocks = Mocks::new();
    let mut remote = MockCreditLedger::new();
    remote.expect_charge().times(1).returning(|_| {
        Err(LedgerError::Insufficient {
            available: Some(credits(2)),
        })
    });
    mocks.remote = Some(remote);
    mocks
        .generations
        .expect_settle_charge()
        .times(1)
        .withf(|_, outcome, _| matches!(outcome, ChargeOutcome::Refused { .. }))
        .returning(|_, _, _| Ok(true));
    let service = mocks.service();
    let outcome = service.credits.collect(&due()).await.unwrap();
    assert!(matches!(outcome, Some(ChargeOutcome::Refused { .. })));
}

#[tokio::test]
async fn the_reconciler_fails_a_generation_its_server_never_submitted_and_gives_access_back() {
    for payer in [Payer::Free, Payer::Local, Payer::Remote] {
        let mut mocks = Mocks::new();
        let mut stuck = generation_for(&NewGeneration {
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
            created_at: chrono::DateTime::UNIX_EPOCH,
        });
        stuck.billing = if payer == Payer::Free {
            Billing::Free
        } else {
            Billing::Paid
        };
        let id = stuck.record.id;
        mocks
            .generations
            .expect_stale_processing()
            .returning(|_, _, _, _| Ok(Vec::new()));
        let listed = stuck.clone();
        mocks
            .generations
            .expect_stale_pending()
            .withf(|older_than, _, _, _| {
                *older_than == chrono::DateTime::UNIX_EPOCH - chrono::Duration::minutes(10)
            })
            .returning(move |_, _, _, _| Ok(vec![listed.clone()]));
        mocks
            .generations
            .expect_transition()
            .withf(move |moved, t, _| *moved == id && matches!(t, Transition::Failed { .. }))
            .times(1)
            .returning(|_, _, _| Ok(true));
        mocks
            .generations
            .expect_find()
            .returning(move |_| Ok(Some(stuck.clone())));
        mocks.provider.expect_submit().times(0);
        if payer == Payer::Remote {
            let mut remote = MockCreditLedger::new();
            remote.expect_charge().times(0);
            mocks.remote = Some(remote);
            mocks
                .generations
                .expect_due_charges()
                .returning(|_, _| Ok(Vec::new()));
        }
        let finished = mocks
            .service()
            .reconcile
            .reconcile(Duration::ZERO, 10)
            .await
            .unwrap();
        assert_eq!(finished, 1, "{payer:?}");
    }
}
