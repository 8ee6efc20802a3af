//! Lemma 4.1 (optimal risk-sensitive operator): `T*` is a γ-contraction in sup norm and its
//! iteration converges to Q*. See `riskmdp::verify::claims::lemma_4_1`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::lemma_4_1;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/lemma_4_1_optimal_operator.txt"))]
    #[test]
    fn optimal_operator_contracts_and_converges_to_q_star(case in arb_case(CaseKind::Discounted)) {
        holds(lemma_4_1::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("lemma-4.1", &["gamma-inside-log", "mean-instead-of-max", "missing-inverse-beta"]);
    assert_property_caught("lemma-4.1", "expanding-backup", "contraction");
    assert_property_caught("lemma-4.1", "mean-instead-of-max", "dominates-policies");
}
