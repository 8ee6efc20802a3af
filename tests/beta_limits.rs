//! The β limits: β → ∞ gives the risk-neutral values and optimum within an explicit O(1/β)
//! (Hoeffding) bound; β → 0 gives the best case within O(β); and β·V_β is non-increasing in β.
//! See `riskmdp::verify::claims::beta_limits`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::beta_limits;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/beta_limits.txt"))]
    #[test]
    fn large_beta_is_risk_neutral_within_hoeffding_bound(case in arb_case(CaseKind::Discounted)) {
        holds(beta_limits::check_large, &case, CLAIM)?;
    }

    #[test]
    fn small_beta_is_best_case_within_log_p_min_bound(case in arb_case(CaseKind::Discounted)) {
        holds(beta_limits::check_small, &case, CLAIM)?;
    }

    #[test]
    fn certainty_equivalent_non_increasing_in_beta(case in arb_case(CaseKind::Discounted)) {
        holds(beta_limits::check_monotone, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("beta-large", &["mean-instead-of-max", "missing-inverse-beta"]);
    assert_caught("beta-small", &["mean-instead-of-max", "missing-inverse-beta"]);
    assert_caught("beta-monotone", &["missing-inverse-beta"]);
    assert_property_caught("beta-large", "greedy-worst", "greedy-loss");
    assert_property_caught("beta-small", "mean-instead-of-max", "best-case-gap");
    assert_property_caught("beta-monotone", "missing-inverse-beta", "monotone");
}
