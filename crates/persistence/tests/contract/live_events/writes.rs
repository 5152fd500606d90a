//! Every change writes its events in its own transaction: one per change, none when it rolls
//! back.

use picture_domain::ports::{CreditAccounts, Funds, GenerationLifecycle, Grant, Transition};
use picture_domain::{CreditAmount, EventSeq, GenerationStatus, PredictionId};
use picture_persistence::{DieselGenerationRepository, DieselLedger};

use super::{Seen, assert_increasing, events_after, events_of, paid, user};
use crate::generations::{complete_as_finaliser, image_of, new_generation};
use crate::{TestDatabase, at};

contract!(
    each_change_writes_its_events_numbered_in_order_for_its_user_only,
    a_rolled_back_change_writes_no_event,
);

/// Records what happens since the last step, and checks it.
struct Steps<'a> {
    db: &'a TestDatabase,
    owner: &'static str,
    seen: EventSeq,
}

impl Steps<'_> {
    /// Asserts the events since the last step are `expected` (in any order within the step:
    /// one transaction's events are numbered in the order it wrote them).
    async fn expect(&mut self, step: &str, mut expected: Vec<Seen>) {
        let events = events_after(self.db, self.owner, self.seen).await;
        if let Some(last) = events.last() {
            self.seen = last.seq;
        }
        let mut seen: Vec<Seen> = events.iter().map(Seen::of).collect();
        seen.sort_by_key(|s| format!("{s:?}"));
        expected.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(seen, expected, "{step}");
    }
}

fn grant(owner: &str, amount: i64, key: &str) -> Grant {
    Grant {
        user: user(owner),
        amount: CreditAmount::new(amount).unwrap(),
        reason: "test".into(),
        idempotency_key: key.into(),
    }
}

async fn each_change_writes_its_events_numbered_in_order_for_its_user_only(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let ledger = DieselLedger::new(db.database.clone());
    let mut steps = Steps {
        db,
        owner: "alice",
        seen: EventSeq::START,
    };
    use GenerationStatus::{Cancelled, Completed, Failed, Pending, Processing};
    let gen_event = |id, status| Seen::Generation(id, status, None);

    ledger
        .grant(&grant("alice", 100, "g1"), at(1))
        .await
        .unwrap();
    // A new account: its row is created (one event), then credited (one more).
    steps
        .expect("first grant", vec![Seen::Credits, Seen::Credits])
        .await;
    ledger.grant(&grant("alice", 5, "g2"), at(2)).await.unwrap();
    steps.expect("grant", vec![Seen::Credits]).await;
    ledger.grant(&grant("alice", 5, "g2"), at(3)).await.unwrap();
    steps.expect("a repeated grant", vec![]).await;

    let done = new_generation("alice", None);
    repo.create(&done, &paid(), Funds::Local)
        .await
        .unwrap()
        .unwrap();
    steps
        .expect(
            "create (and hold)",
            vec![gen_event(done.id, Pending), Seen::Credits],
        )
        .await;
    let prediction_id = PredictionId::parse("p-done").unwrap();
    assert!(
        repo.transition(done.id, &Transition::Processing { prediction_id }, at(4))
            .await
            .unwrap()
    );
    steps
        .expect("processing", vec![gen_event(done.id, Processing)])
        .await;
    complete_as_finaliser(&repo, done.id, &image_of(&done), Some(3), at(5))
        .await
        .unwrap()
        .unwrap();
    steps
        .expect(
            "complete (and capture)",
            vec![gen_event(done.id, Completed), Seen::Credits],
        )
        .await;

    for (name, transition, status) in [
        (
            "fail (and release)",
            Transition::Failed {
                message: "NSFW".into(),
            },
            Failed,
        ),
        (
            "cancel (and release)",
            Transition::Cancelled {
                message: "Cancelled by user".into(),
            },
            Cancelled,
        ),
    ] {
        let new = new_generation("alice", None);
        repo.create(&new, &paid(), Funds::Local)
            .await
            .unwrap()
            .unwrap();
        steps
            .expect("create", vec![gen_event(new.id, Pending), Seen::Credits])
            .await;
        assert!(repo.transition(new.id, &transition, at(6)).await.unwrap());
        steps
            .expect(name, vec![gen_event(new.id, status), Seen::Credits])
            .await;
        assert!(!repo.transition(new.id, &transition, at(7)).await.unwrap());
        steps.expect("a refused move", vec![]).await;
    }

    ledger.grant(&grant("bob", 7, "b1"), at(8)).await.unwrap();
    let alice = events_of(db, "alice").await;
    assert_eq!(alice.len(), 16);
    assert_increasing(&alice);
    assert!(alice.iter().all(|e| e.user == user("alice")));
    let bob = events_of(db, "bob").await;
    assert_eq!(
        bob.iter().map(Seen::of).collect::<Vec<_>>(),
        [Seen::Credits; 2]
    );
    assert!(bob[0].seq > alice[15].seq);
    assert!(events_of(db, "carol").await.is_empty());
}

async fn a_rolled_back_change_writes_no_event(db: &TestDatabase) {
    let repo = DieselGenerationRepository::new(db.database.clone());
    let refused = repo
        .create(&new_generation("broke", None), &paid(), Funds::Local)
        .await
        .unwrap();
    assert!(refused.is_err(), "{refused:?}");
    assert!(events_of(db, "broke").await.is_empty());
    assert_eq!(
        crate::batches::count(db, "SELECT count(*) AS n FROM live_events").await,
        0
    );
}
