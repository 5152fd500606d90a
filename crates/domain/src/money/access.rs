//! The access decision: what a new generation costs, and what taking it changes on the account.

use crate::credits::CreditAmount;
use crate::freemium::{AccessDecision, FreemiumPolicy, InsufficientCredits};
use crate::money::account::{CreditAccount, Entry, Inconsistent, Movement, minus, plus};
use crate::money::names::{Billing, EntryKind, Ledger, MoneyOp};

/// Where the credits of a paid generation come from, as known when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funds {
    /// The local ledger: the balance is read, and the price held, inside the transaction.
    Local,
    /// The remote credits service, which reported `balance` just before. Credits held locally
    /// for the user's paid generations in flight are subtracted from it, so concurrent
    /// requests cannot spend the same remote credits twice; the price is held locally and
    /// charged to the service after success.
    Remote(CreditAmount),
    /// The remote credits service, not asked (the user seemed to have a free slot, or credits
    /// are not enforced). If the decision needs a balance after all, the decision is
    /// [`Refusal::BalanceNeeded`] and nothing is written.
    RemoteNotFetched,
    /// The remote credits service could not be reached and fail-open is configured: a
    /// generation that would be paid is recorded as unbilled.
    RemoteUnavailable,
}

impl Funds {
    /// The ledger a generation decided with these funds is kept on.
    pub fn ledger(self) -> Ledger {
        match self {
            Self::Local => Ledger::Local,
            Self::Remote(_) | Self::RemoteNotFetched | Self::RemoteUnavailable => Ledger::Remote,
        }
    }
}

/// Why a generation was not created (nothing is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The policy refused: no free slot and not enough credits.
    Insufficient(InsufficientCredits),
    /// [`Funds::RemoteNotFetched`] was passed but the decision needs the balance: ask the
    /// credits service and decide again.
    BalanceNeeded,
}

/// A generation let in: how it is paid, and everything taking it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The decision.
    pub decision: AccessDecision,
    /// How the generation is paid for (stored with it).
    pub billing: Billing,
    /// Where its credits are kept (stored with it).
    pub ledger: Ledger,
    /// The account after: a free slot taken, or the price held.
    pub account: CreditAccount,
    /// The `reserve` entry of a paid generation.
    pub entry: Option<Entry>,
    /// What to log and count.
    pub movement: Movement,
    /// Free generations left after this one.
    pub free_generations_remaining: u32,
    /// The local balance after the hold ([`Ledger::Local`] only).
    pub balance_after: Option<CreditAmount>,
}

/// Decides a user's next generation under `policy`, from their `account` (read in the same
/// transaction that will write the result) and the `funds` known for it.
///
/// - A free slot left: it is taken (`free_generations_used + 1`), whatever the funds.
/// - No free slot, credits not enforced: unbilled, nothing changes.
/// - No free slot, enforced: the price is needed. Local funds: the balance must cover it, and
///   it moves from the balance to `held`. Remote funds: the remote balance minus what is
///   already held here must cover it, and it is added to `held`. Remote balance not fetched:
///   [`Refusal::BalanceNeeded`]. Remote service unreachable (fail-open): unbilled.
///
/// # Errors
/// `Ok(Err(Refusal))` when the generation is refused; [`Inconsistent`] when the stored account
/// cannot take the change (an amount would overflow).
pub fn decide_access(
    policy: &FreemiumPolicy,
    account: &CreditAccount,
    funds: Funds,
) -> Result<Result<Access, Refusal>, Inconsistent> {
    let used = account.free_generations_used;
    let ledger = funds.ledger();
    let available = match funds {
        Funds::Local => account.credits.balance,
        Funds::Remote(remote) => remote
            .checked_sub(account.held)
            .unwrap_or(CreditAmount::ZERO),
        Funds::RemoteNotFetched | Funds::RemoteUnavailable => CreditAmount::ZERO,
    };
    let decision = match (policy.needs_balance(used), funds) {
        (true, Funds::RemoteNotFetched) => return Ok(Err(Refusal::BalanceNeeded)),
        (true, Funds::RemoteUnavailable) => AccessDecision::Unbilled,
        _ => match policy.decide(used, available) {
            Ok(decision) => decision,
            Err(refusal) => return Ok(Err(Refusal::Insufficient(refusal))),
        },
    };
    let mut after = *account;
    let (billing, entry, movement) = match decision {
        AccessDecision::Free { .. } => {
            after.free_generations_used = used
                .checked_add(1)
                .ok_or(Inconsistent("free generations used overflows"))?;
            (Billing::Free, None, Movement::of(MoneyOp::FreeSlotTaken))
        }
        AccessDecision::Paid { amount } => {
            after.held = plus(account.held, amount, "held overflows")?;
            if ledger == Ledger::Local {
                after.credits.balance =
                    minus(account.credits.balance, amount, "hold above the balance")?;
            }
            let entry = Entry {
                kind: EntryKind::Reserve,
                amount,
            };
            let movement = Movement {
                op: MoneyOp::Reserve,
                amount,
            };
            (Billing::Paid, Some(entry), movement)
        }
        AccessDecision::Unbilled => (Billing::Unbilled, None, Movement::of(MoneyOp::Unbilled)),
    };
    Ok(Ok(Access {
        decision,
        billing,
        ledger,
        account: after,
        entry,
        movement,
        free_generations_remaining: policy.free_remaining(after.free_generations_used),
        balance_after: (ledger == Ledger::Local).then_some(after.credits.balance),
    }))
}
