//! The model catalogue on diesel.

use async_trait::async_trait;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::catalog_seed::Catalogue;
use picture_domain::ports::ModelCatalog;
use picture_domain::{Model, ModelId, ModelSpec, ProviderName, RepositoryError};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::models;
use crate::time::{from_millis, to_millis};
use crate::url::Backend;

/// Key of the PostgreSQL advisory lock that serialises catalogue seeding.
const SEED_LOCK_KEY: i64 = 0x0070_6963_7365_6564;

/// [`ModelCatalog`] stored in the `models` table.
#[derive(Clone)]
pub struct DieselModelCatalog {
    database: Database,
}

impl DieselModelCatalog {
    /// A catalogue in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// The columns of `models` that a seed may change.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = models, treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct SpecColumns {
    name: String,
    display_name: String,
    description: Option<String>,
    replicate_id: String,
    version: Option<String>,
    default_width: i32,
    default_height: i32,
    default_steps: i32,
    default_guidance_scale: f64,
    min_width: i32,
    min_height: i32,
    max_width: i32,
    max_height: i32,
    max_steps: i32,
    supports_negative_prompt: bool,
    supports_img2img: bool,
    supports_seed: bool,
    is_active: bool,
    is_default: bool,
    sort_order: i32,
    cost_per_generation: Option<f64>,
    estimated_time_seconds: Option<i32>,
    provider: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = models)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ModelRow {
    id: String,
    #[diesel(embed)]
    spec: SpecColumns,
    created_at: i64,
    updated_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = models)]
struct NewModelRow {
    id: String,
    #[diesel(embed)]
    spec: SpecColumns,
    created_at: i64,
    updated_at: i64,
}

fn int(value: u32, what: &str) -> Result<i32, RepositoryError> {
    i32::try_from(value).map_err(|_| corrupt(what, value))
}

fn unsigned(value: i32, what: &str) -> Result<u32, RepositoryError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

impl SpecColumns {
    fn from_spec(spec: &ModelSpec) -> Result<Self, RepositoryError> {
        Ok(Self {
            name: spec.name.clone(),
            display_name: spec.display_name.clone(),
            description: spec.description.clone(),
            replicate_id: spec.model_ref.clone(),
            version: spec.version.clone(),
            default_width: int(spec.default_width, "default_width")?,
            default_height: int(spec.default_height, "default_height")?,
            default_steps: int(spec.default_steps, "default_steps")?,
            default_guidance_scale: spec.default_guidance_scale,
            min_width: int(spec.min_width, "min_width")?,
            min_height: int(spec.min_height, "min_height")?,
            max_width: int(spec.max_width, "max_width")?,
            max_height: int(spec.max_height, "max_height")?,
            max_steps: int(spec.max_steps, "max_steps")?,
            supports_negative_prompt: spec.supports_negative_prompt,
            supports_img2img: spec.supports_img2img,
            supports_seed: spec.supports_seed,
            is_active: spec.is_active,
            is_default: spec.is_default,
            sort_order: spec.sort_order,
            cost_per_generation: spec.cost_per_generation,
            estimated_time_seconds: spec
                .estimated_time_seconds
                .map(|s| int(s, "estimated_time_seconds"))
                .transpose()?,
            provider: spec.provider.as_str().to_owned(),
        })
    }

    fn into_spec(self) -> Result<ModelSpec, RepositoryError> {
        Ok(ModelSpec {
            default_width: unsigned(self.default_width, "default_width")?,
            default_height: unsigned(self.default_height, "default_height")?,
            default_steps: unsigned(self.default_steps, "default_steps")?,
            min_width: unsigned(self.min_width, "min_width")?,
            min_height: unsigned(self.min_height, "min_height")?,
            max_width: unsigned(self.max_width, "max_width")?,
            max_height: unsigned(self.max_height, "max_height")?,
            max_steps: unsigned(self.max_steps, "max_steps")?,
            estimated_time_seconds: self
                .estimated_time_seconds
                .map(|s| unsigned(s, "estimated_time_seconds"))
                .transpose()?,
            name: self.name,
            display_name: self.display_name,
            description: self.description,
            provider: ProviderName::parse(self.provider).map_err(|e| corrupt("provider", e))?,
            model_ref: self.replicate_id,
            version: self.version,
            default_guidance_scale: self.default_guidance_scale,
            supports_negative_prompt: self.supports_negative_prompt,
            supports_img2img: self.supports_img2img,
            supports_seed: self.supports_seed,
            is_active: self.is_active,
            is_default: self.is_default,
            sort_order: self.sort_order,
            cost_per_generation: self.cost_per_generation,
        })
    }
}

impl ModelRow {
    fn into_model(self) -> Result<Model, RepositoryError> {
        Ok(Model {
            id: self.id.parse().map_err(|_| corrupt("model id", &self.id))?,
            spec: self.spec.into_spec()?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

#[async_trait]
impl ModelCatalog for DieselModelCatalog {
    async fn list_active(&self) -> Result<Vec<Model>, RepositoryError> {
        let rows: Vec<ModelRow> = with_connection!(self.database, |conn| models::table
            .filter(models::is_active.eq(true))
            .order((
                models::is_default.desc(),
                models::sort_order.asc(),
                models::name.asc(),
            ))
            .select(ModelRow::as_select())
            .load(conn)
            .await
            .map_err(query_error))?;
        rows.into_iter().map(ModelRow::into_model).collect()
    }

    async fn get(&self, id: ModelId) -> Result<Option<Model>, RepositoryError> {
        let row: Option<ModelRow> = with_connection!(self.database, |conn| models::table
            .find(id.to_string())
            .select(ModelRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(query_error))?;
        row.map(ModelRow::into_model).transpose()
    }

    async fn seed(&self, catalogue: &Catalogue) -> Result<(), RepositoryError> {
        let (specs, default_name) = (&catalogue.specs, catalogue.default.as_str());
        if !specs.iter().any(|s| s.name == default_name) {
            return Err(RepositoryError::Conflict(format!(
                "default model {default_name:?} is not among the seeded models"
            )));
        }
        let wanted = specs
            .iter()
            .map(|spec| {
                SpecColumns::from_spec(&ModelSpec {
                    is_default: spec.name == default_name,
                    ..spec.clone()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let now = to_millis(Utc::now());
        let default_name = default_name.to_owned();
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let registered: Vec<&str> = catalogue
            .registered
            .iter()
            .map(ProviderName::as_str)
            .collect();
        let managed: Vec<&str> = catalogue.managed.iter().map(ProviderName::as_str).collect();
        let backend = self.database.backend();
        with_connection!(self.database, |conn| conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                // Seeds are serialised: on PostgreSQL by a transaction advisory lock (seeds
                // updating rows in different orders would deadlock or interleave); on SQLite by
                // the database lock that the first write below takes at once (waiting on
                // busy_timeout, rather than failing to upgrade a read snapshot later).
                if backend == Backend::Postgres {
                    diesel::sql_query(format!("SELECT pg_advisory_xact_lock({SEED_LOCK_KEY})"))
                        .execute(conn)
                        .await?;
                }
                diesel::update(
                    models::table
                        .filter(models::is_default.eq(true))
                        .filter(models::name.ne(&default_name)),
                )
                .set((models::is_default.eq(false), models::updated_at.eq(now)))
                .execute(conn)
                .await?;
                for spec in &wanted {
                    let current: Option<SpecColumns> = models::table
                        .filter(models::name.eq(&spec.name))
                        .select(SpecColumns::as_select())
                        .first(conn)
                        .await
                        .optional()?;
                    match current {
                        Some(current) if current == *spec => {}
                        Some(_) => {
                            diesel::update(models::table.filter(models::name.eq(&spec.name)))
                                .set((spec, models::updated_at.eq(now)))
                                .execute(conn)
                                .await?;
                        }
                        None => {
                            diesel::insert_into(models::table)
                                .values(NewModelRow {
                                    id: ModelId::new_random().to_string(),
                                    spec: spec.clone(),
                                    created_at: now,
                                    updated_at: now,
                                })
                                .on_conflict(models::name)
                                .do_nothing()
                                .execute(conn)
                                .await?;
                        }
                    }
                }
                // Models the seed does not name that this server cannot serve (their
                // provider is missing) or whose provider's models all come from settings
                // (removed there) stop being offered.
                diesel::update(
                    models::table
                        .filter(models::name.ne_all(&names))
                        .filter(models::is_active.eq(true))
                        .filter(
                            models::provider
                                .ne_all(&registered)
                                .or(models::provider.eq_any(&managed)),
                        ),
                )
                .set((models::is_active.eq(false), models::updated_at.eq(now)))
                .execute(conn)
                .await?;
                Ok(())
            })
            .await
            .map_err(query_error))
    }
}
