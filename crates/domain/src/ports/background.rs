//! Work that outlives the request that started it.

use std::future::Future;
use std::pin::Pin;

/// A task handed to [`Background::spawn`].
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs tasks after the request that started them has answered: an inline provider's call
/// for a client that does not wait (see [`ImageProvider::answers_in_submit`]). The domain
/// spawns nothing itself; the server runs such tasks on its runtime.
///
/// Contract: `spawn` returns at once and the task runs to its end unless the process stops.
/// A task lost with its process leaves nothing half-done that is not recovered: whatever it
/// holds (a finalisation lease) runs out and the reconciler finishes the generation.
///
/// [`ImageProvider::answers_in_submit`]: crate::ports::ImageProvider::answers_in_submit
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Background: Send + Sync {
    /// Starts `task`.
    fn spawn(&self, task: BackgroundTask);
}
