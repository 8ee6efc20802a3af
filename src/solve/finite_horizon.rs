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
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;

fn induction(mdp: &TabularMdp, beta: Beta, policy: Option<&Policy>) -> (Array3<f64>, Array2<f64>, Array2<usize>) {
    let horizon = mdp.horizon().unwrap_or(1);
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
    (q, v, greedy)
}

/// Optimal time-indexed Q*_t by backward induction (a model without horizon is treated as T = 1).
pub fn solve_finite_horizon(mdp: &TabularMdp, beta: Beta) -> FiniteHorizonSolution {
    let (q, v, greedy) = induction(mdp, beta, None);
    let mut probs = Array3::zeros(q.raw_dim());
    for ((t, s), &a) in greedy.indexed_iter() {
        probs[[t, s, a]] = 1.0;
    }
    FiniteHorizonSolution { beta: beta.get(), q, v, policy: Policy::Markov(probs), greedy }
}

/// Time-indexed Q_π,t of a stationary or time-dependent policy by backward induction.
pub fn evaluate_finite_horizon(mdp: &TabularMdp, beta: Beta, policy: &Policy) -> FiniteHorizonSolution {
    let (q, v, greedy) = induction(mdp, beta, Some(policy));
    FiniteHorizonSolution { beta: beta.get(), q, v, policy: policy.clone(), greedy }
}
