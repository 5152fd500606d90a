//! The board use cases over mocked ports.

use chrono::{DateTime, Utc};
use mockall::predicate::eq;

use super::*;
use crate::board::{BoardName, NewBoard};
use crate::ports::{MockBoardRepository, MockClock, MockImageInspector, MockObjectStore};
use crate::upload::InspectedImage;

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn board(owner: &str, thumbnail: Option<&str>) -> Board {
    Board {
        id: BoardId::new_random(),
        user_id: user(owner),
        name: "Moods".into(),
        description: None,
        thumbnail_url: thumbnail.map(str::to_owned),
        thumbnail_blurhash: None,
        canvas_width: 2000,
        canvas_height: 1500,
        background_color: "#ffffff".into(),
        is_public: false,
        created_at: at(1),
        updated_at: at(1),
    }
}

struct Mocks {
    boards: MockBoardRepository,
    store: MockObjectStore,
    inspector: MockImageInspector,
}

impl Mocks {
    fn new() -> Self {
        Self {
            boards: MockBoardRepository::new(),
            store: MockObjectStore::new(),
            inspector: MockImageInspector::new(),
        }
    }

    fn service(mut self) -> BoardService {
        // No thumbnail here has variants.
        self.store
            .expect_list()
            .returning(|_, _, _| Ok(crate::ports::ObjectPage::default()));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(1_700_000_000_000));
        BoardService::new(BoardPorts {
            boards: Arc::new(self.boards),
            store: Arc::new(self.store),
            inspector: Arc::new(self.inspector),
            renderer: crate::services::fakes::placeholder_renderer(),
            clock: Arc::new(clock),
        })
    }
}

fn png(bytes: Vec<u8>) -> Result<InspectedImage, InspectError> {
    Ok(InspectedImage {
        bytes,
        extension: "png",
        content_type: "image/png",
        width: 400,
        height: 300,
    })
}

fn stored(new: &NewBoard) -> Board {
    Board {
        id: new.id,
        user_id: new.user_id.clone(),
        name: new.name.as_str().to_owned(),
        description: None,
        thumbnail_url: None,
        thumbnail_blurhash: None,
        canvas_width: new.canvas_width.get(),
        canvas_height: new.canvas_height.get(),
        background_color: new.background_color.as_str().to_owned(),
        is_public: new.is_public,
        created_at: new.created_at,
        updated_at: new.created_at,
    }
}

#[tokio::test]
async fn create_fills_in_the_defaults_for_the_caller_at_the_clock_time() {
    let mut mocks = Mocks::new();
    mocks
        .boards
        .expect_create()
        .withf(|new| {
            new.user_id.as_str() == "alice"
                && new.name.as_str() == "Moods"
                && new.canvas_width.get() == 2000
                && new.canvas_height.get() == 1500
                && new.background_color.as_str() == "#ffffff"
                && !new.is_public
                && new.created_at == at(1_700_000_000_000)
        })
        .times(1)
        .returning(|new| Ok(stored(new)));
    let draft = BoardDraft {
        name: Some(BoardName::parse(" Moods ").unwrap()),
        ..BoardDraft::default()
    };
    let created = mocks.service().create(&user("alice"), draft).await.unwrap();
    assert_eq!(created.name, "Moods");
}

#[tokio::test]
async fn missing_boards_are_not_found_on_every_use_case() {
    let mut mocks = Mocks::new();
    mocks.boards.expect_get().returning(|_, _| Ok(None));
    mocks
        .boards
        .expect_update()
        .returning(|_, _, _, _| Ok(None));
    mocks.boards.expect_delete().returning(|_, _| Ok(None));
    mocks.boards.expect_duplicate().returning(|_, _| Ok(None));
    let service = mocks.service();
    let (who, id) = (user("bob"), BoardId::new_random());
    assert!(matches!(
        service.get(&who, id).await,
        Err(BoardError::NotFound)
    ));
    assert!(matches!(
        service.update(&who, id, &BoardChange::default()).await,
        Err(BoardError::NotFound)
    ));
    assert!(matches!(
        service.delete(&who, id).await,
        Err(BoardError::NotFound)
    ));
    assert!(matches!(
        service.duplicate(&who, id).await,
        Err(BoardError::NotFound)
    ));
    assert!(matches!(
        service.set_thumbnail(&who, id, vec![1]).await,
        Err(BoardError::NotFound)
    ));
}

#[tokio::test]
async fn a_released_thumbnail_is_deleted_after_an_update_and_a_delete() {
    let mut mocks = Mocks::new();
    mocks.boards.expect_update().returning(|_, _, _, _| {
        Ok(Some(ChangedBoard {
            board: board("alice", Some("https://elsewhere.example/x.png")),
            released_thumbnail: Some("boards/b/thumbnail-old.png".into()),
        }))
    });
    mocks
        .boards
        .expect_delete()
        .returning(|_, _| Ok(Some(Some("boards/b/thumbnail-new.png".into()))));
    mocks
        .store
        .expect_delete()
        .with(eq(ObjectKey::from_stored("boards/b/thumbnail-old.png")))
        .times(1)
        .returning(|_| Ok(()));
    // A failed delete is logged, not an error.
    mocks
        .store
        .expect_delete()
        .with(eq(ObjectKey::from_stored("boards/b/thumbnail-new.png")))
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("down".into())));
    let service = mocks.service();
    let (owner, id) = (user("alice"), BoardId::new_random());
    service
        .update(&owner, id, &BoardChange::default())
        .await
        .unwrap();
    service.delete(&owner, id).await.unwrap();
}

#[tokio::test]
async fn a_thumbnail_is_stored_under_the_boards_key_with_a_week_of_cache_then_the_old_one_goes() {
    let mut mocks = Mocks::new();
    let owned = board("alice", None);
    let id = owned.id;
    mocks
        .boards
        .expect_get()
        .returning(move |_, _| Ok(Some(owned.clone())));
    mocks.inspector.expect_inspect().returning(png);
    mocks
        .store
        .expect_put_with_cache_control()
        .withf(move |key, bytes, content_type, cache| {
            key.as_str().starts_with(&format!("boards/{id}/thumbnail-"))
                && key.as_str().ends_with(".png")
                && bytes == b"image"
                && content_type == "image/png"
                && cache == "public, max-age=604800"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| format!("https://cdn.example/{}", key.as_str()));
    mocks
        .boards
        .expect_set_thumbnail()
        .withf(|_, _, url, key, blurhash, _| {
            url == format!("https://cdn.example/{key}")
                && blurhash.as_deref() == Some(crate::services::fakes::PLACEHOLDER)
        })
        .times(1)
        .returning(|_, _, url, _, _, _| {
            Ok(Some(ChangedBoard {
                board: board("alice", Some(url)),
                released_thumbnail: Some("boards/b/thumbnail-old.png".into()),
            }))
        });
    mocks
        .store
        .expect_delete()
        .with(eq(ObjectKey::from_stored("boards/b/thumbnail-old.png")))
        .times(1)
        .returning(|_| Ok(()));
    let updated = mocks
        .service()
        .set_thumbnail(&user("alice"), id, b"image".to_vec())
        .await
        .unwrap();
    assert!(
        updated
            .thumbnail_url
            .unwrap()
            .starts_with("https://cdn.example/boards/")
    );
}

#[tokio::test]
async fn refused_thumbnails_store_nothing() {
    let mut mocks = Mocks::new();
    let public = Board {
        is_public: true,
        ..board("alice", None)
    };
    mocks
        .boards
        .expect_get()
        .returning(move |_, _| Ok(Some(public.clone())));
    mocks
        .inspector
        .expect_inspect()
        .returning(|_| Err(InspectError::Unsupported));
    mocks.store.expect_put_with_cache_control().never();
    let service = mocks.service();
    let id = BoardId::new_random();
    assert!(matches!(
        service
            .set_thumbnail(&user("alice"), id, vec![0; MAX_THUMBNAIL_BYTES + 1])
            .await,
        Err(BoardError::ThumbnailTooLarge)
    ));
    assert!(matches!(
        service
            .set_thumbnail(&user("alice"), id, b"<html>".to_vec())
            .await,
        Err(BoardError::Thumbnail(InspectError::Unsupported))
    ));
    // Public is readable, not writable: another user's public board is not found.
    assert!(matches!(
        service.set_thumbnail(&user("bob"), id, b"x".to_vec()).await,
        Err(BoardError::NotFound)
    ));
}

#[tokio::test]
async fn the_new_thumbnail_is_deleted_again_when_the_board_vanished_meanwhile() {
    let mut mocks = Mocks::new();
    let owned = board("alice", None);
    mocks
        .boards
        .expect_get()
        .returning(move |_, _| Ok(Some(owned.clone())));
    mocks.inspector.expect_inspect().returning(png);
    mocks
        .store
        .expect_put_with_cache_control()
        .returning(|_, _, _, _| Ok(()));
    mocks
        .store
        .expect_public_url()
        .returning(|key| key.as_str().to_owned());
    mocks
        .boards
        .expect_set_thumbnail()
        .returning(|_, _, _, _, _, _| Ok(None));
    mocks
        .store
        .expect_delete()
        .withf(|key| key.as_str().starts_with("boards/"))
        .times(1)
        .returning(|_| Ok(()));
    assert!(matches!(
        mocks
            .service()
            .set_thumbnail(&user("alice"), BoardId::new_random(), b"x".to_vec())
            .await,
        Err(BoardError::NotFound)
    ));
}

#[tokio::test]
async fn a_duplicate_is_made_for_the_caller_at_the_clock_time() {
    let mut mocks = Mocks::new();
    let source = BoardId::new_random();
    mocks
        .boards
        .expect_duplicate()
        .withf(move |id, copy| {
            *id == source
                && copy.owner.as_str() == "bob"
                && copy.id != source
                && copy.at == at(1_700_000_000_000)
        })
        .times(1)
        .returning(|_, _| Ok(Some(board("bob", None))));
    let copy = mocks
        .service()
        .duplicate(&user("bob"), source)
        .await
        .unwrap();
    assert_eq!(copy.user_id.as_str(), "bob");
}
