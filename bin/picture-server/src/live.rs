//! Live progress in the server: what every event stream shares ([`LiveStreams`]), opening a
//! stream (caps, the first events, replay), the task that feeds one stream, and the instance's
//! background tasks (the feed into the hub, the instance's liveness, pruning the event log).
//!
//! A stream is one task writing frames into a small channel that is the response body: it
//! takes its user's events from the hub, renders them (reading the database only for final
//! events and credits), writes a heartbeat comment when idle, and ends when its generation
//! ends, when the client goes, when the hub drops it as too slow, or when the server stops.

mod render;
mod stream;
pub mod upkeep;

use std::sync::Arc;
use std::time::Duration;

use picture_domain::ports::{Clock, EventLog, StreamLeases};
use picture_domain::services::{CreditService, ReadGenerations};
use picture_live::{LiveHub, StreamTokens};

pub use stream::{StreamRequest, open};

/// Events read from the log at once when replaying.
const REPLAY_PAGE: u32 = 500;
/// How long a client waits before reconnecting (the SSE `retry:`), in milliseconds.
const RECONNECT_MILLIS: u64 = 2_000;
/// Frames waiting to be written to one client.
const BODY_BUFFER: usize = 8;

/// The stream tokens and the clock they are checked against; registered as app data (the
/// `StreamUser` extractor of the event routes reads it).
#[derive(Clone)]
pub struct StreamAuth {
    /// Mints and checks the tokens.
    pub tokens: StreamTokens,
    /// Their clock.
    pub clock: Arc<dyn Clock>,
}

/// What every event stream of this instance shares; registered as app data.
#[derive(Clone)]
pub struct LiveStreams {
    /// The instance's hub.
    pub hub: LiveHub,
    /// The event log (replay, latest state).
    pub log: Arc<dyn EventLog>,
    /// The open streams of every instance (per-user cap).
    pub leases: Arc<dyn StreamLeases>,
    /// Generations, for the first and final events.
    pub read: ReadGenerations,
    /// Credits, for the credits events.
    pub credits: CreditService,
    /// Stream tokens (`?access_token=`), minted and checked.
    pub auth: StreamAuth,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// This instance's name in the stream leases.
    pub instance: Arc<str>,
    /// Most streams per user, across instances.
    pub per_user: u32,
    /// Time between heartbeat comments.
    pub heartbeat: Duration,
}
