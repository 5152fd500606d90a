//! [`ProviderName`]: which image provider serves a model and ran a generation.

use std::borrow::Cow;
use std::fmt;

/// The name a provider is registered under (`replicate`, `openai`, `offline`, …), stored with
/// each model and each generation so that submit, status, cancel and webhooks reach the
/// provider that runs it. Lower-case ASCII letters, digits, `-` and `_`, 1 to 32 characters.
/// A new provider needs no change here: its adapter crate declares its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(Cow<'static, str>);

/// A provider name that breaks [`ProviderName`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid provider name {0:?}: expected 1-32 of a-z, 0-9, '-', '_'")]
pub struct InvalidProviderName(pub String);

impl ProviderName {
    /// Replicate.
    pub const REPLICATE: Self = Self(Cow::Borrowed("replicate"));
    /// The offline renderer of this server (not AI).
    pub const OFFLINE: Self = Self(Cow::Borrowed("offline"));

    /// A name known at compile time, for adapter crates' constants.
    ///
    /// # Panics
    /// At compile time (in a `const`) or at once otherwise, when `name` breaks the rules.
    pub const fn from_static(name: &'static str) -> Self {
        assert!(Self::valid(name.as_bytes()), "invalid provider name");
        Self(Cow::Borrowed(name))
    }

    /// A name as stored or configured.
    ///
    /// # Errors
    /// [`InvalidProviderName`] when it breaks the rules.
    pub fn parse(name: impl Into<String>) -> Result<Self, InvalidProviderName> {
        let name = name.into();
        if Self::valid(name.as_bytes()) {
            Ok(Self(Cow::Owned(name)))
        } else {
            Err(InvalidProviderName(name))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    const fn valid(bytes: &[u8]) -> bool {
        if bytes.is_empty() || bytes.len() > 32 {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
                return false;
            }
            i += 1;
        }
        true
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        assert_eq!(ProviderName::parse("openai").unwrap().as_str(), "openai");
        assert_eq!(
            ProviderName::parse("fal-ai_2").unwrap().as_str(),
            "fal-ai_2"
        );
        for bad in ["", "OpenAI", "open ai", "a/b", &"x".repeat(33)] {
            assert!(ProviderName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ProviderName::REPLICATE,
            ProviderName::parse("replicate").unwrap()
        );
    }
}
