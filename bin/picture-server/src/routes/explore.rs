//! The explore feed: everyone's public images (`GET /explore`) and a full-text search over
//! their prompts (`GET /explore/search`), as both clients call them.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, get, web};
use picture_domain::services::{ExploreRequest, ExploreService};
use picture_domain::{ExploreCursor, ExploreSort, SearchTerms};
use serde::Deserialize;

use super::images::{NEXT_CURSOR_HEADER, number};
use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::{ErrorDto, ExploreImageDto};
use crate::error::ApiError;

/// `GET /explore` query: the web client's `page, limit, sortBy, favoritesOnly`, the mobile
/// client's `page, limit, sortBy`, and `cursor`. Unknown parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedQuery {
    page: Option<String>,
    limit: Option<String>,
    sort_by: Option<String>,
    favorites_only: Option<String>,
    cursor: Option<String>,
}

/// `GET /explore/search` query: the web client's `q` or the mobile client's `searchTerm`,
/// beside everything `GET /explore` takes. Unknown parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchQuery {
    q: Option<String>,
    search_term: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    sort_by: Option<String>,
    favorites_only: Option<String>,
    cursor: Option<String>,
}

/// The largest page.
const MAX_LIMIT: u32 = 100;

/// The parameters both routes share, read into a request (every problem reported at once).
fn request(
    page: Option<&str>,
    limit: Option<&str>,
    sort_by: Option<&str>,
    favorites_only: Option<&str>,
    cursor: Option<&str>,
    term: Option<&str>,
) -> Result<ExploreRequest, ApiError> {
    let mut problems = Vec::new();
    let page = number("page", page, 1, 1_000_000).map_err(|e| problems.push(e));
    let limit = number("limit", limit, 20, MAX_LIMIT).map_err(|e| problems.push(e));
    let sort = sort_by
        .map_or(Ok(ExploreSort::Recent), str::parse)
        .map_err(|e| problems.push(e.to_string()));
    let terms = term
        .map(SearchTerms::parse)
        .transpose()
        .map(Option::flatten)
        .map_err(|e| problems.push(e.to_string()));
    let after = match (cursor, sort) {
        (Some(raw), Ok(sort)) => ExploreCursor::parse(raw, sort)
            .map(Some)
            .map_err(|e| problems.push(e.to_string())),
        _ => Ok(None),
    };
    match (page, limit, sort, terms, after) {
        (Ok(page), Ok(limit), Ok(sort), Ok(terms), Ok(after)) => Ok(ExploreRequest {
            sort,
            search: terms,
            favorites_only: favorites_only == Some("true"),
            page,
            after,
            limit,
        }),
        _ => Err(ApiError::Validation(problems)),
    }
}

/// About the size of one image's JSON (a little more than a typical one).
const IMAGE_JSON_BYTES: usize = 800;

/// Reads the page and answers it like the gallery: a bare array, `X-Next-Cursor` when full.
async fn answer(
    user: &AuthenticatedUser,
    request: ExploreRequest,
    explore: &ExploreService,
) -> Result<HttpResponse, ApiError> {
    let limit = request.limit as usize;
    let found = explore.page(&user.id, request).await?;
    let mut response = HttpResponse::Ok();
    if found.len() == limit
        && let Some(last) = found.last()
    {
        response.insert_header((NEXT_CURSOR_HEADER, last.cursor().to_string()));
    }
    let page: Vec<ExploreImageDto> = found.iter().map(ExploreImageDto::from).collect();
    let mut body = Vec::with_capacity(IMAGE_JSON_BYTES * page.len().max(1));
    serde_json::to_writer(&mut body, &page)
        .map_err(|e| ApiError::internal_while("serialising a page of the explore feed", e))?;
    Ok(response.insert_header(ContentType::json()).body(body))
}

/// Everyone's public, unarchived images: newest first (`recent`), most liked first
/// (`popular`), or most liked in the last 7 days first (`trending`); ties newest first.
#[utoipa::path(tag = "explore", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "1 to 100, default 20"), ("sortBy" = Option<String>, Query, description = "`recent` (default), `popular` (likes) or `trending` (likes in the last 7 days, then recency)"), ("favoritesOnly" = Option<String>, Query, description = "`true`: only images the caller likes"), ("cursor" = Option<String>, Query, description = "Start after this position (the `X-Next-Cursor` of the previous page, same `sortBy`) instead of at `page`: as fast deep in the feed as on its first page")),
    responses((status = 200, description = "Public images with their like counts", body = [ExploreImageDto], headers(("x-next-cursor" = String, description = "Cursor of the next page; present when this page is full"))), (status = 400, description = "Invalid input (unknown `sortBy`, bad number or cursor, unknown parameter)", body = ErrorDto), Unauthorized))]
#[get("/explore")]
pub async fn feed(
    user: AuthenticatedUser,
    query: web::Query<FeedQuery>,
    explore: web::Data<ExploreService>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let request = request(
        q.page.as_deref(),
        q.limit.as_deref(),
        q.sort_by.as_deref(),
        q.favorites_only.as_deref(),
        q.cursor.as_deref(),
        None,
    )?;
    answer(&user, request, &explore).await
}

/// Full-text search over the prompts of the explore feed: every word of the term must begin a
/// word of the prompt (`cat` finds "cat" and "cats", not "scat"; case and punctuation are
/// ignored, any script works). An empty term is the feed itself; a term without letters or
/// digits finds nothing. Sorted and paged as `GET /explore`.
#[utoipa::path(tag = "explore", security(("bearer" = [])),
    params(("q" = Option<String>, Query, description = "The search term (web client); at most 200 characters"), ("searchTerm" = Option<String>, Query, description = "The search term (mobile client), when `q` is absent"), ("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "1 to 100, default 20"), ("sortBy" = Option<String>, Query, description = "`recent` (default), `popular` or `trending`"), ("favoritesOnly" = Option<String>, Query, description = "`true`: only images the caller likes"), ("cursor" = Option<String>, Query, description = "The `X-Next-Cursor` of the previous page (same term and `sortBy`)")),
    responses((status = 200, description = "Matching public images with their like counts", body = [ExploreImageDto], headers(("x-next-cursor" = String, description = "Cursor of the next page; present when this page is full"))), (status = 400, description = "Invalid input (term over 200 characters, unknown `sortBy`, bad number or cursor)", body = ErrorDto), Unauthorized))]
#[get("/explore/search")]
pub async fn search(
    user: AuthenticatedUser,
    query: web::Query<SearchQuery>,
    explore: web::Data<ExploreService>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let term = q.q.as_deref().or(q.search_term.as_deref());
    let request = request(
        q.page.as_deref(),
        q.limit.as_deref(),
        q.sort_by.as_deref(),
        q.favorites_only.as_deref(),
        q.cursor.as_deref(),
        Some(term.unwrap_or("")),
    )?;
    answer(&user, request, &explore).await
}
