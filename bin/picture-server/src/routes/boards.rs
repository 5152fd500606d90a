//! Mood boards: `GET /boards`, `GET /boards/public`, `GET /boards/:id`, `POST /boards`,
//! `PATCH /boards/:id`, `PATCH /boards/:id/visibility`, `DELETE /boards/:id`,
//! `POST /boards/:id/duplicate` and `POST /boards/:id/thumbnail`.
//!
//! Only the owner changes a board; a public board is readable and duplicable by anyone signed
//! in; another user's private board is a 404 `Board with id … not found` (never a 403).
//! Unlike the original, `PATCH` takes `thumbnailUrl` (the web client sends it) and the
//! thumbnail route takes the web client's multipart field `thumbnail` as well as `{dataUrl}`.

mod bodies;
mod thumbnail;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use picture_domain::services::BoardService;
use picture_domain::{BoardChange, BoardId};

use super::responses::{NotFound, Unauthorized};
use crate::auth::AuthenticatedUser;
use crate::dto::{BoardDto, BoardWithCountDto, ErrorDto, PathId};
use crate::error::ApiError;

pub use bodies::{BoardListQuery, CreateBoardBody, UpdateBoardBody, VisibilityBody};
pub use thumbnail::{ThumbnailForm, ThumbnailJson};

fn listed(boards: Vec<picture_domain::BoardWithCount>) -> HttpResponse {
    HttpResponse::Ok().json(
        boards
            .into_iter()
            .map(BoardWithCountDto::from)
            .collect::<Vec<_>>(),
    )
}

/// The caller's boards (with `includePublic=true`, also every public board), newest change
/// first, each with its item count.
#[utoipa::path(tag = "boards", security(("bearer" = [])),
    params(("page" = Option<u32>, Query, description = "1-based (default 1)"), ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)"), ("includePublic" = Option<String>, Query, description = "`true` or `false` (default)")),
    responses((status = 200, description = "One page of boards", body = [BoardWithCountDto]), (status = 400, description = "Invalid paging", body = ErrorDto), Unauthorized))]
#[get("/boards")]
pub async fn list(
    user: AuthenticatedUser,
    query: web::Query<BoardListQuery>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let query = query.parse(&user.id, false)?;
    let found = boards
        .list(&query)
        .await
        .map_err(|e| ApiError::from_board(e, ""))?;
    Ok(listed(found))
}

/// Every public board, newest change first, each with its item count (`includePublic` is
/// accepted and ignored).
#[utoipa::path(tag = "boards", security(("bearer" = [])),
    params(("page" = Option<u32>, Query, description = "1-based (default 1)"), ("limit" = Option<u32>, Query, description = "1 to 100 (default 20)"), ("includePublic" = Option<String>, Query, description = "Ignored")),
    responses((status = 200, description = "One page of public boards", body = [BoardWithCountDto]), (status = 400, description = "Invalid paging", body = ErrorDto), Unauthorized))]
#[get("/boards/public")]
pub async fn public(
    user: AuthenticatedUser,
    query: web::Query<BoardListQuery>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let query = query.parse(&user.id, true)?;
    let found = boards
        .list(&query)
        .await
        .map_err(|e| ApiError::from_board(e, ""))?;
    Ok(listed(found))
}

/// One board: the caller's own, or a public one.
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")), responses((status = 200, description = "The board", body = BoardDto), Unauthorized, NotFound))]
#[get("/boards/{id}")]
pub async fn get(
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let board = boards
        .get(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_board(e, &id.to_string()))?;
    Ok(HttpResponse::Ok().json(BoardDto::from(board)))
}

/// Creates a board for the caller: 201 with it (canvas 2000×1500, `#ffffff`, private unless
/// sent otherwise).
#[utoipa::path(tag = "boards", security(("bearer" = [])), request_body = CreateBoardBody, responses((status = 201, description = "The new board", body = BoardDto), (status = 400, description = "Invalid input (`validation_failed`, every message)", body = ErrorDto), Unauthorized))]
#[post("/boards")]
pub async fn create(
    user: AuthenticatedUser,
    body: web::Json<CreateBoardBody>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.parse()?;
    let board = boards
        .create(&user.id, draft)
        .await
        .map_err(|e| ApiError::from_board(e, ""))?;
    Ok(HttpResponse::Created().json(BoardDto::from(board)))
}

/// Changes one of the caller's boards (any of its fields, `thumbnailUrl` included); always
/// moves `updatedAt`.
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")), request_body = UpdateBoardBody, responses((status = 200, description = "The changed board", body = BoardDto), (status = 400, description = "Invalid input", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/boards/{id}")]
pub async fn update(
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    body: web::Json<UpdateBoardBody>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let change = body.parse()?;
    apply(&user, &id, &change, &boards).await
}

/// Makes one of the caller's boards public or private.
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")), request_body = VisibilityBody, responses((status = 200, description = "The changed board", body = BoardDto), (status = 400, description = "`isPublic` missing or not a boolean", body = ErrorDto), Unauthorized, NotFound))]
#[patch("/boards/{id}/visibility")]
pub async fn visibility(
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    body: web::Json<VisibilityBody>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let change = BoardChange {
        is_public: Some(body.is_public),
        ..BoardChange::default()
    };
    apply(&user, &id, &change, &boards).await
}

async fn apply(
    user: &AuthenticatedUser,
    id: &PathId<BoardId>,
    change: &BoardChange,
    boards: &BoardService,
) -> Result<HttpResponse, ApiError> {
    let board = boards
        .update(&user.id, id.get(), change)
        .await
        .map_err(|e| ApiError::from_board(e, &id.to_string()))?;
    Ok(HttpResponse::Ok().json(BoardDto::from(board)))
}

/// Deletes one of the caller's boards with its items and its stored thumbnail: 204.
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")), responses((status = 204, description = "Deleted with its items"), Unauthorized, NotFound))]
#[delete("/boards/{id}")]
pub async fn delete(
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    boards
        .delete(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_board(e, &id.to_string()))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Copies a board (the caller's own, or a public one) with every item as a private board of
/// the caller named "… (Copy)", in one transaction: 201 with the copy (no thumbnail).
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")), responses((status = 201, description = "The copy", body = BoardDto), Unauthorized, NotFound))]
#[post("/boards/{id}/duplicate")]
pub async fn duplicate(
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let copy = boards
        .duplicate(&user.id, id.get())
        .await
        .map_err(|e| ApiError::from_board(e, &id.to_string()))?;
    Ok(HttpResponse::Created().json(BoardDto::from(copy)))
}

/// Stores a thumbnail of one of the caller's boards — multipart field `thumbnail` (the web
/// client) or JSON `{dataUrl}` (the original) — PNG, JPEG or WebP recognised from the bytes, at
/// most 5 MB, served with `Cache-Control: public, max-age=604800`; the previous one is deleted.
/// 201 with the board (its `thumbnailUrl` is the new image's URL).
#[utoipa::path(tag = "boards", security(("bearer" = [])), params(("id" = String, Path, description = "The board id (a UUID)")),
    request_body(content((ThumbnailForm = "multipart/form-data"), (ThumbnailJson = "application/json"))),
    responses(
        (status = 201, description = "The board with its new thumbnail", body = BoardDto),
        (status = 400, description = "No thumbnail, a damaged image, bad base64 or malformed body", body = ErrorDto),
        Unauthorized, NotFound,
        (status = 413, description = "Over 5 MB (`payload_too_large`)", body = ErrorDto),
        (status = 415, description = "Not a PNG, JPEG or WebP image (`unsupported_media_type`)", body = ErrorDto),
        (status = 503, description = "The store failed (`storage_error`); nothing was recorded", body = ErrorDto)))]
#[post("/boards/{id}/thumbnail")]
pub async fn set_thumbnail(
    request: HttpRequest,
    user: AuthenticatedUser,
    id: PathId<BoardId>,
    payload: web::Payload,
    boards: web::Data<BoardService>,
) -> Result<HttpResponse, ApiError> {
    let bytes = if thumbnail::is_multipart(&request) {
        thumbnail::from_multipart(&request, payload).await?
    } else {
        thumbnail::from_json(&request, payload).await?
    };
    let board = boards
        .set_thumbnail(&user.id, id.get(), bytes)
        .await
        .map_err(|e| ApiError::from_board(e, &id.to_string()))?;
    Ok(HttpResponse::Created().json(BoardDto::from(board)))
}
