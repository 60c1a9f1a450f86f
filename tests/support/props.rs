//! Shared proptest settings for the property tests (tests/properties.rs, storage.rs,
//! capacity.rs).

use proptest::prelude::ProptestConfig;

/// `cases` cases, modest so a file runs in seconds in debug; `PROPTEST_CASES` overrides.
/// No regression files: a failure prints its minimal input, which belongs in one of the
/// data-driven tests.
pub fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
