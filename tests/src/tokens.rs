//! Tokens as the auth service (EdDSA, JWKS) or the embedded mode (HS256) would sign them,
//! including the bad ones an attacker would try.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The `JWT_SECRET` test servers run with.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Signs `claims` with HS256 and `secret`.
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing")
}

/// An Ed25519 key of the fake auth service.
pub struct EdKey {
    signing: SigningKey,
    /// Its `kid`.
    pub kid: String,
}

impl EdKey {
    /// A deterministic key from `seed`.
    pub fn new(seed: u8, kid: &str) -> Self {
        Self {
            signing: SigningKey::from_bytes(&[seed; 32]),
            kid: kid.to_owned(),
        }
    }

    /// The public key, base64url, as the JWK's `x`.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_bytes())
    }

    /// Its public JWK.
    pub fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
               "kid": self.kid, "x": self.x()})
    }

    /// Signs `claims` with EdDSA, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        // PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410).
        let mut der = hex_prefix();
        der.extend_from_slice(&self.signing.to_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der))
            .expect("EdDSA signing")
    }
}

fn hex_prefix() -> Vec<u8> {
    vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ]
}
