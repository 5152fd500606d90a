//! Copying a board's items into its duplicate, inside the duplicate's transaction.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::database::SqliteAsync;
use crate::schema::board_items;

/// Most rows one `INSERT` of copied items writes on PostgreSQL (18 binds each: well within its
/// limit on binds per statement).
const ROWS_PER_INSERT: usize = 500;

/// A `board_items` row, read from the source and written to the copy.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = board_items)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
struct ItemRow {
    id: String,
    board_id: String,
    image_id: Option<String>,
    item_type: String,
    position_x: f64,
    position_y: f64,
    scale_x: f64,
    scale_y: f64,
    rotation: f64,
    z_index: i32,
    opacity: f64,
    width: Option<i32>,
    height: Option<i32>,
    text_content: Option<String>,
    font_size: Option<i32>,
    color: Option<String>,
    properties: Option<String>,
    created_at: i64,
}

/// The items of board `source` as items of board `copy` created at `now` (ms): new ids, every
/// other field the same.
fn copies(items: Vec<ItemRow>, copy: &str, now: i64) -> Vec<ItemRow> {
    items
        .into_iter()
        .map(|item| ItemRow {
            id: uuid::Uuid::new_v4().to_string(),
            board_id: copy.to_owned(),
            created_at: now,
            ..item
        })
        .collect()
}

/// Copies the items of `source` to `copy`, on a connection of either backend.
pub(super) trait CopyItems {
    /// Copies every item of board `source` onto board `copy`, dated `now` (ms).
    async fn copy_items(&mut self, source: &str, copy: &str, now: i64) -> QueryResult<()>;
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
    async fn copy_items(&mut self, source: &str, copy: &str, now: i64) -> QueryResult<()> {
        let items = source_items!(self, source);
        for chunk in copies(items, copy, now).chunks(ROWS_PER_INSERT) {
            diesel::insert_into(board_items::table)
                .values(chunk)
                .execute(self)
                .await?;
        }
        Ok(())
    }
}

impl CopyItems for SqliteAsync {
    /// One insert per item: diesel-async has no multi-row insert on SQLite, and each insert is
    /// a call into the embedded library, not a round trip.
    async fn copy_items(&mut self, source: &str, copy: &str, now: i64) -> QueryResult<()> {
        let items = source_items!(self, source);
        for item in copies(items, copy, now) {
            diesel::insert_into(board_items::table)
                .values(&item)
                .execute(self)
                .await?;
        }
        Ok(())
    }
}
