//! Building live progress: the hub, the stream token key, the event log and leases over the
//! requests' pool, and the upkeep tasks over the background pool.

use std::sync::Arc;

use anyhow::Context;
use picture_domain::ports::{Clock, EventLog, StreamLeases};
use picture_live::{LiveHub, StreamTokens};
use picture_persistence::{Database, DieselEventLog, DieselStreamLeases, FeedOptions};
use secrecy::ExposeSecret;

use crate::live::upkeep::{LiveUpkeep, UpkeepParts, say_alive};
use crate::settings::Settings;

/// The name of the stream token key in the database's shared secrets.
const TOKEN_KEY: &str = "event_stream_token_key";

/// What the live streams of this instance are built from (the rest comes from the services).
#[derive(Clone)]
pub(super) struct LiveParts {
    pub hub: LiveHub,
    pub log: Arc<dyn EventLog>,
    pub leases: Arc<dyn StreamLeases>,
    pub tokens: StreamTokens,
    pub instance: Arc<str>,
}

/// A fresh random key, hex.
fn random_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(hex::encode(bytes))
}

/// Builds the parts over the requests' `database`, and starts the upkeep over `background`
/// (the start-up runtime's pool): the feed of committed events, liveness, pruning.
///
/// # Errors
/// When the database cannot give the token key or the feed cannot be opened.
pub(super) async fn build(
    settings: &Settings,
    database: &Database,
    background: &Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(LiveParts, LiveUpkeep)> {
    let key = match &settings.events.token_secret {
        Some(secret) => secret.expose_secret().as_bytes().to_vec(),
        None => background
            .shared_secret(TOKEN_KEY, &random_key()?)
            .await
            .context("reading the stream token key")?
            .into_bytes(),
    };
    let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
    let hub = LiveHub::new(settings.events.per_instance, settings.events.buffer);
    let background_leases: Arc<dyn StreamLeases> =
        Arc::new(DieselStreamLeases::new(background.clone()));
    say_alive(&*background_leases, &*clock, &instance)
        .await
        .context("registering the instance for event streams")?;
    let feed = background
        .live_feed(FeedOptions::default())
        .await
        .context("opening the live event feed")?;
    let upkeep = LiveUpkeep::spawn(UpkeepParts {
        hub: hub.clone(),
        feed,
        leases: background_leases,
        log: Arc::new(DieselEventLog::new(background.clone())),
        clock,
        instance: Arc::clone(&instance),
        replay_window: settings.events.replay_window,
    });
    let parts = LiveParts {
        hub,
        log: Arc::new(DieselEventLog::new(database.clone())),
        leases: Arc::new(DieselStreamLeases::new(database.clone())),
        tokens: StreamTokens::new(key, settings.events.token_ttl),
        instance,
    };
    Ok((parts, upkeep))
}
