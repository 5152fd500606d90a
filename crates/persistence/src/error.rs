//! Errors of this crate, and their conversion into the domain's [`RepositoryError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use picture_domain::RepositoryError;

/// The library error a [`PersistenceError`] keeps as its cause.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What setting up the database can fail with. The library's error is kept as the `source()`.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    /// `DATABASE_URL` is not usable.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or the pool not built.
    #[error("cannot connect to the database")]
    Connect(#[source] Cause),
    /// A migration failed.
    #[error("migration failed")]
    Migration(#[source] Cause),
}

/// Maps a diesel error to the domain's repository error.
pub(crate) fn query_error(error: DieselError) -> RepositoryError {
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
            info,
        ) => RepositoryError::Conflict(info.message().to_owned()),
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => RepositoryError::Unavailable(info.message().into()),
        DieselError::DeserializationError(e) => RepositoryError::Corrupt(e.to_string()),
        other => RepositoryError::Other(Box::new(other)),
    }
}

/// Maps a failure to obtain a pooled connection.
pub(crate) fn pool_error(error: impl Into<Cause>) -> RepositoryError {
    RepositoryError::Unavailable(error.into())
}

/// A stored value that does not fit the domain type.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Corrupt(format!("{what}: {detail}"))
}
