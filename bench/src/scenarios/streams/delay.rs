//! The delay from a state change to its event: admin credit grants (`POST /admin/credits/grant`)
//! to users whose streams are open, each timed from sending the request to the `credits` event
//! on every one of the user's streams, closed-loop by a few granters on keep-alive connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use hyper::StatusCode;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::load::{Target, connect, send};
use crate::server::ADMIN_KEY;

/// Grants in flight at once (one per granter).
pub(super) const GRANTERS: usize = 4;
/// Longest wait for one stream's event before it counts as missing.
const ARRIVAL_WAIT: Duration = Duration::from_secs(5);

/// A grant of `amount` to `user`, once per `key`.
pub(super) fn grant_target(user: &str, amount: u64, key: &str) -> Target {
    Target::post(
        "/api/v1/admin/credits/grant",
        &json!({"userId": user, "amount": amount, "reason": "bench", "idempotencyKey": key}),
        StatusCode::CREATED,
    )
    .with_header("x-service-key", ADMIN_KEY)
}

/// Grants `amount` to each of `users`, [`GRANTERS`] at a time (this creates their accounts).
///
/// # Errors
/// On a transport error or an answer other than 201.
pub(super) async fn grant_each(
    addr: SocketAddr,
    users: &Arc<Vec<String>>,
    amount: u64,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..GRANTERS {
        let (users, next) = (Arc::clone(users), Arc::clone(&next));
        workers.spawn(async move {
            let mut sender = connect(addr).await?;
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(user) = users.get(i) else {
                    return anyhow::Ok(());
                };
                let target = grant_target(user, amount, &format!("bench-stream-setup-{user}"));
                let (status, body) = send(&mut sender, addr, &target, None).await?;
                ensure!(
                    status == StatusCode::CREATED,
                    "the grant answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
        });
    }
    while let Some(worker) = workers.join_next().await {
        worker??;
    }
    Ok(())
}

/// What the timed grants showed.
pub(super) struct Delays {
    /// From sending the grant to the event on one stream, one sample per stream and grant, µs.
    pub to_event: Histogram<u64>,
    /// From the grant's answer to the event on one stream, µs (negative: the event came
    /// first), sorted.
    pub after_answer: Vec<i64>,
    /// The grant's own latency, µs.
    pub answer: Histogram<u64>,
    /// Events that did not arrive within [`ARRIVAL_WAIT`].
    pub missing: u64,
    /// Grants made.
    pub grants: u64,
    /// How long the grants took together.
    pub took: Duration,
}

impl Delays {
    fn empty() -> anyhow::Result<Self> {
        let histogram = || Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram bounds");
        Ok(Self {
            to_event: histogram()?,
            after_answer: Vec::new(),
            answer: histogram()?,
            missing: 0,
            grants: 0,
            took: Duration::ZERO,
        })
    }

    fn merge(&mut self, other: Self) -> anyhow::Result<()> {
        self.to_event.add(&other.to_event)?;
        self.answer.add(&other.answer)?;
        self.after_answer.extend(other.after_answer);
        self.missing += other.missing;
        self.grants += other.grants;
        Ok(())
    }

    /// The `q` quantile of [`after_answer`](Self::after_answer), ms.
    pub fn after_answer_ms(&self, q: f64) -> f64 {
        if self.after_answer.is_empty() {
            return 0.0;
        }
        let last = self.after_answer.len() - 1;
        let index = ((q * last as f64).round() as usize).min(last);
        self.after_answer[index] as f64 / 1000.0
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// One granter: its users (id and the arrivals of their streams' events).
struct Granter {
    users: Vec<(String, mpsc::UnboundedReceiver<Instant>)>,
}

/// `grants` grants of 1 credit, round robin over `users` (whose `per_user` streams each send
/// an arrival to `arrivals[i]`), [`GRANTERS`] in flight.
///
/// # Errors
/// On a transport error or an answer other than 201.
pub(super) async fn time_grants(
    addr: SocketAddr,
    users: &[String],
    arrivals: Vec<mpsc::UnboundedReceiver<Instant>>,
    per_user: usize,
    grants: usize,
) -> anyhow::Result<Delays> {
    let mut granters: Vec<Granter> = (0..GRANTERS)
        .map(|_| Granter { users: Vec::new() })
        .collect();
    for (i, (user, rx)) in users.iter().cloned().zip(arrivals).enumerate() {
        granters[i % GRANTERS].users.push((user, rx));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for granter in granters {
        let next = Arc::clone(&next);
        workers.spawn(granter.run(addr, next, grants, per_user));
    }
    let mut total = Delays::empty()?;
    while let Some(worker) = workers.join_next().await {
        total.merge(worker??)?;
    }
    total.took = started.elapsed();
    total.after_answer.sort_unstable();
    Ok(total)
}

impl Granter {
    async fn run(
        mut self,
        addr: SocketAddr,
        next: Arc<AtomicUsize>,
        grants: usize,
        per_user: usize,
    ) -> anyhow::Result<Delays> {
        let mut delays = Delays::empty()?;
        if self.users.is_empty() {
            return Ok(delays);
        }
        let mut sender = connect(addr).await?;
        let mut turn = 0;
        loop {
            let n = next.fetch_add(1, Ordering::SeqCst);
            if n >= grants {
                return Ok(delays);
            }
            let count = self.users.len();
            let (user, arrivals) = &mut self.users[turn % count];
            turn += 1;
            // Late events of an earlier grant of this user (already counted missing).
            while arrivals.try_recv().is_ok() {}
            let target = grant_target(user, 1, &format!("bench-stream-grant-{n}"));
            let sent = Instant::now();
            let (status, body) = send(&mut sender, addr, &target, None).await?;
            let answered = Instant::now();
            ensure!(
                status == StatusCode::CREATED,
                "the grant answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            delays.grants += 1;
            delays.answer.saturating_record(micros(answered - sent));
            for received in 0..per_user {
                match tokio::time::timeout(ARRIVAL_WAIT, arrivals.recv()).await {
                    Ok(Some(at)) => {
                        delays
                            .to_event
                            .saturating_record(micros(at.saturating_duration_since(sent)));
                        let after = if at >= answered {
                            i64::try_from((at - answered).as_micros()).unwrap_or(i64::MAX)
                        } else {
                            -i64::try_from((answered - at).as_micros()).unwrap_or(i64::MAX)
                        };
                        delays.after_answer.push(after);
                    }
                    _ => {
                        delays.missing += (per_user - received) as u64;
                        break;
                    }
                }
            }
        }
    }
}
