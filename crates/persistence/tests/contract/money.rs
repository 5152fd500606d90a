//! The free tier and the local credit ledger move with the generation lifecycle.

use std::sync::Arc;

use picture_domain::ports::{
    CreditAccounts, Funds, GenerationLifecycle, GenerationReads, Grant, Refusal, Transition,
};
use picture_domain::{
    AccessDecision, Billing, CreditAmount, Enforcement, FreemiumPolicy, PredictionId, UserId,
};
use picture_persistence::{DieselGenerationRepository, DieselLedger};

use crate::generations::{complete_as_finaliser, image_of, new_generation, off};
use crate::{TestDatabase, at};

contract!(
    free_generations_count_down_and_then_are_unbilled_when_not_enforced,
    enforcement_refuses_without_credits_and_holds_the_price_with_them,
    success_captures_the_hold_exactly_once,
    failure_and_cancel_give_back_the_slot_and_the_hold,
    racing_requests_cannot_spend_the_same_slot_or_credits_twice,
    grants_are_idempotent,
);

fn enforce() -> FreemiumPolicy {
    FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce)
}

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

async fn grant(db: &TestDatabase, user: &str, amount: i64, key: &str) {
    let ledger = DieselLedger::new(db.database.clone());
    let user = UserId::parse(user).unwrap();
    assert!(
        ledger
            .grant(&grant_of(&user, amount, key), at(0))
            .await
            .unwrap()
            .applied
    );
}

fn grant_of(user: &UserId, amount: i64, key: &str) -> Grant {
    Grant {
        user: user.clone(),
        amount: credits(amount),
        reason: "test".into(),
        idempotency_key: key.into(),
    }
}

async fn processing(repo: &DieselGenerationRepository, id: picture_domain::GenerationId) {
    let prediction_id = PredictionId::parse(format!("p-{id}")).unwrap();
    assert!(
        repo.transition(id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
}

async fn free_generations_count_down_and_then_are_unbilled_when_not_enforced(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let mut seen = Vec::new();
    for _ in 0..5 {
        let created = repo
            .create(&new_generation("dev", None), &off(), Funds::Local)
            .await
            .unwrap()
            .unwrap();
        seen.push((
            created.decision,
            created.free_generations_remaining,
            created.generation.billing,
        ));
    }
    assert_eq!(
        seen,
        [
            (
                AccessDecision::Free { remaining_after: 2 },
                2,
                Billing::Free
            ),
            (
                AccessDecision::Free { remaining_after: 1 },
                1,
                Billing::Free
            ),
            (
                AccessDecision::Free { remaining_after: 0 },
                0,
                Billing::Free
            ),
            (AccessDecision::Unbilled, 0, Billing::Unbilled),
            (AccessDecision::Unbilled, 0, Billing::Unbilled),
        ]
    );
}

async fn enforcement_refuses_without_credits_and_holds_the_price_with_them(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let user = UserId::parse("staging-user").unwrap();
    for _ in 0..3 {
        repo.create(
            &new_generation("staging-user", None),
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap()
        .unwrap();
    }
    let refused = repo
        .create(
            &new_generation("staging-user", None),
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap()
        .unwrap_err();
    let Refusal::Insufficient(refused) = refused else {
        panic!("expected insufficient credits, got {refused:?}");
    };
    assert_eq!(
        (refused.required, refused.balance),
        (credits(10), credits(0))
    );
    grant(db, "staging-user", 15, "welcome").await;
    let paid = repo
        .create(
            &new_generation("staging-user", None),
            &enforce(),
            Funds::Local,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        paid.decision,
        AccessDecision::Paid {
            amount: credits(10)
        }
    );
    assert_eq!(paid.generation.billing, Billing::Paid);
    let account = ledger.account(&user).await.unwrap();
    assert_eq!(account.credits.balance, credits(5));
    assert_eq!(account.held, credits(10));
    assert_eq!(account.free_generations_used, 3);
    assert!(
        repo.create(
            &new_generation("staging-user", None),
            &enforce(),
            Funds::Local
        )
        .await
        .unwrap()
        .is_err()
    );
}

async fn success_captures_the_hold_exactly_once(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let user = UserId::parse("payer").unwrap();
    let zero_free = FreemiumPolicy::new(0, credits(10), Enforcement::Enforce);
    grant(db, "payer", 30, "g1").await;
    let new = new_generation("payer", None);
    repo.create(&new, &zero_free, Funds::Local)
        .await
        .unwrap()
        .unwrap();
    processing(&repo, new.id).await;
    for _ in 0..3 {
        complete_as_finaliser(&repo, new.id, &image_of(&new), None, at(5))
            .await
            .unwrap();
    }
    let done = repo.find(new.id).await.unwrap().unwrap();
    assert_eq!(done.credits_used, 10);
    let account = ledger.account(&user).await.unwrap();
    assert_eq!(account.credits.balance, credits(20));
    assert_eq!(account.held, credits(0));
    assert_eq!(account.credits.total_spent, credits(10));
    assert_eq!(account.credits.total_earned, credits(30));
    // A late failure after success changes nothing.
    let failed = Transition::Failed {
        message: "late".into(),
    };
    assert!(!repo.transition(new.id, &failed, at(6)).await.unwrap());
    assert_eq!(ledger.account(&user).await.unwrap(), account);
}

async fn failure_and_cancel_give_back_the_slot_and_the_hold(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let user = UserId::parse("unlucky").unwrap();
    let free = new_generation("unlucky", None);
    repo.create(&free, &enforce(), Funds::Local)
        .await
        .unwrap()
        .unwrap();
    processing(&repo, free.id).await;
    let failed = Transition::Failed {
        message: "All generated images contained NSFW content.".into(),
    };
    assert!(repo.transition(free.id, &failed, at(2)).await.unwrap());
    assert!(!repo.transition(free.id, &failed, at(3)).await.unwrap());
    assert_eq!(
        ledger.account(&user).await.unwrap().free_generations_used,
        0
    );

    let zero_free = FreemiumPolicy::new(0, credits(10), Enforcement::Enforce);
    grant(db, "unlucky", 10, "g").await;
    let paid = new_generation("unlucky", None);
    repo.create(&paid, &zero_free, Funds::Local)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ledger.account(&user).await.unwrap().credits.balance,
        credits(0)
    );
    let cancel = Transition::Cancelled {
        message: "Cancelled by user".into(),
    };
    assert!(repo.transition(paid.id, &cancel, at(4)).await.unwrap());
    assert!(!repo.transition(paid.id, &cancel, at(5)).await.unwrap());
    let account = ledger.account(&user).await.unwrap();
    assert_eq!(account.credits.balance, credits(10));
    assert_eq!(account.held, credits(0));
    assert_eq!(account.credits.total_spent, credits(0));
    assert_eq!(repo.find(paid.id).await.unwrap().unwrap().credits_used, 0);
}

async fn racing_requests_cannot_spend_the_same_slot_or_credits_twice(db: &TestDatabase) {
    let repo = Arc::new(DieselGenerationRepository::new(db.database.clone()));
    grant(db, "racer", 25, "g").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let repo = Arc::clone(&repo);
            tokio::spawn(async move {
                repo.create(&new_generation("racer", None), &enforce(), Funds::Local)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut free, mut paid, mut refused) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(created) if created.generation.billing == Billing::Free => free += 1,
            Ok(_) => paid += 1,
            Err(_) => refused += 1,
        }
    }
    assert_eq!((free, paid, refused), (3, 2, 15));
    let account = DieselLedger::new(db.database.clone())
        .account(&UserId::parse("racer").unwrap())
        .await
        .unwrap();
    assert_eq!(account.credits.balance, credits(5));
    assert_eq!(account.held, credits(20));
}

async fn grants_are_idempotent(db: &TestDatabase) {
    let ledger = DieselLedger::new(db.database.clone());
    let user = UserId::parse("granted").unwrap();
    let first = ledger
        .grant(&grant_of(&user, 50, "order-1"), at(0))
        .await
        .unwrap();
    assert!(first.applied);
    assert_eq!(first.account.credits.balance, credits(50));
    let repeated = ledger
        .grant(&grant_of(&user, 50, "order-1"), at(1))
        .await
        .unwrap();
    assert!(!repeated.applied);
    assert_eq!(repeated.account.credits.balance, credits(50));
    assert!(
        ledger
            .grant(&grant_of(&user, 5, "order-2"), at(2))
            .await
            .unwrap()
            .applied
    );
    let account = ledger.account(&user).await.unwrap();
    assert_eq!(account.credits.balance, credits(55));
    assert_eq!(account.credits.total_earned, credits(55));
    let stranger = ledger
        .account(&UserId::parse("nobody").unwrap())
        .await
        .unwrap();
    assert_eq!(stranger.credits.balance, credits(0));
}
