//! Theorem 4.3 (risk-sensitive policy iteration): policy iteration ends at a deterministic
//! policy whose Q is the fixed point of T*, and no stochastic policy — random, or found by
//! gradient ascent on softmax logits — does better in any state. See
//! `riskmdp::verify::claims::theorem_4_3`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::theorem_4_3;

proptest! {
    #![proptest_config(config(200, "proptest-regressions/theorem_4_3_policy_iteration.txt"))]
    #[test]
    fn policy_iteration_is_deterministic_and_optimal(case in arb_case(CaseKind::Discounted)) {
        holds(theorem_4_3::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("theorem-4.3", &["gamma-inside-log", "mean-instead-of-max", "missing-inverse-beta"]);
    assert_property_caught("theorem-4.3", "greedy-worst", "deterministic-optimum");
}
