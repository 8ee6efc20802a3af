//! Theorem 4.2 (risk-sensitive policy improvement): the greedy policy π' w.r.t. Q_π has
//! `V_{π'}(s) ≥ V_π(s)` in every state — with a horizon and time-dependent policies (the
//! paper's proof), and for γ < 1 without horizon (open in the paper; proved in
//! `docs/theory.md`). See `riskmdp::verify::claims::theorem_4_2`.
mod common;
use common::{arb_case, assert_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::theorem_4_2;

proptest! {
    #![proptest_config(config(300, "proptest-regressions/theorem_4_2_policy_improvement.txt"))]
    #[test]
    fn greedy_improves_every_state_finite_horizon(case in arb_case(CaseKind::Horizon)) {
        holds(theorem_4_2::check_finite, &case, CLAIM)?;
    }

    #[test]
    fn greedy_improves_every_state_discounted(case in arb_case(CaseKind::Discounted)) {
        holds(theorem_4_2::check_discounted, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("theorem-4.2-finite", &["gamma-inside-log", "missing-inverse-beta"]);
    assert_caught("theorem-4.2-discounted", &["gamma-inside-log", "missing-inverse-beta"]);
}
