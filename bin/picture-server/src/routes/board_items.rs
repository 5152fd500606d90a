//! Items on boards (`/board-items/…`): the web client's routes and the original's.
//!
//! Reading needs a board the caller may see (theirs, or public); every write needs the
//! caller's own board. Another user's private board, its items, a malformed id and a missing
//! one are all 404 `not_found` ("Board with id … not found", "Board item with id … not found").
//! Images placed on a board must be the caller's or public (else 404 "Image with id … not
//! found"). A board holds at most 500 items: the 501st is a 409 `conflict` ("Board … is full
//! (500 items)"). Items stack with `zIndex` `0..n-1`; a new one goes on top. Bad input is a
//! 400 `validation_failed` listing every message; nothing is stored then. The batch routes are
//! declared before `/board-items/{id}` (see [`crate::routes::api`]), so they are reachable.

mod bodies;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use picture_domain::board_item::ZDirection;
use picture_domain::services::{BoardItemError, BoardItemService};
use picture_domain::{BoardId, BoardItem, BoardItemId, ImageId, ItemKind, ValidationErrors};

pub use bodies::{BatchChangeBody, BatchDeleteBody, ChangeItemBody, CreateItemBody, ZIndexBody};

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{BoardItemDto, ErrorDto, ImageOnBoardDto, IsOnBoardDto, PathId};
use crate::error::ApiError;

/// The answer to a failed board-item use case.
fn item_error(error: BoardItemError) -> ApiError {
    match error {
        missing @ (BoardItemError::BoardNotFound(_)
        | BoardItemError::ItemNotFound(_)
        | BoardItemError::SomeItemsNotFound
        | BoardItemError::ImageNotFound(_)) => ApiError::NotFound(missing.to_string()),
        full @ BoardItemError::BoardFull(_) => ApiError::Conflict(full.to_string()),
        BoardItemError::Invalid(errors) => errors.into(),
        BoardItemError::Repository(error) => error.into(),
    }
}

/// A board id from the path: a malformed one is that board's 404.
fn board_id(raw: &str) -> Result<BoardId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("Board with id {raw} not found")))
}

fn one(item: BoardItem) -> BoardItemDto {
    BoardItemDto::from(item)
}

fn many(items: Vec<BoardItem>) -> Vec<BoardItemDto> {
    items.into_iter().map(BoardItemDto::from).collect()
}

async fn add_to(
    user: &AuthenticatedUser,
    items: &BoardItemService,
    board: BoardId,
    kind: ItemKind,
    body: CreateItemBody,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_request(board, kind)?;
    let added = items.add(&user.id, request).await.map_err(item_error)?;
    Ok(HttpResponse::Created().json(one(added)))
}

/// The path's board, checked against the body's `boardId` when one is sent.
fn path_board(raw: &str, body: &CreateItemBody) -> Result<BoardId, ApiError> {
    let board = board_id(raw)?;
    match body.board_id.as_deref() {
        Some(sent) if sent != raw && sent.parse::<BoardId>().ok() != Some(board) => {
            Err(ValidationErrors::single("boardId must be the board of the path").into())
        }
        _ => Ok(board),
    }
}

/// The body's board (the original's routes).
fn body_board(body: &CreateItemBody) -> Result<BoardId, ApiError> {
    let raw = body
        .board_id
        .as_deref()
        .ok_or_else(|| ApiError::from(ValidationErrors::single("boardId must be a UUID")))?;
    board_id(raw)
}

/// The items on a board, bottom first, each with its image.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)")), responses((status = 200, description = "The board's items by zIndex", body = [BoardItemDto]), Unauthorized, NotFound))]
#[get("/board-items/board/{boardId}")]
pub async fn list(
    user: AuthenticatedUser,
    board: web::Path<String>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let found = items
        .list(&user.id, board_id(&board)?)
        .await
        .map_err(item_error)?;
    Ok(HttpResponse::Ok().json(many(found)))
}

/// Whether an image is on a board (the web client's route).
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)"), ("imageId" = String, Path, description = "The image id (a UUID)")), responses((status = 200, description = "Whether the image is on the board", body = ImageOnBoardDto), Unauthorized, NotFound))]
#[get("/board-items/board/{boardId}/image/{imageId}/exists")]
pub async fn exists(
    user: AuthenticatedUser,
    path: web::Path<(String, String)>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let exists = on_board(&user, &path, &items).await?;
    Ok(HttpResponse::Ok().json(ImageOnBoardDto { exists }))
}

/// Whether an image is on a board (the original's route; the board must be visible).
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)"), ("imageId" = String, Path, description = "The image id (a UUID)")), responses((status = 200, description = "Whether the image is on the board", body = IsOnBoardDto), Unauthorized, NotFound))]
#[get("/board-items/check/{boardId}/{imageId}")]
pub async fn check(
    user: AuthenticatedUser,
    path: web::Path<(String, String)>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let is_on_board = on_board(&user, &path, &items).await?;
    Ok(HttpResponse::Ok().json(IsOnBoardDto { is_on_board }))
}

async fn on_board(
    user: &AuthenticatedUser,
    path: &(String, String),
    items: &BoardItemService,
) -> Result<bool, ApiError> {
    let board = board_id(&path.0)?;
    let image = path
        .1
        .parse::<ImageId>()
        .map_err(|_| ApiError::NotFound(format!("Image with id {} not found", path.1)))?;
    items
        .contains_image(&user.id, board, image)
        .await
        .map_err(item_error)
}

/// Puts one of the caller's (or a public) images on top of one of their boards: 201.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)")), request_body = CreateItemBody, responses((status = 201, description = "The new item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "The board holds 500 items: `conflict`", body = ErrorDto)))]
#[post("/board-items/board/{boardId}/image")]
pub async fn add_image(
    user: AuthenticatedUser,
    board: web::Path<String>,
    body: web::Json<CreateItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let board = path_board(&board, &body)?;
    add_to(&user, &items, board, ItemKind::Image, body).await
}

/// Puts a text on top of one of the caller's boards: 201.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)")), request_body = CreateItemBody, responses((status = 201, description = "The new item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "The board holds 500 items: `conflict`", body = ErrorDto)))]
#[post("/board-items/board/{boardId}/text")]
pub async fn add_text(
    user: AuthenticatedUser,
    board: web::Path<String>,
    body: web::Json<CreateItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let board = path_board(&board, &body)?;
    add_to(&user, &items, board, ItemKind::Text, body).await
}

/// Puts an item of `itemType` on top of one of the caller's boards: 201.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("boardId" = String, Path, description = "The board id (a UUID)")), request_body = CreateItemBody, responses((status = 201, description = "The new item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "The board holds 500 items: `conflict`", body = ErrorDto)))]
#[post("/board-items/board/{boardId}")]
pub async fn add(
    user: AuthenticatedUser,
    board: web::Path<String>,
    body: web::Json<CreateItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let board = path_board(&board, &body)?;
    let kind = body.kind()?;
    add_to(&user, &items, board, kind, body).await
}

/// Puts an image on top of the board `boardId` of the body (the original's route): 201.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), request_body = CreateItemBody, responses((status = 201, description = "The new item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "The board holds 500 items: `conflict`", body = ErrorDto)))]
#[post("/board-items/image")]
pub async fn add_image_to_body_board(
    user: AuthenticatedUser,
    body: web::Json<CreateItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let board = body_board(&body)?;
    add_to(&user, &items, board, ItemKind::Image, body).await
}

/// Puts a text on top of the board `boardId` of the body (the original's route): 201.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), request_body = CreateItemBody, responses((status = 201, description = "The new item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound, (status = 409, description = "The board holds 500 items: `conflict`", body = ErrorDto)))]
#[post("/board-items/text")]
pub async fn add_text_to_body_board(
    user: AuthenticatedUser,
    body: web::Json<CreateItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let board = body_board(&body)?;
    add_to(&user, &items, board, ItemKind::Text, body).await
}

/// Changes several items on the caller's boards, all or nothing: 200 with the changed items.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), request_body = BatchChangeBody, responses((status = 200, description = "The changed items, in the order sent", body = [BoardItemDto]), (status = 400, description = "Invalid input (also an empty list or more than 500)", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/board-items/batch")]
pub async fn update_many(
    user: AuthenticatedUser,
    body: web::Json<BatchChangeBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let mut changes = Vec::with_capacity(body.items.len());
    let mut messages = Vec::new();
    let mut unknown = false;
    for entry in body.into_inner().items {
        let change = entry.change.parse();
        match (entry.id.parse::<BoardItemId>(), change) {
            (Ok(id), Ok(change)) => changes.push((id, change)),
            (_, Err(errors)) => messages.extend(errors.into_messages()),
            (Err(_), Ok(_)) => unknown = true,
        }
    }
    if !messages.is_empty() {
        return Err(ApiError::Validation(messages));
    }
    if unknown {
        return Err(item_error(BoardItemError::SomeItemsNotFound));
    }
    let changed = items
        .update_many(&user.id, changes)
        .await
        .map_err(item_error)?;
    Ok(HttpResponse::Ok().json(many(changed)))
}

/// Deletes several items from the caller's boards, all or nothing: 204. No body (as the web
/// client sends it) is a 400.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), request_body = BatchDeleteBody, responses((status = 204, description = "Deleted"), (status = 400, description = "No body, or invalid (also an empty list or more than 500)", body = ErrorDto), Unauthorized, NotFound))]
#[delete("/board-items/batch")]
pub async fn delete_many(
    user: AuthenticatedUser,
    body: web::Json<BatchDeleteBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let ids: Result<Vec<BoardItemId>, _> = body.ids.iter().map(|raw| raw.parse()).collect();
    let Ok(ids) = ids else {
        return Err(item_error(BoardItemError::SomeItemsNotFound));
    };
    items.delete_many(&user.id, ids).await.map_err(item_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// One item, with its image.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("id" = String, Path, description = "The item id (a UUID)")), responses((status = 200, description = "The item", body = BoardItemDto), Unauthorized, NotFound))]
#[get("/board-items/{id}")]
pub async fn get(
    user: AuthenticatedUser,
    id: PathId<BoardItemId>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let item = items.get(&user.id, id.get()).await.map_err(item_error)?;
    Ok(HttpResponse::Ok().json(one(item)))
}

/// Changes an item on one of the caller's boards: 200 with the item.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("id" = String, Path, description = "The item id (a UUID)")), request_body = ChangeItemBody, responses((status = 200, description = "The changed item", body = BoardItemDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/board-items/{id}")]
pub async fn update(
    user: AuthenticatedUser,
    id: PathId<BoardItemId>,
    body: web::Json<ChangeItemBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner().parse()?;
    let item = items
        .update(&user.id, id.get(), change)
        .await
        .map_err(item_error)?;
    Ok(HttpResponse::Ok().json(one(item)))
}

/// Moves an item one step (swapping with the nearest neighbour) or to an end of its board's
/// stack: 200 with the item (unchanged when there is nothing to swap with).
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("id" = String, Path, description = "The item id (a UUID)")), request_body = ZIndexBody, responses((status = 200, description = "The moved item", body = BoardItemDto), (status = 400, description = "Invalid direction", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/board-items/{id}/z-index")]
pub async fn restack(
    user: AuthenticatedUser,
    id: PathId<BoardItemId>,
    body: web::Json<ZIndexBody>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    let direction = ZDirection::parse(&body.direction).ok_or_else(|| {
        ApiError::from(ValidationErrors::single(
            "direction must be one of the following values: up, down, top, bottom",
        ))
    })?;
    let item = items
        .restack(&user.id, id.get(), direction)
        .await
        .map_err(item_error)?;
    Ok(HttpResponse::Ok().json(one(item)))
}

/// Removes an item from one of the caller's boards: 204.
#[utoipa::path(tag = "board-items", security(("bearer" = [])), params(("id" = String, Path, description = "The item id (a UUID)")), responses((status = 204, description = "Deleted"), Unauthorized, NotFound))]
#[delete("/board-items/{id}")]
pub async fn delete(
    user: AuthenticatedUser,
    id: PathId<BoardItemId>,
    items: web::Data<BoardItemService>,
) -> Result<HttpResponse, ApiError> {
    items.delete(&user.id, id.get()).await.map_err(item_error)?;
    Ok(HttpResponse::NoContent().finish())
}
