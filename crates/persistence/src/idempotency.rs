//! `Idempotency-Key` records and their first answers on diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{IdempotencyClaim, IdempotencyStore, RecordedResponse};
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

/// A key's row as a claim reads it: the request hash, the answer's status and body.
type ClaimRow = (String, Option<i32>, Option<Vec<u8>>);

/// The recorded answer of a row, if it has one.
fn response_of(
    status: Option<i32>,
    body: Option<Vec<u8>>,
) -> Result<Option<RecordedResponse>, RepositoryError> {
    match (status, body) {
        (Some(status), Some(body)) => {
            let status = u16::try_from(status)
                .map_err(|_| corrupt("idempotent response status", status.to_string()))?;
            Ok(Some(RecordedResponse { status, body }))
        }
        _ => Ok(None),
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
        expired_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, RepositoryError> {
        let generation = generation_id.to_string();
        let (now, horizon) = (to_millis(at), to_millis(expired_before));
        let (inserted, row): (usize, Option<ClaimRow>) = with_connection!(self.database, |conn| {
            // An expired record is no record: it goes first (a live one, such as a concurrent
            // claim's just inserted, is never younger than the horizon, so it stays).
            diesel::delete(
                keys::table
                    .find((user.as_str(), key))
                    .filter(keys::created_at.lt(horizon)),
            )
            .execute(conn)
            .await
            .map_err(query_error)?;
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
            let row = if inserted == 1 {
                None
            } else {
                keys::table
                    .find((user.as_str(), key))
                    .select((
                        keys::request_hash,
                        keys::response_status,
                        keys::response_body,
                    ))
                    .first(conn)
                    .await
                    .optional()
                    .map_err(query_error)?
            };
            Ok::<_, RepositoryError>((inserted, row))
        })?;
        if inserted == 1 {
            return Ok(IdempotencyClaim::New);
        }
        match row {
            Some((request_hash, status, body)) => Ok(IdempotencyClaim::Existing {
                request_hash,
                response: response_of(status, body)?,
            }),
            // The winner released the key in between (its request failed): still in
            // progress for this retry, which may try again.
            None => Ok(IdempotencyClaim::Existing {
                request_hash: request_hash.to_owned(),
                response: None,
            }),
        }
    }

    async fn record(
        &self,
        user: &UserId,
        key: &str,
        response: &RecordedResponse,
    ) -> Result<(), RepositoryError> {
        let status = i32::from(response.status);
        with_connection!(self.database, |conn| diesel::update(
            keys::table
                .find((user.as_str(), key))
                .filter(keys::response_status.is_null())
        )
        .set((
            keys::response_status.eq(Some(status)),
            keys::response_body.eq(Some(response.body.as_slice())),
        ))
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

    async fn purge_expired(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        let before = to_millis(before);
        let deleted = with_connection!(self.database, |conn| {
            // The creation time of the `limit`-th oldest expired record bounds this batch.
            let oldest: Vec<i64> = keys::table
                .select(keys::created_at)
                .filter(keys::created_at.lt(before))
                .order(keys::created_at.asc())
                .limit(i64::from(limit))
                .load(conn)
                .await
                .map_err(query_error)?;
            match oldest.last() {
                Some(last) => diesel::delete(
                    keys::table
                        .filter(keys::created_at.lt(before))
                        .filter(keys::created_at.le(*last)),
                )
                .execute(conn)
                .await
                .map_err(query_error),
                None => Ok(0),
            }
        })?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}
