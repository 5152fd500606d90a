//! A generation's lifecycle ([`GenerationLifecycle`]): compare-and-set moves and
//! finalisation leases. Creating, completing and ending move money too (`create.rs`,
//! `complete.rs`, `settle.rs`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{
    Completion, Created, Funds, GenerationLifecycle, LeaseToken, Refusal, Transition,
};
use picture_domain::{
    FreemiumPolicy, GenerationId, GenerationStatus, NewGeneration, NewImage, Progress,
    RepositoryError,
};

use super::{DieselGenerationRepository, lease_end, predecessors};
use crate::cached_statement::CacheStatement;
use crate::database::with_connection;
use crate::error::query_error;
use crate::schema::image_generations as generations;
use crate::time::to_millis;

#[async_trait]
impl GenerationLifecycle for DieselGenerationRepository {
    async fn create(
        &self,
        generation: &NewGeneration,
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Created, Refusal>, RepositoryError> {
        self.create_with(generation, policy, funds).await
    }

    async fn transition(
        &self,
        id: GenerationId,
        transition: &Transition,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let target = transition.target();
        let from = predecessors(target);
        let id = id.to_string();
        let at = to_millis(at);
        let status = target.as_str();
        let message = match transition {
            Transition::Failed { message } | Transition::Cancelled { message } => message,
            Transition::Processing { prediction_id } => {
                // A single statement moves no money: no transaction round trips around it.
                let updated = with_connection!(self.database, |conn| diesel::update(
                    generations::table
                        .filter(generations::id.eq(&id))
                        .filter(generations::status.eq_any(&from))
                )
                .set((
                    generations::status.eq(status),
                    generations::replicate_prediction_id.eq(Some(prediction_id.as_str())),
                    generations::updated_at.eq(at),
                ))
                .cached()
                .execute(conn)
                .await
                .map_err(query_error))?;
                return Ok(updated == 1);
            }
        };
        self.end_as(&id, status, &from, message, at, None).await
    }

    async fn complete(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        image: &NewImage,
        generation_time_seconds: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<Option<Completion>, RepositoryError> {
        self.complete_with(id, token, image, generation_time_seconds, at)
            .await
    }

    async fn claim_finalization(
        &self,
        id: GenerationId,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<Option<LeaseToken>, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let until = lease_end(now, lease);
        let token = LeaseToken::new_random();
        let claimed: usize = with_connection!(self.database, |conn| diesel::update(
            generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
                .filter(
                    generations::finalize_lease_until
                        .is_null()
                        .or(generations::finalize_lease_until.lt(now)),
                ),
        )
        .set((
            generations::finalize_lease_until.eq(Some(until)),
            generations::finalize_lease_owner.eq(Some(token.as_str())),
        ))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok((claimed == 1).then_some(token))
    }

    async fn renew_finalization(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let until = lease_end(to_millis(at), lease);
        let renewed: usize = with_connection!(self.database, |conn| diesel::update(
            generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
                .filter(generations::finalize_lease_owner.eq(token.as_str())),
        )
        .set(generations::finalize_lease_until.eq(Some(until)))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(renewed == 1)
    }

    async fn fail_finalization(
        &self,
        id: GenerationId,
        token: &LeaseToken,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let target = GenerationStatus::Failed;
        self.end_as(
            &id.to_string(),
            target.as_str(),
            &predecessors(target),
            message,
            to_millis(at),
            Some(token.as_str()),
        )
        .await
    }

    async fn release_claim(
        &self,
        id: GenerationId,
        token: &LeaseToken,
    ) -> Result<(), RepositoryError> {
        let id = id.to_string();
        with_connection!(self.database, |conn| diesel::update(
            generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::finalize_lease_owner.eq(token.as_str()))
        )
        .set((
            generations::finalize_lease_until.eq(None::<i64>),
            generations::finalize_lease_owner.eq(None::<&str>),
        ))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(())
    }

    async fn claim_provider_check(
        &self,
        id: GenerationId,
        min_interval: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        self.claim_check(id, min_interval, at).await
    }

    async fn record_progress(
        &self,
        id: GenerationId,
        progress: Progress,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        self.insert_progress(id, progress, at).await
    }
}
