//! The risk-neutral reference (β = ∞): expected discounted return by a linear solve.
//!
//! # Formula
//!
//! ```text
//! Q_∞(s,a) = r(s,a) + γ·Σ_{s'} P(s'|s,a)·V_∞(s'),   V_∞(s) = Σ_a π(a|s)·Q_∞(s,a)
//! stationary:  (I − γ P_π) V_∞ = r_π  on the non-terminal states (LU, nalgebra)
//! horizon T:   backward induction from V_T = 0
//! ```
//!
//! As β → ∞, `β·Q_β → Q_∞` (the certainty equivalent tends to the expected return).

use ndarray::{Array1, Array2, Array3, Axis};

use super::linear::{DENSE_SOLVE_MAX, Orientation, solve_chain};
use super::policy_improvement::{greedy_actions, improve};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::max_value;
use crate::policy::Policy;

fn q_from_v(mdp: &TabularMdp, v: &Array1<f64>) -> Array2<f64> {
    let mut q = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            q[[s, a]] = mdp.rewards()[[s, a]] + mdp.gamma() * mdp.row(s, a).iter().map(|(j, p)| p * v[j]).sum::<f64>();
        }
    }
    q
}

fn v_from_q(mdp: &TabularMdp, q: &Array2<f64>, pi: ndarray::ArrayView2<f64>) -> Array1<f64> {
    Array1::from_iter((0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0.0 } else { pi.row(s).dot(&q.row(s)) }))
}

/// Expected-return action values Q_∞ of a stationary policy on an infinite-horizon model.
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon or a time-dependent policy.
pub fn expected_q(mdp: &TabularMdp, policy: &Policy) -> Result<Array2<f64>> {
    let pi = policy.stationary_probs(mdp, "expected_q", "expected_q_finite_horizon")?;
    let s_count = mdp.n_states();
    let r_pi = |s: usize| (0..mdp.n_actions()).map(|a| pi[[s, a]] * mdp.rewards()[[s, a]]).sum::<f64>();
    if s_count > DENSE_SOLVE_MAX {
        return Ok(q_from_v(mdp, &iterative_evaluation(mdp, pi, r_pi)?));
    }
    let rhs: Vec<f64> = (0..s_count).map(r_pi).collect();
    let rows = |s: usize, a: usize| mdp.row(s, a).iter();
    // I − γP_π is non-singular: γ < 1, or γ = 1 with every policy terminating (checked at load).
    let v = solve_chain(mdp, mdp.gamma(), |s, a| pi[[s, a]], rows, &rhs, Orientation::Rows)
        .ok_or_else(|| Error::Unsupported { what: "expected_q: singular system".into() })?;
    Ok(q_from_v(mdp, &Array1::from(v)))
}

/// `v = r_π + γ·P_π v` by fixed-point iteration (large models), to 1e-12 relative: for γ < 1
/// the bound γ/(1−γ)·residual is certified; for γ = 1 (terminating) the iteration converges
/// and stops when the residual reaches rounding.
fn iterative_evaluation(
    mdp: &TabularMdp,
    pi: &ndarray::Array2<f64>,
    r_pi: impl Fn(usize) -> f64,
) -> Result<Array1<f64>> {
    let s_count = mdp.n_states();
    let gamma = mdp.gamma();
    let r: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { r_pi(s) }).collect();
    let mut v = Array1::<f64>::zeros(s_count);
    for _ in 0..10_000_000 {
        let next = Array1::from_iter((0..s_count).map(|s| {
            if mdp.is_terminal(s) {
                return 0.0;
            }
            r[s] + gamma
                * (0..mdp.n_actions())
                    .filter(|&a| pi[[s, a]] > 0.0)
                    .map(|a| pi[[s, a]] * mdp.row(s, a).iter().map(|(j, p)| p * v[j]).sum::<f64>())
                    .sum::<f64>()
        }));
        let residual = next.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let scale = next.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        v = next;
        let bound = if gamma < 1.0 { gamma / (1.0 - gamma) * residual } else { residual };
        if bound <= 1e-12 * scale || residual <= crate::tolerance::ROUNDING_FLOOR * scale {
            return Ok(v);
        }
    }
    Err(Error::Unsupported { what: "expected_q: the evaluation did not converge".into() })
}

/// Time-indexed expected-return values Q_∞,t (T, S, A) of a policy on a model with a horizon.
///
/// # Errors
/// [`Error::Unsupported`] for a model without horizon.
pub fn expected_q_finite_horizon(mdp: &TabularMdp, policy: Option<&Policy>) -> Result<Array3<f64>> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported { what: "expected_q_finite_horizon: the model has no horizon".into() });
    };
    let mut q = Array3::zeros((horizon, mdp.n_states(), mdp.n_actions()));
    let mut v = Array1::zeros(mdp.n_states());
    for t in (0..horizon).rev() {
        let q_t = q_from_v(mdp, &v);
        v = match policy {
            Some(p) => v_from_q(mdp, &q_t, p.at(t)),
            None => max_value(mdp, q_t.view()),
        };
        q.index_axis_mut(Axis(0), t).assign(&q_t);
    }
    Ok(q)
}

/// Optimal expected-return values Q*_∞ of an infinite-horizon model, by policy iteration with
/// exact linear solves. Returns Q and a greedy deterministic policy.
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon.
pub fn optimal_expected_q(mdp: &TabularMdp) -> Result<(Array2<f64>, Vec<usize>)> {
    let mut actions = greedy_actions(mdp, mdp.rewards().view());
    for _ in 0..10_000 {
        let q = expected_q(mdp, &Policy::deterministic(mdp, &actions)?)?;
        let (next, changed) = improve(mdp, q.view(), &actions);
        if !changed {
            return Ok((q, actions));
        }
        actions = next;
    }
    Err(Error::Unsupported { what: "optimal_expected_q: no stable policy after 10000 improvements".into() })
}
