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
        }
    }
}
