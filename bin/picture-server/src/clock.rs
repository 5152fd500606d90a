//! The system clock, the production implementation of the domain's `Clock` port.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use picture_domain::ports::Clock;

/// Wall-clock time truncated to milliseconds; sleeping on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn now_has_millisecond_precision_and_sleep_waits() {
        let before = SystemClock.now();
        assert_eq!(before.timestamp_subsec_nanos() % 1_000_000, 0);
        SystemClock.sleep(Duration::from_millis(5)).await;
        assert!(SystemClock.now() > before);
    }
}
