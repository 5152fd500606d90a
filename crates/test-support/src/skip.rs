//! Skipped tests, reported where a person sees them.
//!
//! libtest captures what a test prints with `eprintln!` and throws it away when the test passes,
//! so a skip reported that way is invisible in a plain `cargo test --workspace`, where a skipped
//! test counts as passed. [`skip_or_fail`] therefore also writes one line per group and test
//! binary straight to the process's standard error, which libtest does not capture.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

/// The groups this test binary has already announced as skipped.
static ANNOUNCED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Whether this run is CI (`CI=true` or `CI=1`), where no test may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips the calling test, one of `group` (the service it needs, e.g. `PostgreSQL` or `S3`),
/// with `reason`, or fails it in CI.
///
/// The first skip of a group in a test binary prints
/// `SKIPPED <group> tests of <binary> (not in CI): <reason>` on standard error, uncaptured, so
/// it shows in a plain `cargo test`; every skip also prints its reason the captured way, for
/// `--nocapture`.
///
/// # Panics
/// When [`in_ci`] is true: a service the suite needs is missing.
pub fn skip_or_fail(group: &str, reason: &str) {
    assert!(
        !in_ci(),
        "CI=true and a required service ({group}) is missing: {reason}"
    );
    eprintln!("SKIPPED (not in CI): {reason}");
    let first = ANNOUNCED
        .lock()
        .map_or(true, |mut announced| announced.insert(group.to_owned()));
    if first {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|stem| {
                stem.rsplit_once('-')
                    .map_or(stem.clone(), |(name, _)| name.to_owned())
            })
            .unwrap_or_default();
        // One write, so the line is not split by libtest's own lines on standard output.
        // Nothing to do if standard error is gone; the captured line above still says why.
        let line = format!("SKIPPED {group} tests of {binary} (not in CI): {reason}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}
