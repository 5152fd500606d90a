//! Microbenchmark of the access decision: may this user generate, and is it free, paid or
//! refused with 402? `cargo bench -p picture-domain`.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up with known-good inputs"
)]

use criterion::Criterion;
use picture_domain::{CreditAmount, Enforcement, FreemiumPolicy};
use std::hint::black_box;

fn access_decision(c: &mut Criterion) {
    let policy = FreemiumPolicy::new(3, CreditAmount::new(10).unwrap(), Enforcement::Enforce);
    let cases = [
        ("free slot left", 1, 0),
        ("paid", 3, 25),
        ("refused (402)", 3, 5),
    ];
    for (name, used, balance) in cases {
        let balance = CreditAmount::new(balance).unwrap();
        c.bench_function(&format!("access decision: {name}"), |b| {
            b.iter(|| policy.decide(black_box(used), black_box(balance)))
        });
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    access_decision(&mut criterion);
    criterion.final_summary();
}
