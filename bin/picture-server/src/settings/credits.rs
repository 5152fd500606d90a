//! Credits: the freemium rule, its enforcement, and which ledger keeps the balances.

use picture_credits::CreditsConfig;
use picture_domain::{CreditAmount, Enforcement, FreemiumPolicy};
use picture_vars::{InvalidSetting, Source};

use super::AppEnvironment;

picture_vars::declare! {
    /// `off` (never block or charge) or `enforce` (default `off` in development, `enforce`
    /// otherwise).
    CREDITS_ENFORCEMENT,
    /// Free generations per user (default [`FreemiumPolicy::DEFAULT_FREE_GENERATIONS`]).
    FREE_GENERATIONS,
    /// The price of a generation once the free ones are used (default
    /// [`FreemiumPolicy::DEFAULT_CREDITS_PER_GENERATION`]).
    CREDITS_PER_GENERATION,
    /// With enforcement: let generations run unbilled when the remote credits service cannot
    /// be reached (default `false`).
    CREDITS_FAIL_OPEN,
}

/// The credit settings.
#[derive(Debug, Clone)]
pub struct CreditSettings {
    /// [`FREE_GENERATIONS`], [`CREDITS_PER_GENERATION`], [`CREDITS_ENFORCEMENT`].
    pub freemium: FreemiumPolicy,
    /// [`CREDITS_FAIL_OPEN`].
    pub fail_open: bool,
    /// `APP_ID` ([`picture_credits::settings`]).
    pub app_id: String,
    /// The remote credits service ([`picture_credits::settings`]); `None` for the local ledger.
    pub service: Option<CreditsConfig>,
}

impl CreditSettings {
    /// Reads the group's variables and the credits adapter's. Enforcement's default depends on
    /// `environment`; the service's URL falls back to `auth_url`.
    pub(super) fn from_source(
        source: &Source,
        environment: AppEnvironment,
        auth_url: Option<&str>,
    ) -> Result<Self, InvalidSetting> {
        let enforcement = match source.text(CREDITS_ENFORCEMENT) {
            Some(value) => value.parse::<Enforcement>().map_err(|_| {
                InvalidSetting::new(
                    CREDITS_ENFORCEMENT,
                    format!("expected off or enforce, got {value:?}"),
                )
            })?,
            None if environment == AppEnvironment::Development => Enforcement::Off,
            None => Enforcement::Enforce,
        };
        let free = source.parse(
            FREE_GENERATIONS,
            FreemiumPolicy::DEFAULT_FREE_GENERATIONS,
            "a whole number of generations",
        )?;
        let price = source.parse(
            CREDITS_PER_GENERATION,
            FreemiumPolicy::DEFAULT_CREDITS_PER_GENERATION,
            "a whole number of credits",
        )?;
        let price = CreditAmount::new(price)
            .map_err(|_| InvalidSetting::new(CREDITS_PER_GENERATION, "must not be negative"))?;
        Ok(Self {
            freemium: FreemiumPolicy::new(free, price, enforcement),
            fail_open: source.flag(CREDITS_FAIL_OPEN, false)?,
            app_id: CreditsConfig::app_id(source),
            service: CreditsConfig::from_source(source, auth_url)?,
        })
    }
}
