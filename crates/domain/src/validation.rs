//! The error every parse-don't-validate constructor returns: a list of human-readable messages.
//!
//! Messages follow the wording the existing clients already display (NestJS `class-validator`
//! style, e.g. `"width must not be less than 256"`), and several problems are reported at once.

use std::fmt;

/// One or more reasons an input was rejected. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(Vec<String>);

impl ValidationErrors {
    /// A single reason.
    pub fn single(message: impl Into<String>) -> Self {
        Self(vec![message.into()])
    }

    /// The reasons, in the order they were found.
    pub fn messages(&self) -> &[String] {
        &self.0
    }

    /// Consumes the error into its messages.
    pub fn into_messages(self) -> Vec<String> {
        self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Collects the messages of several fallible parses so all of them are reported together.
#[derive(Debug, Default)]
pub struct Collector(Vec<String>);

impl Collector {
    /// Records the error of `result`, if any; the caller keeps the result.
    pub fn note<T>(&mut self, result: &Result<T, ValidationErrors>) -> &mut Self {
        if let Err(errors) = result {
            self.0.extend(errors.messages().iter().cloned());
        }
        self
    }

    /// `Ok(())` when nothing was recorded.
    ///
    /// # Errors
    /// Every recorded message, in order.
    pub fn finish(&self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.0.clone()))
        }
    }
}
