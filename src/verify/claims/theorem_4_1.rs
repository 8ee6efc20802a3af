//! Theorem 4.1 (risk-sensitive policy evaluation): T_π is a γ-contraction in sup norm and
//! `T_π^k Q → Q_π`.
//!
//! Checked on discounted random MDPs, through the operators under test:
//!
//! * `contraction` — for two random Q (spread up to ‖r‖/(β(1−γ))),
//!   `‖T_π Q1 − T_π Q2‖ ≤ γ‖Q1 − Q2‖`;
//! * `fixed-point` — iteration from Q1 reaches a fixed point: `‖T_π Q_fix − Q_fix‖ ≈ 0`;
//! * `geometric-rate` — the first three iterates obey `‖Q_k − Q_fix‖ ≤ γ^k‖Q_0 − Q_fix‖`;
//! * `equals-solver` — `Q_fix` equals the crate's [`evaluate_policy`].

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, scale_of};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::solve::{SolveOptions, evaluate_policy};
use crate::verify::operators::{Operators, iterate, sup_distance};
use crate::verify::random::{Case, log_uniform};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of Theorem 4.1.
pub const CHECKS: &[&str] = &["contraction", "fixed-point", "geometric-rate", EQUALS_SOLVER];

/// A random Q with entries in `[−spread, spread]`.
pub(crate) fn random_q(rng: &mut ChaCha8Rng, mdp: &TabularMdp, spread: f64) -> Array2<f64> {
    Array2::from_shape_fn((mdp.n_states(), mdp.n_actions()), |_| spread * rng.random_range(-1.0..=1.0))
}

/// `contraction`, `fixed-point` and `geometric-rate` of `T` (`T_π` or `T*`) through `ops`;
/// returns the fixed point reached.
pub(crate) fn contraction_and_fixed_point(
    case: &Case,
    ops: &dyn Operators,
    agg: Aggregation,
    checks: &mut Checks,
) -> Array2<f64> {
    let (mdp, beta, gamma) = (&case.mdp, case.beta, case.mdp.gamma());
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let r_max = mdp.rewards().iter().fold(0.0f64, |m, x| m.max(x.abs())) / beta.get() / (1.0 - gamma);
    // The spread of the random Q functions (not a tolerance): at least 1 nat.
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
    checks.record(
        "contraction",
        at_most("‖TQ1 − TQ2‖ ≤ γ‖Q1 − Q2‖", sup_distance(mdp, t1.view(), t2.view()), gamma * d_in, d_in.max(noise)),
    );

    let fixed = iterate(ops, mdp, beta, agg, Some(q1.clone()));
    let scale = scale_of(fixed.iter());
    let residual = sup_distance(mdp, apply(fixed.view()).view(), fixed.view());
    checks.record("fixed-point", identity("‖T Q_fix − Q_fix‖ = 0", residual, 0.0, scale));
    let d0 = sup_distance(mdp, q1.view(), fixed.view());
    let mut qk = q1;
    let mut rate = Violation::none();
    for k in 1..=3 {
        qk = apply(qk.view());
        let dk = sup_distance(mdp, qk.view(), fixed.view());
        rate = rate.max(at_most(&format!("‖Q_{k} − Q_fix‖ ≤ γ^{k}‖Q_0 − Q_fix‖"), dk, gamma.powi(k) * d0, scale));
    }
    checks.record("geometric-rate", rate);
    fixed
}

/// `equals-solver`: the fixed point through the operators equals the crate's solution.
pub(crate) fn equals_solver(
    case: &Case,
    fixed: ArrayView2<f64>,
    reference: crate::Result<Array2<f64>>,
    checks: &mut Checks,
) {
    let v = match reference {
        Ok(q) => identity(
            "fixed point through the operators = crate solver",
            sup_distance(&case.mdp, fixed, q.view()),
            0.0,
            scale_of(q.iter()),
        ),
        Err(e) => Violation::error(e),
    };
    checks.record(EQUALS_SOLVER, v);
}

/// Theorem 4.1 on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let mut checks = Checks::new();
    let fixed = contraction_and_fixed_point(case, ops, Aggregation::Policy(case.policy.view()), &mut checks);
    if scope.with_solver() {
        let reference = Policy::stationary(&case.mdp, case.policy.clone())
            .and_then(|p| evaluate_policy(&case.mdp, case.beta, &p, SolveOptions::default()))
            .map(|sol| sol.q);
        equals_solver(case, fixed.view(), reference, &mut checks);
    }
    checks
}
