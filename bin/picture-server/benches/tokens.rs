//! Microbenchmark of bearer token verification in the embedded mode (HS256, audience, issuer,
//! expiry and not-before checked), as every authenticated request runs it.
//! `cargo bench -p picture-server`.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up with known-good inputs"
)]

use std::time::Duration;

use criterion::Criterion;
use picture_domain::UserId;
use picture_server::auth::{LocalTokens, TokenVerifier};
use secrecy::SecretString;
use std::hint::black_box;

fn token_verification(c: &mut Criterion) {
    let secret = SecretString::from("bench-secret-bench-secret-bench-secret-01");
    let tokens = LocalTokens::new(&secret, "manacore", Duration::from_secs(30));
    let user = UserId::parse("bench-user").unwrap();
    let token = tokens
        .issue(&user, Some("bench@example.com"), Duration::from_secs(3600))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(runtime.block_on(tokens.verify(&token)).is_ok());
    c.bench_function("token verification (HS256, valid)", |b| {
        b.iter(|| runtime.block_on(tokens.verify(black_box(&token))))
    });
    let forged = format!("{}x", &token[..token.len() - 1]);
    c.bench_function("token verification (HS256, bad signature)", |b| {
        b.iter(|| runtime.block_on(tokens.verify(black_box(&forged))))
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    token_verification(&mut criterion);
    criterion.final_summary();
}
