//! Theorem 4.3 (risk-sensitive policy iteration): policy iteration from any policy ends at a
//! deterministic optimal policy.
//!
//! Checked on discounted random MDPs, through the operators under test, with Q* the fixed point
//! of T*:
//!
//! * `deterministic-optimum` — the greedy policy of Q* (a deterministic policy) attains V*: its
//!   fixed point of T_π has the same state values;
//! * `no-better-policy` — no stochastic policy does better in any state: the case's random
//!   policy and three more;
//! * `gradient-ascent` — nor one found by 25 steps of gradient ascent on softmax logits of
//!   `Σ_s V_π(s)`;
//! * `equals-solver` — the crate's [`policy_iteration()`] returns Q* and a policy that,
//!   evaluated through the operators, attains V*.
//!
//! # The gradient
//!
//! ```text
//! ∂V_π(s0)/∂θ(s,b) = M(s0,s)·(q(b|s) − π(b|s)),   M = (I − γ·P_q)⁻¹,
//! P_q(s,s') = Σ_a q(a|s)·q(s'|s,a)    (posterior policy and dynamics, non-terminal s')
//! ```
//!
//! The step is normalised by the largest state weight `Σ_{s0} M(s0,s)`.

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, one_hot, over_states, scale_of};
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::solve::linear::{Orientation, solve_chain};
use crate::solve::{SolveOptions, policy_iteration};
use crate::verify::operators::{Operators, iterate, sup_distance};
use crate::verify::random::{Case, random_policy};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of Theorem 4.3.
pub const CHECKS: &[&str] = &["deterministic-optimum", "no-better-policy", "gradient-ascent", EQUALS_SOLVER];

/// Gradient-ascent steps on the logits.
pub const ASCENT_STEPS: usize = 25;
/// Logit step size (after normalising the state weights to at most 1).
pub const ASCENT_RATE: f64 = 4.0;

fn softmax_rows(theta: &Array2<f64>) -> Array2<f64> {
    let mut pi = theta.clone();
    for mut row in pi.rows_mut() {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|x| (x - m).exp());
        let z = row.sum();
        row.mapv_inplace(|x| x / z);
    }
    pi
}

/// The state values of a stationary policy through the operators: the fixed point of T_π
/// (from `start`) and Eq. 2.
fn policy_values(
    ops: &dyn Operators,
    case: &Case,
    pi: &Array2<f64>,
    start: Option<Array2<f64>>,
) -> (Array2<f64>, Array1<f64>) {
    let q = iterate(ops, &case.mdp, case.beta, Aggregation::Policy(pi.view()), start);
    let v = ops.soft_value(&case.mdp, q.view(), pi.view());
    (q, v)
}

/// Theorem 4.3 on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta, gamma) = (&case.mdp, case.beta, case.mdp.gamma());
    let mut checks = Checks::new();
    let q_star = iterate(ops, mdp, beta, Aggregation::Max, None);
    let v_star = ops.max_value(mdp, q_star.view());
    let scale = scale_of(q_star.iter());

    let greedy = one_hot(mdp.n_actions(), &ops.greedy(mdp, q_star.view()));
    let (_, v_greedy) = policy_values(ops, case, &greedy, Some(q_star.clone()));
    checks.record(
        "deterministic-optimum",
        over_states(mdp, |s| identity(&format!("V of greedy(Q*) (s{s}) = V*(s{s})"), v_greedy[s], v_star[s], scale)),
    );

    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let mut policies = vec![case.policy.clone()];
    policies.extend((0..3).map(|_| random_policy(&mut rng, mdp.n_states(), mdp.n_actions())));
    let mut no_better = Violation::none();
    for (i, pi) in policies.iter().enumerate() {
        let (_, v) = policy_values(ops, case, pi, None);
        no_better = no_better
            .max(over_states(mdp, |s| at_most(&format!("random π{i}: V_π(s{s}) ≤ V*(s{s})"), v[s], v_star[s], scale)));
    }
    checks.record("no-better-policy", no_better);

    let mut theta = Array2::from_shape_fn((mdp.n_states(), mdp.n_actions()), |_| rng.random_range(-2.0..=2.0));
    let mut q: Option<Array2<f64>> = None;
    let mut ascent = Violation::none();
    for step in 0..=ASCENT_STEPS {
        let pi = softmax_rows(&theta);
        let (q_pi, v) = policy_values(ops, case, &pi, q.take());
        ascent = ascent.max(over_states(mdp, |s| {
            at_most(&format!("gradient ascent step {step}: V_π(s{s}) ≤ V*(s{s})"), v[s], v_star[s], scale)
        }));
        let post_pi = ops.posterior_policy(mdp, pi.view(), q_pi.view());
        let post_p = ops.posterior_dynamics(mdp, v.view());
        let n = mdp.n_states();
        // State weights w = (I − γ·M_qᵀ)⁻¹·1 of the posterior chain M_q(s, s') = Σ_a q(a|s)·q(s'|s,a).
        let ones: Vec<f64> = (0..n).map(|s| if mdp.is_terminal(s) { 0.0 } else { 1.0 }).collect();
        let weight = |s: usize, a: usize| post_pi[[s, a]];
        let post_p = &post_p;
        let row = |s: usize, a: usize| (0..n).map(move |j| (j, post_p[[s, a, j]]));
        let Some(w) = solve_chain(mdp, gamma, weight, row, &ones, Orientation::Transposed) else { break };
        let w_max = w.iter().fold(f64::MIN_POSITIVE, |a, &b| a.max(b));
        for s in (0..n).filter(|&s| !mdp.is_terminal(s)) {
            for b in 0..mdp.n_actions() {
                theta[[s, b]] += ASCENT_RATE * w[s] / w_max * (post_pi[[s, b]] - pi[[s, b]]);
            }
        }
        q = Some(q_pi);
    }
    checks.record("gradient-ascent", ascent);

    if scope.with_solver() {
        let v = match policy_iteration(mdp, beta, SolveOptions::default()) {
            Ok(sol) => match &sol.policy {
                Policy::Stationary(pi_star) => {
                    let (_, v_pi) = policy_values(ops, case, pi_star, Some(q_star.clone()));
                    identity(
                        "Q of policy iteration = fixed point of T*",
                        sup_distance(mdp, sol.q.view(), q_star.view()),
                        0.0,
                        scale,
                    )
                    .max(over_states(mdp, |s| {
                        identity(
                            &format!("V of the policy-iteration policy (s{s}) = V*(s{s})"),
                            v_pi[s],
                            v_star[s],
                            scale,
                        )
                    }))
                }
                Policy::Markov(_) => Violation::of(f64::INFINITY, "policy iteration returned a time-dependent policy"),
            },
            Err(e) => Violation::error(e),
        };
        checks.record(EQUALS_SOLVER, v);
    }
    checks
}
