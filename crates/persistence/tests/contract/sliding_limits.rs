//! The per-user generation limits over the database counters: a sliding window (at most N
//! starts in any window of its length), whatever the wall clock's minute or day boundaries, and
//! across instances sharing the database. Time is driven through the clock, never slept.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use picture_domain::UserId;
use picture_domain::ports::Clock;
use picture_domain::services::limits::{GenerationLimits, GenerationQuota};
use picture_persistence::{Database, DieselRateCounter, PoolOptions};

use crate::TestDatabase;

contract!(
    five_just_before_a_minute_boundary_and_five_just_after_are_not_all_allowed,
    a_day_limit_holds_across_midnight,
    two_instances_straddling_a_minute_boundary_together_allow_the_limit_once,
);

/// A clock stopped at one instant.
struct StoppedClock(DateTime<Utc>);

#[async_trait]
impl Clock for StoppedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }

    async fn sleep(&self, _: Duration) {}
}

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn limits_at(database: &Database, now: &str, quota: GenerationQuota) -> GenerationLimits {
    GenerationLimits::new(
        Arc::new(DieselRateCounter::new(database.clone())),
        Arc::new(StoppedClock(time(now))),
        quota,
    )
}

const FIVE_PER_MINUTE: GenerationQuota = GenerationQuota {
    per_minute: 5,
    per_day: 0,
};

/// Checks `user` `times` times: the retry delays of those refused (`None` when allowed).
async fn check(limits: &GenerationLimits, user: &str, times: usize) -> Vec<Option<Duration>> {
    let user = UserId::parse(user).unwrap();
    let mut answers = Vec::new();
    for _ in 0..times {
        answers.push(
            limits
                .check(&user)
                .await
                .unwrap()
                .err()
                .map(|r| r.retry_after),
        );
    }
    answers
}

async fn five_just_before_a_minute_boundary_and_five_just_after_are_not_all_allowed(
    db: &TestDatabase,
) {
    let before = limits_at(&db.database, "2026-11-29T10:00:59.500Z", FIVE_PER_MINUTE);
    assert_eq!(check(&before, "alice", 5).await, vec![None; 5]);
    let after = limits_at(&db.database, "2026-11-29T10:01:00.200Z", FIVE_PER_MINUTE);
    // The five before the boundary are 0.7 s old: the window is full for 59.3 s more.
    assert_eq!(
        check(&after, "alice", 5).await,
        vec![Some(Duration::from_secs(60)); 5],
        "ten starts in 0.7 s with a limit of five per minute"
    );
    let almost = limits_at(&db.database, "2026-11-29T10:01:59.499Z", FIVE_PER_MINUTE);
    assert_eq!(
        check(&almost, "alice", 1).await,
        vec![Some(Duration::from_secs(1))]
    );
    let later = limits_at(&db.database, "2026-11-29T10:01:59.500Z", FIVE_PER_MINUTE);
    assert_eq!(
        check(&later, "alice", 6).await,
        [vec![None; 5], vec![Some(Duration::from_secs(60))]].concat(),
        "a minute after the first five, five more"
    );
    assert_eq!(
        check(&later, "bob", 5).await,
        vec![None; 5],
        "users are counted apart"
    );
}

async fn a_day_limit_holds_across_midnight(db: &TestDatabase) {
    let quota = GenerationQuota {
        per_minute: 0,
        per_day: 3,
    };
    let evening = limits_at(&db.database, "2026-11-29T23:59:58Z", quota);
    assert_eq!(check(&evening, "carol", 3).await, vec![None; 3]);
    let midnight = limits_at(&db.database, "2026-11-30T00:00:01Z", quota);
    assert_eq!(
        check(&midnight, "carol", 1).await,
        vec![Some(Duration::from_secs(86_397))],
        "the day is any 24 hours, not the UTC date"
    );
    let next_evening = limits_at(&db.database, "2026-11-30T23:59:58Z", quota);
    assert_eq!(check(&next_evening, "carol", 3).await, vec![None; 3]);
}

async fn two_instances_straddling_a_minute_boundary_together_allow_the_limit_once(
    db: &TestDatabase,
) {
    let mut allowed = 0;
    let mut instances = tokio::task::JoinSet::new();
    for now in ["2026-11-29T10:00:59.900Z", "2026-11-29T10:01:00.100Z"] {
        // Each instance has its own pool on the one database.
        let database = Database::connect(&db.url, PoolOptions::default())
            .await
            .unwrap();
        let limits = limits_at(&database, now, FIVE_PER_MINUTE);
        for _ in 0..5 {
            let limits = limits.clone();
            instances.spawn(async move {
                let user = UserId::parse("dave").unwrap();
                limits.check(&user).await.unwrap().is_ok()
            });
        }
    }
    for admitted in instances.join_all().await {
        allowed += usize::from(admitted);
    }
    assert_eq!(
        allowed, 5,
        "ten concurrent starts in 0.2 s across two instances"
    );
}
