//! The credits service's JSON bodies, as it sends and expects them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET …/balance/:userId` (the first call answers the whole new row; extra fields ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BalanceBody {
    #[serde(default)]
    pub balance: i64,
    #[serde(default)]
    pub total_earned: i64,
    #[serde(default)]
    pub total_spent: i64,
}

/// `POST …/use`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UseBody<'a> {
    pub user_id: &'a str,
    pub amount: i64,
    pub app_id: &'a str,
    pub description: String,
    pub idempotency_key: String,
    pub metadata: Value,
}

/// `POST …/refund`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundBody<'a> {
    pub user_id: &'a str,
    pub amount: i64,
    pub description: String,
    pub app_id: &'a str,
    pub metadata: Value,
}

/// An error body: `{statusCode, message, details?}`; a 402 carries `details.available`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub details: Option<ErrorDetails>,
}

/// The details of a 402.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorDetails {
    #[serde(default)]
    pub available: Option<i64>,
}
