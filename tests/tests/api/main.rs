//! Black-box tests of the HTTP API against the real server.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

mod auth;
mod batches;
mod board_items;
mod boards;
mod credits;
mod events;
mod explore;
mod fake_replicate;
mod files;
mod generate;
mod health;
mod idempotency;
mod images;
mod jwks;
mod lifecycle;
mod metrics;
mod models;
mod openapi;
mod orphans;
mod profiles;
mod profiles_edit;
mod protocol;
mod provider_polls;
mod providers;
mod remix;
mod remote_credits;
mod replicate;
mod security;
mod subjects;
mod tags;
mod uploads;
mod variants;
