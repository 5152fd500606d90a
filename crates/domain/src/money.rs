//! The money rules, as pure code: what a generation costs, when its credits are held,
//! captured and given back, and what a grant or a remote charge changes. Persistence reads
//! what a rule needs inside its transaction (the account for an access decision, a paid
//! generation's ledger entries for its settlement), calls these functions, and writes what they
//! return in the same transaction as the generation's status; it decides nothing. A settlement's
//! [`AccountChange`] is applied without reading the account, as one statement guarded by the
//! ranges its [`AccountDelta::admits`].
//!
//! **When a generation is created** ([`decide_access`]): a free slot is taken while the user
//! has one ([`FreemiumPolicy`](crate::FreemiumPolicy): 3 free, then 10 credits each by
//! default). Otherwise, with credits enforced, its price is **held**: moved from the local
//! balance to `held` (local ledger), or added to `held` against the remote balance (remote
//! credits service); a balance below the price is refused (HTTP 402). Without enforcement, or
//! when the remote service is unreachable and fail-open is on, it runs unbilled.
//!
//! **A credit is captured** ([`settle`] with [`Outcome::Completed`]) only when the generation
//! completes, in the same transaction that stores its image: the hold is spent (local), or
//! becomes a charge owed to the remote service, collected afterwards ([`record_charge`]).
//!
//! **A credit is given back** ([`settle`] with [`Outcome::Ended`]) when the generation fails
//! or is cancelled: the hold returns to the local balance (or stops counting against the
//! remote one), and a free generation's slot is given back. Capture and release are each
//! written at most once per generation, never both.
//!
//! **A batch** ([`decide_batch_access`]) is decided at creation for all its items at once, each
//! as a single generation on the account the previous item left: it is let in only when every
//! item is, and then holds every paid item's price up front; each item is then settled on its
//! own, exactly like a single generation.
//!
//! **Grants** ([`grant`]) add to the local balance, once per idempotency key.

mod access;
mod account;
mod batch;
mod charges;
mod names;
mod settlement;

pub use access::{Access, Funds, Refusal, decide_access};
pub use account::{
    AccountChange, AccountDelta, CreditAccount, Entry, Inconsistent, Movement, Shortfall,
};
pub use batch::{BatchAccess, BatchRefusal, BatchShortfall, decide_batch_access};
pub use charges::{ChargeOutcome, ChargeRecord, Granting, grant, grant_entry, record_charge};
pub use names::{Billing, ChargeState, EntryKind, Ledger, MoneyOp};
pub use settlement::{Hold, Outcome, Settlement, needs_hold, settle};

#[cfg(test)]
mod tests;
