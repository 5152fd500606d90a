//! The freemium rule, as pure code: the first `free_generations` generations of a user are free,
//! each further one costs `credits_per_generation` credits.
//!
//! With enforcement [`Enforcement::Off`] (development) nobody is ever blocked or charged, but free
//! generations are still counted so clients see `freeGenerationsRemaining` go 3 → 2 → 1 → 0.
//! With [`Enforcement::Enforce`] (staging, production) a user without a free slot needs the price
//! in credits, or is refused with [`InsufficientCredits`] (HTTP 402).

use std::fmt;
use std::str::FromStr;

use crate::credits::CreditAmount;
use crate::validation::ValidationErrors;

/// Whether credits are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Never block, never charge (free slots are still counted).
    Off,
    /// Block without a free slot or enough credits; charge paid generations.
    Enforce,
}

impl Enforcement {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Enforcement {
    type Err = ValidationErrors;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "enforce" => Ok(Self::Enforce),
            _ => Err(ValidationErrors::single("must be `off` or `enforce`")),
        }
    }
}

/// The freemium rule in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreemiumPolicy {
    free_generations: u32,
    credits_per_generation: CreditAmount,
    enforcement: Enforcement,
}

/// What a generation costs the user, decided before the provider is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDecision {
    /// Uses one of the free slots; `remaining_after` are left once it is taken.
    Free {
        /// Free generations left after this one.
        remaining_after: u32,
    },
    /// Costs `amount` credits (held now, captured on success, released on failure).
    Paid {
        /// The price.
        amount: CreditAmount,
    },
    /// Allowed without charge because enforcement is off and the free slots are used up.
    Unbilled,
}

/// Refusal: no free slot left and the balance is below the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Insufficient credits. You need {required} credits. Current balance: {balance}")]
pub struct InsufficientCredits {
    /// The price of one generation.
    pub required: CreditAmount,
    /// The user's balance.
    pub balance: CreditAmount,
    /// Free generations left (always 0 when refused).
    pub free_generations_remaining: u32,
}

impl FreemiumPolicy {
    /// The rule with the product's defaults: 3 free generations, then 10 credits each.
    pub const DEFAULT_FREE_GENERATIONS: u32 = 3;
    /// The default price of a paid generation.
    pub const DEFAULT_CREDITS_PER_GENERATION: i64 = 10;

    /// A rule.
    pub fn new(
        free_generations: u32,
        credits_per_generation: CreditAmount,
        enforcement: Enforcement,
    ) -> Self {
        Self {
            free_generations,
            credits_per_generation,
            enforcement,
        }
    }

    /// How many free generations a user gets.
    pub fn free_generations(&self) -> u32 {
        self.free_generations
    }

    /// The price of a paid generation.
    pub fn credits_per_generation(&self) -> CreditAmount {
        self.credits_per_generation
    }

    /// Whether credits are enforced.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Free generations left for a user who has used `used` of them.
    pub fn free_remaining(&self, used: u32) -> u32 {
        self.free_generations.saturating_sub(used)
    }

    /// Whether deciding for a user who has used `used` free generations needs their balance.
    /// When it does not, [`decide`](Self::decide) ignores the balance.
    pub fn needs_balance(&self, used: u32) -> bool {
        self.enforcement == Enforcement::Enforce && self.free_remaining(used) == 0
    }

    /// Decides what the next generation of a user costs.
    ///
    /// `used` is the number of free generations already taken; `balance` their credit balance
    /// (only consulted when [`needs_balance`](Self::needs_balance) is true).
    ///
    /// # Errors
    /// [`InsufficientCredits`] when credits are enforced, no free slot is left and `balance` is
    /// below the price.
    pub fn decide(
        &self,
        used: u32,
        balance: CreditAmount,
    ) -> Result<AccessDecision, InsufficientCredits> {
        let remaining = self.free_remaining(used);
        if remaining > 0 {
            return Ok(AccessDecision::Free {
                remaining_after: remaining - 1,
            });
        }
        match self.enforcement {
            Enforcement::Off => Ok(AccessDecision::Unbilled),
            Enforcement::Enforce if balance >= self.credits_per_generation => {
                Ok(AccessDecision::Paid {
                    amount: self.credits_per_generation,
                })
            }
            Enforcement::Enforce => Err(InsufficientCredits {
                required: self.credits_per_generation,
                balance,
                free_generations_remaining: 0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credits(n: i64) -> CreditAmount {
        CreditAmount::new(n).unwrap()
    }

    fn policy(enforcement: Enforcement) -> FreemiumPolicy {
        FreemiumPolicy::new(3, credits(10), enforcement)
    }

    #[test]
    fn first_three_are_free_and_count_down_in_both_modes() {
        for mode in [Enforcement::Off, Enforcement::Enforce] {
            let remaining: Vec<_> = (0..3)
                .map(|used| policy(mode).decide(used, CreditAmount::ZERO).unwrap())
                .collect();
            assert_eq!(
                remaining,
                [2, 1, 0].map(|r| AccessDecision::Free { remaining_after: r })
            );
        }
    }

    #[test]
    fn off_never_blocks_or_charges_after_the_free_slots() {
        let p = policy(Enforcement::Off);
        assert!(!p.needs_balance(3));
        assert_eq!(
            p.decide(3, CreditAmount::ZERO),
            Ok(AccessDecision::Unbilled)
        );
        assert_eq!(
            p.decide(100, CreditAmount::ZERO),
            Ok(AccessDecision::Unbilled)
        );
    }

    #[test]
    fn enforce_charges_the_price_when_the_balance_covers_it() {
        let p = policy(Enforcement::Enforce);
        assert!(p.needs_balance(3));
        assert!(!p.needs_balance(2));
        assert_eq!(
            p.decide(3, credits(10)),
            Ok(AccessDecision::Paid {
                amount: credits(10)
            })
        );
        assert_eq!(
            p.decide(7, credits(25)),
            Ok(AccessDecision::Paid {
                amount: credits(10)
            })
        );
    }

    #[test]
    fn enforce_refuses_below_the_price() {
        let refusal = policy(Enforcement::Enforce)
            .decide(3, credits(9))
            .unwrap_err();
        assert_eq!(refusal.required, credits(10));
        assert_eq!(refusal.balance, credits(9));
        assert_eq!(refusal.free_generations_remaining, 0);
        assert_eq!(
            refusal.to_string(),
            "Insufficient credits. You need 10 credits. Current balance: 9"
        );
    }

    #[test]
    fn limits_and_price_come_from_configuration() {
        let p = FreemiumPolicy::new(0, credits(1), Enforcement::Enforce);
        assert_eq!(p.free_remaining(0), 0);
        assert_eq!(
            p.decide(0, credits(1)),
            Ok(AccessDecision::Paid { amount: credits(1) })
        );
        let generous = FreemiumPolicy::new(5, credits(10), Enforcement::Enforce);
        assert_eq!(
            generous.decide(4, CreditAmount::ZERO),
            Ok(AccessDecision::Free { remaining_after: 0 })
        );
    }

    #[test]
    fn enforcement_parses_from_configuration_text() {
        assert_eq!("off".parse(), Ok(Enforcement::Off));
        assert_eq!(" Enforce ".parse(), Ok(Enforcement::Enforce));
        assert!("on".parse::<Enforcement>().is_err());
    }
}
