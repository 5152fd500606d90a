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

/// The messages of the database's transient refusals that diesel does not classify: a
/// PostgreSQL deadlock (SQLSTATE 40P01, "deadlock detected"; diesel keeps no SQLSTATE but
/// 40001's) and SQLite's lock still held when `busy_timeout` ran out (`SQLITE_BUSY`).
const TRANSIENT_MESSAGES: [&str; 3] = [
    "deadlock detected",
    "database is locked",
    "database table is locked",
];

/// Maps a diesel error to the domain's repository error. A transient refusal (a deadlock, a
/// serialization failure, a lock that stayed busy) is [`RepositoryError::Unavailable`]: the
/// same call may succeed when tried again.
pub(crate) fn query_error(error: DieselError) -> RepositoryError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
            RepositoryError::Unavailable(info.message().into())
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if TRANSIENT_MESSAGES.contains(&info.message()) =>
        {
            RepositoryError::Unavailable(info.message().into())
        }
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

/// Why a transaction that moves money rolled back: the database failed, a stored value is
/// corrupt, or the generation was refused.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The database failed.
    Db(DieselError),
    /// A stored value does not fit the domain, or the money model cannot apply to it.
    Corrupt(RepositoryError),
    /// The access decision refused the generation.
    Refused(picture_domain::ports::Refusal),
    /// The access decision refused the batch.
    BatchRefused(picture_domain::money::BatchRefusal),
}

impl From<DieselError> for TxError {
    fn from(error: DieselError) -> Self {
        Self::Db(error)
    }
}

impl From<RepositoryError> for TxError {
    fn from(error: RepositoryError) -> Self {
        Self::Corrupt(error)
    }
}

impl From<picture_domain::money::Inconsistent> for TxError {
    fn from(error: picture_domain::money::Inconsistent) -> Self {
        Self::Corrupt(RepositoryError::Corrupt(error.to_string()))
    }
}

impl TxError {
    /// The repository error, or the refusal.
    pub(crate) fn into_result<T>(
        self,
    ) -> Result<Result<T, picture_domain::ports::Refusal>, RepositoryError> {
        match self {
            Self::Db(error) => Err(query_error(error)),
            Self::Corrupt(error) => Err(error),
            Self::Refused(refusal) => Ok(Err(refusal)),
            Self::BatchRefused(refusal) => Err(RepositoryError::Other(
                format!("unexpected batch refusal: {refusal:?}").into(),
            )),
        }
    }

    /// The repository error, or the batch's refusal.
    pub(crate) fn into_batch_result<T>(
        self,
    ) -> Result<Result<T, picture_domain::money::BatchRefusal>, RepositoryError> {
        match self {
            Self::BatchRefused(refusal) => Ok(Err(refusal)),
            other => Err(other.into_error()),
        }
    }

    /// The repository error; a refusal is not expected here.
    pub(crate) fn into_error(self) -> RepositoryError {
        match self {
            Self::Db(error) => query_error(error),
            Self::Corrupt(error) => error,
            Self::Refused(refusal) => {
                RepositoryError::Other(format!("unexpected refusal: {refusal:?}").into())
            }
            Self::BatchRefused(refusal) => {
                RepositoryError::Other(format!("unexpected batch refusal: {refusal:?}").into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn deadlocks_serialization_failures_and_busy_locks_are_unavailable() {
        for error in [
            database(DatabaseErrorKind::Unknown, "deadlock detected"),
            database(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access",
            ),
            database(DatabaseErrorKind::Unknown, "database is locked"),
        ] {
            assert!(matches!(
                query_error(error),
                RepositoryError::Unavailable(_)
            ));
        }
    }

    #[test]
    fn other_database_errors_stay_other() {
        assert!(matches!(
            query_error(database(DatabaseErrorKind::Unknown, "syntax error")),
            RepositoryError::Other(_)
        ));
        assert!(matches!(
            query_error(database(
                DatabaseErrorKind::UniqueViolation,
                "duplicate key"
            )),
            RepositoryError::Conflict(_)
        ));
    }
}
