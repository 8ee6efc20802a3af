//! README's command-line examples are executed: every ```console block (command, exit status
//! and output) must match what `riskmdp` prints now, so a changed flag, default or output
//! breaks the build instead of the documentation.
//!
//! The README shows the default build: with the feature `candle`, `riskmdp --help` also lists
//! `train` and `evaluate`, so this test runs in the default test run only (CI runs both).
#![cfg(not(feature = "candle"))]

#[test]
fn readme_examples_match_the_program() {
    trycmd::TestCases::new().case("README.md");
}
