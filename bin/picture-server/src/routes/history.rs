//! `GET /generate/history?page&limit`: the caller's generations, newest first.

use actix_web::{HttpResponse, get, web};
use picture_domain::services::ReadGenerations;
use serde::Deserialize;

use super::responses::Unauthorized;
use crate::auth::AuthenticatedUser;
use crate::dto::{GenerationStatusDto, HistoryDto};
use crate::error::ApiError;

/// The query as the final version read it (parsed by hand, never refused).
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
    limit: Option<String>,
}

/// JavaScript's `parseInt`: the leading integer of the text, if any.
fn leading_integer(raw: &str) -> Option<i64> {
    let text = raw.trim_start();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end.min(18)].parse::<i64>().ok().map(|n| sign * n)
}

/// `page = max(1, parseInt(page) || 1)`, `limit = min(100, max(1, parseInt(limit) || 20))`.
fn page_and_limit(query: &HistoryQuery) -> (u64, u32) {
    let int = |raw: &Option<String>| raw.as_deref().and_then(leading_integer).filter(|n| *n != 0);
    let page = int(&query.page).unwrap_or(1).clamp(1, 1_000_000);
    let limit = int(&query.limit).unwrap_or(20).clamp(1, 100);
    (
        u64::try_from(page).unwrap_or(1),
        u32::try_from(limit).unwrap_or(20),
    )
}

/// One page of the caller's generations with `creditsUsed` and their images.
#[utoipa::path(tag = "generate", security(("bearer" = [])),
    params(("page" = Option<String>, Query, description = "From 1 (lenient, like the original)"), ("limit" = Option<String>, Query, description = "1 to 100, default 20")),
    responses((status = 200, description = "A page of the caller's generations", body = HistoryDto), Unauthorized))]
#[get("/generate/history")]
pub async fn history(
    user: AuthenticatedUser,
    query: web::Query<HistoryQuery>,
    service: web::Data<ReadGenerations>,
) -> Result<HttpResponse, ApiError> {
    let (page, limit) = page_and_limit(&query);
    let offset = (page - 1) * u64::from(limit);
    let found = service.history(&user.id, offset, limit).await?;
    let data: Vec<GenerationStatusDto> =
        found.items.iter().map(GenerationStatusDto::from).collect();
    Ok(HttpResponse::Ok().json(HistoryDto {
        data,
        total: found.total,
        page,
        limit,
        total_pages: found.total.div_ceil(u64::from(limit)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(page: Option<&str>, limit: Option<&str>) -> (u64, u32) {
        page_and_limit(&HistoryQuery {
            page: page.map(Into::into),
            limit: limit.map(Into::into),
        })
    }

    #[test]
    fn parses_like_the_original() {
        assert_eq!(parsed(None, None), (1, 20));
        assert_eq!(parsed(Some("3"), Some("50")), (3, 50));
        assert_eq!(parsed(Some("0"), Some("0")), (1, 20));
        assert_eq!(parsed(Some("-4"), Some("-4")), (1, 1));
        assert_eq!(parsed(Some("abc"), Some("500")), (1, 100));
        assert_eq!(parsed(Some("2x"), Some(" 7 ")), (2, 7));
        assert_eq!(
            parsed(Some("99999999999999999999999"), None),
            (1_000_000, 20)
        );
    }
}
