//! Fig. 1 (the risky arm): `Q(S,left) = −5/β`, `Q(S,right) = log(0.9·e^{−10/β} + 0.1)` to 1e-12
//! relative for β ∈ [1e-3, 1e7]; the greedy action switches exactly at β = 5/ln 9 ≈ 2.2756
//! (the paper's "β > 2.5" is read off its plot); the posterior q(A|S,right) increases with β
//! towards 0.9. See `riskmdp::verify::claims::figure_1`.
mod common;
use common::{arb_case, assert_caught, config, holds};
use proptest::prelude::*;
use riskmdp::tolerance::CLOSED_FORM;
use riskmdp::verify::claims::figure_1;
use riskmdp::verify::random::risky_arm;
use riskmdp::verify::{Case, CaseKind, Exact};
use riskmdp::{Beta, Policy};

proptest! {
    #![proptest_config(config(300, "proptest-regressions/figure_1_risky_arm.txt"))]
    #[test]
    fn closed_forms_hold_at_every_beta(case in arb_case(CaseKind::RiskyArm)) {
        holds(figure_1::check, &case, CLOSED_FORM)?;
    }
}

fn case_at(beta: f64) -> Case {
    let mdp = risky_arm();
    let Policy::Stationary(policy) = Policy::uniform(&mdp) else { unreachable!() };
    Case { mdp, beta: Beta::new(beta).unwrap(), policy, seed: 0 }
}

#[test]
fn closed_forms_hold_on_a_fixed_grid_from_1e_minus_3_to_1e7() {
    for i in 0..=100 {
        let beta = 1e-3 * 10f64.powf(10.0 * i as f64 / 100.0);
        let v = figure_1::check(&case_at(beta), &Exact);
        assert!(v.amount <= CLOSED_FORM, "β = {beta}: {v:?}");
    }
}

#[test]
fn switch_is_exactly_five_over_ln_nine() {
    let switch = figure_1::switch_beta();
    // 5 / ln 9 = 2.2756…  (Python: 5 / math.log(9) = 2.275598066567093)
    assert!((switch - 2.275_598_066_567_093).abs() < 1e-15, "{switch}");
    for beta in [switch * (1.0 - 1e-9), switch * (1.0 + 1e-9)] {
        let v = figure_1::check(&case_at(beta), &Exact);
        assert!(v.amount <= CLOSED_FORM, "β = {beta}: {v:?}");
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("figure-1", &["missing-inverse-beta"]);
}
