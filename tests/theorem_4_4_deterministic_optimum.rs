//! Theorem 4.4: the maximum over (π, q) of the scaled ELBO `E_q[Σ r]/β − KL(q(τ) ‖ p_π(τ))` is
//! reached by a deterministic π with `q(a|s) = π(a|s)`. See
//! `riskmdp::verify::claims::theorem_4_4`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::theorem_4_4;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/theorem_4_4_deterministic_optimum.txt"))]
    #[test]
    fn elbo_maximised_by_deterministic_equal_pair(case in arb_case(CaseKind::Horizon)) {
        holds(theorem_4_4::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("theorem-4.4", &["gamma-inside-log", "mean-instead-of-max", "missing-inverse-beta"]);
    assert_property_caught("theorem-4.4", "posterior-without-prior", "posterior-is-prior");
}
