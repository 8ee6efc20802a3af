//! Greedy policy improvement, Theorem 4.2.
//!
//! # Formula
//!
//! ```text
//! π'(s) = argmax_a Q_π(s,a)      ⇒   V_{π'}(s) ≥ V_π(s) for every s
//! ```
//!
//! Ties (within [`crate::tolerance::TIE`] of the row's scale) go to the lowest
//! action index, or to the current action in [`improve`], so that policy iteration stops.

use ndarray::ArrayView2;

use crate::mdp::TabularMdp;
use crate::tolerance;

fn tie_margin(row: &[f64]) -> f64 {
    tolerance::TIE * row.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE)
}

/// The greedy deterministic policy: lowest-index action within the tie margin of the maximum
/// (action 0 at terminal states).
pub fn greedy_actions(mdp: &TabularMdp, q: ArrayView2<f64>) -> Vec<usize> {
    (0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0 } else { greedy_in_row(&q.row(s).to_vec()) }).collect()
}

/// The greedy action of one row of Q: the lowest index within the tie margin of the maximum.
pub(crate) fn greedy_in_row(row: &[f64]) -> usize {
    let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let margin = tie_margin(row);
    row.iter().position(|&x| x >= best - margin).unwrap_or(0)
}

/// Improve `current` greedily w.r.t. `q`, keeping the current action where it is within the
/// tie margin of the best. Returns the new actions and whether any changed.
pub fn improve(mdp: &TabularMdp, q: ArrayView2<f64>, current: &[usize]) -> (Vec<usize>, bool) {
    let greedy = greedy_actions(mdp, q);
    let mut changed = false;
    let next = (0..mdp.n_states())
        .map(|s| {
            let row = q.row(s).to_vec();
            let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if mdp.is_terminal(s) || row[current[s]] >= best - tie_margin(&row) {
                current[s]
            } else {
                changed = true;
                greedy[s]
            }
        })
        .collect();
    (next, changed)
}
