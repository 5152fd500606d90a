//! Blurhash placeholders still missing: listed in id order after a key, counted, and written
//! once (a board's only while its thumbnail is still the one hashed).

use std::collections::HashMap;

use picture_domain::board::{BoardName, CanvasDimension, ThumbnailUrl};
use picture_domain::ports::{
    BoardRepository, ImageRepository, ObjectKey, PlaceholderRepository, UploadRepository,
};
use picture_domain::profile_change::FieldChange;
use picture_domain::{BoardChange, BoardId, HexColor, ImageId, NewBoard, NewImage, UserId};
use picture_persistence::{
    DieselBoardRepository, DieselImageRepository, DieselPlaceholderRepository,
    DieselUploadRepository,
};

use crate::{TestDatabase, at};

contract!(
    images_without_a_blurhash_are_listed_by_id_after_a_key_and_hashed_once,
    stored_board_thumbnails_without_a_blurhash_are_listed_and_hashed_while_unchanged,
    the_count_covers_images_and_stored_board_thumbnails,
);

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn key(raw: &str) -> ObjectKey {
    ObjectKey::from_stored(raw)
}

/// An upload of `owner` with `blurhash`, stored.
async fn upload(db: &TestDatabase, owner: &str, blurhash: Option<&str>) -> NewImage {
    let id = ImageId::new_random();
    let new = NewImage {
        id,
        user_id: user(owner),
        generation_id: None,
        prompt: "photo.png".into(),
        negative_prompt: None,
        model: None,
        style: None,
        public_url: None,
        storage_path: format!("users/{owner}/images/{id}.png"),
        filename: "photo.png".into(),
        format: Some("png".into()),
        width: Some(64),
        height: Some(48),
        file_size: Some(1_000),
        blurhash: blurhash.map(str::to_owned),
        created_at: at(1_000),
    };
    DieselUploadRepository::new(db.database.clone())
        .insert(&new)
        .await
        .unwrap();
    new
}

/// A board of `owner`, stored.
async fn board(boards: &DieselBoardRepository, owner: &str) -> BoardId {
    let new = NewBoard {
        id: BoardId::new_random(),
        user_id: user(owner),
        name: BoardName::parse("ideas").unwrap(),
        description: None,
        canvas_width: CanvasDimension::parse("canvasWidth", 2000.0).unwrap(),
        canvas_height: CanvasDimension::parse("canvasHeight", 1500.0).unwrap(),
        background_color: HexColor::parse("#ffffff").unwrap(),
        is_public: false,
        created_at: at(1_000),
    };
    boards.create(&new).await.unwrap().id
}

/// Points `owner`'s board `id` at the stored thumbnail `key`, with `blurhash`.
async fn thumbnail(
    boards: &DieselBoardRepository,
    owner: &str,
    id: BoardId,
    key: &str,
    blurhash: Option<&str>,
) {
    boards
        .set_thumbnail(
            &user(owner),
            id,
            &format!("http://x/{key}"),
            key,
            blurhash.map(str::to_owned),
            at(2_000),
        )
        .await
        .unwrap()
        .unwrap();
}

async fn images_without_a_blurhash_are_listed_by_id_after_a_key_and_hashed_once(db: &TestDatabase) {
    let placeholders = DieselPlaceholderRepository::new(db.database.clone());
    let images = DieselImageRepository::new(db.database.clone());
    let mut stored = Vec::new();
    for owner in ["alice", "bob", "alice", "carol", "bob"] {
        stored.push(upload(db, owner, None).await);
    }
    let mut missing: Vec<_> = stored
        .iter()
        .map(|new| (new.id, key(&new.storage_path)))
        .collect();
    let hashed = upload(db, "alice", Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")).await;
    missing.sort_by_key(|(id, _)| *id);

    assert_eq!(
        placeholders.images_missing(None, 100).await.unwrap(),
        missing
    );
    // Pages of two, each after the last id of the one before.
    let first = placeholders.images_missing(None, 2).await.unwrap();
    assert_eq!(first, missing[..2]);
    let second = placeholders
        .images_missing(Some(first[1].0), 2)
        .await
        .unwrap();
    assert_eq!(second, missing[2..4]);
    let third = placeholders
        .images_missing(Some(second[1].0), 2)
        .await
        .unwrap();
    assert_eq!(third, missing[4..]);
    assert!(
        placeholders
            .images_missing(Some(third[0].0), 2)
            .await
            .unwrap()
            .is_empty()
    );
    // After an id that is not listed (one already hashed): the ids above it.
    let above: Vec<_> = missing
        .iter()
        .filter(|(id, _)| *id > hashed.id)
        .cloned()
        .collect();
    assert_eq!(
        placeholders
            .images_missing(Some(hashed.id), 100)
            .await
            .unwrap(),
        above
    );

    // Written once: the second value is refused and the first kept.
    let (target, _) = missing[2].clone();
    assert!(
        placeholders
            .set_image_blurhash(target, "L00000fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    assert!(
        !placeholders
            .set_image_blurhash(target, "L11111fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    let owner = &stored.iter().find(|new| new.id == target).unwrap().user_id;
    let written = images.find_visible(owner, target).await.unwrap().unwrap();
    assert_eq!(
        written.record.blurhash.as_deref(),
        Some("L00000fQfQfQfQfQfQfQfQfQfQfQ")
    );
    // An image stored with a blurhash, and one that does not exist, are not written.
    assert!(
        !placeholders
            .set_image_blurhash(hashed.id, "L22222fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    assert!(
        !placeholders
            .set_image_blurhash(ImageId::new_random(), "L22222fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    let left: Vec<_> = missing
        .iter()
        .filter(|(id, _)| *id != target)
        .cloned()
        .collect();
    assert_eq!(placeholders.images_missing(None, 100).await.unwrap(), left);
}

async fn stored_board_thumbnails_without_a_blurhash_are_listed_and_hashed_while_unchanged(
    db: &TestDatabase,
) {
    let placeholders = DieselPlaceholderRepository::new(db.database.clone());
    let boards = DieselBoardRepository::new(db.database.clone());
    let mut missing = Vec::new();
    let mut owners = HashMap::new();
    for (owner, name) in [("alice", "a"), ("bob", "b"), ("alice", "c")] {
        let id = board(&boards, owner).await;
        let stored = format!("boards/{name}.png");
        thumbnail(&boards, owner, id, &stored, None).await;
        missing.push((id, key(&stored)));
        owners.insert(id, owner);
    }
    missing.sort_by_key(|(id, _)| *id);
    // Not listed: a board hashed when stored, one without a thumbnail, and one whose thumbnail
    // is a URL a client set (no stored object).
    let hashed = board(&boards, "alice").await;
    thumbnail(
        &boards,
        "alice",
        hashed,
        "boards/h.png",
        Some("LKO2?U%2Tw=w]~RBVZRi};RPxuwH"),
    )
    .await;
    board(&boards, "alice").await;
    let linked = board(&boards, "bob").await;
    let link = BoardChange {
        thumbnail_url: FieldChange::Set(ThumbnailUrl::parse("https://cdn/x.png").unwrap()),
        ..BoardChange::default()
    };
    boards
        .update(&user("bob"), linked, &link, at(3_000))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        placeholders.boards_missing(None, 100).await.unwrap(),
        missing
    );
    let first = placeholders.boards_missing(None, 2).await.unwrap();
    assert_eq!(first, missing[..2]);
    assert_eq!(
        placeholders
            .boards_missing(Some(first[1].0), 2)
            .await
            .unwrap(),
        missing[2..]
    );

    // The thumbnail changed after it was listed: the old one's hash is not written, and the
    // new one is listed.
    let (moved, old_key) = missing[0].clone();
    thumbnail(&boards, owners[&moved], moved, "boards/new.png", None).await;
    assert!(
        !placeholders
            .set_board_blurhash(moved, &old_key, "L00000fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    missing[0].1 = key("boards/new.png");
    assert_eq!(
        placeholders.boards_missing(None, 100).await.unwrap(),
        missing
    );

    // Written once: the second value is refused and the first kept.
    let (target, target_key) = missing[1].clone();
    assert!(
        placeholders
            .set_board_blurhash(target, &target_key, "L00000fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    assert!(
        !placeholders
            .set_board_blurhash(target, &target_key, "L11111fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    let written = boards
        .get(&user(owners[&target]), target)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        written.thumbnail_blurhash.as_deref(),
        Some("L00000fQfQfQfQfQfQfQfQfQfQfQ")
    );
    // The backfill's write is not the owner's change: `updated_at` stays.
    assert_eq!(written.updated_at, at(2_000));
    // A board hashed when stored, and a board that does not exist, are not written.
    assert!(
        !placeholders
            .set_board_blurhash(hashed, &key("boards/h.png"), "L22222fQfQfQfQfQfQfQfQfQfQfQ")
            .await
            .unwrap()
    );
    assert!(
        !placeholders
            .set_board_blurhash(BoardId::new_random(), &key("boards/a.png"), "L2")
            .await
            .unwrap()
    );
    missing.remove(1);
    assert_eq!(
        placeholders.boards_missing(None, 100).await.unwrap(),
        missing
    );
}

async fn the_count_covers_images_and_stored_board_thumbnails(db: &TestDatabase) {
    let placeholders = DieselPlaceholderRepository::new(db.database.clone());
    let boards = DieselBoardRepository::new(db.database.clone());
    assert_eq!(placeholders.count_missing().await.unwrap(), 0);
    let first = upload(db, "alice", None).await;
    upload(db, "bob", None).await;
    upload(db, "bob", Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")).await;
    let stored = board(&boards, "alice").await;
    thumbnail(&boards, "alice", stored, "boards/s.png", None).await;
    let hashed = board(&boards, "alice").await;
    thumbnail(
        &boards,
        "alice",
        hashed,
        "boards/t.png",
        Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj"),
    )
    .await;
    board(&boards, "alice").await;
    assert_eq!(placeholders.count_missing().await.unwrap(), 3);
    assert!(
        placeholders
            .set_image_blurhash(first.id, "L0")
            .await
            .unwrap()
    );
    assert!(
        placeholders
            .set_board_blurhash(stored, &key("boards/s.png"), "L0")
            .await
            .unwrap()
    );
    assert_eq!(placeholders.count_missing().await.unwrap(), 1);
}
