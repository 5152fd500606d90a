//! Boards: listing with item counts and scopes, owner-only changes, thumbnails released when
//! replaced or forgotten, deletes that take the items along, and duplicates with every item.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, SqliteConnection, sql_query};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use picture_domain::board::{
    BoardDescription, BoardName, BoardScope, CanvasDimension, ThumbnailUrl,
};
use picture_domain::ports::{BoardCopy, BoardRepository};
use picture_domain::profile_change::FieldChange;
use picture_domain::{Board, BoardChange, BoardId, BoardQuery, HexColor, NewBoard, UserId};
use picture_persistence::DieselBoardRepository;

use crate::{TestDatabase, at};

contract!(
    boards_are_listed_newest_change_first_with_their_item_counts_per_scope,
    only_the_owner_changes_a_board_and_every_change_bumps_updated_at,
    thumbnails_are_released_when_replaced_or_forgotten_and_kept_for_the_same_url,
    a_delete_takes_the_items_along_and_answers_the_thumbnail_key,
    a_duplicate_copies_every_item_privately_for_the_caller,
    a_stored_thumbnails_blurhash_lasts_until_the_thumbnail_changes,
);

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn new_board(owner: &str, name: &str, public: bool, created_ms: i64) -> NewBoard {
    NewBoard {
        id: BoardId::new_random(),
        user_id: user(owner),
        name: BoardName::parse(name).unwrap(),
        description: Some(BoardDescription::parse("about").unwrap()),
        canvas_width: CanvasDimension::parse("canvasWidth", 3000.0).unwrap(),
        canvas_height: CanvasDimension::parse("canvasHeight", 1000.0).unwrap(),
        background_color: HexColor::parse("#ABCDEF").unwrap(),
        is_public: public,
        created_at: at(created_ms),
    }
}

async fn create(boards: &DieselBoardRepository, new: &NewBoard) -> Board {
    boards.create(new).await.unwrap()
}

/// Runs `sql` on the test database directly (to seed items, which this repository does not
/// write).
async fn exec(db: &TestDatabase, sql: &str) {
    match (&db._pg, db.url.sqlite_path()) {
        (Some(pg), _) => {
            let mut conn = AsyncPgConnection::establish(pg.url()).await.unwrap();
            conn.batch_execute(sql).await.unwrap();
        }
        (None, Some(path)) => {
            let mut conn =
                SyncConnectionWrapper::<SqliteConnection>::establish(&path.display().to_string())
                    .await
                    .unwrap();
            conn.batch_execute(sql).await.unwrap();
        }
        (None, None) => panic!("no database to seed"),
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` that `sql` selects, read from the test database directly.
async fn count(db: &TestDatabase, sql: &str) -> i64 {
    match (&db._pg, db.url.sqlite_path()) {
        (Some(pg), _) => {
            let mut conn = AsyncPgConnection::establish(pg.url()).await.unwrap();
            sql_query(sql)
                .get_result::<Count>(&mut conn)
                .await
                .unwrap()
                .n
        }
        (None, Some(path)) => {
            let mut conn =
                SyncConnectionWrapper::<SqliteConnection>::establish(&path.display().to_string())
                    .await
                    .unwrap();
            sql_query(sql)
                .get_result::<Count>(&mut conn)
                .await
                .unwrap()
                .n
        }
        (None, None) => panic!("no database to read"),
    }
}

/// `count` text items on `board`, z-indexes 0..count, text `t{z}`.
async fn seed_items(db: &TestDatabase, board: BoardId, count: usize) {
    let values: Vec<String> = (0..count)
        .map(|z| {
            format!(
                "('{}', '{board}', NULL, 'text', {z}.5, 2, 1, 1, 0, {z}, 0.5, NULL, NULL, 't{z}', 24, '#000000', '{{\"fontWeight\":\"bold\"}}', 7)",
                uuid::Uuid::new_v4()
            )
        })
        .collect();
    exec(
        db,
        &format!(
            "INSERT INTO board_items (id, board_id, image_id, item_type, position_x, position_y, \
             scale_x, scale_y, rotation, z_index, opacity, width, height, text_content, font_size, \
             color, properties, created_at) VALUES {};",
            values.join(", ")
        ),
    )
    .await;
}

fn query(viewer: &str, scope: BoardScope, page: u32, limit: u32) -> BoardQuery {
    BoardQuery {
        viewer: user(viewer),
        scope,
        page,
        limit,
    }
}

fn names(listed: &[picture_domain::BoardWithCount]) -> Vec<(&str, u32)> {
    listed
        .iter()
        .map(|b| (b.board.name.as_str(), b.item_count))
        .collect()
}

async fn boards_are_listed_newest_change_first_with_their_item_counts_per_scope(db: &TestDatabase) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let old = create(&boards, &new_board("alice", "old", false, 1_000)).await;
    let new = create(&boards, &new_board("alice", "new", true, 2_000)).await;
    let bobs_public = create(&boards, &new_board("bob", "bobs public", true, 3_000)).await;
    create(&boards, &new_board("bob", "bobs private", false, 4_000)).await;
    seed_items(db, old.id, 3).await;
    seed_items(db, bobs_public.id, 2).await;

    assert_eq!(old.name, "old");
    assert_eq!(old.description.as_deref(), Some("about"));
    assert_eq!((old.canvas_width, old.canvas_height), (3000, 1000));
    assert_eq!(old.background_color, "#ABCDEF");
    assert_eq!(old.thumbnail_url, None);
    assert_eq!((old.created_at, old.updated_at), (at(1_000), at(1_000)));

    let own = boards
        .list(&query("alice", BoardScope::Own, 1, 20))
        .await
        .unwrap();
    assert_eq!(names(&own), [("new", 0), ("old", 3)]);
    assert_eq!(own[1].board, old);
    let with_public = boards
        .list(&query("alice", BoardScope::OwnAndPublic, 1, 20))
        .await
        .unwrap();
    assert_eq!(
        names(&with_public),
        [("bobs public", 2), ("new", 0), ("old", 3)]
    );
    let public = boards
        .list(&query("carol", BoardScope::Public, 1, 20))
        .await
        .unwrap();
    assert_eq!(names(&public), [("bobs public", 2), ("new", 0)]);
    let second_page = boards
        .list(&query("alice", BoardScope::OwnAndPublic, 2, 2))
        .await
        .unwrap();
    assert_eq!(names(&second_page), [("old", 3)]);
    assert!(
        boards
            .list(&query("nobody", BoardScope::Own, 1, 20))
            .await
            .unwrap()
            .is_empty()
    );

    // Reads: the owner's and public boards only.
    assert_eq!(boards.get(&user("alice"), old.id).await.unwrap(), Some(old));
    assert!(boards.get(&user("carol"), new.id).await.unwrap().is_some());
    let private = boards
        .list(&query("bob", BoardScope::Own, 1, 20))
        .await
        .unwrap();
    let bobs_private = private[0].board.id;
    assert_eq!(
        boards.get(&user("alice"), bobs_private).await.unwrap(),
        None
    );
    assert_eq!(
        boards
            .get(&user("alice"), BoardId::new_random())
            .await
            .unwrap(),
        None
    );
}

async fn only_the_owner_changes_a_board_and_every_change_bumps_updated_at(db: &TestDatabase) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let board = create(&boards, &new_board("alice", "mine", false, 1_000)).await;
    let change = BoardChange {
        name: Some(BoardName::parse("renamed").unwrap()),
        description: FieldChange::Clear,
        canvas_width: Some(CanvasDimension::parse("canvasWidth", 100.0).unwrap()),
        canvas_height: Some(CanvasDimension::parse("canvasHeight", 20_000.0).unwrap()),
        background_color: Some(HexColor::parse("#000000").unwrap()),
        is_public: Some(true),
        thumbnail_url: FieldChange::Keep,
    };
    assert_eq!(
        boards
            .update(&user("bob"), board.id, &change, at(5_000))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        boards.get(&user("alice"), board.id).await.unwrap(),
        Some(board.clone())
    );
    let changed = boards
        .update(&user("alice"), board.id, &change, at(5_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.released_thumbnail, None);
    let after = changed.board;
    assert_eq!(after.name, "renamed");
    assert_eq!(after.description, None);
    assert_eq!((after.canvas_width, after.canvas_height), (100, 20_000));
    assert_eq!(after.background_color, "#000000");
    assert!(after.is_public);
    assert_eq!((after.created_at, after.updated_at), (at(1_000), at(5_000)));
    // An empty change still bumps `updated_at` and keeps the rest.
    let touched = boards
        .update(&user("alice"), board.id, &BoardChange::default(), at(6_000))
        .await
        .unwrap()
        .unwrap()
        .board;
    assert_eq!(touched.updated_at, at(6_000));
    assert_eq!(
        Board {
            updated_at: at(5_000),
            ..touched
        },
        after
    );
}

async fn thumbnails_are_released_when_replaced_or_forgotten_and_kept_for_the_same_url(
    db: &TestDatabase,
) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let board = create(&boards, &new_board("alice", "thumbs", false, 1_000)).await;
    let (alice, bob) = (user("alice"), user("bob"));
    assert_eq!(
        boards
            .set_thumbnail(
                &bob,
                board.id,
                "http://x/a.png",
                "boards/a.png",
                None,
                at(2_000)
            )
            .await
            .unwrap(),
        None
    );
    let first = boards
        .set_thumbnail(
            &alice,
            board.id,
            "http://x/a.png",
            "boards/a.png",
            None,
            at(2_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.released_thumbnail, None);
    assert_eq!(first.board.thumbnail_url.as_deref(), Some("http://x/a.png"));
    assert_eq!(first.board.updated_at, at(2_000));
    let second = boards
        .set_thumbnail(
            &alice,
            board.id,
            "http://x/b.png",
            "boards/b.png",
            None,
            at(3_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.released_thumbnail.as_deref(), Some("boards/a.png"));
    // The same URL through PATCH keeps the stored object.
    let same = BoardChange {
        thumbnail_url: FieldChange::Set(ThumbnailUrl::parse("http://x/b.png").unwrap()),
        ..BoardChange::default()
    };
    let kept = boards
        .update(&alice, board.id, &same, at(4_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.released_thumbnail, None);
    assert_eq!(kept.board.thumbnail_url.as_deref(), Some("http://x/b.png"));
    // Another URL forgets it (released once); clearing then releases nothing more.
    let other = BoardChange {
        thumbnail_url: FieldChange::Set(ThumbnailUrl::parse("https://cdn/c.png").unwrap()),
        ..BoardChange::default()
    };
    let replaced = boards
        .update(&alice, board.id, &other, at(5_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.released_thumbnail.as_deref(), Some("boards/b.png"));
    assert_eq!(
        replaced.board.thumbnail_url.as_deref(),
        Some("https://cdn/c.png")
    );
    let cleared = boards
        .update(
            &alice,
            board.id,
            &BoardChange {
                thumbnail_url: FieldChange::Clear,
                ..BoardChange::default()
            },
            at(6_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.released_thumbnail, None);
    assert_eq!(cleared.board.thumbnail_url, None);
    // A delete answers the key of a stored thumbnail.
    boards
        .set_thumbnail(
            &alice,
            board.id,
            "http://x/d.png",
            "boards/d.png",
            None,
            at(7_000),
        )
        .await
        .unwrap();
    assert_eq!(
        boards.delete(&alice, board.id).await.unwrap(),
        Some(Some("boards/d.png".to_owned()))
    );
}

async fn a_delete_takes_the_items_along_and_answers_the_thumbnail_key(db: &TestDatabase) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let board = create(&boards, &new_board("alice", "gone", true, 1_000)).await;
    let kept = create(&boards, &new_board("alice", "kept", false, 2_000)).await;
    seed_items(db, board.id, 4).await;
    seed_items(db, kept.id, 1).await;
    assert_eq!(boards.delete(&user("bob"), board.id).await.unwrap(), None);
    assert_eq!(
        boards.delete(&user("alice"), board.id).await.unwrap(),
        Some(None)
    );
    assert_eq!(boards.delete(&user("alice"), board.id).await.unwrap(), None);
    assert_eq!(boards.get(&user("alice"), board.id).await.unwrap(), None);
    let left = boards
        .list(&query("alice", BoardScope::Own, 1, 20))
        .await
        .unwrap();
    assert_eq!(names(&left), [("kept", 1)]);
    // No item of the deleted board is left (a copy of it would find none either).
    let orphans = BoardCopy {
        id: BoardId::new_random(),
        owner: user("alice"),
        at: at(3_000),
    };
    assert_eq!(boards.duplicate(board.id, &orphans).await.unwrap(), None);
}

async fn a_duplicate_copies_every_item_privately_for_the_caller(db: &TestDatabase) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let long_name = "n".repeat(100);
    let public = create(&boards, &new_board("alice", &long_name, true, 1_000)).await;
    let private = create(&boards, &new_board("alice", "private", false, 1_000)).await;
    seed_items(db, public.id, 600).await;
    boards
        .set_thumbnail(
            &user("alice"),
            public.id,
            "http://x/t.png",
            "boards/t.png",
            None,
            at(1_500),
        )
        .await
        .unwrap();
    let copy_for = |owner: &str| BoardCopy {
        id: BoardId::new_random(),
        owner: user(owner),
        at: at(9_000),
    };
    assert_eq!(
        boards
            .duplicate(private.id, &copy_for("bob"))
            .await
            .unwrap(),
        None
    );
    let request = copy_for("bob");
    let copy = boards
        .duplicate(public.id, &request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copy.id, request.id);
    assert_eq!(copy.user_id.as_str(), "bob");
    assert_eq!(copy.name, format!("{} (Copy)", "n".repeat(93)));
    assert!(!copy.is_public);
    assert_eq!(copy.thumbnail_url, None);
    assert_eq!(copy.description.as_deref(), Some("about"));
    assert_eq!((copy.canvas_width, copy.canvas_height), (3000, 1000));
    assert_eq!(copy.background_color, "#ABCDEF");
    assert_eq!((copy.created_at, copy.updated_at), (at(9_000), at(9_000)));
    let bobs = boards
        .list(&query("bob", BoardScope::Own, 1, 20))
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].item_count, 600);
    // Each item copied field for field (z order included) under a new id, dated the copy.
    let same = format!(
        "SELECT COUNT(*) AS n FROM board_items c JOIN board_items s ON s.board_id = '{}' \
         AND c.board_id = '{}' AND s.z_index = c.z_index AND s.id <> c.id \
         AND s.item_type = c.item_type AND s.image_id IS NULL AND c.image_id IS NULL \
         AND s.position_x = c.position_x AND s.position_y = c.position_y \
         AND s.scale_x = c.scale_x AND s.scale_y = c.scale_y AND s.rotation = c.rotation \
         AND s.opacity = c.opacity AND s.text_content = c.text_content \
         AND s.font_size = c.font_size AND s.color = c.color AND s.properties = c.properties \
         AND c.created_at = 9000",
        public.id, copy.id
    );
    assert_eq!(count(db, &same).await, 600);
    // The source is unchanged (its `updated_at` included) and keeps its items.
    let source = boards
        .get(&user("alice"), public.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(source.updated_at, at(1_500));
    let alices = boards
        .list(&query("alice", BoardScope::Own, 1, 20))
        .await
        .unwrap();
    assert!(
        alices
            .iter()
            .any(|b| b.board.id == public.id && b.item_count == 600)
    );
    // The owner may copy their own private board.
    let own_copy = boards
        .duplicate(private.id, &copy_for("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own_copy.name, "private (Copy)");
}

async fn a_stored_thumbnails_blurhash_lasts_until_the_thumbnail_changes(db: &TestDatabase) {
    let boards = DieselBoardRepository::new(db.database.clone());
    let board = create(&boards, &new_board("alice", "hashed", true, 1_000)).await;
    assert_eq!(board.thumbnail_blurhash, None);
    let alice = user("alice");
    let hash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
    let store = |key: &'static str, ms: i64| {
        let (boards, alice) = (boards.clone(), alice.clone());
        async move {
            boards
                .set_thumbnail(
                    &alice,
                    board.id,
                    &format!("http://x/{key}"),
                    key,
                    Some(hash.to_owned()),
                    at(ms),
                )
                .await
                .unwrap()
                .unwrap()
                .board
        }
    };
    let stored = store("boards/a.png", 2_000).await;
    assert_eq!(stored.thumbnail_blurhash.as_deref(), Some(hash));
    let read = boards.get(&user("bob"), board.id).await.unwrap().unwrap();
    assert_eq!(read.thumbnail_blurhash.as_deref(), Some(hash));
    // A change of anything else, or to the same URL, keeps it.
    let same = BoardChange {
        name: Some(BoardName::parse("renamed").unwrap()),
        thumbnail_url: FieldChange::Set(ThumbnailUrl::parse("http://x/boards/a.png").unwrap()),
        ..BoardChange::default()
    };
    let kept = boards
        .update(&alice, board.id, &same, at(3_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.board.thumbnail_blurhash.as_deref(), Some(hash));
    // Clearing the URL forgets it.
    let clear = BoardChange {
        thumbnail_url: FieldChange::Clear,
        ..BoardChange::default()
    };
    let cleared = boards
        .update(&alice, board.id, &clear, at(4_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.board.thumbnail_blurhash, None);
    assert_eq!(
        boards
            .get(&alice, board.id)
            .await
            .unwrap()
            .unwrap()
            .thumbnail_blurhash,
        None
    );
    // Another URL set by a client forgets it too.
    store("boards/b.png", 5_000).await;
    let link = BoardChange {
        thumbnail_url: FieldChange::Set(ThumbnailUrl::parse("https://cdn/c.png").unwrap()),
        ..BoardChange::default()
    };
    let linked = boards
        .update(&alice, board.id, &link, at(6_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.board.thumbnail_blurhash, None);
    // A stored thumbnail without a blurhash replaces one with it.
    store("boards/d.png", 7_000).await;
    let unhashed = boards
        .set_thumbnail(
            &alice,
            board.id,
            "http://x/boards/e.png",
            "boards/e.png",
            None,
            at(8_000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unhashed.board.thumbnail_blurhash, None);
    // A duplicate has no thumbnail, so no blurhash.
    store("boards/f.png", 9_000).await;
    let copy = boards
        .duplicate(
            board.id,
            &BoardCopy {
                id: BoardId::new_random(),
                owner: user("bob"),
                at: at(10_000),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((copy.thumbnail_url, copy.thumbnail_blurhash), (None, None));
}
