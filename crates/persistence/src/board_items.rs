//! Board items on diesel: the `board_items` table, read with the images they show, written
//! under the lock of their boards' rows (see [`BoardItemRepository`]). The stacking rules are
//! the domain's ([`picture_domain::board_item::stacking`]); the triggers of migration
//! `2026-11-30-000060_boards` close the gaps deletions leave (also an image's deletion).

mod hold;
mod rows;
mod statements;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel_async::AsyncConnection;
use picture_domain::board_item::{
    BoardItemChange, ItemContent, MAX_BOARD_ITEMS, ZDirection, stacking,
};
use picture_domain::ports::{AddOutcome, BoardItemRepository};
use picture_domain::{
    BoardId, BoardItem, BoardItemId, ImageId, NewBoardItem, RepositoryError, UserId,
};

use self::hold::HoldImage;
pub(crate) use self::rows::ItemRow;
use self::rows::{ItemChangeRow, into_items};
use self::statements::ItemStatements;
use crate::database::{Database, with_connection};
use crate::error::{corrupt, query_error};
use crate::time::to_millis;

/// [`BoardItemRepository`] stored in the `board_items` table.
#[derive(Clone)]
pub struct DieselBoardItemRepository {
    database: Database,
}

impl DieselBoardItemRepository {
    /// Board items in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// Why a write's transaction rolled back.
#[derive(Debug)]
enum Rollback {
    /// The database failed.
    Db(DieselError),
    /// A stored or computed value does not fit.
    Corrupt(RepositoryError),
    /// A board or item was not found (or not the owner's), or the board is full: nothing is
    /// written.
    Refused(AddOutcome),
}

impl From<DieselError> for Rollback {
    fn from(error: DieselError) -> Self {
        Self::Db(error)
    }
}

impl From<RepositoryError> for Rollback {
    fn from(error: RepositoryError) -> Self {
        Self::Corrupt(error)
    }
}

/// The result of a transaction: `Ok(Err(outcome))` when it was refused.
fn settle<T>(result: Result<T, Rollback>) -> Result<Result<T, AddOutcome>, RepositoryError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Rollback::Refused(outcome)) => Ok(Err(outcome)),
        Err(Rollback::Db(error)) => Err(query_error(error)),
        Err(Rollback::Corrupt(error)) => Err(error),
    }
}

const NOT_FOUND: Rollback = Rollback::Refused(AddOutcome::BoardNotFound);

/// The items `ids` (as text, distinct) mapped to their boards, or `None` when any is missing.
/// An item never changes boards, so this is read before the transaction (whose first statement
/// must be the lock: on SQLite a transaction that reads first cannot always upgrade to write).
async fn boards_of(
    database: &Database,
    ids: &BTreeSet<String>,
) -> Result<Option<BTreeMap<String, String>>, RepositoryError> {
    let wanted: Vec<String> = ids.iter().cloned().collect();
    let found: Vec<(String, String)> = with_connection!(database, |conn| conn
        .boards_of(&wanted)
        .await
        .map_err(query_error))?;
    Ok((found.len() == ids.len()).then(|| found.into_iter().collect()))
}

/// Locks each of `boards` (distinct, in id order, so concurrent writers never wait for each
/// other in a cycle) as `owner`'s.
async fn lock_all<C: ItemStatements>(
    conn: &mut C,
    owner: &str,
    boards: &BTreeSet<&String>,
    at: i64,
) -> Result<(), Rollback> {
    for board in boards {
        if !conn.lock_board(owner, board, at).await? {
            return Err(NOT_FOUND);
        }
    }
    Ok(())
}

/// Moves `item` in `board`'s stack as `reorder` says, writing the places that change.
async fn restack_board<C: ItemStatements>(
    conn: &mut C,
    board: &str,
    item: &String,
    reorder: impl FnOnce(&[String], &String) -> Option<Vec<String>>,
) -> Result<(), Rollback> {
    let stored = conn.stack(board).await?;
    let order: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    let next = reorder(&order, item).ok_or(NOT_FOUND)?;
    conn.write_places(&stacking::changes(&stored, &next))
        .await?;
    Ok(())
}

/// Applies the changes under the locks already taken; `items` maps each item to its board.
async fn apply_changes<C: ItemStatements>(
    conn: &mut C,
    changes: &[(String, BoardItemChange)],
    items: &BTreeMap<String, String>,
) -> Result<(), Rollback> {
    for (id, change) in changes {
        let board = items.get(id).ok_or(NOT_FOUND)?;
        if change.changes_fields() {
            let row = ItemChangeRow::new(change)?;
            if conn.change(id, &row).await? == 0 {
                return Err(NOT_FOUND);
            }
        }
        if let Some(place) = change.z_index {
            restack_board(conn, board, id, |order, item| {
                stacking::move_to(order, item, place)
            })
            .await?;
        }
    }
    Ok(())
}

/// Inserts `item` (showing `image`, if any) on top of its board as `owner`'s, in the lock order
/// of [`HoldImage`]: the item as stored, with its image.
async fn insert_item<C: ItemStatements + HoldImage>(
    conn: &mut C,
    owner: &str,
    item: &NewBoardItem,
    image: Option<&str>,
    at: i64,
) -> Result<Vec<BoardItem>, Rollback> {
    let usable = async |conn: &mut C| match image {
        Some(image) if !conn.hold_image(owner, image).await? => {
            Err(Rollback::Refused(AddOutcome::ImageNotFound))
        }
        _ => Ok(()),
    };
    if C::IMAGE_FIRST {
        usable(conn).await?;
    }
    let board = item.board.to_string();
    if !conn.lock_board(owner, &board, at).await? {
        return Err(NOT_FOUND);
    }
    let count = conn.count(&board).await?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_BOARD_ITEMS {
        return Err(Rollback::Refused(AddOutcome::BoardFull));
    }
    if !C::IMAGE_FIRST {
        usable(conn).await?;
    }
    let place = i32::try_from(count).map_err(|_| corrupt("item count", count))?;
    conn.insert(&ItemRow::new(item, place)?).await?;
    reread(conn, &[item.id.to_string()]).await
}

/// The items `ids` with their images, in the order of `ids`; a missing one refuses.
async fn reread<C: ItemStatements>(
    conn: &mut C,
    ids: &[String],
) -> Result<Vec<BoardItem>, Rollback> {
    let distinct: Vec<String> = ids
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .cloned()
        .collect();
    let found: BTreeMap<String, BoardItem> = into_items(conn.items(&distinct).await?)?
        .into_iter()
        .map(|item| (item.id.to_string(), item))
        .collect();
    ids.iter()
        .map(|id| found.get(id).cloned().ok_or(NOT_FOUND))
        .collect()
}

#[async_trait]
impl BoardItemRepository for DieselBoardItemRepository {
    async fn list(
        &self,
        viewer: &UserId,
        board: BoardId,
    ) -> Result<Option<Vec<BoardItem>>, RepositoryError> {
        let board = board.to_string();
        let rows = with_connection!(self.database, |conn| {
            if conn
                .board_visible(viewer.as_str(), &board)
                .await
                .map_err(query_error)?
            {
                conn.board_items(&board)
                    .await
                    .map(Some)
                    .map_err(query_error)
            } else {
                Ok(None)
            }
        })?;
        rows.map(into_items).transpose()
    }

    async fn get(
        &self,
        viewer: &UserId,
        id: BoardItemId,
    ) -> Result<Option<BoardItem>, RepositoryError> {
        let id = id.to_string();
        let rows = with_connection!(self.database, |conn| conn
            .items(std::slice::from_ref(&id))
            .await
            .map_err(query_error))?;
        let Some((row, image)) = rows.into_iter().next() else {
            return Ok(None);
        };
        let visible = with_connection!(self.database, |conn| conn
            .board_visible(viewer.as_str(), &row.board_id)
            .await
            .map_err(query_error))?;
        if visible {
            row.into_item(image).map(Some)
        } else {
            Ok(None)
        }
    }

    async fn add(
        &self,
        owner: &UserId,
        item: &NewBoardItem,
        at: DateTime<Utc>,
    ) -> Result<AddOutcome, RepositoryError> {
        let (owner, at) = (owner.as_str(), to_millis(at));
        let image = match &item.content {
            ItemContent::Image(image) => Some(image.to_string()),
            ItemContent::Text { .. } => None,
        };
        let added = with_connection!(self.database, |conn| settle(
            conn.transaction::<_, Rollback, _>(async |conn| {
                insert_item(conn, owner, item, image.as_deref(), at).await
            })
            .await
        ))?;
        Ok(match added {
            Ok(mut items) => match items.pop() {
                Some(item) => AddOutcome::Added(Box::new(item)),
                None => AddOutcome::BoardNotFound,
            },
            Err(outcome) => outcome,
        })
    }

    async fn update(
        &self,
        owner: &UserId,
        changes: &[(BoardItemId, BoardItemChange)],
        at: DateTime<Utc>,
    ) -> Result<Option<Vec<BoardItem>>, RepositoryError> {
        let changes: Vec<(String, BoardItemChange)> = changes
            .iter()
            .map(|(id, change)| (id.to_string(), change.clone()))
            .collect();
        let ids: BTreeSet<String> = changes.iter().map(|(id, _)| id.clone()).collect();
        let Some(items) = boards_of(&self.database, &ids).await? else {
            return Ok(None);
        };
        let boards: BTreeSet<&String> = items.values().collect();
        let order: Vec<String> = changes.iter().map(|(id, _)| id.clone()).collect();
        let (owner, at) = (owner.as_str(), to_millis(at));
        let updated = with_connection!(self.database, |conn| settle(
            conn.transaction::<_, Rollback, _>(async |conn| {
                lock_all(conn, owner, &boards, at).await?;
                apply_changes(conn, &changes, &items).await?;
                reread(conn, &order).await
            })
            .await
        ))?;
        Ok(updated.ok())
    }

    async fn restack(
        &self,
        owner: &UserId,
        id: BoardItemId,
        direction: ZDirection,
        at: DateTime<Utc>,
    ) -> Result<Option<BoardItem>, RepositoryError> {
        let id = id.to_string();
        let Some(items) = boards_of(&self.database, &BTreeSet::from([id.clone()])).await? else {
            return Ok(None);
        };
        let Some(board) = items.get(&id).cloned() else {
            return Ok(None);
        };
        let (owner, at) = (owner.as_str(), to_millis(at));
        let moved = with_connection!(self.database, |conn| settle(
            conn.transaction::<_, Rollback, _>(async |conn| {
                if !conn.lock_board(owner, &board, at).await? {
                    return Err(NOT_FOUND);
                }
                restack_board(conn, &board, &id, |order, item| {
                    stacking::step(order, item, direction)
                })
                .await?;
                reread(conn, std::slice::from_ref(&id)).await
            })
            .await
        ))?;
        Ok(moved.ok().and_then(|mut items| items.pop()))
    }

    async fn delete(
        &self,
        owner: &UserId,
        ids: &[BoardItemId],
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let ids: BTreeSet<String> = ids.iter().map(ToString::to_string).collect();
        let Some(items) = boards_of(&self.database, &ids).await? else {
            return Ok(false);
        };
        let boards: BTreeSet<&String> = items.values().collect();
        let wanted: Vec<String> = ids.iter().cloned().collect();
        let (owner, at) = (owner.as_str(), to_millis(at));
        // The migration's trigger closes the gaps in the boards' stacks.
        let deleted = with_connection!(self.database, |conn| settle(
            conn.transaction::<_, Rollback, _>(async |conn| {
                lock_all(conn, owner, &boards, at).await?;
                if conn.delete_items(&wanted).await? != wanted.len() {
                    return Err(NOT_FOUND);
                }
                Ok(())
            })
            .await
        ))?;
        Ok(deleted.is_ok())
    }

    async fn contains_image(
        &self,
        viewer: &UserId,
        board: BoardId,
        image: ImageId,
    ) -> Result<Option<bool>, RepositoryError> {
        let (board, image) = (board.to_string(), image.to_string());
        with_connection!(self.database, |conn| {
            if conn
                .board_visible(viewer.as_str(), &board)
                .await
                .map_err(query_error)?
            {
                conn.has_image(&board, &image)
                    .await
                    .map(Some)
                    .map_err(query_error)
            } else {
                Ok(None)
            }
        })
    }
}
