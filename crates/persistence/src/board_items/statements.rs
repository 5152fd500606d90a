//! The statements of the board-item repository, the same on both backends: a trait
//! implemented for each backend's connection.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::rows::{ImageRow, ItemChangeRow, ItemRow};
use crate::database::SqliteAsync;
use crate::schema::{board_items, boards, images};

/// The board-item statements on one connection.
pub(super) trait ItemStatements {
    /// Locks `owner`'s board `board` until the transaction ends, setting its `updated_at` to
    /// `at` (ms): one guarded `UPDATE`, which takes the row lock on PostgreSQL and the write
    /// lock on SQLite. `false` when it is not `owner`'s.
    async fn lock_board(&mut self, owner: &str, board: &str, at: i64) -> QueryResult<bool>;

    /// Whether `viewer` may see board `board` (theirs, or public).
    async fn board_visible(&mut self, viewer: &str, board: &str) -> QueryResult<bool>;

    /// The items of `board` with their stored places, in stacking order.
    async fn stack(&mut self, board: &str) -> QueryResult<Vec<(String, i64)>>;

    /// Writes each item's new place.
    async fn write_places(&mut self, places: &[(String, u32)]) -> QueryResult<()>;

    /// The items `ids` with their images (in no particular order).
    async fn items(&mut self, ids: &[String]) -> QueryResult<Vec<(ItemRow, Option<ImageRow>)>>;

    /// The items of `board` with their images, in stacking order.
    async fn board_items(&mut self, board: &str) -> QueryResult<Vec<(ItemRow, Option<ImageRow>)>>;

    /// `(item, board)` of each existing item in `ids`.
    async fn boards_of(&mut self, ids: &[String]) -> QueryResult<Vec<(String, String)>>;

    /// The number of items on `board`.
    async fn count(&mut self, board: &str) -> QueryResult<i64>;

    /// Inserts `row`.
    async fn insert(&mut self, row: &ItemRow) -> QueryResult<()>;

    /// Applies `change` to item `id`: the number of rows changed.
    async fn change(&mut self, id: &str, change: &ItemChangeRow) -> QueryResult<usize>;

    /// Deletes the items `ids`: the number deleted.
    async fn delete_items(&mut self, ids: &[String]) -> QueryResult<usize>;

    /// Whether `image` is on `board`.
    async fn has_image(&mut self, board: &str, image: &str) -> QueryResult<bool>;
}

/// Implements [`ItemStatements`] for one backend's connection.
macro_rules! item_statements {
    ($conn:ty) => {
        impl ItemStatements for $conn {
            async fn lock_board(&mut self, owner: &str, board: &str, at: i64) -> QueryResult<bool> {
                let locked = diesel::update(
                    boards::table
                        .filter(boards::id.eq(board))
                        .filter(boards::user_id.eq(owner)),
                )
                .set(boards::updated_at.eq(at))
                .execute(self)
                .await?;
                Ok(locked > 0)
            }

            async fn board_visible(&mut self, viewer: &str, board: &str) -> QueryResult<bool> {
                let found: Option<String> = boards::table
                    .filter(boards::id.eq(board))
                    .filter(boards::user_id.eq(viewer).or(boards::is_public.eq(true)))
                    .select(boards::id)
                    .first(self)
                    .await
                    .optional()?;
                Ok(found.is_some())
            }

            async fn stack(&mut self, board: &str) -> QueryResult<Vec<(String, i64)>> {
                let rows: Vec<(String, i32)> = board_items::table
                    .filter(board_items::board_id.eq(board))
                    .order((
                        board_items::z_index.asc(),
                        board_items::created_at.asc(),
                        board_items::id.asc(),
                    ))
                    .select((board_items::id, board_items::z_index))
                    .load(self)
                    .await?;
                Ok(rows.into_iter().map(|(id, z)| (id, i64::from(z))).collect())
            }

            async fn write_places(&mut self, places: &[(String, u32)]) -> QueryResult<()> {
                for (id, place) in places {
                    let place = i32::try_from(*place).unwrap_or(i32::MAX);
                    diesel::update(board_items::table.find(id))
                        .set(board_items::z_index.eq(place))
                        .execute(self)
                        .await?;
                }
                Ok(())
            }

            async fn items(
                &mut self,
                ids: &[String],
            ) -> QueryResult<Vec<(ItemRow, Option<ImageRow>)>> {
                board_items::table
                    .left_join(images::table)
                    .filter(board_items::id.eq_any(ids))
                    .select((ItemRow::as_select(), Option::<ImageRow>::as_select()))
                    .load(self)
                    .await
            }

            async fn board_items(
                &mut self,
                board: &str,
            ) -> QueryResult<Vec<(ItemRow, Option<ImageRow>)>> {
                board_items::table
                    .left_join(images::table)
                    .filter(board_items::board_id.eq(board))
                    .order((
                        board_items::z_index.asc(),
                        board_items::created_at.asc(),
                        board_items::id.asc(),
                    ))
                    .select((ItemRow::as_select(), Option::<ImageRow>::as_select()))
                    .load(self)
                    .await
            }

            async fn boards_of(&mut self, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
                board_items::table
                    .filter(board_items::id.eq_any(ids))
                    .select((board_items::id, board_items::board_id))
                    .load(self)
                    .await
            }

            async fn count(&mut self, board: &str) -> QueryResult<i64> {
                board_items::table
                    .filter(board_items::board_id.eq(board))
                    .count()
                    .get_result(self)
                    .await
            }

            async fn insert(&mut self, row: &ItemRow) -> QueryResult<()> {
                diesel::insert_into(board_items::table)
                    .values(row)
                    .execute(self)
                    .await?;
                Ok(())
            }

            async fn change(&mut self, id: &str, change: &ItemChangeRow) -> QueryResult<usize> {
                diesel::update(board_items::table.find(id))
                    .set(change)
                    .execute(self)
                    .await
            }

            async fn delete_items(&mut self, ids: &[String]) -> QueryResult<usize> {
                diesel::delete(board_items::table.filter(board_items::id.eq_any(ids)))
                    .execute(self)
                    .await
            }

            async fn has_image(&mut self, board: &str, image: &str) -> QueryResult<bool> {
                let found: Option<String> = board_items::table
                    .filter(board_items::board_id.eq(board))
                    .filter(board_items::image_id.eq(image))
                    .select(board_items::id)
                    .first(self)
                    .await
                    .optional()?;
                Ok(found.is_some())
            }
        }
    };
}

item_statements!(AsyncPgConnection);
item_statements!(SqliteAsync);
