//! Render leases: one unexpired holder per name, taken over once expired, extended by its own
//! holder, released only by it, and exactly one winner among concurrent takers.

use std::time::Duration;

use picture_domain::ports::RenderLeases;
use picture_persistence::DieselRenderLeases;

use crate::{TestDatabase, at};

contract!(
    a_lease_is_refused_to_others_until_it_expires_and_extended_by_its_holder,
    a_release_removes_only_the_callers_own_lease,
    concurrent_takers_of_one_name_have_exactly_one_winner,
);

const TEN_SECONDS: Duration = Duration::from_secs(10);

async fn a_lease_is_refused_to_others_until_it_expires_and_extended_by_its_holder(
    db: &TestDatabase,
) {
    let leases = DieselRenderLeases::new(db.database.clone());
    let take = |holder: &'static str, ms: i64| {
        let leases = leases.clone();
        async move {
            leases
                .try_take("variants/a/w256.webp", holder, TEN_SECONDS, at(ms))
                .await
                .unwrap()
        }
    };
    assert!(take("a", 1_000).await);
    assert!(!take("b", 5_000).await);
    // The holder extends its lease: until 18 000 instead of 11 000.
    assert!(take("a", 8_000).await);
    assert!(!take("b", 12_000).await);
    assert!(!take("b", 17_999).await);
    // Expired at its `until`: another holder takes it over.
    assert!(take("b", 18_000).await);
    assert!(!take("a", 18_001).await);
    // Another name is a lease of its own.
    assert!(
        leases
            .try_take("variants/a/w512.webp", "a", TEN_SECONDS, at(18_002))
            .await
            .unwrap()
    );
}

async fn a_release_removes_only_the_callers_own_lease(db: &TestDatabase) {
    let leases = DieselRenderLeases::new(db.database.clone());
    let name = "variants/b/w256.avif";
    assert!(
        leases
            .try_take(name, "a", TEN_SECONDS, at(0))
            .await
            .unwrap()
    );
    // Not b's to give back: a keeps it.
    leases.release(name, "b").await.unwrap();
    assert!(
        !leases
            .try_take(name, "b", TEN_SECONDS, at(1))
            .await
            .unwrap()
    );
    // Releasing a name nobody holds does nothing.
    leases.release("variants/none", "a").await.unwrap();
    leases.release(name, "a").await.unwrap();
    assert!(
        leases
            .try_take(name, "b", TEN_SECONDS, at(2))
            .await
            .unwrap()
    );
    // A second release by the former holder leaves b's lease alone.
    leases.release(name, "a").await.unwrap();
    assert!(
        !leases
            .try_take(name, "c", TEN_SECONDS, at(3))
            .await
            .unwrap()
    );
}

async fn concurrent_takers_of_one_name_have_exactly_one_winner(db: &TestDatabase) {
    let leases = DieselRenderLeases::new(db.database.clone());
    for round in 0..5_i64 {
        let name = format!("variants/race/{round}");
        // Rounds 1.. race over a stored, expired lease (the update path), round 0 over none
        // (the insert path).
        if round > 0 {
            assert!(
                leases
                    .try_take(&name, "crashed", TEN_SECONDS, at(0))
                    .await
                    .unwrap()
            );
        }
        let now = at(60_000);
        let takers: Vec<_> = (0..8)
            .map(|i| {
                let (leases, name) = (leases.clone(), name.clone());
                tokio::spawn(async move {
                    leases
                        .try_take(&name, &format!("holder-{i}"), TEN_SECONDS, now)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for taker in takers {
            if taker.await.unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}
