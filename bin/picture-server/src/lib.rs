#![doc = include_str!("../README.md")]

pub mod auth;
pub mod background_tasks;
pub mod body_deadline;
pub mod cli;
pub mod clock;
pub mod connection_limit;
pub mod dto;
pub mod error;
pub mod http_server;
pub mod ip_limit;
pub mod live;
#[cfg(test)]
mod log_capture;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod orphan_sweep;
pub mod outbound;
pub mod protocol_guard;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;
