//! Theorem 4.1 (risk-sensitive policy evaluation): `T_π` is a γ-contraction in sup norm and
//! its iteration converges to Q_π. See `riskmdp::verify::claims::theorem_4_1` for exactly what
//! is checked.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::theorem_4_1;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/theorem_4_1_policy_evaluation.txt"))]
    #[test]
    fn policy_operator_contracts_and_converges_to_q_pi(case in arb_case(CaseKind::Discounted)) {
        holds(theorem_4_1::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("theorem-4.1", &["gamma-inside-log", "missing-inverse-beta"]);
    // An expansion fails the contraction property itself, solver comparison off.
    assert_property_caught("theorem-4.1", "expanding-backup", "contraction");
}
