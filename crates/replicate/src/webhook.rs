//! Standard Webhooks signature verification (Replicate's webhooks): the signed content is
//! `{webhook-id}.{webhook-timestamp}.{raw body}`, HMAC-SHA256 with the base64 secret after
//! `whsec_`, compared in constant time against every `v1,` entry of `webhook-signature`; the
//! timestamp must be within ±5 minutes.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Largest accepted distance between the webhook's timestamp and now, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// The three signature headers of a webhook delivery.
#[derive(Debug, Clone, Copy)]
pub struct WebhookHeaders<'a> {
    /// `webhook-id`: unique per message, the same across retries.
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `version,base64` entries.
    pub signature: &'a str,
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The configured secret is empty or not base64.
    #[error("the webhook secret is not a valid whsec_ secret")]
    InvalidSecret,
    /// A header is missing or empty.
    #[error("missing webhook signature headers")]
    MissingHeader,
    /// `webhook-timestamp` is not an integer.
    #[error("invalid webhook timestamp")]
    InvalidTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECS`] away from now.
    #[error("webhook timestamp outside the allowed window")]
    TimestampOutOfRange,
    /// No `v1` signature matches.
    #[error("no matching webhook signature")]
    NoMatchingSignature,
}

/// Verifies (and, for tests and fakes, signs) webhooks with one secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    key: Vec<u8>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookVerifier([redacted])")
    }
}

impl WebhookVerifier {
    /// A verifier for `secret` (`whsec_<base64>`; the prefix is optional).
    ///
    /// # Errors
    /// [`WebhookError::InvalidSecret`] when the secret is empty or not base64.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        let encoded = secret.trim();
        let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::InvalidSecret)?;
        if key.is_empty() {
            return Err(WebhookError::InvalidSecret);
        }
        Ok(Self { key })
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value for a message: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self
            .mac(id, &timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Checks a delivery received at `now` (Unix seconds) with the raw `body`.
    ///
    /// # Errors
    /// [`WebhookError::MissingHeader`], [`WebhookError::InvalidTimestamp`],
    /// [`WebhookError::TimestampOutOfRange`] or [`WebhookError::NoMatchingSignature`].
    pub fn verify(
        &self,
        headers: &WebhookHeaders<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        let (id, timestamp, signature) = (
            headers.id.trim(),
            headers.timestamp.trim(),
            headers.signature.trim(),
        );
        if id.is_empty() || timestamp.is_empty() || signature.is_empty() {
            return Err(WebhookError::MissingHeader);
        }
        let sent: i64 = timestamp
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp)?;
        if now.saturating_sub(sent) > TOLERANCE_SECS || sent.saturating_sub(now) > TOLERANCE_SECS {
            return Err(WebhookError::TimestampOutOfRange);
        }
        let mac = self.mac(id, timestamp, body);
        let matches = signature
            .split_whitespace()
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
            .any(|candidate| mac.clone().verify_slice(&candidate).is_ok());
        if matches {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const V1_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const V1_TS: i64 = 1_614_265_330;
    const V1_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const V1_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    const V2_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const V2_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const V2_TS: i64 = 1_649_367_553;
    const V2_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const V2_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> WebhookHeaders<'a> {
        WebhookHeaders {
            id,
            timestamp: ts,
            signature: sig,
        }
    }

    #[test]
    fn published_vectors_sign_and_verify() {
        let v1 = WebhookVerifier::new(V1_SECRET).unwrap();
        assert_eq!(v1.sign(V1_ID, V1_TS, V1_BODY), V1_SIG);
        let ts = V1_TS.to_string();
        assert_eq!(
            v1.verify(&headers(V1_ID, &ts, V1_SIG), V1_BODY, V1_TS),
            Ok(())
        );
        // The prefix is optional.
        let bare = WebhookVerifier::new(V1_SECRET.trim_start_matches("whsec_")).unwrap();
        assert_eq!(bare.sign(V1_ID, V1_TS, V1_BODY), V1_SIG);

        let v2 = WebhookVerifier::new(V2_SECRET).unwrap();
        assert_eq!(v2.sign(V2_ID, V2_TS, V2_BODY), V2_SIG);
    }

    #[test]
    fn a_wrong_signature_and_tampered_bodies_fail() {
        let v2 = WebhookVerifier::new(V2_SECRET).unwrap();
        let now = 1_700_000_000;
        let ts = now.to_string();
        let wrong = "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=";
        assert_eq!(
            v2.verify(&headers(V2_ID, &ts, wrong), V2_BODY, now),
            Err(WebhookError::NoMatchingSignature)
        );
        let valid = v2.sign(V2_ID, now, V2_BODY);
        assert_eq!(
            v2.verify(&headers(V2_ID, &ts, &valid), V2_BODY, now),
            Ok(())
        );
        let tampered = br#"{"email":"evil@example.com","username":"test_user"}"#;
        assert!(
            v2.verify(&headers(V2_ID, &ts, &valid), tampered, now)
                .is_err()
        );
        assert!(
            v2.verify(&headers("msg_other", &ts, &valid), V2_BODY, now)
                .is_err()
        );
        let other_secret = WebhookVerifier::new(V1_SECRET).unwrap();
        assert!(
            other_secret
                .verify(&headers(V2_ID, &ts, &valid), V2_BODY, now)
                .is_err()
        );
    }

    #[test]
    fn any_matching_v1_entry_passes() {
        let v2 = WebhookVerifier::new(V2_SECRET).unwrap();
        let now = 1_700_000_000;
        let ts = now.to_string();
        let valid = v2.sign(V2_ID, now, V2_BODY);
        let others = "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=";
        let last = "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=";
        let with_valid = format!("{others} {valid} {last}");
        assert_eq!(
            v2.verify(&headers(V2_ID, &ts, &with_valid), V2_BODY, now),
            Ok(())
        );
        let without = format!("{others} {last}");
        assert!(
            v2.verify(&headers(V2_ID, &ts, &without), V2_BODY, now)
                .is_err()
        );
    }

    #[test]
    fn empty_truncated_and_other_version_signatures_fail() {
        let v1 = WebhookVerifier::new(V1_SECRET).unwrap();
        let ts = V1_TS.to_string();
        for signature in [
            "v1,",
            &V1_SIG[..V1_SIG.len() - 4],
            &V1_SIG.replacen("v1,", "v2,", 1),
            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "garbage",
        ] {
            assert!(
                v1.verify(&headers(V1_ID, &ts, signature), V1_BODY, V1_TS)
                    .is_err(),
                "{signature}"
            );
        }
        assert_eq!(
            v1.verify(&headers(V1_ID, &ts, ""), V1_BODY, V1_TS),
            Err(WebhookError::MissingHeader)
        );
        assert_eq!(
            v1.verify(&headers("", &ts, V1_SIG), V1_BODY, V1_TS),
            Err(WebhookError::MissingHeader)
        );
    }

    #[test]
    fn the_window_is_five_minutes_either_way() {
        let v1 = WebhookVerifier::new(V1_SECRET).unwrap();
        let ts = V1_TS.to_string();
        let h = headers(V1_ID, &ts, V1_SIG);
        assert_eq!(v1.verify(&h, V1_BODY, V1_TS + 300), Ok(()));
        assert_eq!(v1.verify(&h, V1_BODY, V1_TS - 300), Ok(()));
        assert_eq!(
            v1.verify(&h, V1_BODY, V1_TS + 301),
            Err(WebhookError::TimestampOutOfRange)
        );
        assert_eq!(
            v1.verify(&h, V1_BODY, V1_TS - 301),
            Err(WebhookError::TimestampOutOfRange)
        );
        assert_eq!(
            v1.verify(&headers(V1_ID, "soon", V1_SIG), V1_BODY, V1_TS),
            Err(WebhookError::InvalidTimestamp)
        );
    }

    #[test]
    fn empty_or_malformed_secrets_are_refused_and_never_printed() {
        assert_eq!(
            WebhookVerifier::new("whsec_").err(),
            Some(WebhookError::InvalidSecret)
        );
        assert_eq!(
            WebhookVerifier::new("").err(),
            Some(WebhookError::InvalidSecret)
        );
        assert_eq!(
            WebhookVerifier::new("whsec_not base64!").err(),
            Some(WebhookError::InvalidSecret)
        );
        let verifier = WebhookVerifier::new(V1_SECRET).unwrap();
        assert!(!format!("{verifier:?}").contains("MfKQ"));
    }
}
