//! One configuration variable.

use std::fmt;

/// A configuration variable, named as operators set it in the environment (`PORT`). Declare
/// variables with [`declare!`](crate::declare), which also lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Var {
    name: &'static str,
}

impl Var {
    /// The variable called `name`.
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// Its name, as set in the environment.
    pub const fn name(self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
