//! Live progress across real server processes (issue 20): a stream held on one instance sees
//! the webhooks and admin grants applied on another (PostgreSQL `LISTEN/NOTIFY`); the per-user
//! stream cap counts across instances and forgets a killed instance's streams once its
//! liveness lapses; SIGTERM ends open streams and the server exits well before its shutdown
//! timeout (SQLite and PostgreSQL); a stream survives its instance losing the `LISTEN`
//! connection. The timing-sensitive tests run one after the other ([`support::SERIAL`]).
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

mod cap;
mod fake_replicate;
mod lost_listen;
#[path = "../common/output_host.rs"]
mod output_host;
#[path = "../common/process.rs"]
#[expect(
    dead_code,
    reason = "the shared process plumbing: these tests read no log lines"
)]
mod process;
mod sigterm;
mod sse;
mod support;
mod two_instances;
