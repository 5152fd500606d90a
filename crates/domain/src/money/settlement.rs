//! Settling a generation's money when it ends: the hold captured or released, the free slot
//! given back.

use crate::credits::CreditAmount;
use crate::money::account::{CreditAccount, Entry, Inconsistent, Movement, minus, plus};
use crate::money::names::{Billing, EntryKind, Ledger, MoneyOp};

/// How a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its image is stored.
    Completed,
    /// It failed or was cancelled.
    Ended,
}

/// A generation's hold, as its ledger entries show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hold {
    /// The amount its `reserve` entry held, if it has one.
    pub reserved: Option<CreditAmount>,
    /// Whether a `capture` or `release` entry settled it already.
    pub settled: bool,
}

impl Hold {
    /// The hold shown by a generation's ledger entries.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Self {
        entries
            .into_iter()
            .fold(Self::default(), |hold, entry| match entry.kind {
                EntryKind::Reserve => Self {
                    reserved: Some(entry.amount),
                    ..hold
                },
                EntryKind::Capture | EntryKind::Release => Self {
                    settled: true,
                    ..hold
                },
                EntryKind::Grant => hold,
            })
    }
}

/// What settling a generation writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The account after.
    pub account: CreditAccount,
    /// The `capture` or `release` entry, at most one of them, once per generation.
    pub entry: Option<Entry>,
    /// The generation's `credits_used` (a local capture).
    pub credits_used: Option<CreditAmount>,
    /// The charge now owed to the remote credits service (a remote capture).
    pub due_charge: Option<CreditAmount>,
    /// What to log and count.
    pub movement: Option<Movement>,
}

/// Settles the money of a generation paid by `billing` on `ledger` that ended with `outcome`,
/// given its `hold` and its owner's `account` (read in the transaction that ends it):
///
/// | billing | outcome | ledger | change |
/// |---|---|---|---|
/// | paid, hold not settled | completed | local | `held − amount`, spent `+ amount`, `credits_used = amount`; a `capture` entry |
/// | paid, hold not settled | completed | remote | `held − amount`, a charge due to the service; a `capture` entry |
/// | paid, hold not settled | ended | local | `balance + amount`, `held − amount`; a `release` entry |
/// | paid, hold not settled | ended | remote | `held − amount`; a `release` entry |
/// | free | ended | any | `free_generations_used − 1`, never below 0 |
/// | anything else | | | nothing |
///
/// # Errors
/// [`Inconsistent`] when the account cannot take the change (less held than the hold).
pub fn settle(
    billing: Billing,
    ledger: Ledger,
    outcome: Outcome,
    hold: Hold,
    account: &CreditAccount,
) -> Result<Settlement, Inconsistent> {
    let mut settlement = Settlement {
        account: *account,
        entry: None,
        credits_used: None,
        due_charge: None,
        movement: None,
    };
    match (billing, outcome, hold) {
        (
            Billing::Paid,
            _,
            Hold {
                reserved: Some(amount),
                settled: false,
            },
        ) => {
            let after = &mut settlement.account;
            after.held = minus(account.held, amount, "settling more than is held")?;
            let (kind, op) = match (outcome, ledger) {
                (Outcome::Completed, Ledger::Local) => {
                    after.credits.total_spent =
                        plus(account.credits.total_spent, amount, "spent overflows")?;
                    settlement.credits_used = Some(amount);
                    (EntryKind::Capture, MoneyOp::Capture)
                }
                (Outcome::Completed, Ledger::Remote) => {
                    settlement.due_charge = Some(amount);
                    (EntryKind::Capture, MoneyOp::Capture)
                }
                (Outcome::Ended, Ledger::Local) => {
                    after.credits.balance =
                        plus(account.credits.balance, amount, "balance overflows")?;
                    (EntryKind::Release, MoneyOp::Release)
                }
                (Outcome::Ended, Ledger::Remote) => (EntryKind::Release, MoneyOp::Release),
            };
            settlement.entry = Some(Entry { kind, amount });
            settlement.movement = Some(Movement { op, amount });
        }
        (Billing::Free, Outcome::Ended, _) if account.free_generations_used > 0 => {
            settlement.account.free_generations_used = account.free_generations_used - 1;
            settlement.movement = Some(Movement::of(MoneyOp::FreeSlotReturned));
        }
        _ => {}
    }
    Ok(settlement)
}
