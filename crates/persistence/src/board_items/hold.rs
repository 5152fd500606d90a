//! Holding the image an item will show, in the lock order every writer of PostgreSQL keeps:
//! an image before a board. An image's deletion locks the image (`FOR UPDATE`) and then, in
//! the trigger that closes the gaps its items leave, their boards; a writer that locked a board
//! first and then an image (the foreign key of an inserted item takes `FOR KEY SHARE` on it)
//! would wait for it in a cycle.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::database::SqliteAsync;
use crate::schema::images;

/// Checks (and on PostgreSQL holds) the image of an item about to be inserted.
pub(super) trait HoldImage {
    /// Whether the image must be held before the board is locked: `true` on PostgreSQL (row
    /// locks, taken image first); `false` on SQLite, whose one write lock has no order but
    /// must be the transaction's first statement (a transaction that reads first cannot always
    /// upgrade to write).
    const IMAGE_FIRST: bool;

    /// Whether image `image` exists and is `user`'s or public. On PostgreSQL the image is then
    /// held `FOR KEY SHARE` until the transaction ends: it cannot be deleted before the item
    /// showing it is inserted, and the insert's foreign key check does not wait.
    async fn hold_image(&mut self, user: &str, image: &str) -> QueryResult<bool>;
}

/// The image `$image` if it is `$user`'s or public.
macro_rules! usable_image {
    ($user:expr, $image:expr) => {
        images::table
            .filter(images::id.eq($image))
            .filter(images::user_id.eq($user).or(images::is_public.eq(true)))
            .select(images::id)
    };
}

impl HoldImage for AsyncPgConnection {
    const IMAGE_FIRST: bool = true;

    async fn hold_image(&mut self, user: &str, image: &str) -> QueryResult<bool> {
        let found: Option<String> = usable_image!(user, image)
            .for_key_share()
            .first(self)
            .await
            .optional()?;
        Ok(found.is_some())
    }
}

impl HoldImage for SqliteAsync {
    const IMAGE_FIRST: bool = false;

    async fn hold_image(&mut self, user: &str, image: &str) -> QueryResult<bool> {
        let found: Option<String> = usable_image!(user, image).first(self).await.optional()?;
        Ok(found.is_some())
    }
}
