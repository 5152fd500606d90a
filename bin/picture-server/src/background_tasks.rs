//! [`TokioTasks`]: the domain's [`Background`] port on the server's runtime.

use picture_domain::ports::{Background, BackgroundTask};

/// Spawns each task on the runtime of the worker that handles the request (where its
/// database connections live). A task still running when its worker stops is dropped: what
/// it held (a finalisation lease) runs out and the reconciler finishes its generation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTasks;

impl Background for TokioTasks {
    fn spawn(&self, task: BackgroundTask) {
        tokio::spawn(task);
    }
}
