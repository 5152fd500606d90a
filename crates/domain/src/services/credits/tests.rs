//! The credit service with mockall mocks of its ports.

use chrono::DateTime;

use super::*;
use crate::ports::{
    CreditAccount, LedgerError, MockClock, MockCreditAccounts, MockCreditLedger,
    MockGenerationRepository,
};

fn credits(n: i64) -> CreditAmount {
    CreditAmount::new(n).unwrap()
}

fn user() -> UserId {
    UserId::parse("u").unwrap()
}

fn service(accounts: MockCreditAccounts, remote: Option<MockCreditLedger>) -> CreditService {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(DateTime::UNIX_EPOCH);
    CreditService::new(
        CreditPorts {
            accounts: Arc::new(accounts),
            remote: remote.map(|r| Arc::new(r) as Arc<dyn CreditLedger>),
            generations: Arc::new(MockGenerationRepository::new()),
            clock: Arc::new(clock),
        },
        FreemiumPolicy::new(3, credits(10), Enforcement::Enforce),
        false,
    )
}

fn account(free_used: u32, balance: i64, held: i64) -> CreditAccount {
    CreditAccount {
        credits: CreditBalance {
            balance: credits(balance),
            total_earned: credits(balance + held),
            total_spent: CreditAmount::ZERO,
        },
        held: credits(held),
        free_generations_used: free_used,
    }
}

#[tokio::test]
async fn the_local_overview_is_the_account() {
    let mut accounts = MockCreditAccounts::new();
    accounts
        .expect_account()
        .returning(|_| Ok(account(1, 25, 10)));
    let overview = service(accounts, None).overview(&user()).await.unwrap();
    assert_eq!(overview.credits.balance, credits(25));
    assert_eq!(overview.free_generations_remaining, 2);
}

#[tokio::test]
async fn the_remote_overview_subtracts_what_is_held_here() {
    let mut accounts = MockCreditAccounts::new();
    accounts
        .expect_account()
        .returning(|_| Ok(account(3, 0, 20)));
    let mut remote = MockCreditLedger::new();
    remote.expect_balance().returning(|_| {
        Ok(CreditBalance {
            balance: credits(25),
            total_earned: credits(100),
            total_spent: credits(75),
        })
    });
    let overview = service(accounts, Some(remote))
        .overview(&user())
        .await
        .unwrap();
    assert_eq!(overview.credits.balance, credits(5));
    assert_eq!(overview.credits.total_spent, credits(75));
    assert_eq!(overview.free_generations_remaining, 0);
}

#[tokio::test]
async fn an_unreachable_remote_overview_is_unavailable() {
    let mut accounts = MockCreditAccounts::new();
    accounts
        .expect_account()
        .returning(|_| Ok(account(0, 0, 0)));
    let mut remote = MockCreditLedger::new();
    remote
        .expect_balance()
        .returning(|_| Err(LedgerError::Unavailable("down".into())));
    let result = service(accounts, Some(remote)).overview(&user()).await;
    assert!(matches!(result, Err(CreditError::Unavailable)));
}

#[tokio::test]
async fn grants_go_to_the_local_ledger_only() {
    let grant = Grant {
        user: user(),
        amount: credits(50),
        reason: "welcome".into(),
        idempotency_key: "k".into(),
    };
    let mut accounts = MockCreditAccounts::new();
    accounts.expect_grant().times(1).returning(|_, _| {
        Ok(Granted {
            applied: true,
            account: account(0, 50, 0),
        })
    });
    let granted = service(accounts, None).grant(&grant).await.unwrap();
    assert!(granted.applied);

    let mut accounts = MockCreditAccounts::new();
    accounts.expect_grant().times(0);
    let refused = service(accounts, Some(MockCreditLedger::new()))
        .grant(&grant)
        .await;
    assert!(matches!(refused, Err(CreditError::RemoteLedger)));
}

#[tokio::test]
async fn the_remote_balance_is_asked_only_when_the_decision_needs_it() {
    let mut accounts = MockCreditAccounts::new();
    accounts
        .expect_account()
        .returning(|_| Ok(account(1, 0, 0)));
    let mut remote = MockCreditLedger::new();
    remote.expect_balance().times(0);
    let funds = service(accounts, Some(remote))
        .funds_for(&user())
        .await
        .unwrap();
    assert_eq!(funds, Funds::RemoteNotFetched);

    let mut accounts = MockCreditAccounts::new();
    accounts.expect_account().times(0);
    assert_eq!(
        service(accounts, None).funds_for(&user()).await.unwrap(),
        Funds::Local
    );
}
