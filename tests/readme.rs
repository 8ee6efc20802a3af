//! README's command-line examples are executed: every ```console block (command, exit status
//! and output) must match what `riskmdp` prints now, so a changed flag, default or output
//! breaks the build instead of the documentation.

#[test]
fn readme_examples_match_the_program() {
    trycmd::TestCases::new().case("README.md");
}
