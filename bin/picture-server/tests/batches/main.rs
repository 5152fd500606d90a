//! Batches run by the real server binary, as child processes on one database, against a fake
//! of Replicate (create, read, cancel and the prediction list): a server killed with SIGKILL
//! mid-batch and started again finishes the batch with no item run twice and the books exact;
//! two servers share one batch; and a user's 50-item batch does not hold back another user's
//! generation. The tests run one after the other ([`support::SERIAL`]).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

mod database;
mod fairness;
mod fake_replicate;
mod kill;
#[path = "../common/output_host.rs"]
mod output_host;
#[path = "../common/process.rs"]
#[expect(
    dead_code,
    reason = "the shared process plumbing: these tests send no SIGTERM"
)]
mod process;
mod share;
mod support;
