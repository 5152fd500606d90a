//! Charges owed to the remote credits service, and operator grants on the local ledger.

use crate::credits::CreditAmount;
use crate::money::account::{CreditAccount, Entry, Inconsistent, Movement, plus};
use crate::money::names::{ChargeState, EntryKind, MoneyOp};

/// How a due charge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The credits service charged it: the generation's `credits_used` becomes the amount.
    Charged,
    /// The credits service refused (e.g. the user spent the credits elsewhere meanwhile):
    /// nothing was charged, `credits_used` stays 0.
    Refused {
        /// Why, for the operators.
        reason: String,
    },
}

impl ChargeOutcome {
    /// The state a due charge moves to with this outcome.
    pub fn state(&self) -> ChargeState {
        match self {
            Self::Charged => ChargeState::Charged,
            Self::Refused { .. } => ChargeState::Refused,
        }
    }
}

/// What recording a due charge's outcome writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeRecord {
    /// The charge's new state (it was [`ChargeState::Due`]).
    pub state: ChargeState,
    /// The generation's `credits_used`, when it was charged.
    pub credits_used: Option<CreditAmount>,
    /// What to log and count.
    pub movement: Movement,
}

/// Records that the charge of `amount` ended with `outcome`: charged, the generation used
/// `amount` credits; refused, it stays unpaid (0).
pub fn record_charge(outcome: &ChargeOutcome, amount: CreditAmount) -> ChargeRecord {
    match outcome {
        ChargeOutcome::Charged => ChargeRecord {
            state: ChargeState::Charged,
            credits_used: Some(amount),
            movement: Movement {
                op: MoneyOp::Charge,
                amount,
            },
        },
        ChargeOutcome::Refused { .. } => ChargeRecord {
            state: ChargeState::Refused,
            credits_used: None,
            movement: Movement {
                op: MoneyOp::ChargeRefused,
                amount,
            },
        },
    }
}

/// What applying a grant writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granting {
    /// The account after: `amount` added to the balance and to what was earned.
    pub account: CreditAccount,
    /// The `grant` entry (written first: only a grant whose entry is new is applied).
    pub entry: Entry,
    /// What to log and count.
    pub movement: Movement,
}

/// The `grant` entry for `amount`, written before the account changes.
pub fn grant_entry(amount: CreditAmount) -> Entry {
    Entry {
        kind: EntryKind::Grant,
        amount,
    }
}

/// Grants `amount` credits to `account`: balance and total earned grow by it.
///
/// # Errors
/// [`Inconsistent`] when an amount would overflow.
pub fn grant(account: &CreditAccount, amount: CreditAmount) -> Result<Granting, Inconsistent> {
    let mut after = *account;
    after.credits.balance = plus(account.credits.balance, amount, "balance overflows")?;
    after.credits.total_earned = plus(
        account.credits.total_earned,
        amount,
        "total earned overflows",
    )?;
    Ok(Granting {
        account: after,
        entry: grant_entry(amount),
        movement: Movement {
            op: MoneyOp::Grant,
            amount,
        },
    })
}
