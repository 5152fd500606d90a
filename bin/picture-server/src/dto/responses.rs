//! The small answers of the contract (health, credits, counts, likes, …) and the error body, as
//! typed shapes so the OpenAPI document describes them exactly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::GenerationStatusDto;

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// Always `ok`.
    pub status: &'static str,
    /// Always `picture-backend`.
    pub service: &'static str,
    /// Now, ISO-8601 with milliseconds.
    pub timestamp: String,
}

/// `GET /ready`: what was checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyDto {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// Each dependency's state.
    pub checks: ReadyChecks,
}

/// The dependencies `GET /ready` checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyChecks {
    /// `ok` or `unavailable`.
    pub database: &'static str,
}

/// `GET /credits/balance`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditBalanceDto {
    /// Spendable credits.
    pub balance: i64,
    /// Free generations left.
    pub free_generations_remaining: u32,
    /// Free generations per user.
    pub free_generations_limit: u32,
    /// Price of a paid generation.
    pub credits_per_generation: i64,
    /// `off` or `enforce`.
    pub enforcement: &'static str,
}

impl CreditBalanceDto {
    /// What `overview` says under `policy`.
    pub fn new(
        overview: &picture_domain::services::CreditOverview,
        policy: &picture_domain::FreemiumPolicy,
    ) -> Self {
        Self {
            balance: overview.credits.balance.get(),
            free_generations_remaining: overview.free_generations_remaining,
            free_generations_limit: policy.free_generations(),
            credits_per_generation: policy.credits_per_generation().get(),
            enforcement: policy.enforcement().as_str(),
        }
    }
}

/// `GET /generate/credits`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateCreditsDto {
    /// Spendable credits.
    pub balance: i64,
    /// Credits ever granted or bought.
    pub total_earned: i64,
    /// Credits ever spent.
    pub total_spent: i64,
    /// Price of a paid generation.
    pub credits_per_generation: i64,
}

/// `GET /generate/history`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryDto<'a> {
    /// The page, newest first.
    pub data: Vec<GenerationStatusDto<'a>>,
    /// The caller's generations in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Page size.
    pub limit: u32,
    /// Pages in all.
    pub total_pages: u64,
}

/// `POST /admin/credits/grant` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantDto {
    /// Who receives the credits: a user id (no whitespace or control characters).
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$",
        example = "alice"
    )]
    pub user_id: String,
    /// How many (1 to 1000000000).
    #[schema(minimum = 1, maximum = 1_000_000_000, example = 25)]
    pub amount: i64,
    /// Why (recorded in the ledger; not blank).
    #[schema(min_length = 1, max_length = 500, pattern = "\\S", example = "welcome")]
    pub reason: String,
    /// A grant is applied at most once per key (not blank).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = "\\S",
        example = "welcome-alice"
    )]
    pub idempotency_key: String,
}

/// `POST /admin/credits/grant` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantedDto {
    /// Who received the credits.
    pub user_id: String,
    /// How many.
    pub amount: i64,
    /// `false` when the key was used before (nothing changed).
    pub applied: bool,
    /// The balance after.
    pub balance: i64,
    /// Credits ever granted.
    pub total_earned: i64,
    /// Credits ever spent.
    pub total_spent: i64,
}

/// `{count}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountDto {
    /// How many.
    pub count: u64,
}

/// `{affected}` of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedDto {
    /// How many of the caller's images changed.
    pub affected: usize,
}

/// `{liked, likeCount}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LikesDto {
    /// Whether the caller likes the image.
    pub liked: bool,
    /// Likes in all.
    pub like_count: u64,
}

/// `GET /images/generation/:id`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationParamsDto {
    /// Inference steps.
    pub steps: u32,
    /// Guidance scale.
    pub guidance_scale: f64,
    /// How long the provider worked, once known.
    pub generation_time_seconds: Option<i32>,
    /// The generation's status.
    pub status: &'static str,
}

/// The webhook's acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAckDto {
    /// Whether the report concerned a generation of ours.
    pub received: bool,
    /// Present (true) when this delivery was applied before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
}

/// Every error: the NestJS shape plus a stable `code`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDto {
    /// The HTTP status.
    pub status_code: u16,
    /// The status's reason phrase.
    pub error: String,
    /// Stable machine code, e.g. `validation_failed`, `not_found`, `insufficient_credits`.
    pub code: String,
    /// What went wrong: a sentence, or every validation message.
    pub message: ErrorMessage,
    /// 402 only: `{required, balance, freeGenerationsRemaining}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<InsufficientDetails>,
}

/// An error's message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ErrorMessage {
    /// One sentence.
    Text(String),
    /// Validation messages.
    List(Vec<String>),
}

/// The details of a 402.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InsufficientDetails {
    /// The price.
    pub required: i64,
    /// The balance.
    pub balance: i64,
    /// Free generations left (always 0 for a single generation).
    pub free_generations_remaining: u32,
    /// For a batch: how many items it has (`required` is the price of those beyond the free
    /// generations). Absent for a single generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
}
