#![doc = include_str!("../README.md")]

pub mod hub;
pub mod sse;
pub mod token;

pub use hub::{HubMessage, LiveHub, SubscribeError, Subscription};
pub use token::{MintedToken, StreamTokens, TokenError};
