//! Short-lived stream tokens: browsers' `EventSource` cannot send an `Authorization` header, so
//! a client trades its bearer token for one of these (`POST /generate/events/token`) and puts it
//! in the stream's URL as `?access_token=`. It names the user and an expiry, is signed with
//! HMAC-SHA256 under a key every instance shares, is checked only when a stream opens, and is
//! accepted by the event streams only — never the long-lived token in a URL.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use picture_domain::UserId;
use sha2::Sha256;

/// The version prefix of our tokens.
const PREFIX: &str = "st1";
/// Longest token looked at.
const MAX_TOKEN: usize = 2048;

/// Why a stream token was refused (each a 401; the variants only serve the logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not one of our tokens.
    #[error("malformed stream token")]
    Malformed,
    /// The signature does not match (forged, or another key).
    #[error("stream token signature mismatch")]
    Forged,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
}

/// A token just minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The token, URL-safe.
    pub token: String,
    /// When it stops opening streams.
    pub expires_at: DateTime<Utc>,
}

/// Mints and checks stream tokens under one key.
#[derive(Clone)]
pub struct StreamTokens {
    key: Vec<u8>,
    lifetime: Duration,
}

impl std::fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTokens")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl StreamTokens {
    /// Tokens signed with `key`, each valid for `lifetime`.
    pub fn new(key: impl Into<Vec<u8>>, lifetime: Duration) -> Self {
        Self {
            key: key.into(),
            lifetime,
        }
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(signed.as_bytes());
        mac
    }

    /// A token for `user`, valid from `now` for the configured lifetime.
    pub fn mint(&self, user: &UserId, now: DateTime<Utc>) -> MintedToken {
        let lifetime = chrono::Duration::from_std(self.lifetime).unwrap_or(chrono::Duration::MAX);
        let expires_at = now.checked_add_signed(lifetime).unwrap_or(now);
        let signed = format!(
            "{PREFIX}.{}.{}",
            URL_SAFE_NO_PAD.encode(user.as_str()),
            expires_at.timestamp()
        );
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&signed).finalize().into_bytes());
        MintedToken {
            token: format!("{signed}.{signature}"),
            expires_at,
        }
    }

    /// The user a token speaks for, if it is ours, intact and not expired at `now`.
    ///
    /// # Errors
    /// [`TokenError`] saying why not.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<UserId, TokenError> {
        if token.len() > MAX_TOKEN {
            return Err(TokenError::Malformed);
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = signed.split('.');
        let (Some(PREFIX), Some(user), Some(expiry), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        self.mac(signed)
            .verify_slice(&signature)
            .map_err(|_| TokenError::Forged)?;
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        if now.timestamp() >= expiry {
            return Err(TokenError::Expired);
        }
        let user = URL_SAFE_NO_PAD
            .decode(user)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(TokenError::Malformed)?;
        UserId::parse(user).map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> StreamTokens {
        StreamTokens::new(b"k".repeat(32), Duration::from_secs(60))
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_token_opens_streams_for_its_user_until_it_expires() {
        let user = UserId::parse("user-1").unwrap();
        let minted = tokens().mint(&user, at(0));
        assert_eq!(minted.expires_at, at(60));
        assert_eq!(tokens().verify(&minted.token, at(59)), Ok(user));
        assert_eq!(
            tokens().verify(&minted.token, at(60)),
            Err(TokenError::Expired)
        );
        assert!(!minted.token.contains("user-1"), "the user is encoded");
    }

    #[test]
    fn forged_or_foreign_tokens_are_refused() {
        let user = UserId::parse("user-1").unwrap();
        let minted = tokens().mint(&user, at(0));
        let other_key = StreamTokens::new(b"x".repeat(32), Duration::from_secs(60));
        assert_eq!(
            other_key.verify(&minted.token, at(1)),
            Err(TokenError::Forged)
        );
        // Another user's name with the first token's signature.
        let (_, rest) = minted.token.split_once('.').unwrap();
        let (_, tail) = rest.split_once('.').unwrap();
        let forged = format!("st1.{}.{tail}", URL_SAFE_NO_PAD.encode("admin"));
        assert_eq!(tokens().verify(&forged, at(1)), Err(TokenError::Forged));
        // A later expiry with the first token's signature.
        let parts: Vec<&str> = minted.token.split('.').collect();
        let extended = format!("st1.{}.{}.{}", parts[1], at(9999).timestamp(), parts[3]);
        assert_eq!(tokens().verify(&extended, at(1)), Err(TokenError::Forged));
        for bad in ["", "st1", "a.b.c.d", "st1.x.y.z.w", &"a".repeat(5000)] {
            assert!(tokens().verify(bad, at(1)).is_err(), "{bad}");
        }
    }
}
