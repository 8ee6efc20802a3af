//! The β sweep of a cliff gridworld ([`cliff_gridworld`](crate::verify::random::cliff_gridworld)).
//!
//! Checked on a log grid of [`SWEEP_POINTS`] β in [1e-2, 1e3] (shifted by a random fraction of a
//! step): the certainty equivalent `β·V*_β(s)` is non-increasing in β in every state (proved in
//! [`beta_limits`](super::beta_limits), `check_monotone`), and at the first grid point Q*
//! through the operators under test equals the crate's
//! [`value_iteration()`]. The number of changes of the greedy
//! action at the start along the grid is reported (the test asserts it is small).

use ndarray::Array1;

use super::{Violation, at_most, identity, jittered_grid, over_states, scale_of};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::risk::Beta;
use crate::solve::{SolveOptions, greedy_actions, value_iteration};
use crate::verify::operators::{Operators, iterate, sup_distance};
use crate::verify::random::Case;

/// Grid points of the sweep.
pub const SWEEP_POINTS: usize = 25;

/// The sweep: per β, the certainty equivalents `β·V*_β` and the greedy actions.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The β grid.
    pub betas: Vec<f64>,
    /// `β·V*_β(s)` per grid point.
    pub certainty_equivalents: Vec<Array1<f64>>,
    /// Greedy action per state per grid point.
    pub greedy: Vec<Vec<usize>>,
}

impl Sweep {
    /// How often the greedy action at `state` changes along the grid.
    pub fn switches(&self, state: usize) -> usize {
        self.greedy.windows(2).filter(|w| w[0][state] != w[1][state]).count()
    }
}

/// Sweep β over `betas` through `ops`.
pub fn sweep(ops: &dyn Operators, mdp: &TabularMdp, betas: &[f64]) -> Sweep {
    let mut out = Sweep { betas: betas.to_vec(), certainty_equivalents: vec![], greedy: vec![] };
    for &b in betas {
        let beta = Beta::new(b).expect("sweep: β on a positive grid");
        let q = iterate(ops, mdp, beta, Aggregation::Max, None);
        out.certainty_equivalents.push(ops.max_value(mdp, q.view()).mapv(|x| b * x));
        out.greedy.push(greedy_actions(mdp, q.view()));
    }
    out
}

/// The grid of one case: fixed ends, shifted by the fractional part of log β in steps.
pub fn grid_of(case: &Case) -> Vec<f64> {
    let step = (1e3f64 / 1e-2).ln() / (SWEEP_POINTS - 1) as f64;
    let u = ((case.beta.get() / 1e-2).ln() / step).fract().abs();
    jittered_grid(1e-2, 1e3, SWEEP_POINTS, u)
}

/// The gridworld sweep on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let mdp = &case.mdp;
    let betas = grid_of(case);
    let sw = sweep(ops, mdp, &betas);
    let mut worst = Violation::none();
    for (i, w) in sw.certainty_equivalents.windows(2).enumerate() {
        let scale = scale_of(w[0].iter().chain(w[1].iter()));
        worst = worst.max(over_states(mdp, |s| {
            at_most(&format!("βV*(s{s}) at β={:.4e} ≤ at β={:.4e}", betas[i + 1], betas[i]), w[1][s], w[0][s], scale)
        }));
    }
    let beta = Beta::new(betas[0]).expect("positive grid");
    match value_iteration(mdp, beta, SolveOptions::default()) {
        Ok(sol) => {
            let q = iterate(ops, mdp, beta, Aggregation::Max, None);
            let scale = scale_of(sol.q.iter());
            worst.max(identity("Q* = crate value_iteration", sup_distance(mdp, q.view(), sol.q.view()), 0.0, scale))
        }
        Err(e) => Violation::error(e),
    }
}
