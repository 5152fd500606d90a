//! Generations on diesel, with compare-and-set lifecycle transitions.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{
    ChargeOutcome, Completion, Created, DueCharge, Funds, GenerationRepository, LeaseToken,
    Refusal, Transition,
};
use picture_domain::{
    Billing, CreditAmount, FreemiumPolicy, Generation, GenerationId, GenerationStatus,
    NewGeneration, NewImage, PredictionId, RepositoryError, UserId,
};

use crate::cached_statement::CacheStatement;
use crate::database::{Database, Pools, with_connection};
use crate::error::{corrupt, pool_error, query_error};
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

/// What `complete`'s transaction stored: the generation as completed, its image, the charge
/// owed to the remote service (user, amount), and the money events to log.
type Stored = (
    GenerationRow,
    ImageRow,
    Option<(String, i64)>,
    Vec<MoneyEvent>,
);

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

/// The end of a lease of `lease` taken at `now` (ms).
fn lease_end(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2))
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

/// Generations left behind: the reconciler's two kinds of work.
enum Stale {
    /// `processing` since before `older_than` (ms) and not leased at `now` (ms), or whose
    /// finaliser's lease ran out before `now`.
    Processing { older_than: i64, now: i64 },
    /// `pending`, never submitted, created before `older_than` (ms).
    Pending { older_than: i64 },
}

/// Declares `$name`: the rows of a [`Stale`] (the reconciler's work) as a filter on `$db`.
macro_rules! stale_filter {
    ($name:ident, $db:ty) => {
        fn $name(
            which: &Stale,
        ) -> Box<dyn BoxableExpression<generations::table, $db, SqlType = diesel::sql_types::Bool>>
        {
            match *which {
                Stale::Processing { older_than, now } => Box::new(
                    generations::status
                        .eq(GenerationStatus::Processing.as_str())
                        .and(
                            generations::finalize_lease_until
                                .is_null()
                                .and(generations::updated_at.lt(older_than))
                                .or(generations::finalize_lease_until.lt(now))
                                .assume_not_null(),
                        ),
                ),
                Stale::Pending { older_than } => Box::new(
                    generations::status
                        .eq(GenerationStatus::Pending.as_str())
                        .and(generations::replicate_prediction_id.is_null())
                        .and(generations::created_at.lt(older_than)),
                ),
            }
        }
    };
}

stale_filter!(stale_on_postgres, diesel::pg::Pg);
stale_filter!(stale_on_sqlite, diesel::sqlite::Sqlite);

impl DieselGenerationRepository {
    /// Takes up to `limit` rows of `which` that no other pass holds at `now` (ms), holding
    /// them until `until` (ms), oldest first: the ids are chosen, then taken by a
    /// compare-and-set on `reconcile_until`, so concurrent passes take disjoint rows.
    /// PostgreSQL chooses with `FOR UPDATE SKIP LOCKED` in the same transaction, so a pass
    /// skips the rows another instance is taking at that moment instead of waiting for them
    /// (and then finding them taken); SQLite serialises writers anyway.
    async fn take_stale(
        &self,
        which: Stale,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let limit = i64::from(limit);
        let free = || {
            generations::reconcile_until
                .is_null()
                .or(generations::reconcile_until.lt(now))
        };
        let mut rows: Vec<GenerationRow> = match self.database.pools() {
            Pools::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                    let ids: Vec<String> = generations::table
                        .filter(stale_on_postgres(&which))
                        .filter(free())
                        .order(generations::created_at.asc())
                        .select(generations::id)
                        .limit(limit)
                        .for_update()
                        .skip_locked()
                        .load(conn)
                        .await?;
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    diesel::update(
                        generations::table
                            .filter(generations::id.eq_any(&ids))
                            .filter(free()),
                    )
                    .set(generations::reconcile_until.eq(Some(until)))
                    .returning(GenerationRow::as_returning())
                    .get_results(conn)
                    .await
                })
                .await
                .map_err(query_error)?
            }
            Pools::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                let ids: Vec<String> = generations::table
                    .filter(stale_on_sqlite(&which))
                    .filter(free())
                    .order(generations::created_at.asc())
                    .select(generations::id)
                    .limit(limit)
                    .load(&mut *conn)
                    .await
                    .map_err(query_error)?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(
                    generations::table
                        .filter(generations::id.eq_any(&ids))
                        .filter(free()),
                )
                .set(generations::reconcile_until.eq(Some(until)))
                .returning(GenerationRow::as_returning())
                .get_results(&mut *conn)
                .await
                .map_err(query_error)?
            }
        };
        rows.sort_by_key(GenerationRow::created_at);
        rows.into_iter()
            .map(GenerationRow::into_generation)
            .collect()
    }

    /// Moves generation `id` from a status in `from` to the terminal `status` with `message`
    /// at `at` (ms), giving its free slot or hold back, in one transaction. Refused while a
    /// finalisation lease is live at `at`, unless `holder` is its token.
    async fn end_as(
        &self,
        id: &str,
        status: &str,
        from: &[&str],
        message: &str,
        at: i64,
        holder: Option<&str>,
    ) -> Result<bool, RepositoryError> {
        let moved: Option<Vec<MoneyEvent>> = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // Only the lease's holder ends a generation while its lease is live.
                let guarded = generations::table
                    .filter(generations::id.eq(id))
                    .filter(generations::status.eq_any(from))
                    .filter(
                        generations::finalize_lease_owner
                            .eq(holder)
                            .or(generations::finalize_lease_until.is_null())
                            .or(generations::finalize_lease_until.lt(at)),
                    );
                let updated = diesel::update(guarded)
                    .set((
                        generations::status.eq(status),
                        generations::error_message.eq(Some(message)),
                        generations::completed_at.eq(Some(at)),
                        generations::updated_at.eq(at),
                        generations::finalize_lease_until.eq(None::<i64>),
                        generations::finalize_lease_owner.eq(None::<&str>),
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
                    .find(id)
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
                        events.push(money_event("free_slot_returned", ledger, &user, id, 0));
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
                    events.push(money_event("release", ledger, &user, id, amount));
                }
                Ok(Some(events))
            })
            .await
            .map_err(query_error))?;
        Ok(moved.map(|events| emit_all(&events)).is_some())
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
        let from = predecessors(GenerationStatus::Completed);
        let generation = id;
        let id = id.to_string();
        let at = to_millis(at);
        let image_row = ImageRow::new(image)?;
        let stored: Option<Stored> = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let updated = diesel::update(
                    generations::table
                        .filter(generations::id.eq(&id))
                        .filter(generations::status.eq_any(&from))
                        .filter(generations::finalize_lease_owner.eq(token.as_str())),
                )
                .set((
                    generations::status.eq(GenerationStatus::Completed.as_str()),
                    generations::generation_time_seconds.eq(generation_time_seconds),
                    generations::completed_at.eq(Some(at)),
                    generations::updated_at.eq(at),
                    generations::finalize_lease_until.eq(None::<i64>),
                    generations::finalize_lease_owner.eq(None::<&str>),
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
                let completed: GenerationRow = generations::table
                    .find(&id)
                    .select(GenerationRow::as_select())
                    .first(conn)
                    .await?;
                Ok(Some((completed, stored, due, events)))
            })
            .await
            .map_err(query_error))?;
        let Some((completed, row, due, events)) = stored else {
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
            generation: completed.into_generation()?,
            image: row.into_image()?,
            charge,
        }))
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

    async fn stale_processing(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let now = to_millis(at);
        let which = Stale::Processing {
            older_than: to_millis(older_than),
            now,
        };
        self.take_stale(which, now, lease_end(now, hold), limit)
            .await
    }

    async fn stale_pending(
        &self,
        older_than: DateTime<Utc>,
        at: DateTime<Utc>,
        hold: Duration,
        limit: u32,
    ) -> Result<Vec<Generation>, RepositoryError> {
        let now = to_millis(at);
        let which = Stale::Pending {
            older_than: to_millis(older_than),
        };
        self.take_stale(which, now, lease_end(now, hold), limit)
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
