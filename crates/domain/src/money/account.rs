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

/// A change to an account's stored figures: each field is added to its figure. Persistence
/// applies it as one statement guarded by [`admits`](Self::admits), without reading the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountDelta {
    /// Added to the spendable balance.
    pub balance: i64,
    /// Added to the credits held.
    pub held: i64,
    /// Added to the credits earned.
    pub total_earned: i64,
    /// Added to the credits spent.
    pub total_spent: i64,
    /// Added to the free generations used.
    pub free_generations_used: i32,
}

/// The stored values of one figure that a change of `delta` admits: those that stay within
/// `0..=max` after it (so a stored negative value, which is corrupt, is never admitted).
fn admitted(delta: i64, max: i64) -> (i64, i64) {
    if delta >= 0 {
        (0, max.saturating_sub(delta))
    } else {
        (delta.saturating_neg(), max)
    }
}

impl AccountDelta {
    /// Per figure — balance, held, total earned, total spent, free generations used, in this
    /// order — the inclusive range of stored values this change admits: every figure stays
    /// within `0..=i64::MAX` (`0..=i32::MAX` for the free-generation count, as stored) after it.
    /// The guard of the statement that applies it, and of [`apply`](Self::apply).
    pub fn admits(&self) -> [(i64, i64); 5] {
        [
            admitted(self.balance, i64::MAX),
            admitted(self.held, i64::MAX),
            admitted(self.total_earned, i64::MAX),
            admitted(self.total_spent, i64::MAX),
            admitted(i64::from(self.free_generations_used), i64::from(i32::MAX)),
        ]
    }

    /// `account` after this change, or `None` when the account does not admit it (a figure
    /// would leave its range, see [`admits`](Self::admits)).
    pub fn apply(&self, account: &CreditAccount) -> Option<CreditAccount> {
        let figures = [
            account.credits.balance.get(),
            account.held.get(),
            account.credits.total_earned.get(),
            account.credits.total_spent.get(),
            i64::from(account.free_generations_used),
        ];
        let ranges = self.admits();
        if figures
            .iter()
            .zip(ranges)
            .any(|(figure, (low, high))| !(low..=high).contains(figure))
        {
            return None;
        }
        let moved = |figure: CreditAmount, delta: i64| {
            CreditAmount::new(figure.get().checked_add(delta)?).ok()
        };
        Some(CreditAccount {
            credits: CreditBalance {
                balance: moved(account.credits.balance, self.balance)?,
                total_earned: moved(account.credits.total_earned, self.total_earned)?,
                total_spent: moved(account.credits.total_spent, self.total_spent)?,
            },
            held: moved(account.held, self.held)?,
            free_generations_used: account
                .free_generations_used
                .checked_add_signed(self.free_generations_used)?,
        })
    }
}

/// What an [`AccountChange`] the account does not admit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    /// The books are wrong: an error, and the transaction rolls back.
    Inconsistent(Inconsistent),
    /// The rule does not apply (a free slot is never given back below zero): nothing changes
    /// and nothing moved.
    NoChange,
}

/// A change a rule makes to an account, and what it means when the account does not admit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountChange {
    /// The change.
    pub delta: AccountDelta,
    /// When the account does not admit it.
    pub shortfall: Shortfall,
}

impl AccountChange {
    /// `account` after this change: `Ok(None)` when it does not admit it and the rule then
    /// does nothing.
    ///
    /// # Errors
    /// [`Inconsistent`] when it does not admit it and that means the books are wrong.
    pub fn apply(&self, account: &CreditAccount) -> Result<Option<CreditAccount>, Inconsistent> {
        match (self.delta.apply(account), self.shortfall) {
            (Some(after), _) => Ok(Some(after)),
            (None, Shortfall::NoChange) => Ok(None),
            (None, Shortfall::Inconsistent(error)) => Err(error),
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
