//! The profile tab's counts, in one statement (so they are of one moment).

use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use picture_domain::{ProfileStats, RepositoryError, UserId};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{image_generations, image_likes, images};

/// The statuses of a generation still running.
const ACTIVE: [&str; 3] = ["pending", "queued", "processing"];

/// The seven counts of `user` as one `SELECT` of scalar subqueries.
pub(super) async fn stats(
    database: &Database,
    user: &UserId,
) -> Result<ProfileStats, RepositoryError> {
    let id = user.as_str();
    let own = || images::table.filter(images::user_id.eq(id));
    let generations = || image_generations::table.filter(image_generations::user_id.eq(id));
    let query = diesel::select((
        own()
            .filter(images::archived_at.is_null())
            .select(count_star())
            .single_value(),
        own()
            .filter(images::archived_at.is_null())
            .filter(images::is_favorite.eq(true))
            .select(count_star())
            .single_value(),
        own()
            .filter(images::archived_at.is_not_null())
            .select(count_star())
            .single_value(),
        own()
            .filter(images::archived_at.is_null())
            .filter(images::is_public.eq(true))
            .select(count_star())
            .single_value(),
        generations().select(count_star()).single_value(),
        generations()
            .filter(image_generations::status.eq_any(ACTIVE))
            .select(count_star())
            .single_value(),
        image_likes::table
            .inner_join(images::table)
            .filter(images::user_id.eq(id))
            .select(count_star())
            .single_value(),
    ));
    type Counts = (
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let counts: Counts = with_connection!(database, |conn| query
        .get_result(conn)
        .await
        .map_err(query_error))?;
    let count = |value: Option<i64>| {
        u64::try_from(value.unwrap_or(0)).map_err(|e| corrupt("profile count", e))
    };
    Ok(ProfileStats {
        total_images: count(counts.0)?,
        favorite_images: count(counts.1)?,
        archived_images: count(counts.2)?,
        public_images: count(counts.3)?,
        total_generations: count(counts.4)?,
        active_generations: count(counts.5)?,
        likes_received: count(counts.6)?,
    })
}
