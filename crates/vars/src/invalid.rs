//! The error of a value that cannot be used.

use crate::Var;

/// A value that cannot be used: which variable, and why (without the value when it is a
/// secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {variable}: {reason}")]
pub struct InvalidSetting {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl InvalidSetting {
    /// `var`'s value is wrong because of `reason`.
    pub fn new(var: Var, reason: impl Into<String>) -> Self {
        Self {
            variable: var.name(),
            reason: reason.into(),
        }
    }
}
