//! Errors shared by the persistence ports.
//!
//! Which error belongs to which layer: domain newtypes return
//! [`ValidationErrors`](crate::ValidationErrors); ports return their own enums (this one for
//! repositories); adapters convert their library errors into these at the port boundary; the
//! server maps them to HTTP in one place.

/// What a repository can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The database could not be reached or did not answer in time. Retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness or foreign-key rule refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored row could not be turned into a domain value (corrupt or foreign data).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Other(String),
}
