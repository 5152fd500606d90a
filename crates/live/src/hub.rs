//! The per-instance hub: open streams subscribe, the instance's feed dispatches committed
//! events to them.

mod registry;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};

use picture_domain::{GenerationId, LiveEvent, UserId};
use tokio::sync::{Notify, mpsc};

use self::registry::Registry;

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum HubMessage {
    /// A committed event of the subscriber's user (and generation, if it watches one).
    Event(Arc<LiveEvent>),
    /// The feed may have missed events (its connection was lost and re-established): read the
    /// event log after the last event sent.
    Resync,
}

/// Why a stream cannot subscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// This instance holds as many streams as it may.
    #[error("this instance holds its maximum of event streams")]
    InstanceFull,
    /// The server is stopping.
    #[error("the server is stopping")]
    ShuttingDown,
}

/// One open stream's end of the hub. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    user: UserId,
    receiver: mpsc::Receiver<HubMessage>,
    hub: Arc<Mutex<Registry>>,
}

impl Subscription {
    /// The next message; `None` when the stream must end: the hub dropped it as too slow, or
    /// the server is stopping.
    pub async fn next(&mut self) -> Option<HubMessage> {
        self.receiver.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.user, self.id);
    }
}

/// The hub of one instance. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveHub {
    registry: Arc<Mutex<Registry>>,
    /// Told on every subscription, for [`watched`](LiveHub::watched).
    subscribed: Arc<Notify>,
}

impl LiveHub {
    /// A hub holding at most `per_instance` streams, each with a buffer of `buffer` messages.
    pub fn new(per_instance: usize, buffer: usize) -> Self {
        Self {
            registry: Arc::new(Mutex::new(Registry::new(per_instance, buffer.max(1)))),
            subscribed: Arc::new(Notify::new()),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Subscribes a stream of `user`, to every event of theirs or only `generation`'s.
    ///
    /// # Errors
    /// [`SubscribeError::InstanceFull`] at the per-instance cap;
    /// [`SubscribeError::ShuttingDown`] after [`shutdown`](Self::shutdown).
    pub fn subscribe(
        &self,
        user: &UserId,
        generation: Option<GenerationId>,
    ) -> Result<Subscription, SubscribeError> {
        let (id, receiver) = self.registry().add(user, generation)?;
        self.subscribed.notify_one();
        Ok(Subscription {
            id,
            user: user.clone(),
            receiver,
            hub: Arc::clone(&self.registry),
        })
    }

    /// Hands `event` to its user's subscribers (those watching all their events, or its
    /// generation). A subscriber whose buffer is full is dropped: its stream ends.
    pub fn dispatch(&self, event: LiveEvent) {
        let dropped = self.registry().dispatch(Arc::new(event));
        if dropped > 0 {
            metrics::counter!("picture_live_streams_dropped_total", "reason" => "slow_reader")
                .increment(dropped as u64);
        }
    }

    /// Tells every subscriber to resync from the event log (the feed may have missed events).
    pub fn resync(&self) {
        let dropped = self.registry().broadcast(&HubMessage::Resync);
        if dropped > 0 {
            metrics::counter!("picture_live_streams_dropped_total", "reason" => "slow_reader")
                .increment(dropped as u64);
        }
    }

    /// Whether `user` has a subscriber on this instance.
    pub fn watches(&self, user: &UserId) -> bool {
        self.registry().watches(user)
    }

    /// Resolves once at least one stream is open (at once if one is).
    pub async fn watched(&self) {
        while self.open_streams() == 0 {
            self.subscribed.notified().await;
        }
    }

    /// Streams open on this instance.
    pub fn open_streams(&self) -> usize {
        self.registry().len()
    }

    /// Ends every stream and refuses new ones (the server is stopping).
    pub fn shutdown(&self) {
        self.registry().shutdown();
    }
}
