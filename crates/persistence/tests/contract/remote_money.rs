//! Paid generations funded by the remote credits service: holds against the remote balance,
//! charges owed after success and settled once, and the history page.

use std::time::Duration;

use picture_domain::ports::{
    ChargeOutcome, CreditAccounts, Funds, GenerationLifecycle, GenerationReads, ReconcilerQueue,
    Refusal, RemoteChargeQueue, Transition,
};
use picture_domain::{
    AccessDecision, Billing, CreditAmount, Enforcement, FreemiumPolicy, GenerationStatus,
    PredictionId, UserId,
};
use picture_persistence::{DieselGenerationRepository, DieselLedger};

use crate::generations::{complete_as_finaliser, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    remote_funds_are_held_against_the_remote_balance_minus_holds_in_flight,
    a_remotely_paid_success_owes_one_charge_which_settles_once,
    a_refused_remote_charge_leaves_the_generation_unpaid,
    a_remotely_paid_failure_releases_the_hold_and_owes_nothing,
    funds_not_fetched_or_unavailable_decide_without_a_balance,
    history_pages_newest_first_with_the_total,
    stale_pending_lists_only_unsubmitted_generations_older_than_the_horizon,
);

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

fn paid_only() -> FreemiumPolicy {
    FreemiumPolicy::new(0, credits(10), Enforcement::Enforce)
}

async fn processing(repo: &DieselGenerationRepository, id: picture_domain::GenerationId) {
    let prediction_id = PredictionId::parse(format!("p-{id}")).unwrap();
    assert!(
        repo.transition(id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
}

async fn remote_funds_are_held_against_the_remote_balance_minus_holds_in_flight(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let remote = Funds::Remote(credits(25));
    for _ in 0..2 {
        let created = repo
            .create(&new_generation("remote", None), &paid_only(), remote)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            created.decision,
            AccessDecision::Paid {
                amount: credits(10)
            }
        );
        assert_eq!(created.balance_after, None);
    }
    let refused = repo
        .create(&new_generation("remote", None), &paid_only(), remote)
        .await
        .unwrap()
        .unwrap_err();
    let Refusal::Insufficient(refused) = refused else {
        panic!("expected insufficient, got {refused:?}");
    };
    assert_eq!(refused.balance, credits(5));
    let account = ledger
        .account(&UserId::parse("remote").unwrap())
        .await
        .unwrap();
    assert_eq!(account.held, credits(20));
    assert_eq!(account.credits.balance, credits(0));
}

async fn a_remotely_paid_success_owes_one_charge_which_settles_once(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let new = new_generation("remote-payer", None);
    repo.create(&new, &paid_only(), Funds::Remote(credits(10)))
        .await
        .unwrap()
        .unwrap();
    processing(&repo, new.id).await;
    let completion = complete_as_finaliser(&repo, new.id, &image_of(&new), None, at(5))
        .await
        .unwrap()
        .unwrap();
    let due = completion.charge.unwrap();
    assert_eq!((due.generation_id, due.amount), (new.id, credits(10)));
    assert!(
        complete_as_finaliser(&repo, new.id, &image_of(&new), None, at(6))
            .await
            .unwrap()
            .is_none()
    );
    let owed = repo.due_charges(at(100), 10).await.unwrap();
    assert_eq!(owed, vec![due.clone()]);
    assert!(repo.due_charges(at(5), 10).await.unwrap().is_empty());
    let done = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(done.credits_used, 0, "not charged yet");
    let account = ledger.account(&due.user_id).await.unwrap();
    assert_eq!(account.held, credits(0));
    assert_eq!(account.credits.total_spent, credits(0));

    assert!(
        repo.settle_charge(new.id, &ChargeOutcome::Charged, at(7))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .settle_charge(new.id, &ChargeOutcome::Charged, at(8))
            .await
            .unwrap()
    );
    assert_eq!(repo.find(new.id).await.unwrap().unwrap().credits_used, 10);
    assert!(repo.due_charges(at(100), 10).await.unwrap().is_empty());
}

async fn a_refused_remote_charge_leaves_the_generation_unpaid(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation("remote-broke", None);
    repo.create(&new, &paid_only(), Funds::Remote(credits(10)))
        .await
        .unwrap()
        .unwrap();
    processing(&repo, new.id).await;
    complete_as_finaliser(&repo, new.id, &image_of(&new), None, at(5))
        .await
        .unwrap()
        .unwrap();
    let refused = ChargeOutcome::Refused {
        reason: "insufficient credits".into(),
    };
    assert!(repo.settle_charge(new.id, &refused, at(6)).await.unwrap());
    assert!(
        !repo
            .settle_charge(new.id, &ChargeOutcome::Charged, at(7))
            .await
            .unwrap()
    );
    assert_eq!(repo.find(new.id).await.unwrap().unwrap().credits_used, 0);
}

async fn a_remotely_paid_failure_releases_the_hold_and_owes_nothing(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let new = new_generation("remote-fail", None);
    repo.create(&new, &paid_only(), Funds::Remote(credits(10)))
        .await
        .unwrap()
        .unwrap();
    processing(&repo, new.id).await;
    let failed = Transition::Failed {
        message: "NSFW".into(),
    };
    assert!(repo.transition(new.id, &failed, at(3)).await.unwrap());
    let account = ledger.account(&new.user_id).await.unwrap();
    assert_eq!(
        (account.held, account.credits.balance),
        (credits(0), credits(0))
    );
    assert!(repo.due_charges(at(100), 10).await.unwrap().is_empty());
}

async fn funds_not_fetched_or_unavailable_decide_without_a_balance(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let one_free = FreemiumPolicy::new(1, credits(10), Enforcement::Enforce);
    let free = repo
        .create(
            &new_generation("lazy", None),
            &one_free,
            Funds::RemoteNotFetched,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(free.generation.billing, Billing::Free);
    let needed = repo
        .create(
            &new_generation("lazy", None),
            &one_free,
            Funds::RemoteNotFetched,
        )
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(needed, Refusal::BalanceNeeded);
    let unbilled = repo
        .create(
            &new_generation("lazy", None),
            &one_free,
            Funds::RemoteUnavailable,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unbilled.decision, AccessDecision::Unbilled);
    assert_eq!(unbilled.generation.billing, Billing::Unbilled);
}

async fn history_pages_newest_first_with_the_total(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let off = FreemiumPolicy::new(3, credits(10), Enforcement::Off);
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut new = new_generation("historian", None);
        new.created_at = at(1_000 + i);
        repo.create(&new, &off, Funds::Local)
            .await
            .unwrap()
            .unwrap();
        ids.push(new.id);
    }
    repo.create(&new_generation("someone-else", None), &off, Funds::Local)
        .await
        .unwrap()
        .unwrap();
    let user = UserId::parse("historian").unwrap();
    let (first, total) = repo.history(&user, 0, 2).await.unwrap();
    assert_eq!(total, 5);
    let first: Vec<_> = first.iter().map(|g| g.record.id).collect();
    assert_eq!(first, vec![ids[4], ids[3]]);
    let (last, _) = repo.history(&user, 4, 2).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].record.id, ids[0]);
    assert_eq!(last[0].status, GenerationStatus::Pending);
    let (beyond, total) = repo.history(&user, 10, 2).await.unwrap();
    assert!(beyond.is_empty());
    assert_eq!(total, 5);
}

async fn stale_pending_lists_only_unsubmitted_generations_older_than_the_horizon(
    db: &TestDatabase,
) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let off = FreemiumPolicy::new(3, credits(10), Enforcement::Off);
    let mut old = new_generation("stuck", None);
    old.created_at = at(1_000);
    let mut submitted = new_generation("stuck", None);
    submitted.created_at = at(1_000);
    let mut young = new_generation("stuck", None);
    young.created_at = at(50_000);
    for new in [&old, &submitted, &young] {
        repo.create(new, &off, Funds::Local).await.unwrap().unwrap();
    }
    processing(&repo, submitted.id).await;
    let stale = repo
        .stale_pending(at(10_000), at(10_000), Duration::from_secs(30), 10)
        .await
        .unwrap();
    let ids: Vec<_> = stale.iter().map(|g| g.record.id).collect();
    assert_eq!(ids, vec![old.id]);
}
