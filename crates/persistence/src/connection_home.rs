//! Where a pooled connection lives. A connection is bound to the tokio runtime it is opened
//! on: tokio-postgres drives a PostgreSQL connection's socket from a task spawned there, and
//! diesel-async's `SyncConnectionWrapper` runs every SQLite statement on that runtime's blocking
//! threads. Once that runtime stops (an actix worker stops as soon as it has no request of its
//! own left), the connection fails for every other caller that checks it out.

use std::future::Future;
use std::sync::Arc;

use diesel::ConnectionError;
use tokio::runtime::{Builder, Runtime};

use crate::error::PersistenceError;

/// Where a pool's connections do their I/O (PostgreSQL: the task that drives the socket) and
/// their blocking work (SQLite: every statement).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConnectionHome {
    /// On a runtime of the database's own (one thread, and blocking threads for SQLite) that
    /// lives as long as the pool: a connection serves callers on any runtime and keeps working
    /// when the runtime of the caller that opened it stops. Each PostgreSQL round trip is
    /// relayed between the caller's thread and that runtime's thread; SQLite's statements hop
    /// to a blocking thread either way.
    #[default]
    Database,
    /// On the runtime of the caller that opens it: no relay, but the connection fails once that
    /// runtime stops. Only for a pool whose callers all run on one runtime that outlives them
    /// (a server's only HTTP worker, or the start-up runtime).
    Caller,
}

/// The runtime a [`ConnectionHome::Database`] pool opens its connections on. Stopped without
/// waiting when the pool is dropped (a runtime may not block while it is dropped inside
/// another runtime).
pub(crate) struct HomeRuntime {
    runtime: Option<Runtime>,
}

impl HomeRuntime {
    /// Starts the runtime of one pool, or none for [`ConnectionHome::Caller`].
    pub(crate) fn for_home(home: ConnectionHome) -> Result<Option<Arc<Self>>, PersistenceError> {
        match home {
            ConnectionHome::Caller => Ok(None),
            ConnectionHome::Database => Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("picture-db")
                .enable_all()
                .build()
                .map(|runtime| {
                    Some(Arc::new(Self {
                        runtime: Some(runtime),
                    }))
                })
                .map_err(|e| {
                    PersistenceError::Connect(format!("starting its runtime: {e}").into())
                }),
        }
    }

    /// Runs `opening` (which opens a connection) on this runtime, so the connection is bound to
    /// it rather than to the caller's.
    async fn open<C, F>(&self, opening: F) -> Result<C, ConnectionError>
    where
        C: Send + 'static,
        F: Future<Output = Result<C, ConnectionError>> + Send + 'static,
    {
        let Some(runtime) = &self.runtime else {
            return Err(ConnectionError::BadConnection(
                "the database's runtime has stopped".to_owned(),
            ));
        };
        runtime.spawn(opening).await.map_err(|e| {
            ConnectionError::BadConnection(format!("opening the connection failed: {e}"))
        })?
    }
}

impl Drop for HomeRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `opening` on `home`'s runtime, or on the caller's when there is none.
pub(crate) async fn open_at_home<C, F>(
    home: Option<&HomeRuntime>,
    opening: F,
) -> Result<C, ConnectionError>
where
    C: Send + 'static,
    F: Future<Output = Result<C, ConnectionError>> + Send + 'static,
{
    match home {
        Some(home) => home.open(opening).await,
        None => opening.await,
    }
}
