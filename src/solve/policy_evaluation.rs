//! Risk-sensitive policy evaluation, Theorem 4.1.
//!
//! # Formula
//!
//! ```text
//! Q_π = lim_k T_π^k Q_0,   (T_π Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_π[Q](s')
//! ```
//!
//! T_π is a γ-contraction in sup norm for γ < 1. For γ = 1 (a terminating model without
//! horizon) the value can be infinite; it is certified finite or reported as an error first.
//!
//! # Newton's method
//!
//! The evaluation equation `V = T_π V` (on state values) is smooth, monotone and convex in V
//! (log-sum-exp of affine maps). Newton's method on `F(V) = T_π V − V` solves, at each step,
//!
//! ```text
//! (I − γ·M_V) ΔV = T_π V − V,   M_V[s][s'] = Σ_a q(a|s)·q(s'|s,a)
//! q(a|s) ∝ π(a|s)·exp Q(s,a),   q(s'|s,a) ∝ P(s'|s,a)·exp V(s')        (posteriors, Eq. 4)
//! ```
//!
//! i.e. a risk-neutral evaluation under the posterior policy and dynamics. Convexity makes the
//! iterates converge monotonically from the second step on, and quadratically near the
//! solution, where plain iteration needs ~log(tol)/log(γ) sweeps (γ → 1, or a spectral radius
//! near 1 when γ = 1). Up to [`NEWTON_MAX_STATES`] states each step is one dense LU; the result
//! is then certified by the same fixed-point loop and bound as every other evaluation, which
//! needs a sweep or two from there.

use ndarray::{Array1, ArrayView2};

use super::iteration::fixed_point;
use super::linear::{Orientation, solve_chain};
use super::policy_improvement::greedy_actions;
use super::{SolveOptions, StationarySolution};
use crate::error::Result;
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::operators::{posterior_policy, posterior_row};
use crate::policy::Policy;
use crate::risk::Beta;

/// Largest model evaluated by Newton steps (dense LU, O(S³) each); larger ones iterate.
pub const NEWTON_MAX_STATES: usize = 1500;

/// Newton's method for `V = T_π V` (see the module docs) from `v0` (default 0). `None` if a
/// step fails; the caller then iterates instead. Stops when the residual reaches rounding.
pub(crate) fn newton_evaluate(
    mdp: &TabularMdp,
    beta: Beta,
    pi: ArrayView2<f64>,
    v0: Option<Array1<f64>>,
) -> Option<Array1<f64>> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut v = v0.unwrap_or_else(|| Array1::zeros(s_count));
    let mut q = vec![0.0; s_count * a_count];
    let mut previous = f64::INFINITY;
    for _ in 0..50 {
        backup_into(mdp, beta, v.as_slice()?, &mut q);
        if q.iter().any(|x| x.is_nan()) {
            return None; // the iteration the caller falls back on reports it
        }
        let tv = Aggregation::Policy(pi).value(mdp, ArrayView2::from_shape((s_count, a_count), &q[..]).ok()?);
        let residual: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { tv[s] - v[s] }).collect();
        let norm = residual.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        // Converged, or stalled at rounding (quadratic convergence has stopped halving it).
        if norm <= 1e-15 * scale || norm >= 0.5 * previous {
            return Some(v);
        }
        previous = norm;
        let values = v.to_vec();
        // The Jacobian is I − γ·M_V: the posterior policy q(a|s) ∝ π(a|s)·exp Q(s,a) times the
        // posterior dynamics q(s'|s,a) ∝ P(s'|s,a)·exp V(s').
        let q_view = ArrayView2::from_shape((s_count, a_count), &q[..]).ok()?;
        let q_pi = posterior_policy(mdp, pi, q_view);
        let weight = |s: usize, a: usize| q_pi[[s, a]];
        let rows = |s: usize, a: usize| posterior_row(mdp, &values, s, a);
        let step = solve_chain(mdp, mdp.gamma(), weight, rows, &residual, Orientation::Rows)?;
        v.iter_mut().zip(step.iter()).for_each(|(x, d)| *x += d);
        if !v.iter().all(|x| x.is_finite()) {
            return None;
        }
    }
    Some(v)
}

/// Evaluate a stationary policy on an infinite-horizon model: Q_π, V_π (Theorem 4.1), by
/// Newton's method (see the module docs) certified by the fixed-point bound.
///
/// # Formula
///
/// ```text
/// Q_π = T_π Q_π,   (T_π Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_π(s')     (Eq. 15)
/// V_π(s) = log Σ_a π(a|s)·exp Q_π(s,a)                                          (Eq. 2)
/// ```
///
/// # Errors
/// [`Unsupported`](crate::Error::Unsupported) for a time-dependent policy or a model with a
/// horizon (use [`evaluate_finite_horizon`](super::evaluate_finite_horizon));
/// [`InfiniteValue`](crate::Error::InfiniteValue) or
/// [`UndecidedFiniteness`](crate::Error::UndecidedFiniteness) when γ = 1 and the value is not
/// certified finite.
///
/// # Examples
/// One state that loops on itself with reward 1 and γ = 0.5 under a single action:
/// Q = (1/β)/(1 − γ) = 2 at β = 1.
/// ```
/// use riskmdp::{Beta, MdpSpec, Policy, SolveOptions, TabularMdp, evaluate_policy};
/// let mdp = TabularMdp::new(MdpSpec {
///     name: "loop".into(), state_names: None, action_names: None,
///     gamma: 0.5, horizon: None, initial: None, terminal: None,
///     transitions: vec![vec![vec![1.0]]].into(), rewards: vec![vec![1.0]], grid: None,
/// })?;
/// let sol = evaluate_policy(&mdp, Beta::new(1.0)?, &Policy::uniform(&mdp), SolveOptions::default())?;
/// assert!((sol.q[[0, 0]] - 2.0).abs() <= sol.error_bound + 1e-15);
/// assert!(sol.error_bound < 1e-11);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn evaluate_policy(
    mdp: &TabularMdp,
    beta: Beta,
    policy: &Policy,
    options: SolveOptions,
) -> Result<StationarySolution> {
    options.validate()?;
    let pi = policy.stationary_probs(mdp, "evaluate_policy", "evaluate_finite_horizon")?;
    // For γ = 1 an infinite value has no fixed point: whatever Newton returns, the fixed-point
    // loop certifies finiteness first and reports it.
    let start = if mdp.n_states() <= NEWTON_MAX_STATES { newton_evaluate(mdp, beta, pi.view(), None) } else { None };
    let fp = fixed_point(mdp, beta, Aggregation::Policy(pi.view()), options, start)?;
    let greedy = greedy_actions(mdp, fp.q.view());
    Ok(StationarySolution::from_fixed_point(beta, fp, policy.clone(), greedy))
}

/// Tests written for mutants that `scripts/mutants.sh src/solve/policy_evaluation.rs` found
/// missed (docs/mutation-testing.md). Newton's method only starts the certified iteration, so
/// a wrong start changes no value the solver returns; these check Newton's own contract.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::Gridworld;
    use crate::policy::Policy;

    /// Kills `tv[s] − v[s]` → `+`, `/` in the residual and `norm <= 1e-15·scale` → `>` in the
    /// stop of `newton_evaluate`: from V = 0 its result must satisfy V = T_π V to rounding
    /// (|T_π V − V| ≤ 1e-12·max|V|) on the cliff gridworld at β = 1 under the uniform policy.
    #[test]
    fn newtons_start_is_a_fixed_point_of_the_policy_operator_to_rounding() {
        let mdp = Gridworld::cliff().build().unwrap();
        let beta = Beta::new(1.0).unwrap();
        let Policy::Stationary(pi) = Policy::uniform(&mdp) else { unreachable!("uniform is stationary") };
        let v = newton_evaluate(&mdp, beta, pi.view(), None).expect("Newton converges here");
        let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
        let mut q = vec![0.0; s_count * a_count];
        backup_into(&mdp, beta, v.as_slice().unwrap(), &mut q);
        let tv =
            Aggregation::Policy(pi.view()).value(&mdp, ArrayView2::from_shape((s_count, a_count), &q[..]).unwrap());
        let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(scale > 1.0, "a non-trivial value: max |V| = {scale}");
        for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
            assert!((tv[s] - v[s]).abs() <= 1e-12 * scale, "state {s}: T_π V = {} but V = {}", tv[s], v[s]);
        }
    }
}
