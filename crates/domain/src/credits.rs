//! Credit amounts: never negative, arithmetic that cannot overflow silently.

use std::fmt;

use crate::validation::ValidationErrors;

/// A non-negative number of credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CreditAmount(i64);

impl CreditAmount {
    /// No credits.
    pub const ZERO: Self = Self(0);

    /// Parses an amount.
    ///
    /// # Errors
    /// A [`ValidationErrors`] when `value` is negative.
    pub fn new(value: i64) -> Result<Self, ValidationErrors> {
        if value < 0 {
            return Err(ValidationErrors::single("amount must not be less than 0"));
        }
        Ok(Self(value))
    }

    /// The amount.
    pub fn get(self) -> i64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self - other`, or `None` when it would go below zero.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).filter(|v| *v >= 0).map(Self)
    }
}

impl fmt::Display for CreditAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_never_negative() {
        assert!(CreditAmount::new(-1).is_err());
        let ten = CreditAmount::new(10).unwrap();
        let five = CreditAmount::new(5).unwrap();
        assert_eq!(ten.checked_sub(five), Some(five));
        assert_eq!(five.checked_sub(ten), None);
        assert_eq!(CreditAmount::new(i64::MAX).unwrap().checked_add(five), None);
    }
}
