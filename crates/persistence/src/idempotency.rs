//! `Idempotency-Key` records on diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{IdempotencyClaim, IdempotencyStore};
use picture_domain::{GenerationId, RepositoryError, UserId};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::idempotency_keys as keys;
use crate::time::to_millis;

/// [`IdempotencyStore`] in the `idempotency_keys` table.
#[derive(Clone)]
pub struct DieselIdempotencyStore {
    database: Database,
}

impl DieselIdempotencyStore {
    /// Records in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl IdempotencyStore for DieselIdempotencyStore {
    async fn claim(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        generation_id: GenerationId,
        at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, RepositoryError> {
        let generation = generation_id.to_string();
        let now = to_millis(at);
        let (inserted, row): (usize, (String, String, Option<i32>)) =
            with_connection!(self.database, |conn| {
                let inserted = diesel::insert_into(keys::table)
                    .values((
                        keys::user_id.eq(user.as_str()),
                        keys::idempotency_key.eq(key),
                        keys::request_hash.eq(request_hash),
                        keys::generation_id.eq(&generation),
                        keys::created_at.eq(now),
                    ))
                    .on_conflict((keys::user_id, keys::idempotency_key))
                    .do_nothing()
                    .execute(conn)
                    .await
                    .map_err(query_error)?;
                let row = keys::table
                    .find((user.as_str(), key))
                    .select((
                        keys::request_hash,
                        keys::generation_id,
                        keys::free_generations_remaining,
                    ))
                    .first(conn)
                    .await
                    .map_err(query_error)?;
                Ok::<_, RepositoryError>((inserted, row))
            })?;
        if inserted == 1 {
            return Ok(IdempotencyClaim::New);
        }
        let (request_hash, generation_id, remaining) = row;
        Ok(IdempotencyClaim::Existing {
            request_hash,
            generation_id: generation_id
                .parse()
                .map_err(|_| corrupt("generation id", &generation_id))?,
            free_generations_remaining: remaining.and_then(|r| u32::try_from(r).ok()),
        })
    }

    async fn answered(
        &self,
        user: &UserId,
        key: &str,
        free_generations_remaining: u32,
    ) -> Result<(), RepositoryError> {
        let remaining = i32::try_from(free_generations_remaining).unwrap_or(i32::MAX);
        with_connection!(self.database, |conn| diesel::update(
            keys::table.find((user.as_str(), key))
        )
        .set(keys::free_generations_remaining.eq(Some(remaining)))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(())
    }

    async fn forget(&self, user: &UserId, key: &str) -> Result<(), RepositoryError> {
        with_connection!(self.database, |conn| diesel::delete(
            keys::table.find((user.as_str(), key))
        )
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(())
    }
}
