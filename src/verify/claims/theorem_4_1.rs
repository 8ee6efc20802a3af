//! Theorem 4.1 (risk-sensitive policy evaluation): T_π is a γ-contraction in sup norm and
//! `T_π^k Q → Q_π`.
//!
//! Checked on discounted random MDPs: for two random Q (spread up to ‖r‖/(β(1−γ))),
//! `‖T_π Q1 − T_π Q2‖ ≤ γ‖Q1 − Q2‖`; the first three iterates obey `‖Q_k − Q_π‖ ≤ γ^k‖Q_0 − Q_π‖`;
//! and the fixed point reached through the operators under test equals
//! [`evaluate_policy`] of the crate.

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, scale_of};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::solve::{SolveOptions, evaluate_policy};
use crate::verify::Violation;
use crate::verify::operators::{Operators, iterate, sup_distance};
use crate::verify::random::{Case, log_uniform};

/// A random Q with entries in `[−spread, spread]`.
pub(crate) fn random_q(rng: &mut ChaCha8Rng, mdp: &TabularMdp, spread: f64) -> Array2<f64> {
    Array2::from_shape_fn((mdp.n_states(), mdp.n_actions()), |_| spread * rng.random_range(-1.0..=1.0))
}

/// Contraction, geometric rate and fixed point of `T` (`T_π` or `T*`) against `reference`.
pub(crate) fn contraction_and_fixed_point(
    case: &Case,
    ops: &dyn Operators,
    agg: Aggregation,
    reference: ArrayView2<f64>,
) -> Violation {
    let (mdp, beta, gamma) = (&case.mdp, case.beta, case.mdp.gamma());
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let r_max = mdp.rewards().iter().fold(0.0f64, |m, x| m.max(x.abs())) / beta.get() / (1.0 - gamma);
    let spread = r_max.max(1.0) * log_uniform(&mut rng, 1e-3, 1.0);
    let q1 = random_q(&mut rng, mdp, spread);
    let spread2 = spread * log_uniform(&mut rng, 1e-3, 1.0);
    let q2 = &q1 + &random_q(&mut rng, mdp, spread2);
    let apply = |q: ArrayView2<f64>| match agg {
        Aggregation::Policy(pi) => ops.policy_operator(mdp, beta, pi, q),
        Aggregation::Max => ops.optimal_operator(mdp, beta, q),
    };
    let (t1, t2) = (apply(q1.view()), apply(q2.view()));
    let d_in = sup_distance(mdp, q1.view(), q2.view());
    let noise = crate::tolerance::ROUNDING_FLOOR * scale_of(t1.iter().chain(q1.iter()).chain(q2.iter()));
    let mut worst =
        at_most("‖TQ1 − TQ2‖ ≤ γ‖Q1 − Q2‖", sup_distance(mdp, t1.view(), t2.view()), gamma * d_in, d_in.max(noise));

    let scale = scale_of(reference.iter());
    let d0 = sup_distance(mdp, q1.view(), reference);
    let mut qk = q1.clone();
    for k in 1..=3 {
        qk = apply(qk.view());
        let dk = sup_distance(mdp, qk.view(), reference);
        worst = worst.max(at_most(&format!("‖Q_{k} − Q_fix‖ ≤ γ^{k}‖Q_0 − Q_fix‖"), dk, gamma.powi(k) * d0, scale));
    }
    let fixed = iterate(ops, mdp, beta, agg, Some(q1));
    worst.max(identity("iterated fixed point = crate solver", sup_distance(mdp, fixed.view(), reference), 0.0, scale))
}

/// Theorem 4.1 on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let policy = match Policy::stationary(&case.mdp, case.policy.clone()) {
        Ok(p) => p,
        Err(e) => return Violation::error(e),
    };
    match evaluate_policy(&case.mdp, case.beta, &policy, SolveOptions::default()) {
        Ok(sol) => contraction_and_fixed_point(case, ops, Aggregation::Policy(case.policy.view()), sol.q.view()),
        Err(e) => Violation::error(e),
    }
}
