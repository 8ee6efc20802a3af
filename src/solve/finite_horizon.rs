//! Finite horizon: backward induction with time-indexed values and policies.
//!
//! # Formula
//!
//! ```text
//! V_T = 0
//! Q_t(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_{t+1}(s')      t = T−1, …, 0
//! V_t(s)   = log Σ_a π_t(a|s)·exp Q_t(s,a)     (policy)   or   max_a Q_t(s,a)   (optimum)
//! ```
//!
//! With γ = 1, `β·V_0(s)` is exactly the exponential utility `β·log E[exp(Σ_t r_t/β)]` of
//! Eq. (6) (see [`utility`](crate::utility)).

use ndarray::{Array2, Array3, Axis};

use super::FiniteHorizonSolution;
use super::policy_improvement::greedy_actions;
use crate::error::{Error, Result};
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;

fn induction(
    mdp: &TabularMdp,
    beta: Beta,
    policy: Option<&Policy>,
) -> Result<(Array3<f64>, Array2<f64>, Array2<usize>)> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported {
            what: "backward induction needs a model with a horizon; use value or policy iteration".into(),
        });
    };
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut q = Array3::zeros((horizon, s_count, a_count));
    let mut v = Array2::zeros((horizon + 1, s_count));
    let mut greedy = Array2::zeros((horizon, s_count));
    for t in (0..horizon).rev() {
        let mut buf = vec![0.0; s_count * a_count];
        backup_into(mdp, beta, &v.row(t + 1).to_vec(), &mut buf);
        let q_t = Array2::from_shape_vec((s_count, a_count), buf).expect("S×A");
        let v_t = match policy {
            Some(p) => Aggregation::Policy(p.at(t)),
            None => Aggregation::Max,
        }
        .value(mdp, q_t.view());
        for (s, a) in greedy_actions(mdp, q_t.view()).into_iter().enumerate() {
            greedy[[t, s]] = a;
        }
        q.index_axis_mut(Axis(0), t).assign(&q_t);
        v.row_mut(t).assign(&v_t);
    }
    Ok((q, v, greedy))
}

/// Optimal time-indexed Q*_t by backward induction (the max aggregation of Lemma 4.1 at every
/// step), with the greedy time-dependent policy.
///
/// # Formula
///
/// ```text
/// V_T = 0,  Q_t(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_{t+1}(s'),  V_t(s) = max_a Q_t(s,a)
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model without a horizon.
///
/// # Examples
/// With one step left only the immediate reward counts; with two the risky arm is solved.
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::{Beta, solve_finite_horizon};
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let sol = solve_finite_horizon(&mdp, Beta::new(1.0)?)?;
/// assert_eq!(sol.q.dim(), (2, 6, 2));
/// assert_eq!(sol.greedy[[1, S]], RIGHT); // last step: reward 0 beats −5
/// assert!((sol.q[[0, S, RIGHT]] - (0.9 * (-10f64).exp() + 0.1).ln()).abs() < 1e-15);
/// assert!((sol.q[[0, S, LEFT]] + 5.0).abs() < 1e-15);
/// assert_eq!(sol.v.row(2).sum(), 0.0); // V_T = 0
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn solve_finite_horizon(mdp: &TabularMdp, beta: Beta) -> Result<FiniteHorizonSolution> {
    let (q, v, greedy) = induction(mdp, beta, None)?;
    let mut probs = Array3::zeros(q.raw_dim());
    for ((t, s), &a) in greedy.indexed_iter() {
        probs[[t, s, a]] = 1.0;
    }
    Ok(FiniteHorizonSolution { beta: beta.get(), q, v, policy: Policy::Markov(probs), greedy })
}

/// Time-indexed Q_π,t of a stationary or time-dependent policy by backward induction.
///
/// With γ = 1, `β·V_0(s)` is the exponential utility of Eq. (6) (see
/// [`exponential_utility`](crate::utility::exponential_utility)).
///
/// # Formula
///
/// ```text
/// V_T = 0,  Q_t(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_{t+1}(s'),
/// V_t(s) = log Σ_a π_t(a|s)·exp Q_t(s,a)                                      (Eqs. 2, 15)
/// ```
///
/// # Errors
/// [`Error::Unsupported`] for a model without a horizon.
///
/// # Examples
/// The uniform policy on the risky arm (horizon 2, γ = 1): β·V_0(S) equals the exponential
/// utility of its return, computed by enumerating trajectories.
/// ```
/// use riskmdp::envs::risky_arm::{self, S};
/// use riskmdp::utility::exponential_utility;
/// use riskmdp::{Beta, Policy, evaluate_finite_horizon};
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let (beta, uniform) = (Beta::new(4.0)?, Policy::uniform(&mdp));
/// let sol = evaluate_finite_horizon(&mdp, beta, &uniform)?;
/// let utility = exponential_utility(&mdp, beta, &uniform, S, 1000)?;
/// assert!((4.0 * sol.v[[0, S]] - utility.certainty_equivalent).abs() < 1e-12);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn evaluate_finite_horizon(mdp: &TabularMdp, beta: Beta, policy: &Policy) -> Result<FiniteHorizonSolution> {
    let (q, v, greedy) = induction(mdp, beta, Some(policy))?;
    Ok(FiniteHorizonSolution { beta: beta.get(), q, v, policy: policy.clone(), greedy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_induction_without_a_horizon_is_an_error_not_one_step() {
        let mdp = crate::envs::risky_arm();
        assert!(mdp.horizon().is_none());
        let beta = Beta::new(1.0).expect("β > 0");
        assert!(matches!(solve_finite_horizon(&mdp, beta), Err(Error::Unsupported { .. })));
        let pi = Policy::uniform(&mdp);
        assert!(matches!(evaluate_finite_horizon(&mdp, beta, &pi), Err(Error::Unsupported { .. })));
        let with = mdp.with_horizon(Some(2)).expect("T = 2 is valid");
        assert_eq!(solve_finite_horizon(&with, beta).expect("has a horizon").q.dim(), (2, 6, 2));
    }
}
