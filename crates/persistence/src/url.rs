//! Parsing `DATABASE_URL` into a backend and its connection string.

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::error::PersistenceError;

/// Which database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A parsed database URL. Its text may hold a password, so `Debug` does not print it.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: SecretString,
}

impl DatabaseUrl {
    /// Parses `postgres://…` / `postgresql://…`, or `sqlite://PATH`, `sqlite:PATH` and
    /// `sqlite::memory:` (a private in-memory database per connection, for tests).
    ///
    /// # Errors
    /// [`PersistenceError::InvalidUrl`] for any other scheme or an empty SQLite path.
    pub fn parse(raw: &str) -> Result<Self, PersistenceError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                url: SecretString::from(raw.to_owned()),
            });
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                PersistenceError::InvalidUrl("must start with postgres:// or sqlite://".into())
            })?;
        if path.is_empty() {
            return Err(PersistenceError::InvalidUrl(
                "sqlite:// needs a file path".into(),
            ));
        }
        Ok(Self {
            backend: Backend::Sqlite,
            url: SecretString::from(path.to_owned()),
        })
    }

    /// A SQLite database in the file at `path`.
    pub fn sqlite_file(path: impl Into<PathBuf>) -> Self {
        Self {
            backend: Backend::Sqlite,
            url: SecretString::from(path.into().to_string_lossy().into_owned()),
        }
    }

    /// For SQLite, creates the directory the database file goes in.
    ///
    /// # Errors
    /// [`PersistenceError::Connect`] when the directory cannot be created.
    pub(crate) fn ensure_sqlite_directory(&self) -> Result<(), PersistenceError> {
        let path = self.sqlite_path();
        match path.as_deref().and_then(|p| p.parent()) {
            Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
                .map_err(|e| {
                    PersistenceError::Connect(
                        format!("cannot create {}: {e}", parent.display()).into(),
                    )
                }),
            _ => Ok(()),
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What the driver connects to: the URL for PostgreSQL, the file path for SQLite.
    pub(crate) fn connection_string(&self) -> &str {
        self.url.expose_secret()
    }

    /// For SQLite, the file path (`None` for in-memory and PostgreSQL).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.backend {
            Backend::Sqlite if self.connection_string() != ":memory:" => {
                Some(PathBuf::from(self.connection_string()))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("backend", &self.backend)
            .field("url", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_backend() {
        let pg = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db").unwrap().backend(),
            Backend::Postgres
        );
        let file = DatabaseUrl::parse("sqlite://./data/picture.db").unwrap();
        assert_eq!(file.backend(), Backend::Sqlite);
        assert_eq!(file.connection_string(), "./data/picture.db");
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.db")
                .unwrap()
                .sqlite_path(),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().sqlite_path(),
            None
        );
    }

    #[test]
    fn other_urls_are_refused_and_secrets_not_printed() {
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        let pg = DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap();
        assert!(!format!("{pg:?}").contains("hunter2"));
    }
}
