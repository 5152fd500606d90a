//! Replay and rate-limit bookkeeping shared by every instance.

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ports::{Admission, DeliveryLog, RateCounter, SlidingWindow};
use picture_persistence::{DieselDeliveryLog, DieselRateCounter};

use crate::{TestDatabase, at};

contract!(
    deliveries_are_seen_once_recorded_and_forgotten_after_their_retention,
    concurrent_attempts_admit_exactly_the_limit_and_refused_ones_leave_no_trace,
    every_window_must_have_room_and_the_refusal_waits_for_the_last_full_one,
);

async fn deliveries_are_seen_once_recorded_and_forgotten_after_their_retention(db: &TestDatabase) {
    let log = DieselDeliveryLog::new(db.database.clone());
    assert!(!log.seen("msg_1", at(0)).await.unwrap());
    log.record("msg_1", at(1_000), at(0)).await.unwrap();
    log.record("msg_1", at(2_000), at(0)).await.unwrap();
    assert!(log.seen("msg_1", at(500)).await.unwrap());
    assert!(log.seen("msg_1", at(1_000)).await.unwrap());
    assert!(
        !log.seen("msg_1", at(1_001)).await.unwrap(),
        "the first record is kept"
    );
    assert!(!log.seen("msg_2", at(0)).await.unwrap());
    // A later record forgets what came before its horizon.
    log.record("msg_2", at(700_000), at(600_000)).await.unwrap();
    assert!(!log.seen("msg_1", at(0)).await.unwrap());
    assert!(log.seen("msg_2", at(0)).await.unwrap());
}

async fn concurrent_attempts_admit_exactly_the_limit_and_refused_ones_leave_no_trace(
    db: &TestDatabase,
) {
    let counter = Arc::new(DieselRateCounter::new(db.database.clone()));
    let minute = [SlidingWindow {
        length: Duration::from_secs(60),
        limit: 5,
    }];
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..12 {
        let counter = Arc::clone(&counter);
        attempts.spawn(async move {
            counter
                .admit("generate:alice", &minute, at(10_000 + i))
                .await
                .unwrap()
        });
    }
    let answers = attempts.join_all().await;
    let admitted = answers
        .iter()
        .filter(|a| **a == Admission::Admitted)
        .count();
    assert_eq!(admitted, 5, "{answers:?}");
    assert_eq!(
        counter
            .admit("generate:bob", &minute, at(10_000))
            .await
            .unwrap(),
        Admission::Admitted,
        "scopes are separate"
    );
    // Refused attempts recorded nothing: the window frees when the admitted ones leave it.
    let refused = counter
        .admit("generate:alice", &minute, at(69_999))
        .await
        .unwrap();
    let Admission::Refused { until } = refused else {
        panic!("the window is full: {refused:?}");
    };
    assert!(
        (at(70_000)..=at(70_011)).contains(&until),
        "free when an admitted one leaves: {until}"
    );
    assert_eq!(
        counter
            .admit("generate:alice", &minute, at(70_012))
            .await
            .unwrap(),
        Admission::Admitted,
        "all five admitted ones have left"
    );
}

async fn every_window_must_have_room_and_the_refusal_waits_for_the_last_full_one(
    db: &TestDatabase,
) {
    let counter = DieselRateCounter::new(db.database.clone());
    let windows = [
        SlidingWindow {
            length: Duration::from_secs(60),
            limit: 2,
        },
        SlidingWindow {
            length: Duration::from_secs(600),
            limit: 3,
        },
    ];
    for ms in [0, 100] {
        assert_eq!(
            counter.admit("s", &windows, at(ms)).await.unwrap(),
            Admission::Admitted
        );
    }
    // Only the short window is full: until its older event leaves it.
    assert_eq!(
        counter.admit("s", &windows, at(200)).await.unwrap(),
        Admission::Refused { until: at(60_000) }
    );
    assert_eq!(
        counter.admit("s", &windows, at(60_000)).await.unwrap(),
        Admission::Admitted
    );
    // Both full (the short one until 60.1 s, the long one until 600 s): the later.
    assert_eq!(
        counter.admit("s", &windows, at(60_050)).await.unwrap(),
        Admission::Refused { until: at(600_000) }
    );
    assert_eq!(
        counter.admit("s", &windows, at(600_000)).await.unwrap(),
        Admission::Admitted
    );
    // Events older than the longest window are forgotten on the next attempt, and nothing
    // old counts: a day later the scope starts afresh.
    for ms in [86_400_000, 86_400_001] {
        assert_eq!(
            counter.admit("s", &windows, at(ms)).await.unwrap(),
            Admission::Admitted
        );
    }
}
