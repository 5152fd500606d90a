//! The access decision for a whole batch: each item decided as a single generation would be
//! ([`decide_access`]), one after the other on the same account, so the free slots go first
//! and every further item holds its own price. The batch is let in only when every item is:
//! a batch that cannot be paid in full is refused as a whole and nothing is taken.

use crate::credits::CreditAmount;
use crate::freemium::FreemiumPolicy;
use crate::money::access::{Access, Funds, Refusal, decide_access};
use crate::money::account::{CreditAccount, Inconsistent};

/// Why a batch was refused: what its paid items need against what the user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShortfall {
    /// The credits the batch's paid items need together (items beyond the free slots × price).
    pub required: CreditAmount,
    /// What the user can spend: the local balance, or the remote balance less what is already
    /// held here.
    pub balance: CreditAmount,
    /// Free generations the user has left (they would have gone to the first items).
    pub free_generations_remaining: u32,
    /// How many items the batch has.
    pub items: u32,
}

/// Why a batch was not created (nothing is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchRefusal {
    /// Not enough credits for every item.
    Insufficient(BatchShortfall),
    /// [`Funds::RemoteNotFetched`] was passed but an item needs the balance: ask the credits
    /// service and decide again.
    BalanceNeeded,
}

/// A batch let in: each item's access, in order, and the account after all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchAccess {
    /// Each item's access, in the batch's order (free slots first).
    pub items: Vec<Access>,
    /// The account after every item's slot or hold.
    pub account: CreditAccount,
}

/// Decides `items` generations of one user at once under `policy`, from their `account` (read
/// in the transaction that writes the result) and the `funds` known for them: each as
/// [`decide_access`] decides a single generation, in order, on the account the previous one
/// left. Refused as a whole when any item is refused.
///
/// # Errors
/// `Ok(Err(BatchRefusal))` when refused; [`Inconsistent`] when the stored account cannot take
/// the change.
pub fn decide_batch_access(
    policy: &FreemiumPolicy,
    account: &CreditAccount,
    funds: Funds,
    items: u32,
) -> Result<Result<BatchAccess, BatchRefusal>, Inconsistent> {
    let mut after = *account;
    let mut decided = Vec::with_capacity(items as usize);
    for _ in 0..items {
        match decide_access(policy, &after, funds)? {
            Ok(access) => {
                after = access.account;
                decided.push(access);
            }
            Err(Refusal::BalanceNeeded) => return Ok(Err(BatchRefusal::BalanceNeeded)),
            Err(Refusal::Insufficient(refusal)) => {
                return Ok(Err(BatchRefusal::Insufficient(shortfall(
                    policy,
                    account,
                    funds,
                    items,
                    refusal.balance,
                )?)));
            }
        }
    }
    Ok(Ok(BatchAccess {
        items: decided,
        account: after,
    }))
}

/// The refusal of a batch of `items` on `account`: the price of every item beyond the free
/// slots the account had before the batch, against the balance it had then.
fn shortfall(
    policy: &FreemiumPolicy,
    account: &CreditAccount,
    funds: Funds,
    items: u32,
    balance_at_refusal: CreditAmount,
) -> Result<BatchShortfall, Inconsistent> {
    let free = policy.free_remaining(account.free_generations_used);
    let paid = i64::from(items.saturating_sub(free));
    let required = policy
        .credits_per_generation()
        .get()
        .checked_mul(paid)
        .and_then(|r| CreditAmount::new(r).ok())
        .ok_or(Inconsistent("the price of a batch overflows"))?;
    let balance = match funds {
        Funds::Local => account.credits.balance,
        Funds::Remote(remote) => remote
            .checked_sub(account.held)
            .unwrap_or(CreditAmount::ZERO),
        Funds::RemoteNotFetched | Funds::RemoteUnavailable => balance_at_refusal,
    };
    Ok(BatchShortfall {
        required,
        balance,
        free_generations_remaining: free,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freemium::{AccessDecision, Enforcement};
    use crate::money::Billing;
    use crate::ports::CreditBalance;

    fn credits(n: i64) -> CreditAmount {
        CreditAmount::new(n).unwrap()
    }

    fn account(free_used: u32, balance: i64) -> CreditAccount {
        CreditAccount {
            credits: CreditBalance {
                balance: credits(balance),
                total_earned: credits(balance),
                total_spent: CreditAmount::ZERO,
            },
            held: CreditAmount::ZERO,
            free_generations_used: free_used,
        }
    }

    fn policy(enforcement: Enforcement) -> FreemiumPolicy {
        FreemiumPolicy::new(3, credits(10), enforcement)
    }

    #[test]
    fn free_slots_go_first_then_each_item_holds_its_price() {
        let p = policy(Enforcement::Enforce);
        let access = decide_batch_access(&p, &account(1, 30), Funds::Local, 5)
            .unwrap()
            .unwrap();
        let billing: Vec<Billing> = access.items.iter().map(|a| a.billing).collect();
        assert_eq!(
            billing,
            [
                Billing::Free,
                Billing::Free,
                Billing::Paid,
                Billing::Paid,
                Billing::Paid
            ]
        );
        assert_eq!(access.account.free_generations_used, 3);
        assert_eq!(access.account.credits.balance, credits(0));
        assert_eq!(access.account.held, credits(30));
        assert!(matches!(
            access.items[4].decision,
            AccessDecision::Paid { amount } if amount == credits(10)
        ));
    }

    #[test]
    fn a_batch_that_cannot_be_paid_in_full_is_refused_with_what_it_needs() {
        // 6 items, 3 free slots left, 20 credits: the 3 paid items need 30.
        let p = policy(Enforcement::Enforce);
        let refused = decide_batch_access(&p, &account(0, 20), Funds::Local, 6).unwrap();
        assert_eq!(
            refused,
            Err(BatchRefusal::Insufficient(BatchShortfall {
                required: credits(30),
                balance: credits(20),
                free_generations_remaining: 3,
                items: 6,
            }))
        );
    }

    #[test]
    fn remote_funds_count_what_is_already_held_here() {
        let p = policy(Enforcement::Enforce);
        let mut held = account(3, 0);
        held.held = credits(20);
        let refused = decide_batch_access(&p, &held, Funds::Remote(credits(40)), 3).unwrap();
        assert_eq!(
            refused,
            Err(BatchRefusal::Insufficient(BatchShortfall {
                required: credits(30),
                balance: credits(20),
                free_generations_remaining: 0,
                items: 3,
            }))
        );
        let let_in = decide_batch_access(&p, &held, Funds::Remote(credits(50)), 3)
            .unwrap()
            .unwrap();
        assert_eq!(let_in.account.held, credits(50));
    }

    #[test]
    fn an_unfetched_remote_balance_is_asked_for_only_when_an_item_is_paid() {
        let p = policy(Enforcement::Enforce);
        assert!(
            decide_batch_access(&p, &account(0, 0), Funds::RemoteNotFetched, 3)
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            decide_batch_access(&p, &account(0, 0), Funds::RemoteNotFetched, 4).unwrap(),
            Err(BatchRefusal::BalanceNeeded)
        );
    }

    #[test]
    fn without_enforcement_nothing_is_refused_and_nothing_held() {
        let p = policy(Enforcement::Off);
        let access = decide_batch_access(&p, &account(0, 0), Funds::Local, 50)
            .unwrap()
            .unwrap();
        assert_eq!(access.account.held, CreditAmount::ZERO);
        assert_eq!(access.account.free_generations_used, 3);
        assert_eq!(access.items[49].billing, Billing::Unbilled);
    }
}
