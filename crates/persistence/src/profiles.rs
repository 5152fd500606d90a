//! Profiles on diesel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::ProfileRepository;
use picture_domain::{NewProfile, Profile, ProfileChange, ProfileStats, RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::profiles;
use crate::time::{from_millis, to_millis};

mod stats;

/// The columns a profile change writes: `None` leaves one as it is, `Some(None)` clears it.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = profiles)]
struct ProfileChangeRow {
    username: Option<Option<String>>,
    username_key: Option<Option<String>>,
    avatar_url: Option<Option<String>>,
    updated_at: i64,
}

impl ProfileChangeRow {
    fn new(change: &ProfileChange, now: DateTime<Utc>) -> Self {
        let username = change.username.new_value();
        Self {
            username: username.map(|name| name.map(|n| n.as_str().to_owned())),
            username_key: username.map(|name| name.map(|n| n.key())),
            avatar_url: change
                .avatar_url
                .new_value()
                .map(|url| url.map(|u| u.as_str().to_owned())),
            updated_at: to_millis(now),
        }
    }
}

/// [`ProfileRepository`] stored in the `profiles` table.
#[derive(Clone)]
pub struct DieselProfileRepository {
    database: Database,
}

impl DieselProfileRepository {
    /// Profiles in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = profiles)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ProfileRow {
    id: String,
    username: Option<String>,
    email: String,
    avatar_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl ProfileRow {
    fn into_profile(self) -> Result<Profile, RepositoryError> {
        Ok(Profile {
            id: UserId::parse(self.id).map_err(|e| corrupt("profile id", e))?,
            username: self.username,
            email: self.email,
            avatar_url: self.avatar_url,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

#[async_trait]
impl ProfileRepository for DieselProfileRepository {
    async fn get_or_create(
        &self,
        profile: &NewProfile,
        now: DateTime<Utc>,
    ) -> Result<Profile, RepositoryError> {
        let now = to_millis(now);
        let new = ProfileRow {
            id: profile.id.as_str().to_owned(),
            username: None,
            email: profile.email.clone(),
            avatar_url: None,
            created_at: now,
            updated_at: now,
        };
        let row: ProfileRow = with_connection!(self.database, |conn| {
            diesel::insert_into(profiles::table)
                .values(&new)
                .on_conflict(profiles::id)
                .do_nothing()
                .execute(conn)
                .await
                .map_err(query_error)?;
            profiles::table
                .find(&new.id)
                .select(ProfileRow::as_select())
                .first(conn)
                .await
                .map_err(query_error)
        })?;
        row.into_profile()
    }

    async fn update(
        &self,
        user: &UserId,
        change: &ProfileChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>, RepositoryError> {
        let changes = ProfileChangeRow::new(change, now);
        // One statement: the unique index on `username_key` decides between users claiming a
        // name at the same moment (the loser gets a unique violation, a `Conflict`).
        let row: Option<ProfileRow> = with_connection!(self.database, |conn| {
            diesel::update(profiles::table.find(user.as_str()))
                .set(&changes)
                .returning(ProfileRow::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(query_error)
        })?;
        row.map(ProfileRow::into_profile).transpose()
    }

    async fn stats(&self, user: &UserId) -> Result<ProfileStats, RepositoryError> {
        stats::stats(&self.database, user).await
    }
}
