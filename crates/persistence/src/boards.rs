//! Mood boards on diesel: the `boards` table, and the copy of a board's `board_items`.
//!
//! Every write that reads the board first locks its row with an `UPDATE` guarded by the owner
//! (the row lock on PostgreSQL, the database's write lock on SQLite), so it never races another
//! write of the same board, and a SQLite transaction never has to upgrade a read lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use picture_domain::board::{BoardScope, copy_name};
use picture_domain::ports::{BoardCopy, BoardRepository, ChangedBoard};
use picture_domain::{
    Board, BoardChange, BoardId, BoardQuery, BoardWithCount, NewBoard, RepositoryError, UserId,
};

use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::schema::{board_items, boards};
use crate::time::to_millis;

mod copy;
mod rows;

use copy::CopyItems;
use rows::{BoardChangeRow, BoardRow};

/// [`BoardRepository`] stored in the `boards` table.
#[derive(Clone)]
pub struct DieselBoardRepository {
    database: Database,
}

impl DieselBoardRepository {
    /// Boards in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// One page of boards matching `$filter`, newest change first, each with its item count
/// (a left join grouped by the board's key: one statement).
macro_rules! board_page {
    ($conn:expr, $filter:expr, $limit:expr, $offset:expr) => {
        boards::table
            .left_join(board_items::table)
            .filter($filter)
            .group_by(boards::id)
            .order((boards::updated_at.desc(), boards::id.desc()))
            .select((
                BoardRow::as_select(),
                diesel::dsl::count(board_items::id.nullable()),
            ))
            .limit($limit)
            .offset($offset)
            .load::<(BoardRow, i64)>($conn)
            .await
            .map_err(query_error)
    };
}

/// How many times a duplicate is tried when images keep being added to its source meanwhile.
const COPY_ATTEMPTS: usize = 5;

/// Why a duplicate's transaction rolled back.
#[derive(Debug)]
enum CopyFailure {
    /// The database failed.
    Db(diesel::result::Error),
    /// An item showing an image that was not held was added before the source was locked: the
    /// copy is tried again (see [`CopyItems::hold_images`]).
    ImageAdded,
}

impl From<diesel::result::Error> for CopyFailure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

/// The stored form of a thumbnail change: `(url, key)` columns to set, and the key released.
type ThumbnailWrite = (
    Option<Option<String>>,
    Option<Option<String>>,
    Option<String>,
);

/// What `change` does to a board whose thumbnail is `(url, key)`: a different URL (or none)
/// forgets the stored key; the same URL keeps it.
fn thumbnail_write(
    change: &BoardChange,
    url: Option<String>,
    key: Option<String>,
) -> ThumbnailWrite {
    match change.thumbnail_url.new_value() {
        Some(new) if new.map(|u| u.as_str()) != url.as_deref() => {
            (Some(new.map(|u| u.as_str().to_owned())), Some(None), key)
        }
        _ => (None, None, None),
    }
}

fn with_count((row, count): (BoardRow, i64)) -> Result<BoardWithCount, RepositoryError> {
    Ok(BoardWithCount {
        board: row.into_board()?,
        item_count: u32::try_from(count).map_err(|_| corrupt("item count", count))?,
    })
}

#[async_trait]
impl BoardRepository for DieselBoardRepository {
    async fn list(&self, query: &BoardQuery) -> Result<Vec<BoardWithCount>, RepositoryError> {
        let viewer = query.viewer.as_str();
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset()).unwrap_or(i64::MAX);
        let rows: Vec<(BoardRow, i64)> = with_connection!(self.database, |conn| {
            match query.scope {
                BoardScope::Own => board_page!(conn, boards::user_id.eq(viewer), limit, offset),
                BoardScope::OwnAndPublic => board_page!(
                    conn,
                    boards::user_id.eq(viewer).or(boards::is_public.eq(true)),
                    limit,
                    offset
                ),
                BoardScope::Public => {
                    board_page!(conn, boards::is_public.eq(true), limit, offset)
                }
            }
        })?;
        rows.into_iter().map(with_count).collect()
    }

    async fn get(&self, viewer: &UserId, id: BoardId) -> Result<Option<Board>, RepositoryError> {
        let id = id.to_string();
        let row: Option<BoardRow> = with_connection!(self.database, |conn| boards::table
            .filter(boards::id.eq(&id))
            .filter(
                boards::user_id
                    .eq(viewer.as_str())
                    .or(boards::is_public.eq(true))
            )
            .select(BoardRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(query_error))?;
        row.map(BoardRow::into_board).transpose()
    }

    async fn create(&self, board: &NewBoard) -> Result<Board, RepositoryError> {
        let row = BoardRow::new(board);
        let stored: BoardRow =
            with_connection!(self.database, |conn| diesel::insert_into(boards::table)
                .values(&row)
                .returning(BoardRow::as_returning())
                .get_result(conn)
                .await
                .map_err(query_error))?;
        stored.into_board()
    }

    async fn update(
        &self,
        owner: &UserId,
        id: BoardId,
        change: &BoardChange,
        at: DateTime<Utc>,
    ) -> Result<Option<ChangedBoard>, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let written: Option<(BoardRow, Option<String>)> =
            with_connection!(self.database, |conn| conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let locked: Option<(Option<String>, Option<String>)> = diesel::update(
                        boards::table
                            .filter(boards::id.eq(&id))
                            .filter(boards::user_id.eq(owner.as_str())),
                    )
                    .set(boards::updated_at.eq(now))
                    .returning((boards::thumbnail_url, boards::thumbnail_key))
                    .get_result(conn)
                    .await
                    .optional()?;
                    let Some((url, key)) = locked else {
                        return Ok(None);
                    };
                    let (thumbnail_url, thumbnail_key, released) =
                        thumbnail_write(change, url, key);
                    let set = BoardChangeRow::new(change, thumbnail_url, thumbnail_key, now);
                    let row = diesel::update(boards::table.filter(boards::id.eq(&id)))
                        .set(&set)
                        .returning(BoardRow::as_returning())
                        .get_result(conn)
                        .await?;
                    Ok(Some((row, released)))
                })
                .await
                .map_err(query_error))?;
        written
            .map(|(row, released)| {
                Ok(ChangedBoard {
                    board: row.into_board()?,
                    released_thumbnail: released,
                })
            })
            .transpose()
    }

    async fn set_thumbnail(
        &self,
        owner: &UserId,
        id: BoardId,
        url: &str,
        key: &str,
        blurhash: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Option<ChangedBoard>, RepositoryError> {
        let id = id.to_string();
        let now = to_millis(at);
        let written: Option<(BoardRow, Option<String>)> =
            with_connection!(self.database, |conn| conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let locked: Option<Option<String>> = diesel::update(
                        boards::table
                            .filter(boards::id.eq(&id))
                            .filter(boards::user_id.eq(owner.as_str())),
                    )
                    .set(boards::updated_at.eq(now))
                    .returning(boards::thumbnail_key)
                    .get_result(conn)
                    .await
                    .optional()?;
                    let Some(old) = locked else {
                        return Ok(None);
                    };
                    let row = diesel::update(boards::table.filter(boards::id.eq(&id)))
                        .set((
                            boards::thumbnail_url.eq(url),
                            boards::thumbnail_key.eq(key),
                            boards::thumbnail_blurhash.eq(&blurhash),
                        ))
                        .returning(BoardRow::as_returning())
                        .get_result(conn)
                        .await?;
                    Ok(Some((row, old.filter(|old| old != key))))
                })
                .await
                .map_err(query_error))?;
        written
            .map(|(row, released)| {
                Ok(ChangedBoard {
                    board: row.into_board()?,
                    released_thumbnail: released,
                })
            })
            .transpose()
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: BoardId,
    ) -> Result<Option<Option<String>>, RepositoryError> {
        let id = id.to_string();
        // The items go with it (`ON DELETE CASCADE`).
        with_connection!(self.database, |conn| diesel::delete(
            boards::table
                .filter(boards::id.eq(&id))
                .filter(boards::user_id.eq(owner.as_str()))
        )
        .returning(boards::thumbnail_key)
        .get_result(conn)
        .await
        .optional()
        .map_err(query_error))
    }

    async fn duplicate(
        &self,
        source: BoardId,
        copy: &BoardCopy,
    ) -> Result<Option<Board>, RepositoryError> {
        let source = source.to_string();
        for _ in 0..COPY_ATTEMPTS {
            let copied: Result<Option<BoardRow>, CopyFailure> =
                with_connection!(self.database, |conn| Ok(conn
                    .transaction::<_, CopyFailure, _>(async |conn| {
                        let held = conn.hold_images(&source).await?;
                        // Locks the source (a write that changes nothing), so its items cannot
                        // change while they are copied.
                        let locked: Option<BoardRow> = diesel::update(
                            boards::table.filter(boards::id.eq(&source)).filter(
                                boards::user_id
                                    .eq(copy.owner.as_str())
                                    .or(boards::is_public.eq(true)),
                            ),
                        )
                        .set(boards::updated_at.eq(boards::updated_at))
                        .returning(BoardRow::as_returning())
                        .get_result(conn)
                        .await
                        .optional()?;
                        let Some(original) = locked else {
                            return Ok(None);
                        };
                        let new = original.copy_for(copy, copy_name(&original.name));
                        let stored = diesel::insert_into(boards::table)
                            .values(&new)
                            .returning(BoardRow::as_returning())
                            .get_result(conn)
                            .await?;
                        if !conn
                            .copy_items(&source, &new.id, to_millis(copy.at), held.as_ref())
                            .await?
                        {
                            return Err(CopyFailure::ImageAdded);
                        }
                        Ok(Some(stored))
                    })
                    .await))?;
            match copied {
                Ok(row) => return row.map(BoardRow::into_board).transpose(),
                Err(CopyFailure::ImageAdded) => {}
                Err(CopyFailure::Db(error)) => return Err(query_error(error)),
            }
        }
        Err(RepositoryError::Unavailable(
            "images kept being added to the board while it was copied".into(),
        ))
    }
}
