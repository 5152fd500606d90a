//! [`PlaceholderRepository`] on the `images` and `boards` tables: the blurhash backfill's
//! listings (served by the partial indexes `images_missing_blurhash_idx` and
//! `boards_missing_blurhash_idx`) and its guarded writes.
//!
//! Ids are stored as text on both backends, as lowercase hyphenated UUIDs (their `Display`):
//! every such text orders as the UUIDs do (hex digits in the same places, `0-9` before `a-f`
//! under any collation), so the keyset `id > after` walks the same order on PostgreSQL and
//! SQLite. The backfill's writes leave `updated_at` alone: a computed placeholder is not a
//! change by the owner (a board's place in its owner's list stays).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::ports::{ObjectKey, PlaceholderRepository};
use picture_domain::{BoardId, ImageId, RepositoryError};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{boards, images};

/// [`PlaceholderRepository`] on the `images` and `boards` tables.
#[derive(Clone)]
pub struct DieselPlaceholderRepository {
    database: Database,
}

impl DieselPlaceholderRepository {
    /// The placeholders in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// The stored rows `(id, key)` with their ids parsed; a corrupt id fails the whole read.
fn keyed<Id: std::str::FromStr>(
    rows: Vec<(String, String)>,
    what: &str,
) -> Result<Vec<(Id, ObjectKey)>, RepositoryError> {
    rows.into_iter()
        .map(|(id, key)| {
            let parsed = id.parse().map_err(|_| corrupt(what, &id))?;
            Ok((parsed, ObjectKey::from_stored(key)))
        })
        .collect()
}

/// A count read from the database (never negative).
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Whether an `UPDATE` changed a row.
fn wrote(rows: usize) -> bool {
    rows > 0
}

#[async_trait]
impl PlaceholderRepository for DieselPlaceholderRepository {
    async fn count_missing(&self) -> Result<u64, RepositoryError> {
        let (images_missing, boards_missing): (i64, i64) =
            with_connection!(self.database, |conn| {
                let images_missing: i64 = images::table
                    .filter(images::blurhash.is_null())
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(query_error)?;
                let boards_missing: i64 = boards::table
                    .filter(boards::thumbnail_key.is_not_null())
                    .filter(boards::thumbnail_blurhash.is_null())
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(query_error)?;
                Ok::<_, RepositoryError>((images_missing, boards_missing))
            })?;
        Ok(count(images_missing).saturating_add(count(boards_missing)))
    }

    async fn images_missing(
        &self,
        after: Option<ImageId>,
        limit: u32,
    ) -> Result<Vec<(ImageId, ObjectKey)>, RepositoryError> {
        let after = after.map(|id| id.to_string());
        let limit = i64::from(limit);
        let rows: Vec<(String, String)> = with_connection!(self.database, |conn| {
            let missing = images::table
                .filter(images::blurhash.is_null())
                .order(images::id.asc())
                .limit(limit)
                .select((images::id, images::storage_path));
            match &after {
                Some(after) => missing.filter(images::id.gt(after)).load(conn).await,
                None => missing.load(conn).await,
            }
            .map_err(query_error)
        })?;
        keyed(rows, "image id")
    }

    async fn boards_missing(
        &self,
        after: Option<BoardId>,
        limit: u32,
    ) -> Result<Vec<(BoardId, ObjectKey)>, RepositoryError> {
        let after = after.map(|id| id.to_string());
        let limit = i64::from(limit);
        let rows: Vec<(String, Option<String>)> = with_connection!(self.database, |conn| {
            let missing = boards::table
                .filter(boards::thumbnail_key.is_not_null())
                .filter(boards::thumbnail_blurhash.is_null())
                .order(boards::id.asc())
                .limit(limit)
                .select((boards::id, boards::thumbnail_key));
            match &after {
                Some(after) => missing.filter(boards::id.gt(after)).load(conn).await,
                None => missing.load(conn).await,
            }
            .map_err(query_error)
        })?;
        let rows = rows
            .into_iter()
            .filter_map(|(id, key)| key.map(|key| (id, key)))
            .collect();
        keyed(rows, "board id")
    }

    async fn set_image_blurhash(
        &self,
        id: ImageId,
        blurhash: &str,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let updated = with_connection!(self.database, |conn| {
            diesel::update(
                images::table
                    .filter(images::id.eq(&id))
                    .filter(images::blurhash.is_null()),
            )
            .set(images::blurhash.eq(blurhash))
            .execute(conn)
            .await
            .map_err(query_error)
        })?;
        Ok(wrote(updated))
    }

    async fn set_board_blurhash(
        &self,
        id: BoardId,
        key: &ObjectKey,
        blurhash: &str,
    ) -> Result<bool, RepositoryError> {
        let id = id.to_string();
        let updated = with_connection!(self.database, |conn| {
            diesel::update(
                boards::table
                    .filter(boards::id.eq(&id))
                    .filter(boards::thumbnail_key.eq(key.as_str()))
                    .filter(boards::thumbnail_blurhash.is_null()),
            )
            .set(boards::thumbnail_blurhash.eq(blurhash))
            .execute(conn)
            .await
            .map_err(query_error)
        })?;
        Ok(wrote(updated))
    }
}
