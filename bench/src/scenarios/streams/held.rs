//! Thousands of event streams held open by the harness: opened a bounded number at a time,
//! each counted open once its `ready` event arrived, then read until closed, with the arrival
//! time of every numbered `credits` event sent to its user's channel.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::sse::EventStream;

/// The stream every user opens.
const PATH: &str = "/api/v1/generate/events";
/// Streams being opened at once (connected, not yet `ready`).
const OPENING: usize = 64;
/// Longest wait for every stream to be ready.
const OPEN_WITHIN: Duration = Duration::from_secs(300);

/// The streams' reader tasks.
pub(super) struct Held {
    tasks: Vec<JoinHandle<()>>,
    closing: Arc<AtomicBool>,
    ended: Arc<AtomicU64>,
    first_end: Arc<Mutex<Option<String>>>,
}

/// What opening produced.
pub(super) struct Opened {
    /// The open streams.
    pub held: Held,
    /// Per user, the arrival times of numbered `credits` events on any of their streams.
    pub arrivals: Vec<mpsc::UnboundedReceiver<Instant>>,
    /// Streams that reached `ready`.
    pub ready: u64,
    /// From the first connect to the last `ready`.
    pub took: Duration,
    /// Streams that failed to open.
    pub failed: u64,
    /// The first failure.
    pub first_failure: Option<String>,
}

impl Held {
    /// Streams the server ended (or that broke) while they should have stayed open, and the
    /// first reason.
    pub(super) fn ended(&self) -> (u64, Option<String>) {
        let first = self
            .first_end
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (self.ended.load(Ordering::SeqCst), first)
    }

    /// Closes every stream (the connections are dropped).
    pub(super) async fn close(self) {
        self.closing.store(true, Ordering::SeqCst);
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Opens `per_user` streams for each of `tokens` on `addr` and waits until each is `ready` or
/// failed.
///
/// # Errors
/// When not every stream is ready or failed within [`OPEN_WITHIN`].
pub(super) async fn open(
    addr: SocketAddr,
    tokens: &[String],
    per_user: usize,
) -> anyhow::Result<Opened> {
    let opening = Arc::new(Semaphore::new(OPENING));
    let closing = Arc::new(AtomicBool::new(false));
    let ended = Arc::new(AtomicU64::new(0));
    let first_end = Arc::new(Mutex::new(None));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut tasks = Vec::with_capacity(tokens.len() * per_user);
    let mut arrivals = Vec::with_capacity(tokens.len());
    let started = Instant::now();
    for round in 0..per_user {
        for (user, token) in tokens.iter().enumerate() {
            if round == 0 {
                arrivals.push(mpsc::unbounded_channel());
            }
            let reader = Reader {
                arrivals: arrivals[user].0.clone(),
                closing: Arc::clone(&closing),
                ended: Arc::clone(&ended),
                first_end: Arc::clone(&first_end),
            };
            let (opening, ready_tx, token) =
                (Arc::clone(&opening), ready_tx.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let permit = opening.acquire_owned().await;
                let opened = open_one(addr, &token).await;
                drop(permit);
                match opened {
                    Ok(stream) => {
                        let _ = ready_tx.send(Ok(()));
                        reader.read(stream).await;
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(format!("{error:#}")));
                    }
                }
            }));
        }
    }
    drop(ready_tx);
    let (mut ready, mut failed, mut first_failure) = (0_u64, 0_u64, None);
    let deadline = tokio::time::Instant::now() + OPEN_WITHIN;
    while ready + failed < tasks.len() as u64 {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => ready += 1,
            Ok(Some(Err(error))) => {
                failed += 1;
                first_failure.get_or_insert(error);
            }
            Ok(None) => break,
            Err(_) => anyhow::bail!(
                "{ready} streams ready and {failed} failed after {OPEN_WITHIN:?} (of {})",
                tasks.len()
            ),
        }
    }
    let took = started.elapsed();
    Ok(Opened {
        held: Held {
            tasks,
            closing,
            ended,
            first_end,
        },
        arrivals: arrivals.into_iter().map(|(_, rx)| rx).collect(),
        ready,
        took,
        failed,
        first_failure,
    })
}

/// Opens one stream and reads it up to its `ready` event.
async fn open_one(addr: SocketAddr, token: &str) -> anyhow::Result<EventStream> {
    let mut stream = EventStream::open(addr, PATH, token).await?;
    loop {
        match stream.next().await? {
            Some(event) if event.name == "ready" => return Ok(stream),
            Some(_) => {}
            None => anyhow::bail!("the stream ended before its ready event"),
        }
    }
}

/// One open stream's reader.
struct Reader {
    arrivals: mpsc::UnboundedSender<Instant>,
    closing: Arc<AtomicBool>,
    ended: Arc<AtomicU64>,
    first_end: Arc<Mutex<Option<String>>>,
}

impl Reader {
    /// Reads until the stream ends or the task is aborted. The credits event sent on opening
    /// has no `id:`; one sent for a change has.
    async fn read(self, mut stream: EventStream) {
        let why = loop {
            match stream.next().await {
                Ok(Some(event)) if event.name == "credits" && event.id.is_some() => {
                    let _ = self.arrivals.send(Instant::now());
                }
                Ok(Some(_)) => {}
                Ok(None) => break "the server ended the stream".to_owned(),
                Err(error) => break format!("{error:#}"),
            }
        };
        if !self.closing.load(Ordering::SeqCst) {
            self.ended.fetch_add(1, Ordering::SeqCst);
            self.first_end
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(why);
        }
    }
}
