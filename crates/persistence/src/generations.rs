//! Generations on diesel ([`GenerationRepository`](picture_domain::ports::GenerationRepository)):
//! one file per port, and per step of the lifecycle that moves money.
//!
//! - `lifecycle.rs`: compare-and-set moves and finalisation leases;
//! - `create.rs` + `record.rs`: creating, with the access decision applied;
//! - `complete.rs` and `settle.rs`: ending, with the hold captured or given back;
//! - `reads.rs`, `reconciler.rs`, `remote_charges.rs`, `provider_check.rs`: the other ports.

use std::time::Duration;

use picture_domain::GenerationStatus;

use crate::database::Database;

mod complete;
mod create;
mod lifecycle;
mod progress;
mod provider_check;
mod reads;
mod reconciler;
mod record;
mod remote_charges;
mod row;
pub(crate) use row::GenerationRow;
mod settle;

/// The generation ports stored in the `image_generations` table, with their money in
/// `credit_accounts`, `credit_entries` and `remote_charges`.
#[derive(Clone)]
pub struct DieselGenerationRepository {
    database: Database,
}

impl DieselGenerationRepository {
    /// Generations in `database`.
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// The end of a lease of `lease` taken at `now` (ms).
fn lease_end(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2))
}

/// The statuses a move to `target` may start from, as stored.
fn predecessors(target: GenerationStatus) -> Vec<&'static str> {
    GenerationStatus::predecessors_of(target)
        .into_iter()
        .map(GenerationStatus::as_str)
        .collect()
}
