//! The command line: `serve` (default), `migrate`, `token`, `credits grant`, `images backfill`,
//! `models list`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use picture_domain::ports::{CreditAccounts, Grant};
use picture_domain::services::ModelService;
use picture_domain::{CreditAmount, UserId};
use picture_persistence::{Database, DieselLedger, DieselModelCatalog, PoolOptions};

use crate::settings::Settings;

mod images;
use crate::startup::{Application, local_tokens, prepare_database};

/// Picture: the backend of an AI image generation app.
#[derive(Debug, Parser)]
#[command(name = "picture-server", version, about)]
pub struct Cli {
    /// A TOML file of settings (keys are the variable names in lower case); the environment
    /// overrides it.
    #[arg(long, global = true, env = "PICTURE_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default): migrates, seeds the models, then listens on HOST:PORT.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a token for USER_ID signed with the local secret (embedded auth mode only); the
    /// token is the last line of standard output.
    Token {
        /// The user id (the token's `sub`): any opaque text.
        user_id: String,
        /// An e-mail to put in the token.
        #[arg(long)]
        email: Option<String>,
        /// How long the token is valid, in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl_secs: u64,
    },
    /// Manage the local credit ledger.
    Credits {
        /// The action.
        #[command(subcommand)]
        action: CreditsCommand,
    },
    /// Image maintenance.
    Images {
        /// The action.
        #[command(subcommand)]
        action: ImagesCommand,
    },
    /// Inspect the model catalogue.
    Models {
        /// The action.
        #[command(subcommand)]
        action: ModelsCommand,
    },
}

/// `images` actions.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Compute the blurhash of every image and board thumbnail stored without one (resumable:
    /// run again after an interruption, it goes on with the rest).
    Backfill {
        /// Rows read per database query.
        #[arg(long, default_value_t = 100)]
        batch: u32,
    },
}

/// `models` actions.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the active models (default first) with their ids.
    List,
}

/// `credits` actions.
#[derive(Debug, Subcommand)]
pub enum CreditsCommand {
    /// Add AMOUNT credits to USER_ID's local balance (the local ledger only), at most once per
    /// idempotency key; prints the balance after.
    Grant {
        /// The user id (the tokens' `sub`).
        user_id: String,
        /// How many credits (1 to 1000000000).
        amount: i64,
        /// Why, recorded in the ledger.
        #[arg(long, default_value = "granted with the CLI")]
        reason: String,
        /// Applies the grant at most once for this key (default: a new random key, printed).
        #[arg(long)]
        idempotency_key: Option<String>,
    },
}

/// Runs `command` with `settings`.
///
/// # Errors
/// Whatever the command fails with, with context.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await.context("serving")
        }
        Command::Migrate => {
            let applied = Database::migrate(&settings.database.url).await?;
            println!("applied {} migration(s)", applied.len());
            for version in applied {
                println!("  {version}");
            }
            Ok(())
        }
        Command::Token {
            user_id,
            email,
            ttl_secs,
        } => {
            let user =
                UserId::parse(user_id).map_err(|e| anyhow::anyhow!("invalid user id: {e}"))?;
            let token = local_tokens(&settings)?
                .issue(&user, email.as_deref(), Duration::from_secs(ttl_secs))
                .context("signing the token")?;
            println!("{token}");
            Ok(())
        }
        Command::Credits {
            action:
                CreditsCommand::Grant {
                    user_id,
                    amount,
                    reason,
                    idempotency_key,
                },
        } => {
            if settings.credits.service.is_some() {
                anyhow::bail!(
                    "credits are managed by the remote credits service (MANA_CORE_SERVICE_KEY is set); grant them there"
                );
            }
            let user =
                UserId::parse(user_id).map_err(|e| anyhow::anyhow!("invalid user id: {e}"))?;
            if !(1..=1_000_000_000).contains(&amount) {
                anyhow::bail!("amount must be from 1 to 1000000000");
            }
            let amount =
                CreditAmount::new(amount).map_err(|e| anyhow::anyhow!("invalid amount: {e}"))?;
            let idempotency_key =
                idempotency_key.unwrap_or_else(|| format!("cli:{}", uuid::Uuid::new_v4()));
            let database = prepare_database(&settings, PoolOptions::default()).await?;
            let grant = Grant {
                user,
                amount,
                reason,
                idempotency_key,
            };
            let granted = DieselLedger::new(database)
                .grant(&grant, chrono::Utc::now())
                .await
                .context("granting")?;
            let outcome = if granted.applied {
                "granted"
            } else {
                "already granted (same idempotency key): nothing changed"
            };
            println!(
                "{outcome}: user {} amount {} key {}",
                grant.user, grant.amount, grant.idempotency_key
            );
            println!("balance {}", granted.account.credits.balance);
            Ok(())
        }
        Command::Images {
            action: ImagesCommand::Backfill { batch },
        } => images::backfill(&settings, batch).await,
        Command::Models {
            action: ModelsCommand::List,
        } => {
            let database = prepare_database(&settings, PoolOptions::default()).await?;
            let models = ModelService::new(Arc::new(DieselModelCatalog::new(database)))
                .active()
                .await?;
            for model in models {
                let default = if model.spec.is_default {
                    " (default)"
                } else {
                    ""
                };
                println!(
                    "{}  {:<16} {}{}",
                    model.id, model.spec.name, model.spec.display_name, default
                );
            }
            Ok(())
        }
    }
}
