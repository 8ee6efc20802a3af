//! Risk-sensitive value iteration: the fixed point of T*, Lemma 4.1.
//!
//! # Formula
//!
//! ```text
//! Q* = lim_k (T*)^k Q_0,   (T* Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp max_{a'} Q(s',a')
//! ```
//!
//! The stopping rule bounds the error of the *values* (γ/(1−γ)·residual for γ < 1), not only
//! of the greedy policy.

use super::iteration::fixed_point;
use super::policy_improvement::greedy_actions;
use super::{SolveOptions, StationarySolution};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;

/// Optimal scaled values Q*, V* of an infinite-horizon model and a greedy deterministic policy.
///
/// # Formula
///
/// ```text
/// V_{k+1} = max_a (B V_k)(·,a),   (B V)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')   (Lemma 4.1)
/// stop when the certified bound γ/(1−γ)·‖V_{k+1} − V_k‖ (γ < 1) falls below tol·scale
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon (use
/// [`solve_finite_horizon`](super::solve_finite_horizon)); [`Error::InfiniteValue`] or
/// [`Error::UndecidedFiniteness`] when γ = 1 and the optimum is not certified finite.
///
/// # Examples
/// ```
/// use riskmdp::{Beta, MdpSpec, SolveOptions, TabularMdp, value_iteration};
/// // One state, reward 1 per step, γ = 0.5: Q* = (1/β)/(1 − γ) = 2 at β = 1.
/// let mdp = TabularMdp::new(MdpSpec {
///     name: "loop".into(), state_names: None, action_names: None,
///     gamma: 0.5, horizon: None, initial: None, terminal: None,
///     transitions: vec![vec![vec![1.0]]].into(), rewards: vec![vec![1.0]], grid: None,
/// })?;
/// let sol = value_iteration(&mdp, Beta::new(1.0)?, SolveOptions::default())?;
/// assert!((sol.q[[0, 0]] - 2.0).abs() <= sol.error_bound + 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn value_iteration(mdp: &TabularMdp, beta: Beta, options: SolveOptions) -> Result<StationarySolution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return Err(Error::Unsupported {
            what: "value_iteration: the model has a horizon; use solve_finite_horizon".into(),
        });
    }
    let fp = fixed_point(mdp, beta, Aggregation::Max, options, None)?;
    let greedy = greedy_actions(mdp, fp.q.view());
    let policy = Policy::deterministic(mdp, &greedy)?;
    Ok(StationarySolution::from_fixed_point(beta, fp, policy, greedy))
}
