//! Settling a generation's money when it ends: the hold captured or released, the free slot
//! given back.

use crate::credits::CreditAmount;
use crate::money::account::{
    AccountChange, AccountDelta, Entry, Inconsistent, Movement, Shortfall,
};
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
    /// The change to its owner's account, applied without reading the account: a paid hold's
    /// change is [`Shortfall::Inconsistent`] when the account does not admit it (less held than
    /// the hold); a free slot's return is [`Shortfall::NoChange`] (never below zero).
    pub change: Option<AccountChange>,
    /// The `capture` or `release` entry, at most one of them, once per generation.
    pub entry: Option<Entry>,
    /// The generation's `credits_used` (a local capture).
    pub credits_used: Option<CreditAmount>,
    /// The charge now owed to the remote credits service (a remote capture).
    pub due_charge: Option<CreditAmount>,
    /// What to log and count, once the change applied.
    pub movement: Option<Movement>,
}

/// Whether settling a generation paid by `billing` depends on its [`Hold`] (whether its ledger
/// entries need reading): only a paid generation's does.
pub fn needs_hold(billing: Billing) -> bool {
    billing == Billing::Paid
}

/// Settles the money of a generation paid by `billing` on `ledger` that ended with `outcome`,
/// given its `hold` (read in the transaction that ends it, when [`needs_hold`]):
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
/// A paid change the account does not admit (less held than the hold, an amount overflowing,
/// a stored amount negative) is [`Inconsistent`]: the books are wrong.
pub fn settle(billing: Billing, ledger: Ledger, outcome: Outcome, hold: Hold) -> Settlement {
    let mut settlement = Settlement {
        change: None,
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
            // A `CreditAmount` is never negative, so its negation never overflows.
            let mut delta = AccountDelta {
                held: -amount.get(),
                ..AccountDelta::default()
            };
            let (kind, op) = match (outcome, ledger) {
                (Outcome::Completed, Ledger::Local) => {
                    delta.total_spent = amount.get();
                    settlement.credits_used = Some(amount);
                    (EntryKind::Capture, MoneyOp::Capture)
                }
                (Outcome::Completed, Ledger::Remote) => {
                    settlement.due_charge = Some(amount);
                    (EntryKind::Capture, MoneyOp::Capture)
                }
                (Outcome::Ended, Ledger::Local) => {
                    delta.balance = amount.get();
                    (EntryKind::Release, MoneyOp::Release)
                }
                (Outcome::Ended, Ledger::Remote) => (EntryKind::Release, MoneyOp::Release),
            };
            settlement.change = Some(AccountChange {
                delta,
                shortfall: Shortfall::Inconsistent(Inconsistent(
                    "settling more than is held, or an amount out of range",
                )),
            });
            settlement.entry = Some(Entry { kind, amount });
            settlement.movement = Some(Movement { op, amount });
        }
        (Billing::Free, Outcome::Ended, _) => {
            settlement.change = Some(AccountChange {
                delta: AccountDelta {
                    free_generations_used: -1,
                    ..AccountDelta::default()
                },
                shortfall: Shortfall::NoChange,
            });
            settlement.movement = Some(Movement::of(MoneyOp::FreeSlotReturned));
        }
        _ => {}
    }
    settlement
}
