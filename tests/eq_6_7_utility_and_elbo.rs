//! Eqs. (6–7): with γ = 1 and a horizon, `β·V_π(s)` is the exponential utility
//! `β·log E[exp(Σ r/β)]` computed by enumerating trajectories, and the ELBO is at most the
//! log-marginal, with equality at the posterior. See `riskmdp::verify::claims::eq_6_7`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::eq_6_7;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/eq_6_7_utility_and_elbo.txt"))]
    #[test]
    fn backup_is_exponential_utility_and_elbo_is_tight(case in arb_case(CaseKind::Undiscounted)) {
        holds(eq_6_7::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("eq-6-7", &["missing-inverse-beta"]);
    assert_property_caught("eq-6-7", "kl-reversed", "elbo-tight");
}
