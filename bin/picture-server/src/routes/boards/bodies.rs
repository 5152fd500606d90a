//! The request bodies and query of the board routes, and their parsing into domain types
//! (every invalid field reported at once).

use picture_domain::board::{BoardDescription, BoardName, CanvasDimension, ThumbnailUrl};
use picture_domain::profile_change::FieldChange;
use picture_domain::validation::Collector;
use picture_domain::{
    BoardChange, BoardDraft, BoardQuery, BoardScope, HexColor, UserId, ValidationErrors,
};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;
use crate::routes::images::number;

/// Most boards one page lists.
pub const MAX_BOARD_PAGE: u32 = 100;

/// `GET /boards` and `GET /boards/public` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct BoardListQuery {
    /// 1-based page (default 1).
    page: Option<String>,
    /// Boards per page, 1 to 100 (default 20).
    limit: Option<String>,
    /// `true` to add every public board to the caller's own (`GET /boards` only).
    include_public: Option<String>,
}

impl BoardListQuery {
    /// The query of `viewer`; `public_only` for `GET /boards/public` (which ignores
    /// `includePublic`).
    pub fn parse(&self, viewer: &UserId, public_only: bool) -> Result<BoardQuery, ApiError> {
        let page = number("page", self.page.as_deref(), 1, u32::MAX);
        let limit = number("limit", self.limit.as_deref(), 20, MAX_BOARD_PAGE);
        let include_public = match self.include_public.as_deref().map(str::trim) {
            _ if public_only => Ok(true),
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err("includePublic must be a boolean value".to_owned()),
        };
        match (page, limit, include_public) {
            (Ok(page), Ok(limit), Ok(include_public)) => Ok(BoardQuery {
                viewer: viewer.clone(),
                scope: match (public_only, include_public) {
                    (true, _) => BoardScope::Public,
                    (false, true) => BoardScope::OwnAndPublic,
                    (false, false) => BoardScope::Own,
                },
                page,
                limit,
            }),
            (page, limit, include_public) => Err(ApiError::Validation(
                [page.err(), limit.err(), include_public.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

/// `POST /boards` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBoardBody {
    /// 1 to 100 characters after trimming.
    name: String,
    /// At most 2000 characters.
    #[serde(default)]
    description: Option<String>,
    /// Whole pixels, 100 to 20000 (default 2000).
    #[serde(default)]
    canvas_width: Option<f64>,
    /// Whole pixels, 100 to 20000 (default 1500).
    #[serde(default)]
    canvas_height: Option<f64>,
    /// `#rrggbb` (default `#ffffff`).
    #[serde(default)]
    background_color: Option<String>,
    /// Default false.
    #[serde(default)]
    is_public: Option<bool>,
}

/// `PATCH /boards/:id` body: each field optional; `description: null` and `thumbnailUrl: null`
/// clear them (null elsewhere leaves the field as it is, as the original did).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBoardBody {
    /// 1 to 100 characters after trimming.
    #[serde(default)]
    name: Option<String>,
    /// At most 2000 characters, or null to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    /// Whole pixels, 100 to 20000.
    #[serde(default)]
    canvas_width: Option<f64>,
    /// Whole pixels, 100 to 20000.
    #[serde(default)]
    canvas_height: Option<f64>,
    /// `#rrggbb`.
    #[serde(default)]
    background_color: Option<String>,
    /// The visibility (the web client's toggle sends only this).
    #[serde(default)]
    is_public: Option<bool>,
    /// An http(s) URL of at most 2048 characters, or null. Another URL than the stored one
    /// deletes the thumbnail this server stored, if any.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    thumbnail_url: Option<Option<String>>,
}

/// `PATCH /boards/:id/visibility` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisibilityBody {
    /// Required.
    pub is_public: bool,
}

/// A field that is present (even as null) becomes `Some`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn dimension(field: &str, raw: Option<f64>) -> Result<Option<CanvasDimension>, ValidationErrors> {
    raw.map(|v| CanvasDimension::parse(field, v)).transpose()
}

fn color(raw: Option<&str>) -> Result<Option<HexColor>, ValidationErrors> {
    raw.map(|c| HexColor::parse_field("backgroundColor", c))
        .transpose()
}

fn change<T>(
    raw: Option<&Option<String>>,
    parse: impl FnOnce(&str) -> Result<T, ValidationErrors>,
) -> Result<FieldChange<T>, ValidationErrors> {
    match raw {
        None => Ok(FieldChange::Keep),
        Some(None) => Ok(FieldChange::Clear),
        Some(Some(value)) => parse(value).map(FieldChange::Set),
    }
}

impl CreateBoardBody {
    /// The draft it sends.
    pub fn parse(&self) -> Result<BoardDraft, ValidationErrors> {
        let name = BoardName::parse(&self.name);
        let description = self
            .description
            .as_deref()
            .map(BoardDescription::parse)
            .transpose();
        let width = dimension("canvasWidth", self.canvas_width);
        let height = dimension("canvasHeight", self.canvas_height);
        let background = color(self.background_color.as_deref());
        Collector::default()
            .note(&name)
            .note(&description)
            .note(&width)
            .note(&height)
            .note(&background)
            .finish()?;
        Ok(BoardDraft {
            name: Some(name?),
            description: description?,
            canvas_width: width?,
            canvas_height: height?,
            background_color: background?,
            is_public: self.is_public,
        })
    }
}

impl UpdateBoardBody {
    /// The change it sends.
    pub fn parse(&self) -> Result<BoardChange, ValidationErrors> {
        let name = self.name.as_deref().map(BoardName::parse).transpose();
        let description = change(self.description.as_ref(), BoardDescription::parse);
        let width = dimension("canvasWidth", self.canvas_width);
        let height = dimension("canvasHeight", self.canvas_height);
        let background = color(self.background_color.as_deref());
        let thumbnail = change(self.thumbnail_url.as_ref(), ThumbnailUrl::parse);
        Collector::default()
            .note(&name)
            .note(&description)
            .note(&width)
            .note(&height)
            .note(&background)
            .note(&thumbnail)
            .finish()?;
        Ok(BoardChange {
            name: name?,
            description: description?,
            canvas_width: width?,
            canvas_height: height?,
            background_color: background?,
            is_public: self.is_public,
            thumbnail_url: thumbnail?,
        })
    }
}
