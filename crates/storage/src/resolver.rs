//! A DNS resolver for output downloads that refuses names resolving to private, loopback or
//! link-local addresses. The connection then goes to exactly the addresses checked here, so a
//! name cannot pass the check and be re-resolved to an internal address (DNS rebinding).

use std::error::Error;
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::ingest::is_private;

/// Resolves with the system resolver and refuses private answers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PublicOnlyResolver;

/// A name resolved to an address outputs may not come from.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to a private address")]
pub(crate) struct PrivateResolution(String);

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.iter().any(|a| is_private(a.ip())) {
                return Err(Box::new(PrivateResolution(host)) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Whether `error` (a failed request) was this resolver's refusal.
pub(crate) fn refused_private(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.is::<PrivateResolution>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let refused = PublicOnlyResolver
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .err()
            .unwrap();
        assert!(refused.is::<PrivateResolution>(), "{refused}");
        assert_eq!(
            refused.to_string(),
            "localhost resolves to a private address"
        );
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_a_plain_lookup_error() {
        let failed = PublicOnlyResolver
            .resolve(Name::from_str("no-such-host.invalid").unwrap())
            .await
            .err()
            .unwrap();
        assert!(!failed.is::<PrivateResolution>());
    }

    #[tokio::test]
    async fn a_public_address_literal_passes() {
        let resolved: Vec<SocketAddr> = PublicOnlyResolver
            .resolve(Name::from_str("93.184.215.14").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(resolved.len(), 1);
    }
}
