//! The money model's named values, and their one spelling: the text stored in the database
//! columns (`billing`, `ledger`, `credit_entries.kind`, `remote_charges.state`) and the labels of
//! the `picture_credit_operations_total` metric. Nothing else spells them.

use std::fmt;
use std::str::FromStr;

use crate::validation::ValidationErrors;

/// Declares `$name`'s spelling: `as_str`, `Display`, and `FromStr` (the exact spelling only).
macro_rules! spelled {
    ($name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValidationErrors;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == raw)
                    .ok_or_else(|| ValidationErrors::single(format!(concat!("unknown ", $what, " {:?}"), raw)))
            }
        }
    };
}

/// Where a generation's credits are kept: decided when it is created, from the
/// [`Funds`](crate::money::Funds) it was decided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ledger {
    /// The local ledger in our database: balance, holds and spending all live here.
    Local,
    /// The remote credits service: the balance lives there; holds are kept here and a
    /// completed generation is charged there afterwards.
    Remote,
}

spelled!(Ledger, "ledger", { Local => "local", Remote => "remote" });

/// How a generation is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Billing {
    /// Not decided (rows from before billing existed).
    None,
    /// One of the user's free generations; given back if it fails or is cancelled.
    Free,
    /// Paid with credits held at creation, captured on success, released otherwise.
    Paid,
    /// Allowed without charge (enforcement off, or fail-open while the remote credits
    /// service is unreachable).
    Unbilled,
}

spelled!(Billing, "billing", {
    None => "none",
    Free => "free",
    Paid => "paid",
    Unbilled => "unbilled",
});

impl Billing {
    /// Parses the database spelling.
    ///
    /// # Errors
    /// A [`ValidationErrors`] for an unknown spelling.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        raw.parse()
    }
}

/// The kind of an append-only credit ledger entry (`credit_entries.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Credits added by an operator.
    Grant,
    /// The price held when a paid generation was created.
    Reserve,
    /// The hold spent: the generation completed.
    Capture,
    /// The hold given back: the generation failed or was cancelled.
    Release,
}

spelled!(EntryKind, "ledger entry kind", {
    Grant => "grant",
    Reserve => "reserve",
    Capture => "capture",
    Release => "release",
});

impl EntryKind {
    /// The entry's idempotency key for `subject` (a generation id, or a grant's key): an
    /// entry of one kind is written at most once per subject.
    pub fn key(self, subject: &str) -> String {
        format!("{}:{subject}", self.as_str())
    }
}

/// A money operation that was applied, as logged and counted (the `op` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoneyOp {
    /// A generation's price was held.
    Reserve,
    /// A hold was spent.
    Capture,
    /// A hold was given back.
    Release,
    /// Credits were granted.
    Grant,
    /// A free generation was taken.
    FreeSlotTaken,
    /// A free generation was given back.
    FreeSlotReturned,
    /// A generation runs without charge.
    Unbilled,
    /// The remote credits service charged a completed generation.
    Charge,
    /// The remote credits service refused to charge a completed generation.
    ChargeRefused,
}

spelled!(MoneyOp, "money operation", {
    Reserve => "reserve",
    Capture => "capture",
    Release => "release",
    Grant => "grant",
    FreeSlotTaken => "free_slot_taken",
    FreeSlotReturned => "free_slot_returned",
    Unbilled => "unbilled",
    Charge => "charge",
    ChargeRefused => "charge_refused",
});

/// Where a charge owed to the remote credits service stands (`remote_charges.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeState {
    /// Owed, not yet charged.
    Due,
    /// The service charged it.
    Charged,
    /// The service refused it; the generation stays unpaid.
    Refused,
}

spelled!(ChargeState, "charge state", {
    Due => "due",
    Charged => "charged",
    Refused => "refused",
});
