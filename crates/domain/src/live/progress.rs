//! How far a running prediction is, as the provider counts it (steps done of steps).

/// `done` of `total` steps, `0 <= done <= total`, `total > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Progress {
    done: u32,
    total: u32,
}

/// A step count that is not a progress (`total` 0, or `done` past `total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{done}/{total} is not a progress")]
pub struct InvalidProgress {
    /// The steps said done.
    pub done: u32,
    /// The steps said in all.
    pub total: u32,
}

impl Progress {
    /// `done` of `total` steps.
    ///
    /// # Errors
    /// [`InvalidProgress`] when `total` is 0 or `done` exceeds it.
    pub fn new(done: u32, total: u32) -> Result<Self, InvalidProgress> {
        if total == 0 || done > total {
            return Err(InvalidProgress { done, total });
        }
        Ok(Self { done, total })
    }

    /// Steps done.
    pub fn done(self) -> u32 {
        self.done
    }

    /// Steps in all.
    pub fn total(self) -> u32 {
        self.total
    }

    /// The fraction done, 0–1.
    pub fn fraction(self) -> f64 {
        f64::from(self.done) / f64::from(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_is_a_fraction_of_at_least_one_step() {
        assert_eq!(Progress::new(3, 4).map(Progress::fraction), Ok(0.75));
        assert_eq!(Progress::new(0, 1).map(Progress::fraction), Ok(0.0));
        assert!(Progress::new(1, 0).is_err());
        assert!(Progress::new(5, 4).is_err());
    }
}
