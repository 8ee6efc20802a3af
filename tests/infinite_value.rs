//! γ = 1 without a horizon: the risk-seeking value is finite exactly when the twisted chain
//! P·exp(r/β) has spectral radius below 1. The solvers certify finiteness or report
//! `Error::InfiniteValue` — they never loop forever or return NaN.
//!
//! Model: one state that pays r and then stays w.p. p or ends w.p. 1 − p. In exp space
//! Z = e^{r/β}·(p·Z + (1 − p)), so Z = (1−p)e^{r/β} / (1 − p·e^{r/β}), finite iff p·e^{r/β} < 1,
//! i.e. β > r / ln(1/p).

use riskmdp::{Beta, Error, MdpSpec, Policy, SolveOptions, TabularMdp};

fn geometric(r: f64, p: f64, second_action: Option<f64>) -> TabularMdp {
    let mut actions = vec![vec![p, 1.0 - p]];
    let mut rewards = vec![r];
    if let Some(safe) = second_action {
        actions.push(vec![0.0, 1.0]);
        rewards.push(safe);
    }
    let a_count = actions.len();
    TabularMdp::new(MdpSpec {
        name: "geometric".into(),
        state_names: None,
        action_names: None,
        gamma: 1.0,
        horizon: None,
        initial: None,
        terminal: Some(vec![false, true]),
        transitions: vec![actions, vec![vec![0.0, 1.0]; a_count]].into(),
        rewards: vec![rewards, vec![0.0; a_count]],
        grid: None,
    })
    .expect("terminating model")
}

/// V = r/β + ln(1−p) − ln(1 − p·e^{r/β}) = r/β − ln1p(−p·expm1(r/β)/(1−p)): the second form
/// keeps full relative precision at β → ∞, where the first loses ~7 digits to cancellation.
fn closed_form(r: f64, p: f64, beta: f64) -> f64 {
    r / beta - (-p * (r / beta).exp_m1() / (1.0 - p)).ln_1p()
}

#[test]
fn finite_values_match_the_closed_form_and_their_bound() {
    let (r, p): (f64, f64) = (1.0, 0.5);
    let critical = r / (1.0 / p).ln();
    for beta in [critical * 1.01, 2.0, 10.0, 1e3, 1e7] {
        let mdp = geometric(r, p, None);
        let sol = riskmdp::value_iteration(&mdp, Beta::new(beta).unwrap(), SolveOptions::default()).unwrap();
        let exact = closed_form(r, p, beta);
        let err = (sol.v[0] - exact).abs();
        assert!(err <= 1e-9 * exact.abs(), "β = {beta}: {} vs {exact}", sol.v[0]);
        assert!(
            err <= sol.error_bound + 1e-14 * exact.abs(),
            "β = {beta}: bound {:e} < error {err:e}",
            sol.error_bound
        );
    }
}

#[test]
fn infinite_values_are_reported_not_iterated() {
    let (r, p): (f64, f64) = (1.0, 0.5);
    let critical = r / (1.0 / p).ln();
    for beta in [critical * 0.99, 1.0, 0.1, 1e-4] {
        let mdp = geometric(r, p, None);
        for result in [
            riskmdp::value_iteration(&mdp, Beta::new(beta).unwrap(), SolveOptions::default()),
            riskmdp::policy_iteration(&mdp, Beta::new(beta).unwrap(), SolveOptions::default()),
            riskmdp::evaluate_policy(&mdp, Beta::new(beta).unwrap(), &Policy::uniform(&mdp), SolveOptions::default()),
        ] {
            match result {
                Err(Error::InfiniteValue { state, log_spectral_radius_lower_bound, .. }) => {
                    assert_eq!(state, "s0");
                    assert!(log_spectral_radius_lower_bound > 0.0);
                    // Certified lower bound never exceeds the true log ρ = r/β + ln p.
                    assert!(log_spectral_radius_lower_bound <= r / beta + p.ln() + 1e-9);
                }
                other => panic!("β = {beta}: expected InfiniteValue, got {other:?}"),
            }
        }
    }
}

#[test]
fn a_diverging_action_makes_the_optimum_infinite_but_not_a_safe_policy() {
    // Action 0 loops with positive reward (infinite at β = 1), action 1 ends at once.
    let mdp = geometric(1.0, 0.5, Some(-1.0));
    let beta = Beta::new(1.0).unwrap();
    assert!(matches!(riskmdp::value_iteration(&mdp, beta, SolveOptions::default()), Err(Error::InfiniteValue { .. })));
    let safe = Policy::deterministic(&mdp, &[1, 0]).unwrap();
    let sol = riskmdp::evaluate_policy(&mdp, beta, &safe, SolveOptions::default()).unwrap();
    assert!((sol.v[0] + 1.0).abs() < 1e-12);
    // At large β both are finite and the optimum is the looping action's closed form.
    let sol = riskmdp::value_iteration(&mdp, Beta::new(5.0).unwrap(), SolveOptions::default()).unwrap();
    assert!((sol.v[0] - closed_form(1.0, 0.5, 5.0)).abs() < 1e-10);
    assert_eq!(sol.greedy[0], 0);
}

#[test]
fn large_rewards_at_tiny_beta_stay_finite_when_negative() {
    // r = −1e4, β = 1e-4: r/β = −1e8 nats; nothing overflows, the value is exact.
    let mdp = geometric(-1e4, 0.9, None);
    let sol = riskmdp::value_iteration(&mdp, Beta::new(1e-4).unwrap(), SolveOptions::default()).unwrap();
    let exact = -1e8 + 0.1f64.ln(); // e^{r/β} underflows: Z ≈ (1−p)·e^{r/β}
    assert!(sol.v[0].is_finite());
    assert!((sol.v[0] - exact).abs() <= 1e-12 * exact.abs());
}
