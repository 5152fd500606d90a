//! The money rules as a specification: tables of situations and what each one writes. No
//! database, no mocks.

use super::*;
use crate::credits::CreditAmount;
use crate::freemium::{AccessDecision, Enforcement, FreemiumPolicy, InsufficientCredits};
use crate::ports::CreditBalance;

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

/// An account with `free` free generations used, `balance` spendable and `held` held.
fn account(free: u32, balance: i64, held: i64) -> CreditAccount {
    CreditAccount {
        credits: CreditBalance {
            balance: credits(balance),
            total_earned: credits(balance + held),
            total_spent: CreditAmount::ZERO,
        },
        held: credits(held),
        free_generations_used: free,
    }
}

fn policy(enforcement: Enforcement) -> FreemiumPolicy {
    FreemiumPolicy::new(3, credits(10), enforcement)
}

/// `(free used, balance, held)` of an account.
fn shape(account: &CreditAccount) -> (u32, i64, i64) {
    (
        account.free_generations_used,
        account.credits.balance.get(),
        account.held.get(),
    )
}

/// `account` after settlement `s` (as the guarded statement applies it): unchanged when it
/// has no change, or its change is not admitted and means nothing.
fn account_after(s: &Settlement, account: &CreditAccount) -> Result<CreditAccount, Inconsistent> {
    match s.change {
        Some(change) => Ok(change.apply(account)?.unwrap_or(*account)),
        None => Ok(*account),
    }
}

fn paid(n: i64) -> AccessDecision {
    AccessDecision::Paid { amount: credits(n) }
}

fn free(remaining_after: u32) -> AccessDecision {
    AccessDecision::Free { remaining_after }
}

#[test]
fn three_free_then_ten_each_on_the_local_ledger() {
    let p = policy(Enforcement::Enforce);
    let mut account = account(0, 25, 0);
    let mut seen = Vec::new();
    for _ in 0..6 {
        match decide_access(&p, &account, Funds::Local).unwrap() {
            Ok(access) => {
                seen.push((access.decision, access.free_generations_remaining));
                account = access.account;
            }
            Err(refusal) => {
                assert_eq!(
                    refusal,
                    Refusal::Insufficient(InsufficientCredits {
                        required: credits(10),
                        balance: credits(5),
                        free_generations_remaining: 0,
                    })
                );
                break;
            }
        }
    }
    assert_eq!(
        seen,
        [
            (free(2), 2),
            (free(1), 1),
            (free(0), 0),
            (paid(10), 0),
            (paid(10), 0)
        ]
    );
    assert_eq!(shape(&account), (3, 5, 20), "two prices held, 5 left");
}

/// Every access decision: (enforcement, account, funds) → (decision, billing, ledger,
/// account after, reserve entry, event, balance after) or the refusal.
#[test]
fn access_decisions() {
    use Enforcement::{Enforce, Off};
    type Expected = Result<
        (
            AccessDecision,
            Billing,
            Ledger,
            (u32, i64, i64),
            Option<i64>,
            MoneyOp,
            Option<i64>,
        ),
        Refusal,
    >;
    let insufficient = |balance| {
        Err(Refusal::Insufficient(InsufficientCredits {
            required: credits(10),
            balance: credits(balance),
            free_generations_remaining: 0,
        }))
    };
    #[rustfmt::skip]
    let cases: Vec<(Enforcement, CreditAccount, Funds, Expected)> = vec![
        // A free slot is taken whatever the funds, and nothing is held.
        (Enforce, account(0, 0, 0), Funds::Local, Ok((free(2), Billing::Free, Ledger::Local, (1, 0, 0), None, MoneyOp::FreeSlotTaken, Some(0)))),
        (Enforce, account(2, 50, 0), Funds::Local, Ok((free(0), Billing::Free, Ledger::Local, (3, 50, 0), None, MoneyOp::FreeSlotTaken, Some(50)))),
        (Enforce, account(1, 0, 0), Funds::RemoteNotFetched, Ok((free(1), Billing::Free, Ledger::Remote, (2, 0, 0), None, MoneyOp::FreeSlotTaken, None))),
        (Off, account(0, 0, 0), Funds::Local, Ok((free(2), Billing::Free, Ledger::Local, (1, 0, 0), None, MoneyOp::FreeSlotTaken, Some(0)))),
        // Local ledger, enforced: the price moves from the balance to what is held.
        (Enforce, account(3, 10, 0), Funds::Local, Ok((paid(10), Billing::Paid, Ledger::Local, (3, 0, 10), Some(10), MoneyOp::Reserve, Some(0)))),
        (Enforce, account(3, 25, 10), Funds::Local, Ok((paid(10), Billing::Paid, Ledger::Local, (3, 15, 20), Some(10), MoneyOp::Reserve, Some(15)))),
        (Enforce, account(3, 9, 0), Funds::Local, insufficient(9)),
        (Enforce, account(3, 0, 30), Funds::Local, insufficient(0)),
        // Remote service, enforced: what is held here counts against the remote balance.
        (Enforce, account(3, 0, 0), Funds::Remote(credits(10)), Ok((paid(10), Billing::Paid, Ledger::Remote, (3, 0, 10), Some(10), MoneyOp::Reserve, None))),
        (Enforce, account(3, 0, 10), Funds::Remote(credits(25)), Ok((paid(10), Billing::Paid, Ledger::Remote, (3, 0, 20), Some(10), MoneyOp::Reserve, None))),
        (Enforce, account(3, 0, 20), Funds::Remote(credits(25)), insufficient(5)),
        (Enforce, account(3, 0, 30), Funds::Remote(credits(25)), insufficient(0)),
        (Enforce, account(3, 0, 0), Funds::RemoteNotFetched, Err(Refusal::BalanceNeeded)),
        // Fail-open: the remote service is unreachable, the generation runs unbilled.
        (Enforce, account(3, 0, 0), Funds::RemoteUnavailable, Ok((AccessDecision::Unbilled, Billing::Unbilled, Ledger::Remote, (3, 0, 0), None, MoneyOp::Unbilled, None))),
        // Enforcement off: never blocked, never charged once the free slots are used.
        (Off, account(3, 0, 0), Funds::Local, Ok((AccessDecision::Unbilled, Billing::Unbilled, Ledger::Local, (3, 0, 0), None, MoneyOp::Unbilled, Some(0)))),
        (Off, account(7, 0, 0), Funds::RemoteNotFetched, Ok((AccessDecision::Unbilled, Billing::Unbilled, Ledger::Remote, (7, 0, 0), None, MoneyOp::Unbilled, None))),
    ];
    for (i, (enforcement, account, funds, expected)) in cases.into_iter().enumerate() {
        let got = decide_access(&policy(enforcement), &account, funds)
            .unwrap()
            .map(|a| {
                (
                    a.decision,
                    a.billing,
                    a.ledger,
                    shape(&a.account),
                    a.entry.map(|e| {
                        assert_eq!(e.kind, EntryKind::Reserve);
                        e.amount.get()
                    }),
                    a.movement.op,
                    a.balance_after.map(CreditAmount::get),
                )
            });
        assert_eq!(
            got, expected,
            "case {i}: {enforcement:?} {account:?} {funds:?}"
        );
    }
}

#[test]
fn the_402_details_name_the_price_the_balance_and_no_free_generation() {
    let refusal = decide_access(
        &policy(Enforcement::Enforce),
        &account(3, 7, 0),
        Funds::Local,
    )
    .unwrap()
    .unwrap_err();
    let Refusal::Insufficient(details) = refusal else {
        panic!("expected insufficient credits, got {refusal:?}");
    };
    assert_eq!(details.required, credits(10));
    assert_eq!(details.balance, credits(7));
    assert_eq!(details.free_generations_remaining, 0);
    assert_eq!(
        details.to_string(),
        "Insufficient credits. You need 10 credits. Current balance: 7"
    );
}

#[test]
fn holds_never_make_the_balance_negative() {
    let p = policy(Enforcement::Enforce);
    for balance in 0..=35 {
        let mut account = account(3, balance, 0);
        while let Ok(access) = decide_access(&p, &account, Funds::Local).unwrap() {
            account = access.account;
        }
        assert_eq!(account.credits.balance.get(), balance % 10);
        assert_eq!(account.held.get(), balance - balance % 10);
    }
}

/// Every settlement: (billing, ledger, outcome, hold) on an account `(free 2, balance 20, held
/// 10)` → (account after, entry, credits used, due charge, event).
#[test]
fn settlements() {
    use Outcome::{Completed, Ended};
    let held = Hold {
        reserved: Some(credits(10)),
        settled: false,
    };
    let settled = Hold {
        reserved: Some(credits(10)),
        settled: true,
    };
    let none = Hold::default();
    type Expected = (
        (u32, i64, i64),
        Option<(EntryKind, i64)>,
        Option<i64>,
        Option<i64>,
        Option<MoneyOp>,
    );
    let unchanged: Expected = ((2, 20, 10), None, None, None, None);
    #[rustfmt::skip]
    let cases: Vec<(Billing, Ledger, Outcome, Hold, Expected)> = vec![
        (Billing::Paid, Ledger::Local, Completed, held, ((2, 20, 0), Some((EntryKind::Capture, 10)), Some(10), None, Some(MoneyOp::Capture))),
        (Billing::Paid, Ledger::Remote, Completed, held, ((2, 20, 0), Some((EntryKind::Capture, 10)), None, Some(10), Some(MoneyOp::Capture))),
        (Billing::Paid, Ledger::Local, Ended, held, ((2, 30, 0), Some((EntryKind::Release, 10)), None, None, Some(MoneyOp::Release))),
        (Billing::Paid, Ledger::Remote, Ended, held, ((2, 20, 0), Some((EntryKind::Release, 10)), None, None, Some(MoneyOp::Release))),
        // Captured or released already: never a second time, never the other one.
        (Billing::Paid, Ledger::Local, Completed, settled, unchanged),
        (Billing::Paid, Ledger::Local, Ended, settled, unchanged),
        (Billing::Paid, Ledger::Remote, Ended, settled, unchanged),
        // No hold to settle.
        (Billing::Paid, Ledger::Local, Ended, none, unchanged),
        // A free generation gives its slot back when it fails, keeps it when it completes.
        (Billing::Free, Ledger::Local, Ended, none, ((1, 20, 10), None, None, None, Some(MoneyOp::FreeSlotReturned))),
        (Billing::Free, Ledger::Remote, Ended, none, ((1, 20, 10), None, None, None, Some(MoneyOp::FreeSlotReturned))),
        (Billing::Free, Ledger::Local, Completed, none, unchanged),
        // Unbilled and undecided generations move nothing.
        (Billing::Unbilled, Ledger::Local, Ended, none, unchanged),
        (Billing::Unbilled, Ledger::Remote, Completed, none, unchanged),
        (Billing::None, Ledger::Local, Ended, held, unchanged),
    ];
    let before = account(2, 20, 10);
    for (i, (billing, ledger, outcome, hold, expected)) in cases.into_iter().enumerate() {
        let s = settle(billing, ledger, outcome, hold);
        let got = (
            shape(&account_after(&s, &before).unwrap()),
            s.entry.map(|e| (e.kind, e.amount.get())),
            s.credits_used.map(CreditAmount::get),
            s.due_charge.map(CreditAmount::get),
            s.movement.map(|m| m.op),
        );
        assert_eq!(
            got, expected,
            "case {i}: {billing:?} {ledger:?} {outcome:?} {hold:?}"
        );
    }
}

#[test]
fn a_local_capture_counts_as_spent() {
    let hold = Hold {
        reserved: Some(credits(10)),
        settled: false,
    };
    let s = settle(Billing::Paid, Ledger::Local, Outcome::Completed, hold);
    let after = account_after(&s, &account(3, 0, 10)).unwrap();
    assert_eq!(after.credits.total_spent, credits(10));
    let s = settle(Billing::Paid, Ledger::Remote, Outcome::Completed, hold);
    let after = account_after(&s, &account(3, 0, 10)).unwrap();
    assert_eq!(
        after.credits.total_spent,
        CreditAmount::ZERO,
        "spent at the service"
    );
}

#[test]
fn a_free_slot_is_never_given_back_below_zero() {
    let s = settle(
        Billing::Free,
        Ledger::Local,
        Outcome::Ended,
        Hold::default(),
    );
    let change = s.change.unwrap();
    assert_eq!(change.shortfall, Shortfall::NoChange);
    // Not admitted at zero: nothing changes, and the movement is not emitted.
    assert_eq!(change.apply(&account(0, 0, 0)), Ok(None));
    assert_eq!(
        change.apply(&account(1, 0, 0)).unwrap().unwrap(),
        account(0, 0, 0)
    );
}

#[test]
fn settling_more_than_is_held_is_an_inconsistency_not_a_negative_hold() {
    let hold = Hold {
        reserved: Some(credits(10)),
        settled: false,
    };
    let s = settle(Billing::Paid, Ledger::Local, Outcome::Ended, hold);
    assert!(account_after(&s, &account(3, 0, 5)).is_err());
    assert!(account_after(&s, &account(3, 0, 10)).is_ok());
}

#[test]
fn capture_and_release_happen_at_most_once_and_never_both() {
    let mut entries = vec![Entry {
        kind: EntryKind::Reserve,
        amount: credits(10),
    }];
    let mut account = account(3, 0, 10);
    for outcome in [
        Outcome::Completed,
        Outcome::Ended,
        Outcome::Completed,
        Outcome::Ended,
    ] {
        let hold = Hold::from_entries(entries.iter().copied());
        let s = settle(Billing::Paid, Ledger::Local, outcome, hold);
        entries.extend(s.entry);
        account = account_after(&s, &account).unwrap();
    }
    let kinds: Vec<_> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EntryKind::Reserve, EntryKind::Capture]);
    assert_eq!(shape(&account), (3, 0, 0));
}

#[test]
fn a_hold_is_read_from_the_entries() {
    let entry = |kind, n| Entry {
        kind,
        amount: credits(n),
    };
    assert_eq!(Hold::from_entries([]), Hold::default());
    assert_eq!(
        Hold::from_entries([entry(EntryKind::Reserve, 10)]),
        Hold {
            reserved: Some(credits(10)),
            settled: false
        }
    );
    assert!(
        Hold::from_entries([entry(EntryKind::Release, 10), entry(EntryKind::Reserve, 10)]).settled
    );
}

#[test]
fn a_charge_owed_to_the_service_is_paid_or_stays_unpaid() {
    let charged = record_charge(&ChargeOutcome::Charged, credits(10));
    assert_eq!(charged.state, ChargeState::Charged);
    assert_eq!(charged.credits_used, Some(credits(10)));
    assert_eq!(charged.movement.op, MoneyOp::Charge);
    let refused = record_charge(
        &ChargeOutcome::Refused {
            reason: "insufficient".into(),
        },
        credits(10),
    );
    assert_eq!(refused.state, ChargeState::Refused);
    assert_eq!(refused.credits_used, None);
    assert_eq!(refused.movement.op, MoneyOp::ChargeRefused);
}

#[test]
fn a_grant_adds_to_the_balance_and_to_what_was_earned() {
    let granted = grant(&account(1, 5, 10), credits(50)).unwrap();
    assert_eq!(shape(&granted.account), (1, 55, 10));
    assert_eq!(granted.account.credits.total_earned, credits(65));
    assert_eq!(granted.entry.kind, EntryKind::Grant);
    assert_eq!(granted.movement.op, MoneyOp::Grant);
    assert!(grant(&account(0, i64::MAX, 0), credits(1)).is_err());
}

#[test]
fn every_name_round_trips_through_its_one_spelling() {
    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr,
    {
        for value in all {
            assert_eq!(value.to_string().parse::<T>().ok(), Some(*value));
        }
    }
    round_trip(Ledger::ALL);
    round_trip(Billing::ALL);
    round_trip(EntryKind::ALL);
    round_trip(MoneyOp::ALL);
    round_trip(ChargeState::ALL);
    assert!("Local".parse::<Ledger>().is_err());
    assert!("".parse::<EntryKind>().is_err());
    assert_eq!(
        EntryKind::Reserve.key("g1"),
        EntryKind::Reserve.to_string() + ":g1"
    );
}

#[test]
fn a_change_admits_only_stored_figures_that_stay_in_range() {
    let release = AccountDelta {
        balance: 10,
        held: -10,
        ..AccountDelta::default()
    };
    let [balance, held, earned, spent, free] = release.admits();
    assert_eq!(balance, (0, i64::MAX - 10));
    assert_eq!(held, (10, i64::MAX));
    // Untouched figures are guarded too: a stored negative value is corrupt, never admitted.
    assert_eq!(earned, (0, i64::MAX));
    assert_eq!(spent, (0, i64::MAX));
    assert_eq!(free, (0, i64::from(i32::MAX)));

    assert_eq!(release.apply(&account(0, 5, 10)), Some(account(0, 15, 0)));
    assert_eq!(
        release.apply(&account(0, 5, 9)),
        None,
        "less held than the hold"
    );
    let mut full = account(0, 0, 10);
    full.credits.balance = CreditAmount::new(i64::MAX - 5).unwrap();
    assert_eq!(release.apply(&full), None, "the balance would overflow");
    let no_change = AccountDelta::default();
    assert_eq!(no_change.apply(&account(1, 2, 3)), Some(account(1, 2, 3)));
}

#[test]
fn a_paid_settlement_that_does_not_apply_is_an_inconsistency() {
    let hold = Hold {
        reserved: Some(credits(10)),
        settled: false,
    };
    for (ledger, outcome) in [
        (Ledger::Local, Outcome::Completed),
        (Ledger::Local, Outcome::Ended),
        (Ledger::Remote, Outcome::Completed),
        (Ledger::Remote, Outcome::Ended),
    ] {
        let change = settle(Billing::Paid, ledger, outcome, hold).change.unwrap();
        assert!(matches!(change.shortfall, Shortfall::Inconsistent(_)));
        assert!(change.apply(&account(0, 0, 9)).is_err());
    }
}

#[test]
fn only_a_paid_settlement_reads_the_hold() {
    assert!(needs_hold(Billing::Paid));
    for billing in [Billing::Free, Billing::Unbilled, Billing::None] {
        assert!(!needs_hold(billing));
        // Whatever the entries say, they change nothing for it.
        let held = Hold {
            reserved: Some(credits(10)),
            settled: false,
        };
        for outcome in [Outcome::Completed, Outcome::Ended] {
            let with = settle(billing, Ledger::Local, outcome, held);
            let without = settle(billing, Ledger::Local, outcome, Hold::default());
            assert_eq!(with, without);
        }
    }
}
