//! Fig. 1 (the risky arm): `Q(S,left) = −5/β`, `Q(S,right) = log(0.9·e^{−10/β} + 0.1)` to 1e-12
//! relative for β ∈ [1e-3, 1e7]; the greedy action switches exactly at β = 5/ln 9 ≈ 2.2756
//! (the paper's "β > 2.5" is read off its plot); the posterior q(A|S,right) increases with β
//! towards 0.9. See `riskmdp::verify::claims::figure_1`.
mod common;
use common::{arb_case, assert_caught, assert_property_caught, config, holds};
use proptest::prelude::*;
use riskmdp::envs::risky_arm::{LEFT, RIGHT, S};
use riskmdp::tolerance::CLOSED_FORM;
use riskmdp::verify::claims::figure_1;
use riskmdp::verify::random::risky_arm;
use riskmdp::verify::{Case, CaseKind, Exact, Scope};
use riskmdp::{Beta, Policy, SolveOptions};

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
        let checks = figure_1::check(&case_at(beta), &Exact, Scope::Full);
        assert!(checks.failed(CLOSED_FORM).is_empty(), "β = {beta}: {checks:?}");
    }
}

#[test]
fn switch_is_exactly_five_over_ln_nine() {
    let switch = figure_1::switch_beta();
    // 5 / ln 9 = 2.2756…  (Python: 5 / math.log(9) = 2.275598066567093)
    assert!((switch - 2.275_598_066_567_093).abs() < 1e-15, "{switch}");
    for beta in [switch * (1.0 - 1e-9), switch * (1.0 + 1e-9)] {
        let checks = figure_1::check(&case_at(beta), &Exact, Scope::Full);
        assert!(checks.failed(CLOSED_FORM).is_empty(), "β = {beta}: {checks:?}");
    }
    // The solver's greedy action on either side, a millionth away. By hand:
    // d/dβ [Q(S,left) − Q(S,right)] = 5/β² − (0.9·e^{−10/β}·10/β²)/(0.9·e^{−10/β} + 0.1), and at
    // β = 5/ln 9 (e^{−10/β} = 1/81) the second term is (1/9)/(1/9)·1/β², so the slope is 4/β²
    // ≈ 0.772: the gap is ≈ ∓1.76e-6 nats there, far above the tie margin 1e-12.
    for (beta, expected) in [(switch * (1.0 - 1e-6), RIGHT), (switch * (1.0 + 1e-6), LEFT)] {
        let sol = riskmdp::value_iteration(&risky_arm(), Beta::new(beta).unwrap(), SolveOptions::default()).unwrap();
        assert_eq!(sol.greedy[S], expected, "β = {beta}: Q(S,·) = {:?}", sol.q.row(S));
        let gap = sol.q[[S, LEFT]] - sol.q[[S, RIGHT]];
        let linear = 4.0 / (switch * switch) * (beta - switch);
        assert!((gap - linear).abs() <= 1e-4 * linear.abs(), "β = {beta}: gap {gap:e}, slope predicts {linear:e}");
    }
}

#[test]
fn planted_bug_twin_is_caught() {
    assert_caught("figure-1", &["missing-inverse-beta", "greedy-worst"]);
    assert_property_caught("figure-1", "greedy-worst", "switch");
}
