//! A user's account as stored here, and the entries and movements a money rule produces.

use crate::credits::CreditAmount;
use crate::money::names::{EntryKind, MoneyOp};
use crate::ports::CreditBalance;

/// A user's account as stored here: the free-tier counter, the credits held for generations
/// in flight, and — with the local ledger — the balance itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreditAccount {
    /// The local ledger's spendable balance, earned and spent credits (holds already
    /// deducted from `balance`). Zero when the remote credits service keeps the money.
    pub credits: CreditBalance,
    /// Credits held for paid generations in flight.
    pub held: CreditAmount,
    /// Free generations taken (given back when one fails or is cancelled).
    pub free_generations_used: u32,
}

/// An append-only ledger entry to write (`credit_entries`), at most once per
/// [`EntryKind::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What it records.
    pub kind: EntryKind,
    /// How many credits.
    pub amount: CreditAmount,
}

/// Money that moved, to log and count once its transaction committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement {
    /// What happened.
    pub op: MoneyOp,
    /// Credits moved (0 for free-slot and unbilled operations).
    pub amount: CreditAmount,
}

impl Movement {
    /// `op` moving no credits.
    pub(crate) fn of(op: MoneyOp) -> Self {
        Self {
            op,
            amount: CreditAmount::ZERO,
        }
    }
}

/// A money rule met stored values it cannot apply to: the books are already wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent account: {0}")]
pub struct Inconsistent(pub &'static str);

/// `a + b`, or [`Inconsistent`] on overflow.
pub(crate) fn plus(
    a: CreditAmount,
    b: CreditAmount,
    what: &'static str,
) -> Result<CreditAmount, Inconsistent> {
    a.checked_add(b).ok_or(Inconsistent(what))
}

/// `a - b`, or [`Inconsistent`] when it would go below zero.
pub(crate) fn minus(
    a: CreditAmount,
    b: CreditAmount,
    what: &'static str,
) -> Result<CreditAmount, Inconsistent> {
    a.checked_sub(b).ok_or(Inconsistent(what))
}
