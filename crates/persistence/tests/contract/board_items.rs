//! Board items on both backends: visibility and ownership, the all-or-nothing writes, the
//! stacking order kept 0..n-1 (also under concurrent moves and after an image's deletion),
//! and the per-board bound. Boards are inserted with plain SQL (the board repository is not
//! this suite's subject).

use std::collections::BTreeSet;
use std::sync::Arc;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use picture_domain::board_item::{
    ItemContent, ItemText, MAX_BOARD_ITEMS, NewBoardItem, RawItemChange, ZDirection,
};
use picture_domain::ports::{
    AddOutcome, BoardCopy, BoardItemRepository, BoardRepository, GenerationLifecycle, ImageChange,
    ImageRepository, Transition,
};
use picture_domain::{BoardId, BoardItem, BoardItemId, HexColor, ImageId, PredictionId, UserId};
use picture_persistence::{
    Database, DatabaseUrl, DieselBoardItemRepository, DieselBoardRepository,
    DieselGenerationRepository, DieselImageRepository, PoolOptions,
};
use picture_test_support::PgTestDb;

use crate::at;
use crate::generations::{complete_as_finaliser, created, image_of, new_generation};

/// A migrated database and the plain connection text to insert boards with.
struct Fixture {
    database: Database,
    /// The SQLite file, or the PostgreSQL URL.
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgTestDb>,
}

enum Raw {
    Sqlite(String),
    Postgres(String),
}

async fn open(url: &DatabaseUrl) -> Database {
    Database::migrate(url).await.unwrap();
    Database::connect(url, PoolOptions::default())
        .await
        .unwrap()
}

async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("picture.db");
    let url = DatabaseUrl::sqlite_file(&path);
    Some(Fixture {
        database: open(&url).await,
        raw: Raw::Sqlite(path.to_string_lossy().into_owned()),
        _dir: Some(dir),
        _pg: None,
    })
}

async fn postgres() -> Option<Fixture> {
    let pg = PgTestDb::create().await?;
    let url = DatabaseUrl::parse(pg.url()).unwrap();
    Some(Fixture {
        database: open(&url).await,
        raw: Raw::Postgres(pg.url().to_owned()),
        _dir: None,
        _pg: Some(pg),
    })
}

macro_rules! board_contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::sqlite().await.unwrap()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

board_contract!(
    only_the_owner_writes_and_public_boards_are_readable,
    stacking_moves_swap_with_the_nearest_and_stay_dense,
    batches_are_all_or_nothing,
    deleting_an_image_removes_its_items_and_closes_the_gaps,
    concurrent_moves_leave_the_stack_unique_and_dense,
    a_full_board_refuses_another_item,
    deleting_images_while_they_are_added_to_boards_never_fails,
    duplicating_a_board_while_its_images_are_deleted_never_fails,
);

impl Fixture {
    async fn sql(&self, statements: &str) {
        match &self.raw {
            Raw::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path).unwrap();
                conn.batch_execute(statements).unwrap();
            }
            Raw::Postgres(url) => {
                let mut conn = AsyncPgConnection::establish(url).await.unwrap();
                conn.batch_execute(statements).await.unwrap();
            }
        }
    }

    /// A board of `owner`, public or not.
    async fn board(&self, owner: &str, public: bool) -> BoardId {
        let id = BoardId::new_random();
        self.sql(&format!(
            "INSERT INTO boards (id, user_id, name, is_public, created_at, updated_at) \
             VALUES ('{id}', '{owner}', 'Moods', {public}, 1, 1)"
        ))
        .await;
        id
    }

    fn items(&self) -> DieselBoardItemRepository {
        DieselBoardItemRepository::new(self.database.clone())
    }
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

/// A completed generation's image of `owner`.
async fn image(db: &Fixture, owner: &str) -> ImageId {
    let generations = DieselGenerationRepository::new(db.database.clone());
    let new = new_generation(owner, None);
    created(&generations, &new).await;
    let prediction_id = PredictionId::parse(format!("p-{}", new.id)).unwrap();
    assert!(
        generations
            .transition(new.id, &Transition::Processing { prediction_id }, at(1))
            .await
            .unwrap()
    );
    let image = image_of(&new);
    complete_as_finaliser(&generations, new.id, &image, None, at(2))
        .await
        .unwrap()
        .unwrap();
    image.id
}

fn text(board: BoardId, words: &str) -> NewBoardItem {
    NewBoardItem {
        id: BoardItemId::new_random(),
        board,
        content: ItemContent::Text {
            text: ItemText::parse(words.into()).unwrap(),
            font_size: 24,
            color: HexColor::parse("#000000").unwrap(),
        },
        position_x: 0.0,
        position_y: 100.0,
        properties: None,
        created_at: at(10),
    }
}

fn picture(board: BoardId, image: ImageId) -> NewBoardItem {
    NewBoardItem {
        content: ItemContent::Image(image),
        ..text(board, "")
    }
}

async fn add(items: &DieselBoardItemRepository, owner: &str, item: &NewBoardItem) -> BoardItem {
    match items.add(&user(owner), item, at(20)).await.unwrap() {
        AddOutcome::Added(added) => *added,
        other => panic!("not added: {other:?}"),
    }
}

/// The board's items' texts (or `img`) from the bottom, checking the places are 0..n-1.
async fn stack(items: &DieselBoardItemRepository, owner: &str, board: BoardId) -> Vec<String> {
    let listed = items.list(&user(owner), board).await.unwrap().unwrap();
    let places: Vec<u32> = listed.iter().map(|i| i.z_index).collect();
    let dense: Vec<u32> = (0..u32::try_from(listed.len()).unwrap()).collect();
    assert_eq!(places, dense, "places not dense");
    listed
        .into_iter()
        .map(|i| i.text_content.unwrap_or_else(|| "img".into()))
        .collect()
}

fn z_to(place: f64) -> picture_domain::BoardItemChange {
    RawItemChange {
        z_index: Some(place),
        ..RawItemChange::default()
    }
    .parse()
    .unwrap()
}

async fn only_the_owner_writes_and_public_boards_are_readable(db: &Fixture) {
    let items = db.items();
    let board = db.board("alice", false).await;
    let mine = image(db, "alice").await;
    let bobs = image(db, "bob").await;
    let note = add(&items, "alice", &text(board, "a")).await;
    assert_eq!((note.z_index, note.position_x, note.image), (0, 0.0, None));
    let shown = add(&items, "alice", &picture(board, mine)).await;
    assert_eq!(shown.z_index, 1);
    let joined = shown.image.unwrap();
    assert_eq!(joined.id, mine);
    assert!(joined.public_url.unwrap().ends_with(".png"));
    assert_eq!((joined.width, joined.height), (Some(1344), Some(768)));

    // Another user's private image, another user's board.
    let refused = items
        .add(&user("alice"), &picture(board, bobs), at(20))
        .await;
    assert_eq!(refused.unwrap(), AddOutcome::ImageNotFound);
    let foreign = items.add(&user("bob"), &text(board, "x"), at(20)).await;
    assert_eq!(foreign.unwrap(), AddOutcome::BoardNotFound);
    let images = DieselImageRepository::new(db.database.clone());
    images
        .change(&user("bob"), bobs, ImageChange::Publish, at(3))
        .await
        .unwrap()
        .unwrap();
    add(&items, "alice", &picture(board, bobs)).await;

    // Private: bob sees nothing and changes nothing.
    let bob = user("bob");
    assert!(items.list(&bob, board).await.unwrap().is_none());
    assert!(items.get(&bob, note.id).await.unwrap().is_none());
    assert!(
        items
            .contains_image(&bob, board, mine)
            .await
            .unwrap()
            .is_none()
    );
    let moved = RawItemChange {
        position_x: Some(5.0),
        ..RawItemChange::default()
    }
    .parse()
    .unwrap();
    assert!(
        items
            .update(&bob, &[(note.id, moved.clone())], at(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        items
            .restack(&bob, note.id, ZDirection::Top, at(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!items.delete(&bob, &[note.id], at(30)).await.unwrap());
    assert_eq!(stack(&items, "alice", board).await, ["a", "img", "img"]);

    // Public: bob reads, still changes nothing.
    db.sql(&format!(
        "UPDATE boards SET is_public = TRUE WHERE id = '{board}'"
    ))
    .await;
    assert_eq!(items.list(&bob, board).await.unwrap().unwrap().len(), 3);
    assert_eq!(items.get(&bob, note.id).await.unwrap().unwrap().id, note.id);
    assert_eq!(
        items.contains_image(&bob, board, mine).await.unwrap(),
        Some(true)
    );
    assert_eq!(
        items
            .contains_image(&bob, board, ImageId::new_random())
            .await
            .unwrap(),
        Some(false)
    );
    assert!(
        items
            .update(&bob, &[(note.id, moved.clone())], at(30))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!items.delete(&bob, &[note.id], at(30)).await.unwrap());

    // The owner's change applies and touches the board.
    let changed = items
        .update(&user("alice"), &[(note.id, moved)], at(40))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed[0].position_x, 5.0);
    assert_eq!(changed[0].text_content.as_deref(), Some("a"));
    assert!(
        items
            .delete(&user("alice"), &[note.id], at(50))
            .await
            .unwrap()
    );
    assert_eq!(stack(&items, "alice", board).await, ["img", "img"]);
    assert!(items.get(&user("alice"), note.id).await.unwrap().is_none());
}

async fn stacking_moves_swap_with_the_nearest_and_stay_dense(db: &Fixture) {
    let items = db.items();
    let board = db.board("alice", false).await;
    let mut ids = Vec::new();
    for word in ["a", "b", "c", "d"] {
        ids.push(add(&items, "alice", &text(board, word)).await.id);
    }
    let owner = user("alice");
    let step = |id, direction| {
        let items = items.clone();
        let owner = owner.clone();
        async move {
            items
                .restack(&owner, id, direction, at(60))
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(step(ids[3], ZDirection::Down).await.z_index, 2);
    assert_eq!(stack(&items, "alice", board).await, ["a", "b", "d", "c"]);
    assert_eq!(step(ids[0], ZDirection::Up).await.z_index, 1);
    assert_eq!(stack(&items, "alice", board).await, ["b", "a", "d", "c"]);
    assert_eq!(step(ids[2], ZDirection::Up).await.z_index, 3);
    assert_eq!(step(ids[2], ZDirection::Up).await.z_index, 3);
    assert_eq!(step(ids[2], ZDirection::Bottom).await.z_index, 0);
    assert_eq!(stack(&items, "alice", board).await, ["c", "b", "a", "d"]);
    assert_eq!(step(ids[1], ZDirection::Top).await.z_index, 3);
    assert_eq!(stack(&items, "alice", board).await, ["c", "a", "d", "b"]);
    let moved = items
        .update(&owner, &[(ids[1], z_to(1.0))], at(70))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved[0].z_index, 1);
    assert_eq!(stack(&items, "alice", board).await, ["c", "b", "a", "d"]);
    items
        .update(&owner, &[(ids[2], z_to(1.0e9))], at(70))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stack(&items, "alice", board).await, ["b", "a", "d", "c"]);
    assert!(
        items
            .delete(&owner, &[ids[0], ids[3]], at(80))
            .await
            .unwrap()
    );
    assert_eq!(stack(&items, "alice", board).await, ["b", "c"]);
    let fresh = add(&items, "alice", &text(board, "e")).await;
    assert_eq!(fresh.z_index, 2);
}

async fn batches_are_all_or_nothing(db: &Fixture) {
    let items = db.items();
    let (one, two) = (
        db.board("alice", false).await,
        db.board("alice", true).await,
    );
    let foreign = db.board("bob", true).await;
    let a = add(&items, "alice", &text(one, "a")).await;
    let b = add(&items, "alice", &text(two, "b")).await;
    let c = add(&items, "bob", &text(foreign, "c")).await;
    let owner = user("alice");
    let to_x = |x| {
        RawItemChange {
            position_x: Some(x),
            ..RawItemChange::default()
        }
        .parse()
        .unwrap()
    };
    let changed = items
        .update(&owner, &[(b.id, to_x(7.0)), (a.id, to_x(8.0))], at(90))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        changed.iter().map(|i| i.id).collect::<Vec<_>>(),
        [b.id, a.id]
    );
    assert_eq!(
        changed.iter().map(|i| i.position_x).collect::<Vec<_>>(),
        [7.0, 8.0]
    );
    // One foreign or missing id: nothing changes.
    for stranger in [c.id, BoardItemId::new_random()] {
        let batch = [(a.id, to_x(1.0)), (stranger, to_x(1.0))];
        assert!(
            items
                .update(&owner, &batch, at(91))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            !items
                .delete(&owner, &[a.id, stranger], at(91))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        items.get(&owner, a.id).await.unwrap().unwrap().position_x,
        8.0
    );
    assert!(items.get(&owner, b.id).await.unwrap().is_some());
    assert!(items.delete(&owner, &[a.id, b.id], at(92)).await.unwrap());
    assert!(items.get(&owner, a.id).await.unwrap().is_none());
    assert!(items.get(&user("bob"), c.id).await.unwrap().is_some());
}

async fn deleting_an_image_removes_its_items_and_closes_the_gaps(db: &Fixture) {
    let items = db.items();
    let board = db.board("alice", false).await;
    let other = db.board("alice", false).await;
    let gone = image(db, "alice").await;
    let kept = image(db, "alice").await;
    for (word, picture_of) in [
        ("a", None),
        ("", Some(gone)),
        ("", Some(gone)),
        ("b", None),
        ("", Some(gone)),
        ("", Some(kept)),
        ("c", None),
    ] {
        let item = match picture_of {
            Some(image) => picture(board, image),
            None => text(board, word),
        };
        add(&items, "alice", &item).await;
    }
    add(&items, "alice", &picture(other, gone)).await;
    add(&items, "alice", &text(other, "z")).await;
    let images = DieselImageRepository::new(db.database.clone());
    images
        .delete_for_user(&user("alice"), gone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stack(&items, "alice", board).await, ["a", "b", "img", "c"]);
    assert_eq!(stack(&items, "alice", other).await, ["z"]);
    let owner = user("alice");
    assert_eq!(
        items.contains_image(&owner, board, gone).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        items.contains_image(&owner, board, kept).await.unwrap(),
        Some(true)
    );
    // A board's deletion takes its items.
    db.sql(&format!("DELETE FROM boards WHERE id = '{board}'"))
        .await;
    assert!(items.list(&owner, board).await.unwrap().is_none());
    assert_eq!(stack(&items, "alice", other).await, ["z"]);
}

async fn concurrent_moves_leave_the_stack_unique_and_dense(db: &Fixture) {
    let items = Arc::new(db.items());
    let board = db.board("alice", false).await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(add(&items, "alice", &text(board, &n.to_string())).await.id);
    }
    let directions = [
        ZDirection::Up,
        ZDirection::Down,
        ZDirection::Top,
        ZDirection::Bottom,
    ];
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (items, id) = (Arc::clone(&items), ids[n % ids.len()]);
        let direction = directions[n % directions.len()];
        tasks.push(tokio::spawn(async move {
            let owner = UserId::parse("alice").unwrap();
            if n % 5 == 0 {
                items
                    .update(&owner, &[(id, z_to(3.0))], at(100))
                    .await
                    .unwrap()
                    .unwrap();
            } else {
                items
                    .restack(&owner, id, direction, at(100))
                    .await
                    .unwrap()
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let order = stack(&items, "alice", board).await;
    assert_eq!(order.iter().collect::<BTreeSet<_>>().len(), 10);
}

async fn a_full_board_refuses_another_item(db: &Fixture) {
    let items = db.items();
    let board = db.board("alice", false).await;
    let mut values = Vec::new();
    for n in 0..MAX_BOARD_ITEMS - 1 {
        values.push(format!(
            "('{}', '{board}', 'text', {n}, 'x', 1)",
            BoardItemId::new_random()
        ));
    }
    db.sql(&format!(
        "INSERT INTO board_items (id, board_id, item_type, z_index, text_content, created_at) VALUES {}",
        values.join(", ")
    ))
    .await;
    let last = add(&items, "alice", &text(board, "last")).await;
    assert_eq!(usize::try_from(last.z_index).unwrap(), MAX_BOARD_ITEMS - 1);
    let refused = items
        .add(&user("alice"), &text(board, "over"), at(20))
        .await;
    assert_eq!(refused.unwrap(), AddOutcome::BoardFull);
    assert_eq!(
        items
            .list(&user("alice"), board)
            .await
            .unwrap()
            .unwrap()
            .len(),
        MAX_BOARD_ITEMS
    );
}

/// Deletes `image` of alice's, checking it was there.
async fn delete_image(images: &DieselImageRepository, image: ImageId) {
    let deleted = images.delete_for_user(&user("alice"), image).await;
    assert!(deleted.unwrap().is_some(), "image {image} was not deleted");
}

/// Rounds of each race below: a deadlock shows up in one of them at least.
const RACE_ROUNDS: usize = 3;

/// Images deleted while they are added to boards and the boards' texts are moved (the deletion
/// locks the image, the boards showing it and their items; an addition the image and the board;
/// a move the board and its items): every addition is added or finds no image, every deletion
/// and move succeeds, no deadlock, and the stacks stay dense.
async fn deleting_images_while_they_are_added_to_boards_never_fails(db: &Fixture) {
    let items = Arc::new(db.items());
    let images = Arc::new(DieselImageRepository::new(db.database.clone()));
    let (mut boards, mut texts) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let board = db.board("alice", false).await;
        for word in ["t0", "t1"] {
            texts.push(add(&items, "alice", &text(board, word)).await.id);
        }
        boards.push(board);
    }
    for round in 0..RACE_ROUNDS {
        let mut pictures = Vec::new();
        for _ in 0..6 {
            pictures.push(image(db, "alice").await);
        }
        let start = Arc::new(tokio::sync::Barrier::new(
            pictures.len() * (boards.len() + 1) + texts.len(),
        ));
        let mut tasks = Vec::new();
        for text_item in texts.iter().copied() {
            let (items, start) = (Arc::clone(&items), Arc::clone(&start));
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let moved = items
                    .restack(&user("alice"), text_item, ZDirection::Top, at(30))
                    .await;
                assert!(moved.unwrap().is_some(), "text {text_item} not moved");
            }));
        }
        for (n, picture_of) in pictures.iter().copied().enumerate() {
            for (b, board) in boards.iter().copied().enumerate() {
                let (items, start) = (Arc::clone(&items), Arc::clone(&start));
                tasks.push(tokio::spawn(async move {
                    start.wait().await;
                    let outcome = items
                        .add(&user("alice"), &picture(board, picture_of), at(30))
                        .await;
                    match outcome {
                        Ok(AddOutcome::Added(_) | AddOutcome::ImageNotFound) => {}
                        other => panic!("adding image {n} to board {b}: {other:?}"),
                    }
                }));
            }
            let (images, start) = (Arc::clone(&images), Arc::clone(&start));
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                delete_image(&images, picture_of).await;
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for board in &boards {
            let mut left = stack(&items, "alice", *board).await;
            left.sort();
            assert_eq!(left, ["t0", "t1"], "round {round}");
        }
    }
}

/// A board duplicated while the images on it are deleted: every copy is made, every deletion
/// succeeds, no deadlock, and the copies' stacks are dense (once the images are gone, just the
/// texts).
async fn duplicating_a_board_while_its_images_are_deleted_never_fails(db: &Fixture) {
    let items = Arc::new(db.items());
    let images = Arc::new(DieselImageRepository::new(db.database.clone()));
    let boards = Arc::new(DieselBoardRepository::new(db.database.clone()));
    for round in 0..RACE_ROUNDS {
        let board = db.board("alice", false).await;
        let mut pictures = Vec::new();
        add(&items, "alice", &text(board, "t0")).await;
        for _ in 0..6 {
            let picture_of = image(db, "alice").await;
            add(&items, "alice", &picture(board, picture_of)).await;
            pictures.push(picture_of);
        }
        add(&items, "alice", &text(board, "t1")).await;
        let copies = 4;
        let start = Arc::new(tokio::sync::Barrier::new(pictures.len() + copies));
        let mut deletions = Vec::new();
        for picture_of in pictures {
            let (images, start) = (Arc::clone(&images), Arc::clone(&start));
            deletions.push(tokio::spawn(async move {
                start.wait().await;
                delete_image(&images, picture_of).await;
            }));
        }
        let mut duplicates = Vec::new();
        for _ in 0..copies {
            let (boards, start) = (Arc::clone(&boards), Arc::clone(&start));
            duplicates.push(tokio::spawn(async move {
                start.wait().await;
                let copy = BoardCopy {
                    id: BoardId::new_random(),
                    owner: user("alice"),
                    at: at(40),
                };
                boards.duplicate(board, &copy).await
            }));
        }
        for task in deletions {
            task.await.unwrap();
        }
        let mut made = vec![board];
        for task in duplicates {
            let copy = task.await.unwrap();
            made.push(
                copy.unwrap()
                    .unwrap_or_else(|| panic!("round {round}: no copy"))
                    .id,
            );
        }
        for board in made {
            assert_eq!(
                stack(&items, "alice", board).await,
                ["t0", "t1"],
                "round {round}"
            );
        }
    }
}
