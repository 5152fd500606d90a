//! Replay protection for provider webhooks: a delivery id that was applied within the
//! signature window is recognised (on any instance) and not applied again.

use std::sync::Arc;
use std::time::Duration;

use crate::error::RepositoryError;
use crate::ports::{Clock, DeliveryLog};

/// Remembers applied webhook deliveries for `retention`.
#[derive(Clone)]
pub struct DeliveryGuard {
    log: Arc<dyn DeliveryLog>,
    clock: Arc<dyn Clock>,
    retention: chrono::Duration,
}

impl DeliveryGuard {
    /// A guard keeping ids for `retention` (at least twice the signature's time window: an
    /// older replay is refused by its timestamp anyway).
    pub fn new(log: Arc<dyn DeliveryLog>, clock: Arc<dyn Clock>, retention: Duration) -> Self {
        Self {
            log,
            clock,
            retention: chrono::Duration::from_std(retention)
                .unwrap_or_else(|_| chrono::Duration::minutes(10)),
        }
    }

    /// Whether delivery `id` was already applied.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn is_replay(&self, id: &str) -> Result<bool, RepositoryError> {
        self.log.seen(id, self.clock.now() - self.retention).await
    }

    /// Records that delivery `id` was applied (only after it was, so a delivery whose
    /// processing failed can be retried by the provider).
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached.
    pub async fn applied(&self, id: &str) -> Result<(), RepositoryError> {
        let now = self.clock.now();
        self.log.record(id, now, now - self.retention).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::ports::{MockClock, MockDeliveryLog};

    #[tokio::test]
    async fn replays_are_looked_up_within_the_retention_and_old_ids_forgotten() {
        let now = DateTime::UNIX_EPOCH + chrono::Duration::hours(1);
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        let mut log = MockDeliveryLog::new();
        log.expect_seen()
            .withf(move |id, since| id == "msg_1" && *since == now - chrono::Duration::minutes(10))
            .returning(|_, _| Ok(true));
        log.expect_record()
            .withf(move |id, at, before| {
                id == "msg_2" && *at == now && *before == now - chrono::Duration::minutes(10)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let guard = DeliveryGuard::new(Arc::new(log), Arc::new(clock), Duration::from_secs(600));
        assert!(guard.is_replay("msg_1").await.unwrap());
        guard.applied("msg_2").await.unwrap();
    }
}
