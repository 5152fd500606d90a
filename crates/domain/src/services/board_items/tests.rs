//! The board-item service's rules, over a mocked repository.

use chrono::{DateTime, Utc};

use super::*;
use crate::board_item::{ItemKind, ItemText};
use crate::color::HexColor;
use crate::ports::{MockBoardItemRepository, MockClock};

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(at(1_700_000_000_000));
    Arc::new(clock)
}

fn user() -> UserId {
    UserId::parse("u1").unwrap()
}

fn stored(new: &NewBoardItem) -> BoardItem {
    let (image_id, kind, text_content, font_size, color) = match &new.content {
        ItemContent::Image(image) => (Some(*image), ItemKind::Image, None, None, None),
        ItemContent::Text {
            text,
            font_size,
            color,
        } => (
            None,
            ItemKind::Text,
            Some(text.as_str().to_owned()),
            Some(*font_size),
            Some(color.as_str().to_owned()),
        ),
    };
    BoardItem {
        id: new.id,
        board_id: new.board,
        image_id,
        kind,
        position_x: new.position_x,
        position_y: new.position_y,
        scale_x: 1.0,
        scale_y: 1.0,
        rotation: 0.0,
        z_index: 0,
        opacity: 1.0,
        width: None,
        height: None,
        text_content,
        font_size,
        color,
        properties: new.properties.as_ref().map(|p| p.as_str().to_owned()),
        created_at: new.created_at,
        image: None,
    }
}

fn text_request(board: BoardId, x: Option<f64>, y: Option<f64>) -> NewItemRequest {
    NewItemRequest {
        board,
        content: ItemContent::Text {
            text: ItemText::parse("hi".into()).unwrap(),
            font_size: 24,
            color: HexColor::parse("#000000").unwrap(),
        },
        position_x: x,
        position_y: y,
        properties: None,
    }
}

#[tokio::test]
async fn absent_positions_default_to_100_and_zero_stays_zero() {
    let mut repo = MockBoardItemRepository::new();
    repo.expect_add()
        .withf(|_, item, now| *now == at(1_700_000_000_000) && item.created_at == *now)
        .times(2)
        .returning(|_, item, _| Ok(AddOutcome::Added(Box::new(stored(item)))));
    let service = BoardItemService::new(Arc::new(repo), clock());
    let board = BoardId::new_random();
    let defaulted = service
        .add(&user(), text_request(board, None, None))
        .await
        .unwrap();
    assert_eq!((defaulted.position_x, defaulted.position_y), (100.0, 100.0));
    let zero = service
        .add(&user(), text_request(board, Some(0.0), Some(0.0)))
        .await
        .unwrap();
    assert_eq!((zero.position_x, zero.position_y), (0.0, 0.0));
}

#[tokio::test]
async fn refusals_become_their_errors() {
    let board = BoardId::new_random();
    let image = ImageId::new_random();
    let outcomes = [
        (AddOutcome::BoardNotFound, "Board with id"),
        (AddOutcome::BoardFull, "is full (500 items)"),
        (AddOutcome::ImageNotFound, "Image with id"),
    ];
    for (outcome, message) in outcomes {
        let mut repo = MockBoardItemRepository::new();
        let answer = outcome.clone();
        repo.expect_add()
            .returning(move |_, _, _| Ok(answer.clone()));
        let service = BoardItemService::new(Arc::new(repo), clock());
        let request = NewItemRequest {
            content: ItemContent::Image(image),
            ..text_request(board, None, None)
        };
        let error = service.add(&user(), request).await.unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
        if outcome == AddOutcome::ImageNotFound {
            assert!(error.to_string().contains(&image.to_string()));
        }
    }
}

#[tokio::test]
async fn missing_items_and_boards_are_not_found() {
    let mut repo = MockBoardItemRepository::new();
    repo.expect_list().returning(|_, _| Ok(None));
    repo.expect_get().returning(|_, _| Ok(None));
    repo.expect_update().returning(|_, _, _| Ok(None));
    repo.expect_restack().returning(|_, _, _, _| Ok(None));
    repo.expect_delete().returning(|_, _, _| Ok(false));
    repo.expect_contains_image().returning(|_, _, _| Ok(None));
    let service = BoardItemService::new(Arc::new(repo), clock());
    let (board, item) = (BoardId::new_random(), BoardItemId::new_random());
    let u = user();
    assert!(
        matches!(service.list(&u, board).await, Err(BoardItemError::BoardNotFound(b)) if b == board)
    );
    assert!(
        matches!(service.get(&u, item).await, Err(BoardItemError::ItemNotFound(i)) if i == item)
    );
    assert!(matches!(
        service.update(&u, item, BoardItemChange::default()).await,
        Err(BoardItemError::ItemNotFound(_))
    ));
    assert!(matches!(
        service
            .update_many(&u, vec![(item, BoardItemChange::default())])
            .await,
        Err(BoardItemError::SomeItemsNotFound)
    ));
    assert!(matches!(
        service.restack(&u, item, ZDirection::Up).await,
        Err(BoardItemError::ItemNotFound(_))
    ));
    assert!(matches!(
        service.delete(&u, item).await,
        Err(BoardItemError::ItemNotFound(_))
    ));
    assert!(matches!(
        service.delete_many(&u, vec![item]).await,
        Err(BoardItemError::SomeItemsNotFound)
    ));
    assert!(matches!(
        service
            .contains_image(&u, board, ImageId::new_random())
            .await,
        Err(BoardItemError::BoardNotFound(_))
    ));
}

#[tokio::test]
async fn batches_hold_1_to_500_entries_and_deletes_count_an_id_once() {
    let mut repo = MockBoardItemRepository::new();
    repo.expect_delete()
        .withf(|_, ids, _| ids.len() == 1)
        .times(1)
        .returning(|_, _, _| Ok(true));
    let service = BoardItemService::new(Arc::new(repo), clock());
    let u = user();
    assert!(matches!(
        service.update_many(&u, vec![]).await,
        Err(BoardItemError::Invalid(_))
    ));
    assert!(matches!(
        service.delete_many(&u, vec![]).await,
        Err(BoardItemError::Invalid(_))
    ));
    let many: Vec<_> = (0..501).map(|_| BoardItemId::new_random()).collect();
    assert!(matches!(
        service.delete_many(&u, many).await,
        Err(BoardItemError::Invalid(_))
    ));
    let id = BoardItemId::new_random();
    service.delete_many(&u, vec![id, id]).await.unwrap();
}

#[tokio::test]
async fn an_unavailable_database_stays_a_repository_error() {
    let mut repo = MockBoardItemRepository::new();
    repo.expect_list()
        .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));
    let service = BoardItemService::new(Arc::new(repo), clock());
    assert!(matches!(
        service.list(&user(), BoardId::new_random()).await,
        Err(BoardItemError::Repository(RepositoryError::Unavailable(_)))
    ));
}
