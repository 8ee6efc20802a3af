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

use super::iteration::{Aggregator, fixed_point};
use super::policy_improvement::greedy_actions;
use super::{SolveOptions, StationarySolution};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::policy::Policy;
use crate::risk::Beta;

/// Evaluate a stationary policy on an infinite-horizon model: Q_π, V_π (Theorem 4.1).
///
/// # Errors
/// [`Error::Unsupported`] for a time-dependent policy or a model with a horizon (use
/// [`evaluate_finite_horizon`](super::evaluate_finite_horizon)); [`Error::InfiniteValue`] or
/// [`Error::UndecidedFiniteness`] when γ = 1 and the value is not certified finite.
pub fn evaluate_policy(
    mdp: &TabularMdp,
    beta: Beta,
    policy: &Policy,
    options: SolveOptions,
) -> Result<StationarySolution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return Err(Error::Unsupported {
            what: "evaluate_policy: the model has a horizon; use evaluate_finite_horizon".into(),
        });
    }
    let Policy::Stationary(pi) = policy else {
        return Err(Error::Unsupported { what: "policy: a time-dependent policy needs a model with a horizon".into() });
    };
    let fp = fixed_point(mdp, beta, Aggregator::Policy(pi.view()), options, None)?;
    let greedy = greedy_actions(mdp, fp.q.view());
    Ok(StationarySolution {
        beta: beta.get(),
        q: fp.q,
        v: fp.v,
        policy: policy.clone(),
        greedy,
        iterations: fp.iterations,
        policy_updates: 0,
        residual: fp.residual,
        error_bound: fp.error_bound,
        termination: fp.termination,
    })
}
