//! Eqs. 8–9: the occupancy that weighs the KL constraint solves its flow equation
//! `Σ_a d(s',a) = ρ(s') + γ·Σ d(s,a)·P(s'|s,a)`, and a dual step on β descends
//! `J(β) = β(ε − KL_β)` at fixed KL_β, inside [β_min, 1e7]. See
//! `riskmdp::verify::claims::dual_step`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLAIM;
use riskmdp::verify::CaseKind;
use riskmdp::verify::claims::dual_step;

proptest! {
    #![proptest_config(config(100, "proptest-regressions/eq_8_9_dual_step.txt"))]
    #[test]
    fn occupancy_solves_the_flow_equation_and_the_dual_step_descends(case in arb_case(CaseKind::Discounted)) {
        holds(dual_step::check, &case, CLAIM)?;
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("dual-step", &["undiscounted-occupancy", "dual-step-sign", "kl-reversed"]);
    assert_property_caught("dual-step", "undiscounted-occupancy", "occupancy-flow");
    assert_property_caught("dual-step", "dual-step-sign", "descent");
}
