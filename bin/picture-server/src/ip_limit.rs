//! The per-IP limit on the whole API (`RATE_LIMIT_IP_PER_MINUTE`): a token bucket per client
//! address in this process, refilled evenly over the minute. Health, readiness and metrics are
//! exempt so probes never trip it. The address is the TCP peer's: behind a proxy, every client
//! shares the proxy's bucket, so limit at the proxy or raise the setting.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Paths never limited.
const EXEMPT: [&str; 4] = ["/health", "/ready", "/metrics", "/api/v1/health"];

/// Buckets per client address; `None` limit means switched off.
#[derive(Clone)]
pub struct IpLimiter {
    buckets: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl IpLimiter {
    /// A limiter allowing `per_minute` requests per address (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self {
            buckets: NonZeroU32::new(per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
        }
    }

    /// Lets `request` through, or refuses it with 429 `rate_limited` and when to retry.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when the client's bucket is empty.
    pub fn admit(&self, request: &ServiceRequest) -> Result<(), ApiError> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        if EXEMPT.contains(&request.path()) {
            return Ok(());
        }
        let Some(peer) = request.peer_addr() else {
            return Ok(());
        };
        buckets.check_key(&peer.ip()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            metrics::counter!("picture_rate_limited_total", "limit" => "ip").increment(1);
            ApiError::RateLimited {
                retry_after: wait.max(Duration::from_secs(1)).as_secs(),
            }
        })
    }

    /// Forgets buckets that are full again (call now and then, so memory stays bounded).
    pub fn forget_idle(&self) {
        if let Some(buckets) = &self.buckets {
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
    }
}
