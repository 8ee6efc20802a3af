//! Theorem 4.3 (risk-sensitive policy iteration): policy iteration from any policy ends at a
//! deterministic optimal policy.
//!
//! Checked on discounted random MDPs: the crate's
//! [`policy_iteration()`] returns a deterministic policy whose Q
//! equals the fixed point of T* iterated through the operators under test; and no stochastic
//! policy does better in any state — neither the case's random policy and three more, nor
//! one found by 25 steps of gradient ascent on softmax logits of `Σ_s V_π(s)`.
//!
//! # The gradient
//!
//! ```text
//! ∂V_π(s0)/∂θ(s,b) = M(s0,s)·(q(b|s) − π(b|s)),   M = (I − γ·P_q)⁻¹,
//! P_q(s,s') = Σ_a q(a|s)·q(s'|s,a)    (posterior policy and dynamics, non-terminal s')
//! ```
//!
//! The step is normalised by the largest state weight `Σ_{s0} M(s0,s)`.

use nalgebra::{DMatrix, DVector};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, over_states, scale_of};
use crate::operators::Aggregation;
use crate::operators::{posterior_dynamics, posterior_policy};
use crate::policy::Policy;
use crate::solve::{SolveOptions, policy_iteration};
use crate::verify::Violation;
use crate::verify::operators::{Operators, iterate, sup_distance};
use crate::verify::random::{Case, random_policy};

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

/// Theorem 4.3 on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let (mdp, beta, gamma) = (&case.mdp, case.beta, case.mdp.gamma());
    let sol = match policy_iteration(mdp, beta, SolveOptions::default()) {
        Ok(sol) => sol,
        Err(e) => return Violation::error(e),
    };
    let Policy::Stationary(pi_star) = &sol.policy else {
        return Violation::of(f64::INFINITY, "policy iteration returned a time-dependent policy");
    };
    let deterministic = over_states(mdp, |s| {
        let ones = pi_star.row(s).iter().filter(|&&p| p > 0.0).count();
        Violation::of(if ones == 1 { 0.0 } else { 1.0 }, format!("π*(·|s{s}) has {ones} actions"))
    });
    let q_star = iterate(ops, mdp, beta, Aggregation::Max, None);
    let v_star = ops.max_value(mdp, q_star.view());
    let scale = scale_of(q_star.iter());
    let mut worst = deterministic.max(identity(
        "Q of policy iteration = fixed point of T*",
        sup_distance(mdp, sol.q.view(), q_star.view()),
        0.0,
        scale,
    ));

    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let mut policies = vec![case.policy.clone()];
    policies.extend((0..3).map(|_| random_policy(&mut rng, mdp.n_states(), mdp.n_actions())));
    for (i, pi) in policies.iter().enumerate() {
        let q = iterate(ops, mdp, beta, Aggregation::Policy(pi.view()), None);
        let v = ops.soft_value(mdp, q.view(), pi.view());
        worst = worst
            .max(over_states(mdp, |s| at_most(&format!("random π{i}: V_π(s{s}) ≤ V*(s{s})"), v[s], v_star[s], scale)));
    }

    let mut theta = Array2::from_shape_fn((mdp.n_states(), mdp.n_actions()), |_| rng.random_range(-2.0..=2.0));
    let mut q: Option<Array2<f64>> = None;
    for step in 0..=ASCENT_STEPS {
        let pi = softmax_rows(&theta);
        let q_pi = iterate(ops, mdp, beta, Aggregation::Policy(pi.view()), q.take());
        let v = ops.soft_value(mdp, q_pi.view(), pi.view());
        worst = worst.max(over_states(mdp, |s| {
            at_most(&format!("gradient ascent step {step}: V_π(s{s}) ≤ V*(s{s})"), v[s], v_star[s], scale)
        }));
        let post_pi = posterior_policy(mdp, pi.view(), q_pi.view());
        let post_p = posterior_dynamics(mdp, v.view());
        let n = mdp.n_states();
        let mut m = DMatrix::<f64>::identity(n, n);
        for s in (0..n).filter(|&s| !mdp.is_terminal(s)) {
            for a in 0..mdp.n_actions() {
                for j in (0..n).filter(|&j| !mdp.is_terminal(j)) {
                    m[(s, j)] -= gamma * post_pi[[s, a]] * post_p[[s, a, j]];
                }
            }
        }
        let ones = DVector::from_iterator(n, (0..n).map(|s| if mdp.is_terminal(s) { 0.0 } else { 1.0 }));
        let Some(w) = m.transpose().lu().solve(&ones) else { break };
        let w_max = w.iter().fold(f64::MIN_POSITIVE, |a, &b| a.max(b));
        for s in (0..n).filter(|&s| !mdp.is_terminal(s)) {
            for b in 0..mdp.n_actions() {
                theta[[s, b]] += ASCENT_RATE * w[s] / w_max * (post_pi[[s, b]] - pi[[s, b]]);
            }
        }
        q = Some(q_pi);
    }
    worst
}
