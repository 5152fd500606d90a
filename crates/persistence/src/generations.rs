//! Generations on diesel, with compare-and-set lifecycle transitions.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{
    ChargeOutcome, Completion, Created, DueCharge, Funds, GenerationRepository, Refusal, Transition,
};
use picture_domain::{
    Billing, CreditAmount, FreemiumPolicy, Generation, GenerationId, GenerationStatus,
    NewGeneration, NewImage, PredictionId, RepositoryError, UserId,
};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::images::ImageRow;
use crate::money_events::{MoneyEvent, emit_all};
use crate::schema::image_generations as generations;
use crate::schema::remote_charges as charges;
use crate::schema::{credit_accounts as accounts, credit_entries as entries, images};
use crate::time::to_millis;

/// Settles a generation's credit hold once: appends the ledger entry `$kind` (`capture` or
/// `release`) for the amount its `reserve` entry held, unless that entry exists already.
/// Evaluates to `Some(amount)` when this call appended it (the caller then moves the balance),
/// `None` when there was no hold or it was already settled. Inside a transaction body.
macro_rules! settle_hold {
    ($conn:expr, $id:expr, $user:expr, $kind:literal, $at:expr) => {{
        let held: Option<i64> = entries::table
            .filter(entries::idempotency_key.eq(entry_key("reserve", $id)))
            .select(entries::amount)
            .first($conn)
            .await
            .optional()?;
        match held {
            Some(amount) => {
                let appended = diesel::insert_into(entries::table)
                    .values((
                        entries::id.eq(uuid::Uuid::new_v4().to_string()),
                        entries::user_id.eq($user),
                        entries::generation_id.eq(Some($id)),
                        entries::kind.eq($kind),
                        entries::amount.eq(amount),
                        entries::idempotency_key.eq(entry_key($kind, $id)),
                        entries::created_at.eq($at),
                    ))
                    .on_conflict(entries::idempotency_key)
                    .do_nothing()
                    .execute($conn)
                    .await?;
                (appended == 1).then_some(amount)
            }
            None => None,
        }
    }};
}

mod create;
mod provider_check;
mod record;
mod remote_charges;
mod row;

use row::GenerationRow;

/// The ledger column's value as a static name for events.
fn ledger_name(stored: &str) -> &'static str {
    if stored == "remote" {
        "remote"
    } else {
        "local"
    }
}

/// A ledger event about generation `id`.
fn money_event(
    op: &'static str,
    ledger: &'static str,
    user: &str,
    id: &str,
    amount: i64,
) -> MoneyEvent {
    MoneyEvent {
        op,
        ledger,
        user: user.to_owned(),
        generation: Some(id.to_owned()),
        amount,
    }
}

/// The ledger's idempotency key of `kind` for a generation.
fn entry_key(kind: &str, generation: &str) -> String {
    format!("{kind}:{generation}")
}

/// [`GenerationRepository`] stored in the `image_generations` table.
#[derive(Clone)]
pub struct DieselGenerationRepository {
    database: Database,
}

impl DieselGenerationRepository {
    /// Generations in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

fn predecessors(target: GenerationStatus) -> Vec<&'static str> {
    GenerationStatus::predecessors_of(target)
        .into_iter()
        .map(GenerationStatus::as_str)
        .collect()
}

/// How a single generation is looked up.
enum Lookup<'a> {
    Id(String),
    IdOfUser(String, &'a str),
    Prediction(&'a str),
}

/// Generations left behind, oldest first: the reconciler's two queries.
enum Stale {
    /// `processing` since before `older_than` (ms) and not leased at `now` (ms).
    Processing { older_than: i64, now: i64 },
    /// `pending`, never submitted, created before `older_than` (ms).
    Pending { older_than: i64 },
}

impl DieselGenerationRepository {
    async fn stale(&self, which: Stale, limit: u32) -> Result<Vec<Generation>, RepositoryError> {
        let rows: Vec<GenerationRow> = with_connection!(self.database, |conn| {
            let query = generations::table.into_boxed();
            let query = match which {
                Stale::Processing { older_than, now } => query
                    .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
                    .filter(generations::updated_at.lt(older_than))
                    .filter(
                        generations::finalize_lease_until
                            .is_null()
                            .or(generations::finalize_lease_until.lt(now)),
                    )
                    .order(generations::updated_at.asc()),
                Stale::Pending { older_than } => query
                    .filter(generations::status.eq(GenerationStatus::Pending.as_str()))
                    .filter(generations::replicate_prediction_id.is_null())
                    .filter(generations::created_at.lt(older_than))
                    .order(generations::created_at.asc()),
            };
            query
                .limit(i64::from(limit))
                .select(GenerationRow::as_select())
                .load(conn)
                .await
                .map_err(query_error)
        })?;
        rows.into_iter()
            .map(GenerationRow::into_generation)
            .collect()
    }

    async fn find_one(&self, lookup: Lookup<'_>) -> Result<Option<Generation>, RepositoryError> {
        let row: Option<GenerationRow> = with_connection!(self.database, |conn| {
            let query = generations::table.into_boxed();
            let query = match &lookup {
                Lookup::Id(id) => query.filter(generations::id.eq(id)),
                Lookup::IdOfUser(id, user) => query
                    .filter(generations::id.eq(id))
                    .filter(generations::user_id.eq(*user)),
                Lookup::Prediction(prediction) => {
                    query.filter(generations::replicate_prediction_id.eq(*prediction))
                }
            };
            query
                .select(GenerationRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        row.map(GenerationRow::into_generation).transpose()
    }
}

#[async_trait]
impl GenerationRepository for DieselGenerationRepository {
    async fn create(
        &self,
        generation: &NewGeneration,
        policy: &FreemiumPolicy,
        funds: Funds,
    ) -> Result<Result<Created, Refusal>, RepositoryError> {
        self.create_with(generation, policy, funds).await
    }

    async fn find(&self, id: GenerationId) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::Id(id.to_string())).await
    }

    async fn find_for_user(
        &self,
        user: &UserId,
        id: GenerationId,
    ) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::IdOfUser(id.to_string(), user.as_str()))
            .await
    }

    async fn find_by_prediction(
        &self,
        prediction_id: &PredictionId,
    ) -> Result<Option<Generation>, RepositoryError> {
        self.find_one(Lookup::Prediction(prediction_id.as_str()))
            .await
    }

    async fn claim_provider_check(
        &self,
        id: GenerationId,
        min_interval: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        self.claim_check(id, min_interval, at).await
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
        let moved: Option<Vec<MoneyEvent>> = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let guarded = generations::table
                    .filter(generations::id.eq(&id))
                    .filter(generations::status.eq_any(&from));
                let updated = diesel::update(guarded)
                    .set((
                        generations::status.eq(status),
                        generations::error_message.eq(Some(message.as_str())),
                        generations::completed_at.eq(Some(at)),
                        generations::updated_at.eq(at),
                        generations::finalize_lease_until.eq(None::<i64>),
                    ))
                    .cached()
                    .execute(conn)
                    .await?;
                if updated != 1 {
                    return Ok(None);
                }
                let mut events = Vec::new();
                // Failed or cancelled: give back its free slot or its credit hold.
                let (user, billing, ledger): (String, String, String) = generations::table
                    .find(&id)
                    .select((
                        generations::user_id,
                        generations::billing,
                        generations::ledger,
                    ))
                    .first(conn)
                    .await?;
                let ledger = ledger_name(&ledger);
                if billing == Billing::Free.as_str() {
                    let returned = diesel::update(
                        accounts::table
                            .find(&user)
                            .filter(accounts::free_generations_used.gt(0)),
                    )
                    .set((
                        accounts::free_generations_used.eq(accounts::free_generations_used - 1),
                        accounts::updated_at.eq(at),
                    ))
                    .cached()
                    .execute(conn)
                    .await?;
                    if returned == 1 {
                        events.push(money_event("free_slot_returned", ledger, &user, &id, 0));
                    }
                } else if billing == Billing::Paid.as_str()
                    && let Some(amount) = settle_hold!(conn, &id, &user, "release", at)
                {
                    // A local hold goes back to the balance; a hold against the remote
                    // service only stops counting against it.
                    let refund = if ledger == "local" { amount } else { 0 };
                    diesel::update(accounts::table.find(&user))
                        .set((
                            accounts::balance.eq(accounts::balance + refund),
                            accounts::held.eq(accounts::held - amount),
                            accounts::updated_at.eq(at),
                        ))
                        .cached()
                        .execute(conn)
                        .await?;
                    events.push(money_event("release", ledger, &user, &id, amount));
                }
                Ok(Some(events))
            })
            .await
            .map_err(query_error))?;
        Ok(moved.map(|events| emit_all(&events)).is_some())
    }

    async fn complete(
        &self,
        id: GenerationId,
        image: &NewImage,
        generation_time_seconds: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<Option<Completion>, RepositoryError> {
        let from = predecessors(GenerationStatus::Completed);
        let generation = id;
        let id = id.to_string();
        let at = to_millis(at);
        let image_row = ImageRow::new(image)?;
        let stored: Option<(ImageRow, Option<(String, i64)>, Vec<MoneyEvent>)> =
            with_connection!(self.database, |conn| conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let updated = diesel::update(
                        generations::table
                            .filter(generations::id.eq(&id))
                            .filter(generations::status.eq_any(&from)),
                    )
                    .set((
                        generations::status.eq(GenerationStatus::Completed.as_str()),
                        generations::generation_time_seconds.eq(generation_time_seconds),
                        generations::completed_at.eq(Some(at)),
                        generations::updated_at.eq(at),
                        generations::finalize_lease_until.eq(None::<i64>),
                    ))
                    .cached()
                    .execute(conn)
                    .await?;
                    if updated != 1 {
                        return Ok(None);
                    }
                    let stored: ImageRow = diesel::insert_into(images::table)
                        .values(&image_row)
                        .returning(ImageRow::as_returning())
                        .get_result(conn)
                        .await?;
                    // Settle the hold, once: spend it locally, or owe it to the remote service.
                    let (user, billing, ledger): (String, String, String) = generations::table
                        .find(&id)
                        .select((
                            generations::user_id,
                            generations::billing,
                            generations::ledger,
                        ))
                        .first(conn)
                        .await?;
                    let ledger = ledger_name(&ledger);
                    let mut events = Vec::new();
                    let mut due = None;
                    if billing == Billing::Paid.as_str()
                        && let Some(amount) = settle_hold!(conn, &id, &user, "capture", at)
                    {
                        let spent = if ledger == "local" { amount } else { 0 };
                        diesel::update(accounts::table.find(&user))
                            .set((
                                accounts::held.eq(accounts::held - amount),
                                accounts::total_spent.eq(accounts::total_spent + spent),
                                accounts::updated_at.eq(at),
                            ))
                            .cached()
                            .execute(conn)
                            .await?;
                        if ledger == "local" {
                            diesel::update(generations::table.find(&id))
                                .set(generations::credits_used.eq(amount))
                                .cached()
                                .execute(conn)
                                .await?;
                        } else {
                            diesel::insert_into(charges::table)
                                .values((
                                    charges::generation_id.eq(&id),
                                    charges::user_id.eq(&user),
                                    charges::amount.eq(amount),
                                    charges::created_at.eq(at),
                                    charges::updated_at.eq(at),
                                ))
                                .execute(conn)
                                .await?;
                            due = Some((user.clone(), amount));
                        }
                        events.push(money_event("capture", ledger, &user, &id, amount));
                    }
                    Ok(Some((stored, due, events)))
                })
                .await
                .map_err(query_error))?;
        let Some((row, due, events)) = stored else {
            return Ok(None);
        };
        emit_all(&events);
        let charge = due
            .map(|(user, amount)| {
                Ok::<_, RepositoryError>(DueCharge {
                    generation_id: generation,
                    user_id: UserId::parse(user).map_err(|e| corrupt("user id", e))?,
                    amount: CreditAmount::new(amount).map_err(|e| corrupt("amount", e))?,
                })
            })
            .transpose()?;
        Ok(Some(Completion {
            image: row.into_image()?,
            charge,
        }))
    }

    async fn claim_finalization(
        &self,
        id: GenerationId,
        lease: Duration,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2));
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
        .set(generations::finalize_lease_until.eq(Some(until)))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(claimed == 1)
    }

    async fn release_claim(&self, id: GenerationId) -> Result<(), RepositoryError> {
        let id = id.to_string();
        with_connection!(self.database, |conn| diesel::update(
            generations::table.filter(generations::id.eq(&id))
        )
        .set(generations::finalize_lease_until.eq(None::<i64>))
        .cached()
        .execute(conn)
        .await
        .map_err(query_error))?;
        Ok(())
    }

    async fn stale_processing(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        self.stale(
            Stale::Processing {
                older_than: to_millis(older_than),
                now: to_millis(at),
            },
            limit,
        )
        .await
    }

    async fn stale_pending(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        self.stale(
            Stale::Pending {
                older_than: to_millis(older_than),
            },
            limit,
        )
        .await
    }

    async fn due_charges(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCharge>, RepositoryError> {
        self.due_charges_before(older_than, limit).await
    }

    async fn settle_charge(
        &self,
        id: GenerationId,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        self.record_charge(id, outcome, at).await
    }

    async fn history(
        &self,
        user: &UserId,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Generation>, u64), RepositoryError> {
        let user = user.as_str();
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total): (Vec<GenerationRow>, i64) = with_connection!(self.database, |conn| {
            let total: i64 = generations::table
                .filter(generations::user_id.eq(user))
                .count()
                .get_result(conn)
                .await
                .map_err(query_error)?;
            let rows = generations::table
                .filter(generations::user_id.eq(user))
                .order((generations::created_at.desc(), generations::id.desc()))
                .offset(offset)
                .limit(i64::from(limit))
                .select(GenerationRow::as_select())
                .load(conn)
                .await
                .map_err(query_error)?;
            Ok::<_, RepositoryError>((rows, total))
        })?;
        let generations = rows
            .into_iter()
            .map(GenerationRow::into_generation)
            .collect::<Result<_, _>>()?;
        Ok((generations, u64::try_from(total).unwrap_or(0)))
    }
}
