//! Risk-sensitive policy iteration, Theorem 4.3.
//!
//! Alternate exact evaluation of a deterministic policy (Theorem 4.1) and greedy improvement
//! (Theorem 4.2) until the policy is stable; the result is deterministic and its Q is the
//! fixed point of T* (Lemma 4.1). Starts from the policy greedy for the immediate reward.
//!
//! # Evaluation by Newton's method
//!
//! For a deterministic policy a(s), the evaluation equation `V = T_a V` is smooth, monotone and
//! convex in V (log-sum-exp). Newton's method on `F(V) = T_a V − V` solves, at each step,
//!
//! ```text
//! (I − γ·Q_V) ΔV = T_a V − V,     Q_V[s][s'] = q(s'|s,a(s)) ∝ P(s'|s,a(s))·exp V(s')   (Eq. 4)
//! ```
//!
//! i.e. a risk-neutral evaluation under the posterior dynamics. Convexity makes the iterates
//! converge monotonically (from the second step on) and quadratically near the solution, where
//! plain iteration needs ~log(tol)/log(γ) sweeps. On models up to [`NEWTON_MAX_STATES`] states
//! each step is one dense LU; the result is then certified by the same fixed-point loop (and
//! its bound) as every other evaluation, which needs a sweep or two from there.

use nalgebra::{DMatrix, DVector};
use ndarray::Array1;

use super::iteration::{Aggregator, fixed_point};
use super::policy_improvement::{greedy_actions, improve};
use super::{SolveOptions, StationarySolution};
use crate::error::{Error, Result};
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::posterior_row;
use crate::policy::Policy;
use crate::risk::Beta;

/// Largest model evaluated by Newton steps (dense LU, O(S³) each); larger ones iterate.
pub const NEWTON_MAX_STATES: usize = 1500;

/// Newton's method for `V = T_a V` (see the module docs). `None` if a step fails (then the
/// caller iterates instead).
fn newton_evaluate(mdp: &TabularMdp, beta: Beta, actions: &[usize], v0: Option<Array1<f64>>) -> Option<Array1<f64>> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut v = v0.unwrap_or_else(|| Array1::zeros(s_count)).to_vec();
    let mut q = vec![0.0; s_count * a_count];
    for _ in 0..50 {
        backup_into(mdp, beta, &v, &mut q);
        let residual: Vec<f64> =
            (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { q[s * a_count + actions[s]] - v[s] }).collect();
        let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        if residual.iter().all(|r| r.abs() <= 1e-15 * scale) {
            return Some(Array1::from(v));
        }
        let mut jacobian = DMatrix::<f64>::identity(s_count, s_count);
        for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
            for (j, qj) in posterior_row(mdp, &v, s, actions[s]) {
                if !mdp.is_terminal(j) {
                    jacobian[(s, j)] -= mdp.gamma() * qj;
                }
            }
        }
        let step = jacobian.lu().solve(&DVector::from_vec(residual))?;
        for (x, d) in v.iter_mut().zip(step.iter()) {
            *x += d;
        }
        if !v.iter().all(|x| x.is_finite()) {
            return None;
        }
    }
    None
}

/// Optimal values by policy iteration on an infinite-horizon model.
///
/// `iterations` counts evaluation sweeps over all steps, `policy_updates` the improvements.
/// Each evaluation starts from the previous values (warm start).
///
/// # Errors
/// As [`value_iteration()`](super::value_iteration()); also [`Error::Unsupported`] if the policy
/// has not settled after 10 000 improvements (which exact arithmetic rules out).
pub fn policy_iteration(mdp: &TabularMdp, beta: Beta, options: SolveOptions) -> Result<StationarySolution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return Err(Error::Unsupported {
            what: "policy_iteration: the model has a horizon; use solve_finite_horizon".into(),
        });
    }
    let mut actions = greedy_actions(mdp, mdp.rewards().view());
    let mut sweeps = 0;
    let mut v0 = None;
    for updates in 0..10_000 {
        let policy = Policy::deterministic(mdp, &actions)?;
        let Policy::Stationary(pi) = &policy else { unreachable!("deterministic policies are stationary") };
        let start = if mdp.n_states() <= NEWTON_MAX_STATES {
            newton_evaluate(mdp, beta, &actions, v0.clone()).or(v0.take())
        } else {
            v0.take()
        };
        let fp = fixed_point(mdp, beta, Aggregator::Policy(pi.view()), options, start)?;
        sweeps += fp.iterations;
        let (next, changed) = improve(mdp, fp.q.view(), &actions);
        if !changed {
            return Ok(StationarySolution {
                beta: beta.get(),
                greedy: greedy_actions(mdp, fp.q.view()),
                q: fp.q,
                v: fp.v,
                policy,
                iterations: sweeps,
                policy_updates: updates,
                residual: fp.residual,
                error_bound: fp.error_bound,
                termination: fp.termination,
            });
        }
        v0 = Some(fp.v);
        actions = next;
    }
    Err(Error::Unsupported { what: "policy_iteration: no stable policy after 10000 improvements".into() })
}
