//! Admin routes, unlocked by `X-Service-Key` = `ADMIN_SERVICE_KEY` (hidden, 404, when unset):
//! `POST /admin/credits/grant`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use picture_domain::ports::Grant;
use picture_domain::services::CreditService;
use picture_domain::{CreditAmount, UserId};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::dto::{ErrorDto, GrantDto, GrantedDto};
use crate::error::ApiError;

/// The admin key, if admin routes are enabled.
#[derive(Clone)]
pub struct AdminKey(pub Option<SecretString>);

/// Largest grant accepted at once.
const MAX_GRANT: i64 = 1_000_000_000;
/// Longest reason and idempotency key accepted.
const MAX_TEXT: usize = 500;

/// Checks the caller's `X-Service-Key` (compared as digests, so timing reveals nothing).
fn authorise(request: &HttpRequest, key: &AdminKey) -> Result<(), ApiError> {
    let Some(expected) = &key.0 else {
        return Err(ApiError::NotFound(
            "Cannot POST /api/v1/admin/credits/grant".into(),
        ));
    };
    let given = request
        .headers()
        .get("x-service-key")
        .ok_or(ApiError::Unauthorized("Missing service key"))?;
    let digest = |bytes: &[u8]| Sha256::digest(bytes);
    if digest(given.as_bytes()) == digest(expected.expose_secret().as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("Invalid service key"))
    }
}

/// The grant body. Unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantBody {
    user_id: Option<Value>,
    amount: Option<Value>,
    reason: Option<Value>,
    idempotency_key: Option<Value>,
}

fn text(value: Option<&Value>, name: &str, errors: &mut Vec<String>) -> Option<String> {
    match value.and_then(Value::as_str).map(str::trim) {
        Some(text) if !text.is_empty() && text.chars().count() <= MAX_TEXT => Some(text.to_owned()),
        _ => {
            errors.push(format!(
                "{name} must be a non-empty string of at most {MAX_TEXT} characters"
            ));
            None
        }
    }
}

impl GrantBody {
    fn parse(&self) -> Result<Grant, ApiError> {
        let mut errors = Vec::new();
        let user = text(self.user_id.as_ref(), "userId", &mut errors).and_then(|id| {
            UserId::parse(id)
                .map_err(|e| errors.extend(e.messages().iter().cloned()))
                .ok()
        });
        let amount = match self.amount.as_ref().and_then(Value::as_i64) {
            Some(n) if (1..=MAX_GRANT).contains(&n) => CreditAmount::new(n).ok(),
            _ => {
                errors.push(format!("amount must be an integer from 1 to {MAX_GRANT}"));
                None
            }
        };
        let reason = text(self.reason.as_ref(), "reason", &mut errors);
        let key = text(self.idempotency_key.as_ref(), "idempotencyKey", &mut errors);
        match (user, amount, reason, key) {
            (Some(user), Some(amount), Some(reason), Some(idempotency_key))
                if errors.is_empty() =>
            {
                Ok(Grant {
                    user,
                    amount,
                    reason,
                    idempotency_key,
                })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Adds credits to a user's local balance, once per idempotency key: 201 when applied, 200
/// when the key was used before (nothing changes).
#[utoipa::path(tag = "admin",
    params(("X-Service-Key" = String, Header, description = "ADMIN_SERVICE_KEY")),
    request_body = GrantDto,
    responses(
        (status = 201, description = "Granted", body = GrantedDto),
        (status = 200, description = "Key used before: nothing changed", body = GrantedDto),
        (status = 400, description = "Invalid input", body = ErrorDto),
        (status = 401, description = "Missing or wrong service key", body = ErrorDto),
        (status = 404, description = "Admin routes are disabled", body = ErrorDto),
        (status = 409, description = "The remote credits service keeps the money", body = ErrorDto)))]
#[post("/admin/credits/grant")]
pub async fn grant(
    request: HttpRequest,
    key: web::Data<AdminKey>,
    body: web::Bytes,
    credits: web::Data<CreditService>,
) -> Result<HttpResponse, ApiError> {
    authorise(&request, &key)?;
    let body: GrantBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::Validation(vec![e.to_string()]))?;
    let grant = body.parse()?;
    let granted = credits.grant(&grant).await?;
    let mut response = if granted.applied {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(GrantedDto {
        user_id: grant.user.as_str().to_owned(),
        amount: grant.amount.get(),
        applied: granted.applied,
        balance: granted.account.credits.balance.get(),
        total_earned: granted.account.credits.total_earned.get(),
        total_spent: granted.account.credits.total_spent.get(),
    }))
}
