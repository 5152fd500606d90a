//! Generations on diesel, with compare-and-set lifecycle transitions.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::ports::{Created, GenerationRepository, Transition};
use picture_domain::{
    AccessDecision, Billing, CreditAmount, FreemiumPolicy, Generation, GenerationId,
    GenerationParams, GenerationStatus, Image, InsufficientCredits, NewGeneration, NewImage,
    PredictionId, RepositoryError, UserId,
};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::images::ImageRow;
use crate::schema::image_generations as generations;
use crate::schema::{credit_accounts as accounts, credit_entries as entries, images};
use crate::time::{from_millis, to_millis};

/// A transaction's failure: the database's, or the policy's refusal (which rolls back too).
enum TxError {
    Db(diesel::result::Error),
    Denied(InsufficientCredits),
}

impl From<diesel::result::Error> for TxError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

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

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = generations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct GenerationRow {
    id: String,
    user_id: String,
    model_id: Option<String>,
    prompt: String,
    negative_prompt: Option<String>,
    model: Option<String>,
    style: Option<String>,
    source_image_url: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    steps: Option<i32>,
    guidance_scale: Option<f64>,
    seed: Option<i64>,
    generation_strength: Option<f64>,
    status: String,
    billing: String,
    replicate_prediction_id: Option<String>,
    error_message: Option<String>,
    generation_time_seconds: Option<i32>,
    credits_used: i64,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

fn stored(value: u32, what: &str) -> Result<i32, RepositoryError> {
    i32::try_from(value).map_err(|_| corrupt(what, value))
}

fn loaded(value: Option<i32>, what: &str) -> Result<u32, RepositoryError> {
    value
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| corrupt(what, format!("{value:?}")))
}

impl GenerationRow {
    fn new(generation: &NewGeneration, billing: Billing) -> Result<Self, RepositoryError> {
        let at = to_millis(generation.created_at);
        let params = &generation.params;
        Ok(Self {
            id: generation.id.to_string(),
            user_id: generation.user_id.as_str().to_owned(),
            model_id: generation.model_id.map(|id| id.to_string()),
            prompt: generation.prompt.clone(),
            negative_prompt: generation.negative_prompt.clone(),
            model: generation.model_name.clone(),
            style: generation.style.clone(),
            source_image_url: generation.source_image_url.clone(),
            width: Some(stored(params.width, "width")?),
            height: Some(stored(params.height, "height")?),
            steps: Some(stored(params.steps, "steps")?),
            guidance_scale: Some(params.guidance_scale),
            seed: params.seed,
            generation_strength: params.generation_strength,
            status: GenerationStatus::Pending.as_str().to_owned(),
            billing: billing.as_str().to_owned(),
            replicate_prediction_id: None,
            error_message: None,
            generation_time_seconds: None,
            credits_used: 0,
            created_at: at,
            updated_at: at,
            completed_at: None,
        })
    }

    fn into_generation(self) -> Result<Generation, RepositoryError> {
        Ok(Generation {
            record: NewGeneration {
                id: self
                    .id
                    .parse()
                    .map_err(|_| corrupt("generation id", &self.id))?,
                user_id: UserId::parse(self.user_id).map_err(|e| corrupt("user id", e))?,
                model_id: self
                    .model_id
                    .map(|id| id.parse().map_err(|_| corrupt("model id", id)))
                    .transpose()?,
                model_name: self.model,
                prompt: self.prompt,
                negative_prompt: self.negative_prompt,
                style: self.style,
                source_image_url: self.source_image_url,
                params: GenerationParams {
                    width: loaded(self.width, "width")?,
                    height: loaded(self.height, "height")?,
                    steps: loaded(self.steps, "steps")?,
                    guidance_scale: self
                        .guidance_scale
                        .ok_or_else(|| corrupt("guidance_scale", "null"))?,
                    seed: self.seed,
                    generation_strength: self.generation_strength,
                },
                created_at: from_millis(self.created_at)?,
            },
            status: self.status.parse().map_err(|e| corrupt("status", e))?,
            prediction_id: self
                .replicate_prediction_id
                .map(|id| PredictionId::parse(id).map_err(|e| corrupt("prediction id", e)))
                .transpose()?,
            error_message: self.error_message,
            generation_time_seconds: self.generation_time_seconds,
            billing: Billing::parse(&self.billing).map_err(|e| corrupt("billing", e))?,
            credits_used: self.credits_used,
            completed_at: self.completed_at.map(from_millis).transpose()?,
        })
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

impl DieselGenerationRepository {
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
    ) -> Result<Result<Created, InsufficientCredits>, RepositoryError> {
        let user = generation.user_id.as_str().to_owned();
        let id = generation.id.to_string();
        let now = to_millis(generation.created_at);
        let generation = generation.clone();
        let policy = *policy;
        let outcome = with_connection!(self.database, |conn| conn
            .transaction::<_, TxError, _>(async |conn| {
                // A write first, then an update of the account row: it locks the row on
                // PostgreSQL and takes the database write lock on SQLite, so concurrent
                // requests of one user are decided one after the other.
                diesel::insert_into(accounts::table)
                    .values((
                        accounts::user_id.eq(&user),
                        accounts::created_at.eq(now),
                        accounts::updated_at.eq(now),
                    ))
                    .on_conflict(accounts::user_id)
                    .do_nothing()
                    .execute(conn)
                    .await?;
                diesel::update(accounts::table.find(&user))
                    .set(accounts::updated_at.eq(now))
                    .execute(conn)
                    .await?;
                let (free_used, balance): (i32, i64) = accounts::table
                    .find(&user)
                    .select((accounts::free_generations_used, accounts::balance))
                    .first(conn)
                    .await?;
                let free_used = u32::try_from(free_used).unwrap_or(0);
                let balance = CreditAmount::new(balance).unwrap_or(CreditAmount::ZERO);
                let decision = policy.decide(free_used, balance).map_err(TxError::Denied)?;
                let (billing, free_used_after) = match decision {
                    AccessDecision::Free { .. } => {
                        diesel::update(accounts::table.find(&user))
                            .set(
                                accounts::free_generations_used
                                    .eq(accounts::free_generations_used + 1),
                            )
                            .execute(conn)
                            .await?;
                        (Billing::Free, free_used + 1)
                    }
                    AccessDecision::Paid { amount } => {
                        let amount = amount.get();
                        diesel::update(
                            accounts::table
                                .find(&user)
                                .filter(accounts::balance.ge(amount)),
                        )
                        .set((
                            accounts::balance.eq(accounts::balance - amount),
                            accounts::held.eq(accounts::held + amount),
                        ))
                        .execute(conn)
                        .await?;
                        diesel::insert_into(entries::table)
                            .values((
                                entries::id.eq(uuid::Uuid::new_v4().to_string()),
                                entries::user_id.eq(&user),
                                entries::generation_id.eq(Some(&id)),
                                entries::kind.eq("reserve"),
                                entries::amount.eq(amount),
                                entries::idempotency_key.eq(entry_key("reserve", &id)),
                                entries::created_at.eq(now),
                            ))
                            .execute(conn)
                            .await?;
                        (Billing::Paid, free_used)
                    }
                    AccessDecision::Unbilled => (Billing::Unbilled, free_used),
                };
                let row = GenerationRow::new(&generation, billing).map_err(|e| {
                    TxError::Db(diesel::result::Error::SerializationError(Box::new(e)))
                })?;
                let stored: GenerationRow = diesel::insert_into(generations::table)
                    .values(&row)
                    .returning(GenerationRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok((stored, decision, free_used_after))
            })
            .await
            .map_or_else(
                |e| match e {
                    TxError::Denied(refusal) => Ok(Err(refusal)),
                    TxError::Db(e) => Err(query_error(e)),
                },
                |ok| Ok(Ok(ok))
            ))?;
        match outcome {
            Err(refusal) => Ok(Err(refusal)),
            Ok((row, decision, free_used_after)) => Ok(Ok(Created {
                generation: row.into_generation()?,
                decision,
                free_generations_remaining: policy.free_remaining(free_used_after),
            })),
        }
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
        let moved: bool = with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let guarded = generations::table
                    .filter(generations::id.eq(&id))
                    .filter(generations::status.eq_any(&from));
                let update = diesel::update(guarded);
                let updated = match transition {
                    Transition::Processing { prediction_id } => {
                        update
                            .set((
                                generations::status.eq(status),
                                generations::replicate_prediction_id
                                    .eq(Some(prediction_id.as_str())),
                                generations::updated_at.eq(at),
                            ))
                            .execute(conn)
                            .await?
                    }
                    Transition::Failed { message } | Transition::Cancelled { message } => {
                        update
                            .set((
                                generations::status.eq(status),
                                generations::error_message.eq(Some(message.as_str())),
                                generations::completed_at.eq(Some(at)),
                                generations::updated_at.eq(at),
                                generations::finalize_lease_until.eq(None::<i64>),
                            ))
                            .execute(conn)
                            .await?
                    }
                };
                if updated != 1 {
                    return Ok(false);
                }
                if !target.is_terminal() {
                    return Ok(true);
                }
                // Give back what the generation took: its free slot, or its credit hold.
                let (user, billing): (String, String) = generations::table
                    .find(&id)
                    .select((generations::user_id, generations::billing))
                    .first(conn)
                    .await?;
                if billing == Billing::Free.as_str() {
                    diesel::update(
                        accounts::table
                            .find(&user)
                            .filter(accounts::free_generations_used.gt(0)),
                    )
                    .set((
                        accounts::free_generations_used.eq(accounts::free_generations_used - 1),
                        accounts::updated_at.eq(at),
                    ))
                    .execute(conn)
                    .await?;
                } else if billing == Billing::Paid.as_str()
                    && let Some(amount) = settle_hold!(conn, &id, &user, "release", at)
                {
                    diesel::update(accounts::table.find(&user))
                        .set((
                            accounts::balance.eq(accounts::balance + amount),
                            accounts::held.eq(accounts::held - amount),
                            accounts::updated_at.eq(at),
                        ))
                        .execute(conn)
                        .await?;
                }
                Ok(true)
            })
            .await
            .map_err(query_error))?;
        Ok(moved)
    }

    async fn complete(
        &self,
        id: GenerationId,
        image: &NewImage,
        generation_time_seconds: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<Option<Image>, RepositoryError> {
        let from = predecessors(GenerationStatus::Completed);
        let id = id.to_string();
        let at = to_millis(at);
        let image_row = ImageRow::new(image)?;
        let stored: Option<ImageRow> = with_connection!(self.database, |conn| conn
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
                // Capture the hold, once.
                let (user, billing): (String, String) = generations::table
                    .find(&id)
                    .select((generations::user_id, generations::billing))
                    .first(conn)
                    .await?;
                if billing == Billing::Paid.as_str()
                    && let Some(amount) = settle_hold!(conn, &id, &user, "capture", at)
                {
                    diesel::update(accounts::table.find(&user))
                        .set((
                            accounts::held.eq(accounts::held - amount),
                            accounts::total_spent.eq(accounts::total_spent + amount),
                            accounts::updated_at.eq(at),
                        ))
                        .execute(conn)
                        .await?;
                    diesel::update(generations::table.find(&id))
                        .set(generations::credits_used.eq(amount))
                        .execute(conn)
                        .await?;
                }
                Ok(Some(stored))
            })
            .await
            .map_err(query_error))?;
        stored.map(ImageRow::into_image).transpose()
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
        let older_than = to_millis(older_than);
        let now = to_millis(at);
        let rows: Vec<GenerationRow> = with_connection!(self.database, |conn| generations::table
            .filter(generations::status.eq(GenerationStatus::Processing.as_str()))
            .filter(generations::updated_at.lt(older_than))
            .filter(
                generations::finalize_lease_until
                    .is_null()
                    .or(generations::finalize_lease_until.lt(now)),
            )
            .order(generations::updated_at.asc())
            .limit(i64::from(limit))
            .select(GenerationRow::as_select())
            .load(conn)
            .await
            .map_err(query_error))?;
        rows.into_iter()
            .map(GenerationRow::into_generation)
            .collect()
    }
}
