//! Copying a board's items into its duplicate, inside the duplicate's transaction.
//!
//! On PostgreSQL the images the items show are held (`FOR KEY SHARE`) before the source board
//! is locked: the lock order of every writer there is an image before a board (an image's
//! deletion locks the image, then the boards its items were on), and the copies' foreign keys
//! take `FOR KEY SHARE` on those images.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::board_items::ItemRow;
use crate::database::SqliteAsync;
use crate::schema::{board_items, images};

/// Most rows one `INSERT` of copied items writes on PostgreSQL (18 binds each: well within its
/// limit on binds per statement).
const ROWS_PER_INSERT: usize = 500;

/// The items of board `source` as items of board `copy` created at `now` (ms): new ids, every
/// other field the same.
fn copies(items: Vec<ItemRow>, copy: &str, now: i64) -> Vec<ItemRow> {
    items
        .into_iter()
        .map(|item| item.copied_to(copy, now))
        .collect()
}

/// Copies the items of `source` to `copy`, on a connection of either backend.
pub(super) trait CopyItems {
    /// Holds the images shown on board `source` until the transaction ends, before the board
    /// is locked: on PostgreSQL `FOR KEY SHARE`, in id order, answering their ids; on SQLite
    /// nothing (its one write lock must be the transaction's first statement), answering `None`.
    async fn hold_images(&mut self, source: &str) -> QueryResult<Option<BTreeSet<String>>>;

    /// Copies every item of board `source` onto board `copy`, dated `now` (ms), once the source
    /// is locked: `false` (and nothing copied) when an item shows an image outside `held` (one
    /// added between [`CopyItems::hold_images`] and the board's lock), which could not be held
    /// now without risking a deadlock.
    async fn copy_items(
        &mut self,
        source: &str,
        copy: &str,
        now: i64,
        held: Option<&BTreeSet<String>>,
    ) -> QueryResult<bool>;
}

/// Whether every image `items` show is in `held` (`None`: nothing needs holding).
fn all_held(items: &[ItemRow], held: Option<&BTreeSet<String>>) -> bool {
    held.is_none_or(|held| {
        items
            .iter()
            .filter_map(ItemRow::image_id)
            .all(|image| held.contains(image))
    })
}

/// The source's items, in stacking order.
macro_rules! source_items {
    ($conn:expr, $source:expr) => {
        board_items::table
            .filter(board_items::board_id.eq($source))
            .order(board_items::z_index.asc())
            .select(ItemRow::as_select())
            .load::<ItemRow>($conn)
            .await?
    };
}

impl CopyItems for AsyncPgConnection {
    async fn hold_images(&mut self, source: &str) -> QueryResult<Option<BTreeSet<String>>> {
        let shown = board_items::table
            .filter(board_items::board_id.eq(source))
            .select(board_items::image_id);
        let held: Vec<String> = images::table
            .filter(images::id.nullable().eq_any(shown))
            .order(images::id.asc())
            .select(images::id)
            .for_key_share()
            .load(self)
            .await?;
        Ok(Some(held.into_iter().collect()))
    }

    async fn copy_items(
        &mut self,
        source: &str,
        copy: &str,
        now: i64,
        held: Option<&BTreeSet<String>>,
    ) -> QueryResult<bool> {
        let items = source_items!(self, source);
        if !all_held(&items, held) {
            return Ok(false);
        }
        for chunk in copies(items, copy, now).chunks(ROWS_PER_INSERT) {
            diesel::insert_into(board_items::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        Ok(true)
    }
}

impl CopyItems for SqliteAsync {
    async fn hold_images(&mut self, _source: &str) -> QueryResult<Option<BTreeSet<String>>> {
        Ok(None)
    }

    /// One insert per item: diesel-async has no multi-row insert on SQLite, and each insert is
    /// a call into the embedded library, not a round trip.
    async fn copy_items(
        &mut self,
        source: &str,
        copy: &str,
        now: i64,
        held: Option<&BTreeSet<String>>,
    ) -> QueryResult<bool> {
        let items = source_items!(self, source);
        if !all_held(&items, held) {
            return Ok(false);
        }
        for item in copies(items, copy, now) {
            diesel::insert_into(board_items::table)
                .values(&item)
                .execute(self)
                .await?;
        }
        Ok(true)
    }
}
