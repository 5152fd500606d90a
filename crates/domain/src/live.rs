//! Live progress: the changes a client can watch as they happen (a generation's status and
//! progress, the caller's credits), each numbered by the event log that keeps them for
//! replay after a reconnect.

mod progress;

pub use progress::{InvalidProgress, Progress};

use crate::generation::GenerationStatus;
use crate::ids::{BatchId, GenerationId, UserId};

/// The number of an event in the event log: the SSE `id:`. Within one user's events it grows in
/// the order the changes were committed, so "every event after N" misses none of that user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventSeq(i64);

impl EventSeq {
    /// Before every event: replaying after it replays everything retained.
    pub const START: Self = Self(0);

    /// The sequence number `value` (as stored or as sent).
    pub fn new(value: i64) -> Self {
        Self(value.max(0))
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses a client's `Last-Event-ID`: a non-negative decimal number; `None` otherwise.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i64>().ok().map(Self)
    }
}

impl std::fmt::Display for EventSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveChange {
    /// A generation (or batch item) entered `status`, or reported progress while processing.
    Generation {
        /// Which generation.
        generation: GenerationId,
        /// Its status after the change.
        status: GenerationStatus,
        /// How far the provider says it is, 0–1, when it reports it.
        progress: Option<f64>,
        /// The batch it is an item of, if any.
        batch: Option<BatchId>,
    },
    /// The user's balance, holds or free generations changed.
    Credits,
}

/// One committed change of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// Its number in the event log.
    pub seq: EventSeq,
    /// Whose change it is: only this user's streams see it.
    pub user: UserId,
    /// What changed.
    pub change: LiveChange,
}

impl LiveEvent {
    /// The generation this event is about, if any.
    pub fn generation(&self) -> Option<GenerationId> {
        match &self.change {
            LiveChange::Generation { generation, .. } => Some(*generation),
            LiveChange::Credits => None,
        }
    }

    /// Whether this event ends its generation (completed, failed or cancelled).
    pub fn is_final(&self) -> bool {
        matches!(&self.change, LiveChange::Generation { status, .. } if status.is_terminal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_id_parses_only_plain_numbers() {
        assert_eq!(EventSeq::parse("42"), Some(EventSeq::new(42)));
        assert_eq!(EventSeq::parse(" 7 "), Some(EventSeq::new(7)));
        assert_eq!(EventSeq::parse("0"), Some(EventSeq::START));
        for bad in ["", "-1", "1e3", "abc", "99999999999999999999", "4 2"] {
            assert_eq!(EventSeq::parse(bad), None, "{bad}");
        }
    }
}
