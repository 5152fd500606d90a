//! Money that moved, told once after its transaction committed: a structured log line (target
//! `picture::ledger`) and the counter `picture_credit_operations_total{op, ledger}`.

use picture_domain::money::{Ledger, MoneyOp, Movement};

/// One ledger operation that was applied.
#[derive(Debug, Clone)]
pub(crate) struct MoneyEvent {
    /// What happened.
    pub op: MoneyOp,
    /// Which ledger.
    pub ledger: Ledger,
    /// Whose account (logged escaped, see `LogSafe`).
    pub user: String,
    /// The generation concerned, if any.
    pub generation: Option<String>,
    /// Credits moved (0 for free-slot operations).
    pub amount: i64,
}

impl MoneyEvent {
    /// `movement` on `ledger`, of `user`'s generation `generation` if any.
    pub(crate) fn new(
        movement: Movement,
        ledger: Ledger,
        user: &str,
        generation: Option<&str>,
    ) -> Self {
        Self {
            op: movement.op,
            ledger,
            user: user.to_owned(),
            generation: generation.map(str::to_owned),
            amount: movement.amount.get(),
        }
    }

    /// Logs the event and counts it.
    pub(crate) fn emit(&self) {
        tracing::info!(
            target: "picture::ledger",
            op = self.op.as_str(),
            ledger = self.ledger.as_str(),
            user_id = %picture_domain::LogSafe(&self.user),
            generation_id = self.generation.as_deref().unwrap_or(""),
            amount = self.amount,
            outcome = "applied",
            "ledger {}", self.op
        );
        metrics::counter!(
            "picture_credit_operations_total",
            "op" => self.op.as_str(),
            "ledger" => self.ledger.as_str()
        )
        .increment(1);
    }
}

/// Emits every event of a committed transaction.
pub(crate) fn emit_all(events: &[MoneyEvent]) {
    for event in events {
        event.emit();
    }
}
