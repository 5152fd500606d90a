//! The runtime outgoing HTTP requests are sent from when several HTTP workers run. A pooled
//! HTTP connection is driven by a task on the runtime that opened it (hyper, like
//! tokio-postgres); actix stops a worker without requests of its own at once on SIGTERM, and a
//! kept-alive connection it opened would then fail the request of another worker that is
//! still using it. Requests sent from this runtime open their connections here instead.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

/// The runtime of the process's outgoing requests (one thread), started on first need and
/// kept until the process ends; `None` when it could not be started.
static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();

/// Where the HTTP clients send from with `workers` HTTP workers: `None` (the caller's runtime,
/// no relay) for one worker, whose runtime outlives every request it serves; the shared
/// outbound runtime otherwise.
pub fn runtime_for(workers: usize) -> Option<Handle> {
    if workers <= 1 {
        return None;
    }
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("picture-http-out")
                .enable_all()
                .build()
                .inspect_err(|error| {
                    tracing::warn!(%error, "no runtime of its own for outgoing requests");
                })
                .ok()
        })
        .as_ref()
        .map(|runtime| runtime.handle().clone())
}
