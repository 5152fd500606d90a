//! The finalisation lease: renewing it while the finaliser downloads and stores, without a
//! runtime (the domain spawns nothing).

use std::future::Future;
use std::task::Poll;

use crate::error::ErrorChain;
use crate::ids::GenerationId;
use crate::ports::LeaseToken;

use super::FinalizeGeneration;

impl FinalizeGeneration {
    /// Renews the finalisation lease `token` holds every third of the lease, for as long as it
    /// is polled; stops renewing (and stays pending) once the lease is lost.
    pub(super) async fn renew_lease(&self, id: GenerationId, token: &LeaseToken) {
        let every = self.finalize_lease / 3;
        loop {
            self.clock.sleep(every).await;
            match self
                .lifecycle
                .renew_finalization(id, token, self.finalize_lease, self.clock.now())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(generation_id = %id, "finalisation lease lost");
                    break;
                }
                Err(error) => {
                    tracing::warn!(generation_id = %id, error = %ErrorChain(&error), "finalisation lease not renewed");
                }
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Runs `work` to its end while polling `renewal` alongside (which never ends by itself),
/// without a runtime: the domain spawns nothing.
pub(super) async fn while_renewing<T>(
    work: impl Future<Output = T>,
    renewal: impl Future<Output = ()>,
) -> T {
    let mut work = std::pin::pin!(work);
    let mut renewal = std::pin::pin!(renewal);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        // The renewal only ends with `pending()`: its readiness means nothing.
        let _ = renewal.as_mut().poll(cx);
        Poll::Pending
    })
    .await
}
