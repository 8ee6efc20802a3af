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

/// TIE · max |Q(s,·)| over the finite entries: an action worth −∞ must not make every other
/// action a tie of the best.
pub(crate) fn tie_margin(row: &[f64]) -> f64 {
    tolerance::TIE * row.iter().filter(|x| x.is_finite()).fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE)
}

/// The greedy deterministic policy: lowest-index action within the tie margin of the maximum
/// (action 0 at terminal states).
///
/// # Formula
///
/// ```text
/// π'(s) = argmax_a Q(s,a)        (Theorem 4.2)
/// ```
///
/// # Examples
/// ```
/// use ndarray::array;
/// use riskmdp::envs::risky_arm;
/// use riskmdp::solve::greedy_actions;
/// let mdp = risky_arm();
/// let q = array![[-5.0, -2.3], [-10.0, -10.0], [0.0, 0.0], [9.0, 0.0], [0.0, 0.0], [0.0, 0.0]];
/// // S: `right` (index 1) is better; A, B: a tie goes to index 0; C is terminal: 0.
/// assert_eq!(greedy_actions(&mdp, q.view()), vec![1, 0, 0, 0, 0, 0]);
/// ```
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
///
/// # Formula
///
/// ```text
/// π'(s) = π(s) if Q(s,π(s)) is within the tie margin of max_a Q(s,a), else argmax_a Q(s,a)
/// V_{π'} ≥ V_π in every state                                                (Theorem 4.2)
/// ```
///
/// # Examples
/// One step of policy iteration on the risky arm at β = 1: from `left` everywhere, evaluating
/// and improving switches S to the gamble, and the improved policy is worth more.
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::solve::improve;
/// use riskmdp::{Beta, Policy, SolveOptions, evaluate_policy};
/// let (mdp, beta) = (risky_arm::risky_arm(), Beta::new(1.0)?);
/// let current = vec![LEFT; 6];
/// let old = evaluate_policy(&mdp, beta, &Policy::deterministic(&mdp, &current)?, SolveOptions::default())?;
/// let (next, changed) = improve(&mdp, old.q.view(), &current);
/// assert!(changed && next[S] == RIGHT && next[1] == LEFT); // A's two actions tie: kept
/// let new = evaluate_policy(&mdp, beta, &Policy::deterministic(&mdp, &next)?, SolveOptions::default())?;
/// assert!(new.v[S] > old.v[S]);
/// # Ok::<(), riskmdp::Error>(())
/// ```
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
