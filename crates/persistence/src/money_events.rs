//! Money that moved, told once after its transaction committed: a structured log line (target
//! `picture::ledger`) and the counter `picture_credit_operations_total{op, ledger}`.

/// One ledger operation that was applied.
#[derive(Debug, Clone)]
pub(crate) struct MoneyEvent {
    /// `reserve`, `capture`, `release`, `grant`, `free_slot_taken`, `free_slot_returned`,
    /// `charge`, `charge_refused`, `unbilled`.
    pub op: &'static str,
    /// `local` or `remote`.
    pub ledger: &'static str,
    /// Whose account (logged escaped, see `LogSafe`).
    pub user: String,
    /// The generation concerned, if any.
    pub generation: Option<String>,
    /// Credits moved (0 for free-slot operations).
    pub amount: i64,
}

impl MoneyEvent {
    /// Logs the event and counts it.
    pub(crate) fn emit(&self) {
        tracing::info!(
            target: "picture::ledger",
            op = self.op,
            ledger = self.ledger,
            user_id = %picture_domain::LogSafe(&self.user),
            generation_id = self.generation.as_deref().unwrap_or(""),
            amount = self.amount,
            outcome = "applied",
            "ledger {}", self.op
        );
        metrics::counter!(
            "picture_credit_operations_total",
            "op" => self.op,
            "ledger" => self.ledger
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
