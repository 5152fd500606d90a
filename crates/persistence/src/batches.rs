//! Batches on diesel ([`BatchRepository`]): the `batch_generations` row and its items, the
//! generations with its `batch_id`. Queueing items decides their money in the same transaction
//! as it writes them, serialised on the user's account row like a single generation.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::batch::{BatchDetail, BatchItem, BatchSummary};
use picture_domain::money::{self, BatchAccess, BatchRefusal, Funds};
use picture_domain::ports::{BatchRepository, BatchTarget, NewBatchItem, Queued};
use picture_domain::{BatchId, FreemiumPolicy, GenerationStatus, RepositoryError, UserId};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, with_connection};
use crate::error::{TxError, query_error};
use crate::generations::GenerationRow;
use crate::money_events::MoneyEvent;
use crate::money_rows::{AccountValues, EntryRow, MoneyRows, update_account};
use crate::schema::{batch_generations as batches, credit_accounts as accounts};
use crate::schema::{credit_entries as entries, image_generations as generations, images};
use crate::time::to_millis;

mod queue;
mod rows;

use rows::{BatchRow, Tally};

/// Batches and their durable queue in the database.
#[derive(Clone)]
pub struct DieselBatchRepository {
    database: Database,
}

impl DieselBatchRepository {
    /// Batches in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// The counts of the batches `ids`.
    async fn tally(&self, ids: &[String]) -> Result<Tally, RepositoryError> {
        if ids.is_empty() {
            return Ok(Tally::default());
        }
        let rows: Vec<(Option<String>, String, i64, Option<i64>)> =
            with_connection!(self.database, |conn| generations::table
                .filter(generations::batch_id.eq_any(ids))
                .group_by((generations::batch_id, generations::status))
                .select((
                    generations::batch_id,
                    generations::status,
                    diesel::dsl::count_star(),
                    diesel::dsl::max(generations::updated_at),
                ))
                .load(conn)
                .await
                .map_err(query_error))?;
        Tally::of(rows)
    }

    /// The batch `id` of `user`, if any.
    async fn row(&self, user: &UserId, id: BatchId) -> Result<Option<BatchRow>, RepositoryError> {
        with_connection!(self.database, |conn| batches::table
            .find(id.to_string())
            .filter(batches::user_id.eq(user.as_str()))
            .select(BatchRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(query_error))
    }
}

/// Everything queueing writes besides the account: the items' rows and their holds' entries.
fn item_rows(
    batch: &str,
    items: &[NewBatchItem],
    access: &BatchAccess,
) -> Result<Vec<GenerationRow>, RepositoryError> {
    items
        .iter()
        .zip(&access.items)
        .map(|(item, access)| {
            GenerationRow::new(&item.generation, access.billing, access.ledger)?.queued_in(
                batch,
                item.index,
                item.retry_count,
            )
        })
        .collect()
}

#[async_trait]
impl BatchRepository for DieselBatchRepository {
    async fn queue(
        &self,
        target: &BatchTarget,
        items: &[NewBatchItem],
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Option<Queued>, BatchRefusal>, RepositoryError> {
        let Some(first) = items.first() else {
            return Ok(Ok(None));
        };
        let user = first.generation.user_id.as_str().to_owned();
        let (batch_id, new_batch) = match target {
            BatchTarget::New(batch) => (batch.id, Some(BatchRow::new(batch)?)),
            BatchTarget::Retry { batch, .. } => (*batch, None),
        };
        let replacing: Vec<String> = match target {
            BatchTarget::Retry { replacing, .. } => {
                replacing.iter().map(ToString::to_string).collect()
            }
            BatchTarget::New(_) => Vec::new(),
        };
        let batch = batch_id.to_string();
        let now = to_millis(first.generation.created_at);
        let count = u32::try_from(items.len())
            .map_err(|_| RepositoryError::Other("too many batch items".into()))?;
        let user_ref = user.as_str();
        let batch_ref = batch.as_str();
        let outcome = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                // The account row first: concurrent money moves (and retries) of this user
                // are decided one after the other.
                let account = conn.lock_account(user_ref, now).await?;
                if !replacing.is_empty() {
                    let still_failed: i64 = generations::table
                        .filter(generations::id.eq_any(&replacing))
                        .filter(generations::batch_id.eq(batch_ref))
                        .filter(generations::user_id.eq(user_ref))
                        .filter(generations::status.eq(GenerationStatus::Failed.as_str()))
                        .count()
                        .get_result(conn)
                        .await?;
                    if usize::try_from(still_failed).ok() != Some(replacing.len()) {
                        return Ok(None);
                    }
                }
                let access = money::decide_batch_access(policy, &account, funds, count)?
                    .map_err(TxError::BatchRefused)?;
                if let Some(row) = &new_batch {
                    diesel::insert_into(batches::table)
                        .values(row)
                        .execute(conn)
                        .await?;
                }
                if !replacing.is_empty() {
                    // The failed attempts leave the batch; they stay in the user's history.
                    diesel::update(generations::table.filter(generations::id.eq_any(&replacing)))
                        .set((
                            generations::batch_id.eq(None::<String>),
                            generations::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                }
                if access.account != account {
                    let values = AccountValues::new(&access.account, now)?;
                    if update_account!(user_ref, &values).execute(conn).await? != 1 {
                        return Err(TxError::Db(diesel::result::Error::RollbackTransaction));
                    }
                }
                let rows = item_rows(batch_ref, items, &access)?;
                let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
                let entry_rows: Vec<EntryRow<'_>> = ids
                    .iter()
                    .zip(&access.items)
                    .filter_map(|(id, access)| {
                        access
                            .entry
                            .map(|entry| EntryRow::of_generation(user_ref, id, entry, now))
                    })
                    .collect();
                // One row a statement: the same prepared statement each time, on both
                // backends (SQLite takes no multi-row insert of these rows).
                for entry in &entry_rows {
                    diesel::insert_into(entries::table)
                        .values(entry)
                        .execute(conn)
                        .await?;
                }
                for row in &rows {
                    diesel::insert_into(generations::table)
                        .values(row)
                        .execute(conn)
                        .await?;
                }
                Ok(Some((ids, access)))
            })
            .await
            .map_or_else(TxError::into_batch_result, |ok| Ok(Ok(ok))))?;
        let (ids, access) = match outcome {
            Ok(Some(queued)) => queued,
            Ok(None) => return Ok(Ok(None)),
            Err(refusal) => return Ok(Err(refusal)),
        };
        for (id, item) in ids.iter().zip(&access.items) {
            MoneyEvent::new(item.movement, item.ledger, &user, Some(id)).emit();
        }
        let last = access.items.last();
        Ok(Ok(Some(Queued {
            free_generations_remaining: last.map_or(0, |a| a.free_generations_remaining),
            balance_after: last.and_then(|a| a.balance_after),
        })))
    }

    async fn list(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<BatchSummary>, RepositoryError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows: Vec<BatchRow> = with_connection!(self.database, |conn| batches::table
            .filter(batches::user_id.eq(user.as_str()))
            .order((batches::created_at.desc(), batches::id.desc()))
            .select(BatchRow::as_select())
            .limit(i64::from(limit))
            .offset(offset)
            .load(conn)
            .await
            .map_err(query_error))?;
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        let mut tally = self.tally(&ids).await?;
        rows.into_iter()
            .map(|row| {
                let (counts, last) = tally.take(&row.id);
                row.into_summary(counts, last)
            })
            .collect()
    }

    async fn find(
        &self,
        user: &UserId,
        id: BatchId,
    ) -> Result<Option<BatchDetail>, RepositoryError> {
        let Some(summary) = self.summary(user, id).await? else {
            return Ok(None);
        };
        let rows: Vec<(GenerationRow, Option<String>)> =
            with_connection!(self.database, |conn| generations::table
                .left_join(images::table.on(images::generation_id.eq(generations::id.nullable())))
                .filter(generations::batch_id.eq(id.to_string()))
                .order((generations::priority.asc(), generations::created_at.asc()))
                .select((GenerationRow::as_select(), images::public_url.nullable()))
                .load(conn)
                .await
                .map_err(query_error))?;
        let items = rows
            .into_iter()
            .map(|(row, image_url)| {
                let (index, retry_count) = row.batch_position()?;
                Ok(BatchItem {
                    generation: row.into_generation()?,
                    index,
                    retry_count,
                    image_url,
                })
            })
            .collect::<Result<Vec<_>, RepositoryError>>()?;
        Ok(Some(BatchDetail { summary, items }))
    }

    async fn summary(
        &self,
        user: &UserId,
        id: BatchId,
    ) -> Result<Option<BatchSummary>, RepositoryError> {
        let Some(row) = self.row(user, id).await? else {
            return Ok(None);
        };
        let mut tally = self.tally(std::slice::from_ref(&row.id)).await?;
        let (counts, last) = tally.take(&row.id);
        row.into_summary(counts, last).map(Some)
    }

    async fn delete(&self, user: &UserId, id: BatchId) -> Result<bool, RepositoryError> {
        let batch = id.to_string();
        let batch_ref = batch.as_str();
        let owner = user.as_str();
        with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let deleted = diesel::delete(
                    batches::table
                        .find(batch_ref)
                        .filter(batches::user_id.eq(owner)),
                )
                .execute(conn)
                .await?;
                if deleted == 1 {
                    diesel::update(generations::table.filter(generations::batch_id.eq(batch_ref)))
                        .set(generations::batch_id.eq(None::<String>))
                        .execute(conn)
                        .await?;
                }
                Ok(deleted == 1)
            })
            .await
            .map_err(query_error))
    }
}
