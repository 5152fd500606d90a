//! The subscribers of a hub, by user.

use std::collections::HashMap;
use std::sync::Arc;

use picture_domain::{GenerationId, LiveEvent, UserId};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::{HubMessage, SubscribeError};

/// One subscriber.
#[derive(Debug)]
struct Slot {
    id: u64,
    generation: Option<GenerationId>,
    sender: mpsc::Sender<HubMessage>,
}

impl Slot {
    fn wants(&self, event: &LiveEvent) -> bool {
        self.generation.is_none() || self.generation == event.generation()
    }

    /// Hands `message` over; `false` when the subscriber must go (full or gone).
    fn offer(&self, message: HubMessage) -> bool {
        match self.sender.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                tracing::info!(subscriber = self.id, "slow event stream dropped");
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }
}

/// Every subscriber of one instance.
#[derive(Debug)]
pub(super) struct Registry {
    by_user: HashMap<UserId, Vec<Slot>>,
    open: usize,
    next_id: u64,
    per_instance: usize,
    buffer: usize,
    stopped: bool,
}

impl Registry {
    pub(super) fn new(per_instance: usize, buffer: usize) -> Self {
        Self {
            by_user: HashMap::new(),
            open: 0,
            next_id: 0,
            per_instance,
            buffer,
            stopped: false,
        }
    }

    pub(super) fn add(
        &mut self,
        user: &UserId,
        generation: Option<GenerationId>,
    ) -> Result<(u64, mpsc::Receiver<HubMessage>), SubscribeError> {
        if self.stopped {
            return Err(SubscribeError::ShuttingDown);
        }
        if self.open >= self.per_instance {
            return Err(SubscribeError::InstanceFull);
        }
        let (sender, receiver) = mpsc::channel(self.buffer);
        self.next_id += 1;
        let id = self.next_id;
        self.by_user.entry(user.clone()).or_default().push(Slot {
            id,
            generation,
            sender,
        });
        self.open += 1;
        metrics::gauge!("picture_live_streams_open").set(self.open as f64);
        Ok((id, receiver))
    }

    pub(super) fn remove(&mut self, user: &UserId, id: u64) {
        let Some(slots) = self.by_user.get_mut(user) else {
            return;
        };
        let before = slots.len();
        slots.retain(|slot| slot.id != id);
        self.open -= before - slots.len();
        if slots.is_empty() {
            self.by_user.remove(user);
        }
        metrics::gauge!("picture_live_streams_open").set(self.open as f64);
    }

    /// Offers `event` to its user's interested subscribers; how many were dropped.
    pub(super) fn dispatch(&mut self, event: Arc<LiveEvent>) -> usize {
        let Some(slots) = self.by_user.get_mut(&event.user) else {
            return 0;
        };
        let before = slots.len();
        slots.retain(|slot| {
            !slot.wants(&event) || slot.offer(HubMessage::Event(Arc::clone(&event)))
        });
        let dropped = before - slots.len();
        if slots.is_empty() {
            self.by_user.remove(&event.user);
        }
        self.open -= dropped;
        dropped
    }

    /// Offers `message` to every subscriber; how many were dropped.
    pub(super) fn broadcast(&mut self, message: &HubMessage) -> usize {
        let mut dropped = 0;
        self.by_user.retain(|_, slots| {
            let before = slots.len();
            slots.retain(|slot| slot.offer(message.clone()));
            dropped += before - slots.len();
            !slots.is_empty()
        });
        self.open -= dropped;
        dropped
    }

    pub(super) fn watches(&self, user: &UserId) -> bool {
        self.by_user.contains_key(user)
    }

    pub(super) fn len(&self) -> usize {
        self.open
    }

    /// Drops every subscriber (their streams end) and refuses new ones.
    pub(super) fn shutdown(&mut self) {
        self.stopped = true;
        self.by_user.clear();
        self.open = 0;
        metrics::gauge!("picture_live_streams_open").set(0.0);
    }
}
