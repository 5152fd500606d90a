//! Credits: what a user has, operator grants, the funds a new generation is decided with, and
//! charging the remote credits service exactly once per paid generation.

use std::sync::Arc;

use crate::credits::CreditAmount;
use crate::error::{ErrorChain, RepositoryError};
use crate::freemium::{Enforcement, FreemiumPolicy};
use crate::ids::UserId;
use crate::money::{ChargeState, MoneyOp};
use crate::ports::{
    Charge, ChargeOutcome, Clock, CreditAccounts, CreditBalance, CreditLedger, DueCharge, Funds,
    Grant, Granted, RemoteChargeQueue,
};

/// The ports the credit service uses.
#[derive(Clone)]
pub struct CreditPorts {
    /// Accounts in our database (free tier, holds, the local ledger).
    pub accounts: Arc<dyn CreditAccounts>,
    /// The remote credits service; `None` for the local ledger.
    pub remote: Option<Arc<dyn CreditLedger>>,
    /// The charges owed to the remote service.
    pub generations: Arc<dyn RemoteChargeQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// What the credit service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    /// The remote credits service is needed and cannot be reached (HTTP 503
    /// `credits_unavailable`).
    #[error("the credits service is unavailable")]
    Unavailable,
    /// Grants are for the local ledger; with the remote service, credits are managed there.
    #[error("credits are managed by the remote credits service")]
    RemoteLedger,
    /// The database failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// A user's credits as the API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditOverview {
    /// Spendable now (credits held for generations in flight are not).
    pub credits: CreditBalance,
    /// Free generations left.
    pub free_generations_remaining: u32,
}

/// Credits and the freemium rule.
#[derive(Clone)]
pub struct CreditService {
    ports: CreditPorts,
    policy: FreemiumPolicy,
    fail_open: bool,
}

impl CreditService {
    /// A service over `ports` with the freemium `policy`. `fail_open`: when the remote service
    /// cannot be reached, let generations that would be paid run unbilled instead of refusing.
    pub fn new(ports: CreditPorts, policy: FreemiumPolicy, fail_open: bool) -> Self {
        Self {
            ports,
            policy,
            fail_open,
        }
    }

    /// The freemium rule in force.
    pub fn policy(&self) -> &FreemiumPolicy {
        &self.policy
    }

    /// Whether the remote credits service keeps the money.
    pub fn is_remote(&self) -> bool {
        self.ports.remote.is_some()
    }

    /// The funds to decide `user`'s next generation with. The remote service is asked only when
    /// the decision will need its balance (credits enforced, no free slot left).
    ///
    /// # Errors
    /// [`CreditError::Unavailable`] when the remote balance is needed, cannot be read, and
    /// fail-open is off.
    pub async fn funds_for(&self, user: &UserId) -> Result<Funds, CreditError> {
        if self.ports.remote.is_none() {
            return Ok(Funds::Local);
        }
        if self.policy.enforcement() == Enforcement::Off {
            return Ok(Funds::RemoteNotFetched);
        }
        let account = self.ports.accounts.account(user).await?;
        if !self.policy.needs_balance(account.free_generations_used) {
            return Ok(Funds::RemoteNotFetched);
        }
        self.remote_funds(user).await
    }

    /// The remote balance as funds, asked now (after `create` answered `BalanceNeeded`).
    ///
    /// # Errors
    /// [`CreditError::Unavailable`] as for [`funds_for`](Self::funds_for).
    pub async fn remote_funds(&self, user: &UserId) -> Result<Funds, CreditError> {
        let Some(remote) = &self.ports.remote else {
            return Ok(Funds::Local);
        };
        match remote.balance(user).await {
            Ok(balance) => Ok(Funds::Remote(balance.balance)),
            Err(error) if self.fail_open => {
                tracing::warn!(
                    user_id = %user, error = %ErrorChain(&error),
                    "credits service unavailable; fail-open: the generation runs unbilled"
                );
                Ok(Funds::RemoteUnavailable)
            }
            Err(error) => {
                tracing::error!(user_id = %user, error = %ErrorChain(&error), "credits service unavailable; generation refused");
                Err(CreditError::Unavailable)
            }
        }
    }

    /// What `user` has: the local ledger's balance, or the remote one minus what is held here
    /// for their generations in flight.
    ///
    /// # Errors
    /// [`CreditError::Unavailable`] when the remote service cannot be reached.
    pub async fn overview(&self, user: &UserId) -> Result<CreditOverview, CreditError> {
        let account = self.ports.accounts.account(user).await?;
        let credits = match &self.ports.remote {
            None => account.credits,
            Some(remote) => {
                let remote = remote.balance(user).await.map_err(|error| {
                    tracing::error!(user_id = %user, error = %ErrorChain(&error), "credits service unavailable");
                    CreditError::Unavailable
                })?;
                CreditBalance {
                    balance: remote
                        .balance
                        .checked_sub(account.held)
                        .unwrap_or(CreditAmount::ZERO),
                    ..remote
                }
            }
        };
        Ok(CreditOverview {
            credits,
            free_generations_remaining: self.policy.free_remaining(account.free_generations_used),
        })
    }

    /// Adds credits to a user's local balance, at most once per idempotency key.
    ///
    /// # Errors
    /// [`CreditError::RemoteLedger`] when the remote service keeps the money;
    /// [`CreditError::Repository`].
    pub async fn grant(&self, grant: &Grant) -> Result<Granted, CreditError> {
        if self.ports.remote.is_some() {
            return Err(CreditError::RemoteLedger);
        }
        let granted = self
            .ports
            .accounts
            .grant(grant, self.ports.clock.now())
            .await?;
        // An applied grant is logged by the ledger with its entry; a repeated key only here.
        if !granted.applied {
            tracing::info!(
                target: "picture::ledger",
                op = MoneyOp::Grant.as_str(), user_id = %grant.user, amount = grant.amount.get(),
                outcome = "repeated", "credit grant repeated: nothing changed"
            );
        }
        Ok(granted)
    }

    /// Charges a completed generation's due charge to the remote service and records the
    /// outcome. A charge whose outcome is unknown (service unreachable) stays due and is
    /// retried by [`collect_due`](Self::collect_due) with the same idempotency key.
    /// Returns the recorded outcome, `None` when it stays due.
    ///
    /// # Errors
    /// [`CreditError::Repository`].
    pub async fn collect(&self, due: &DueCharge) -> Result<Option<ChargeOutcome>, CreditError> {
        let Some(remote) = &self.ports.remote else {
            tracing::error!(
                generation_id = %due.generation_id,
                "a charge is owed to the remote credits service, which is not configured"
            );
            return Ok(None);
        };
        let charge = Charge {
            user: due.user_id.clone(),
            generation: due.generation_id,
            amount: due.amount,
        };
        let outcome = match remote.charge(&charge).await {
            Ok(()) => ChargeOutcome::Charged,
            Err(error) if error.is_retryable() => {
                tracing::warn!(
                    target: "picture::ledger",
                    op = MoneyOp::Charge.as_str(), user_id = %due.user_id, generation_id = %due.generation_id,
                    amount = due.amount.get(), outcome = "retry", error = %ErrorChain(&error),
                    "remote charge pending"
                );
                return Ok(None);
            }
            Err(error) => ChargeOutcome::Refused {
                reason: error.to_string(),
            },
        };
        let recorded = self
            .ports
            .generations
            .settle_charge(due.generation_id, &outcome, self.ports.clock.now())
            .await?;
        match &outcome {
            ChargeOutcome::Charged => tracing::info!(
                target: "picture::ledger",
                op = MoneyOp::Charge.as_str(), user_id = %due.user_id, generation_id = %due.generation_id,
                amount = due.amount.get(), outcome = ChargeState::Charged.as_str(), recorded,
                "remote charge"
            ),
            ChargeOutcome::Refused { reason } => tracing::error!(
                target: "picture::ledger",
                op = MoneyOp::Charge.as_str(), user_id = %due.user_id, generation_id = %due.generation_id,
                amount = due.amount.get(), outcome = ChargeState::Refused.as_str(), %reason, recorded,
                "remote charge refused: the generation stays unpaid"
            ),
        }
        Ok(Some(outcome))
    }

    /// Retries up to `limit` charges owed to the remote service for longer than `min_age`.
    /// Returns how many were settled.
    ///
    /// # Errors
    /// [`CreditError::Repository`].
    pub async fn collect_due(
        &self,
        min_age: std::time::Duration,
        limit: u32,
    ) -> Result<usize, CreditError> {
        if self.ports.remote.is_none() {
            return Ok(0);
        }
        let older_than = self.ports.clock.now()
            - chrono::Duration::from_std(min_age).unwrap_or_else(|_| chrono::Duration::zero());
        let mut settled = 0;
        for due in self
            .ports
            .generations
            .due_charges(older_than, limit)
            .await?
        {
            if self.collect(&due).await?.is_some() {
                settled += 1;
            }
        }
        Ok(settled)
    }
}

#[cfg(test)]
mod tests;
