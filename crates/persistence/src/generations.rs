//! Generations on diesel, with compare-and-set lifecycle transitions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{GenerationRepository, Transition};
use picture_domain::{
    Generation, GenerationId, GenerationParams, GenerationStatus, NewGeneration, PredictionId,
    RepositoryError, UserId,
};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::image_generations as generations;
use crate::time::{from_millis, to_millis};

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
    fn new(generation: &NewGeneration) -> Result<Self, RepositoryError> {
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
    async fn insert(&self, generation: &NewGeneration) -> Result<Generation, RepositoryError> {
        let row = GenerationRow::new(generation)?;
        let inserted: GenerationRow = with_connection!(self.database, |conn| {
            diesel::insert_into(generations::table)
                .values(&row)
                .returning(GenerationRow::as_returning())
                .get_result(conn)
                .await
                .map_err(query_error)
        })?;
        inserted.into_generation()
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
        let updated: usize = with_connection!(self.database, |conn| {
            let guarded = generations::table
                .filter(generations::id.eq(&id))
                .filter(generations::status.eq_any(&from));
            let update = diesel::update(guarded);
            match transition {
                Transition::Processing { prediction_id } => {
                    update
                        .set((
                            generations::status.eq(status),
                            generations::replicate_prediction_id.eq(Some(prediction_id.as_str())),
                            generations::updated_at.eq(at),
                        ))
                        .execute(conn)
                        .await
                }
                Transition::Completed {
                    generation_time_seconds,
                } => {
                    update
                        .set((
                            generations::status.eq(status),
                            generations::generation_time_seconds.eq(*generation_time_seconds),
                            generations::completed_at.eq(Some(at)),
                            generations::updated_at.eq(at),
                        ))
                        .execute(conn)
                        .await
                }
                Transition::Failed { message } | Transition::Cancelled { message } => {
                    update
                        .set((
                            generations::status.eq(status),
                            generations::error_message.eq(Some(message.as_str())),
                            generations::completed_at.eq(Some(at)),
                            generations::updated_at.eq(at),
                        ))
                        .execute(conn)
                        .await
                }
            }
            .map_err(query_error)
        })?;
        Ok(updated == 1)
    }
}
