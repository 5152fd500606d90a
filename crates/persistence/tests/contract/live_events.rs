//! Live progress: the event log the triggers write, its reads, the stream leases, the shared
//! secrets and the live feed.

use picture_domain::ports::EventLog;
use picture_domain::{
    CreditAmount, Enforcement, EventSeq, FreemiumPolicy, GenerationId, GenerationStatus,
    LiveChange, LiveEvent, UserId,
};
use picture_persistence::DieselEventLog;

use crate::TestDatabase;

mod feed;
mod leases;
mod ordering;
mod progress;
mod reads;
mod secrets;
mod writes;

/// An event as the tests compare it: what changed, without its number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Seen {
    /// A generation event: which, its status, its progress.
    Generation(GenerationId, GenerationStatus, Option<f64>),
    /// A credits event.
    Credits,
}

impl Seen {
    pub(crate) fn of(event: &LiveEvent) -> Self {
        match &event.change {
            LiveChange::Generation {
                generation,
                status,
                progress,
                ..
            } => Self::Generation(*generation, *status, *progress),
            LiveChange::Credits => Self::Credits,
        }
    }
}

pub(crate) fn log(db: &TestDatabase) -> DieselEventLog {
    DieselEventLog::new(db.database.clone())
}

pub(crate) fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

/// Every retained event of `user` after `after`, oldest first.
pub(crate) async fn events_after(
    db: &TestDatabase,
    owner: &str,
    after: EventSeq,
) -> Vec<LiveEvent> {
    log(db)
        .replay(&user(owner), after, None, 10_000)
        .await
        .unwrap()
}

/// Every retained event of `owner`, oldest first.
pub(crate) async fn events_of(db: &TestDatabase, owner: &str) -> Vec<LiveEvent> {
    events_after(db, owner, EventSeq::START).await
}

/// No free generations; every generation holds 10 credits.
pub(crate) fn paid() -> FreemiumPolicy {
    FreemiumPolicy::new(0, CreditAmount::new(10).unwrap(), Enforcement::Enforce)
}

/// Asserts the numbers of `events` strictly grow.
pub(crate) fn assert_increasing(events: &[LiveEvent]) {
    for pair in events.windows(2) {
        assert!(pair[0].seq < pair[1].seq, "{events:?}");
    }
}
