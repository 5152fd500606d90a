//! Errors shared by the persistence ports.
//!
//! Which error belongs to which layer: domain newtypes return
//! [`ValidationErrors`](crate::ValidationErrors); ports return their own enums (this one for
//! repositories); adapters convert their library errors into these at the port boundary; the
//! server maps them to HTTP in one place.

/// The adapter's own error a [`RepositoryError`] keeps as its cause.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What a repository can fail with. Adapters keep their library's error as the `source()` of
/// `Unavailable` and `Other` (a message converts too: `"down".into()`).
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The database could not be reached or did not answer in time. Retrying later may work.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// A uniqueness or foreign-key rule refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored row could not be turned into a domain value (corrupt or foreign data).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error")]
    Other(#[source] Cause),
}

/// An error and its causes, outermost first, on one line: `a: b: c`. Errors keep their cause
/// as `source()` instead of formatting it into their message, so a log line shows the whole
/// story only through this.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_shows_every_cause_once_outermost_first() {
        let error = RepositoryError::Other(Box::new(RepositoryError::Unavailable(
            "pool timed out".into(),
        )));
        assert_eq!(
            ErrorChain(&error).to_string(),
            "database error: database unavailable: pool timed out"
        );
        assert_eq!(error.to_string(), "database error");
    }
}
