//! The moment a render is given up, checked by the blocking work between its stages.

use std::time::{Duration, Instant};

use picture_domain::ports::RenderError;

/// When the caller stops waiting for a render (`None`: a limit beyond the clock's range).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `limit` from now.
    pub(crate) fn after(limit: Duration) -> Self {
        Self(Instant::now().checked_add(limit))
    }

    /// [`RenderError::TimedOut`] once the deadline has passed, so the work stops early.
    pub(crate) fn check(self) -> Result<(), RenderError> {
        match self.0 {
            Some(end) if Instant::now() >= end => Err(RenderError::TimedOut),
            _ => Ok(()),
        }
    }
}
