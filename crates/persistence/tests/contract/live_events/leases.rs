//! Stream leases: a cap per user across instances, freed by closing or by an instance that
//! stops renewing.

use std::sync::Arc;

use picture_domain::ports::StreamLeases;
use picture_persistence::{DieselStreamLeases, STREAM_OPEN_GRACE};

use super::user;
use crate::batches::count;
use crate::{TestDatabase, at};

contract!(
    a_user_has_at_most_the_cap_and_closing_frees_a_slot,
    streams_of_an_instance_not_kept_alive_stop_counting,
    concurrent_opens_never_exceed_the_cap,
);

/// A time in ms well after the epoch, so "before" stays positive.
const T0: i64 = 1_800_000_000_000;

fn grace_ms() -> i64 {
    i64::try_from(STREAM_OPEN_GRACE.as_millis()).unwrap()
}

async fn a_user_has_at_most_the_cap_and_closing_frees_a_slot(db: &TestDatabase) {
    let leases = DieselStreamLeases::new(db.database.clone());
    let (alice, bob) = (user("alice"), user("bob"));
    let mut held = Vec::new();
    for (instance, ms) in [("a", T0), ("b", T0 + 1), ("a", T0 + 2)] {
        held.push(
            leases
                .open(&alice, instance, 3, at(ms))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(leases.open(&alice, "b", 3, at(T0 + 3)).await.unwrap(), None);
    assert_eq!(leases.open(&alice, "c", 3, at(T0 + 3)).await.unwrap(), None);
    assert!(
        leases
            .open(&bob, "a", 3, at(T0 + 3))
            .await
            .unwrap()
            .is_some()
    );
    assert!(held.windows(2).all(|pair| pair[0] != pair[1]));

    leases.close(held[1]).await.unwrap();
    leases.close(held[1]).await.unwrap();
    let reopened = leases.open(&alice, "c", 3, at(T0 + 4)).await.unwrap();
    assert!(reopened.is_some());
    assert_eq!(leases.open(&alice, "c", 3, at(T0 + 5)).await.unwrap(), None);
    // A smaller cap counts the same streams.
    assert_eq!(leases.open(&alice, "a", 1, at(T0 + 5)).await.unwrap(), None);
    leases.close(12_345_678).await.unwrap();
}

async fn streams_of_an_instance_not_kept_alive_stop_counting(db: &TestDatabase) {
    let leases = DieselStreamLeases::new(db.database.clone());
    let alice = user("alice");
    // "old" opens two at T0 (alive until T0 + grace) and is never renewed; "kept" renews.
    leases
        .open(&alice, "old", 3, at(T0))
        .await
        .unwrap()
        .unwrap();
    leases
        .open(&alice, "old", 3, at(T0))
        .await
        .unwrap()
        .unwrap();
    leases
        .open(&alice, "kept", 3, at(T0))
        .await
        .unwrap()
        .unwrap();
    let renewed = T0 + 10 * grace_ms();
    leases
        .keep_alive("kept", at(renewed), at(T0 + 1))
        .await
        .unwrap();
    assert_eq!(
        leases.open(&alice, "new", 3, at(T0 + 2)).await.unwrap(),
        None
    );

    // Past "old"'s grace its two streams no longer count, before anyone cleans up…
    let after_grace = T0 + grace_ms() + 1;
    let first = leases
        .open(&alice, "new", 3, at(after_grace))
        .await
        .unwrap();
    let second = leases
        .open(&alice, "new", 3, at(after_grace))
        .await
        .unwrap();
    assert!(first.is_some() && second.is_some());
    assert_eq!(
        leases
            .open(&alice, "new", 3, at(after_grace))
            .await
            .unwrap(),
        None
    );
    let rows = "SELECT count(*) AS n FROM live_streams WHERE instance_id = 'old'";
    assert_eq!(count(db, rows).await, 2);

    // …and any instance's keep-alive deletes them, and the dead instance.
    leases
        .keep_alive("new", at(after_grace + grace_ms()), at(after_grace))
        .await
        .unwrap();
    assert_eq!(count(db, rows).await, 0);
    let instances = "SELECT count(*) AS n FROM live_instances WHERE instance_id = 'old'";
    assert_eq!(count(db, instances).await, 0);
    assert_eq!(
        count(db, "SELECT count(*) AS n FROM live_streams").await,
        3,
        "the kept and new instances' streams stay"
    );

    // An instance renewed for a shorter time than its open said stops counting earlier.
    leases
        .keep_alive("kept", at(after_grace + 1), at(after_grace))
        .await
        .unwrap();
    let later = after_grace + 2;
    assert!(
        leases
            .open(&alice, "new", 3, at(later))
            .await
            .unwrap()
            .is_some()
    );
}

async fn concurrent_opens_never_exceed_the_cap(db: &TestDatabase) {
    let leases = Arc::new(DieselStreamLeases::new(db.database.clone()));
    for round in 0..5 {
        let owner = user(&format!("racer-{round}"));
        let opens: Vec<_> = (0..8_i64)
            .map(|i| {
                let (leases, owner) = (Arc::clone(&leases), owner.clone());
                tokio::spawn(async move {
                    let instance = format!("instance-{}", i % 3);
                    leases.open(&owner, &instance, 3, at(T0 + i)).await.unwrap()
                })
            })
            .collect();
        let mut granted = 0;
        for open in opens {
            granted += usize::from(open.await.unwrap().is_some());
        }
        assert_eq!(granted, 3, "round {round}");
    }
}
