//! Stored generations, behind four ports split by purpose: the lifecycle (compare-and-set moves
//! that carry the money), reads, the reconciler's queue, and the remote charge queue. Each
//! service holds only the ones it calls; [`GenerationRepository`] is all four, for the adapter
//! and the wiring (an `Arc<dyn GenerationRepository>` upcasts to each part).

mod lifecycle;
mod reads;
mod reconciler_queue;
mod remote_charge_queue;

pub use lifecycle::{Completion, Created, GenerationLifecycle, LeaseToken, Transition};
pub use reads::GenerationReads;
pub use reconciler_queue::ReconcilerQueue;
pub use remote_charge_queue::{DueCharge, RemoteChargeQueue};

#[cfg(any(test, feature = "mock"))]
pub use lifecycle::MockGenerationLifecycle;
#[cfg(any(test, feature = "mock"))]
pub use reads::MockGenerationReads;
#[cfg(any(test, feature = "mock"))]
pub use reconciler_queue::MockReconcilerQueue;
#[cfg(any(test, feature = "mock"))]
pub use remote_charge_queue::MockRemoteChargeQueue;

/// Every generation port at once: what the database adapter implements. Implemented for
/// every type that implements the four parts.
pub trait GenerationRepository:
    GenerationLifecycle + GenerationReads + ReconcilerQueue + RemoteChargeQueue
{
}

impl<T> GenerationRepository for T where
    T: GenerationLifecycle + GenerationReads + ReconcilerQueue + RemoteChargeQueue + ?Sized
{
}

#[cfg(any(test, feature = "mock"))]
mod mock {
    //! One mock of all four parts, for tests that script a generation across them.

    use std::time::Duration;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use super::{
        Completion, Created, DueCharge, GenerationLifecycle, GenerationReads, LeaseToken,
        ReconcilerQueue, RemoteChargeQueue, Transition,
    };
    use crate::error::RepositoryError;
    use crate::freemium::FreemiumPolicy;
    use crate::generation::{Generation, NewGeneration};
    use crate::ids::{GenerationId, PredictionId, UserId};
    use crate::image::NewImage;
    use crate::money::{ChargeOutcome, Funds, Refusal};

    mockall::mock! {
        /// A mock of every generation port ([`GenerationRepository`](super::GenerationRepository)).
        pub GenerationRepository {}

        #[async_trait]
        impl GenerationLifecycle for GenerationRepository {
            async fn create(
                &self,
                generation: &NewGeneration,
                policy: &FreemiumPolicy,
                funds: Funds,
            ) -> Result<Result<Created, Refusal>, RepositoryError>;
            async fn transition(
                &self,
                id: GenerationId,
                transition: &Transition,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
            async fn complete(
                &self,
                id: GenerationId,
                token: &LeaseToken,
                image: &NewImage,
                generation_time_seconds: Option<i32>,
                at: DateTime<Utc>,
            ) -> Result<Option<Completion>, RepositoryError>;
            async fn claim_finalization(
                &self,
                id: GenerationId,
                lease: Duration,
                at: DateTime<Utc>,
            ) -> Result<Option<LeaseToken>, RepositoryError>;
            async fn renew_finalization(
                &self,
                id: GenerationId,
                token: &LeaseToken,
                lease: Duration,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
            async fn fail_finalization(
                &self,
                id: GenerationId,
                token: &LeaseToken,
                message: &str,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
            async fn release_claim(
                &self,
                id: GenerationId,
                token: &LeaseToken,
            ) -> Result<(), RepositoryError>;
            async fn claim_provider_check(
                &self,
                id: GenerationId,
                min_interval: Duration,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
            async fn record_progress(
                &self,
                id: GenerationId,
                progress: crate::live::Progress,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
        }

        #[async_trait]
        impl GenerationReads for GenerationRepository {
            async fn find(&self, id: GenerationId) -> Result<Option<Generation>, RepositoryError>;
            async fn find_for_user(
                &self,
                user: &UserId,
                id: GenerationId,
            ) -> Result<Option<Generation>, RepositoryError>;
            async fn find_by_prediction(
                &self,
                prediction_id: &PredictionId,
            ) -> Result<Option<Generation>, RepositoryError>;
            async fn history(
                &self,
                user: &UserId,
                offset: u64,
                limit: u32,
            ) -> Result<(Vec<Generation>, u64), RepositoryError>;
            async fn active(&self, user: &UserId, limit: u32) -> Result<Vec<Generation>, RepositoryError>;
        }

        #[async_trait]
        impl ReconcilerQueue for GenerationRepository {
            async fn stale_processing(
                &self,
                older_than: DateTime<Utc>,
                at: DateTime<Utc>,
                hold: Duration,
                limit: u32,
            ) -> Result<Vec<Generation>, RepositoryError>;
            async fn stale_pending(
                &self,
                older_than: DateTime<Utc>,
                at: DateTime<Utc>,
                hold: Duration,
                limit: u32,
            ) -> Result<Vec<Generation>, RepositoryError>;
        }

        #[async_trait]
        impl RemoteChargeQueue for GenerationRepository {
            async fn due_charges(
                &self,
                older_than: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<DueCharge>, RepositoryError>;
            async fn settle_charge(
                &self,
                id: GenerationId,
                outcome: &ChargeOutcome,
                at: DateTime<Utc>,
            ) -> Result<bool, RepositoryError>;
        }
    }
}

#[cfg(any(test, feature = "mock"))]
pub use mock::MockGenerationRepository;
