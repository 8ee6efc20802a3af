//! The β sweep of a cliff gridworld ([`cliff_gridworld`](crate::verify::random::cliff_gridworld),
//! the 4×4 [`Gridworld::cliff_4x4`](crate::envs::Gridworld::cliff_4x4)).
//!
//! Checked on a log grid of [`SWEEP_POINTS`] β in [1e-2, 1e3] (shifted by a random fraction of a
//! step), through the operators under test:
//!
//! * `monotone` — the certainty equivalent `β·V*_β(s)` is non-increasing in β in every state
//!   (proved in [`beta_limits`](super::beta_limits), `check_monotone`);
//! * `risk-neutral-limit` — at the largest β the greedy policy loses at most the Hoeffding bound
//!   `γ·S_V²/(8β(1−γ))` of expected return against the risk-neutral optimum in every state (the
//!   `beta-large` theorem; risk-neutral values by the crate's linear solves);
//! * `equals-solver` — at the first grid point Q* equals the crate's [`value_iteration()`].
//!
//! The number of changes of the greedy action per cell along the grid is available from
//! [`sweep`] (`tests/gridworld_beta_sweep.rs` checks it against the two limits).

use ndarray::{Array1, Array2};

use super::{Violation, at_most, identity, jittered_grid, one_hot, over_states, scale_of, support_span};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::solve::risk_neutral::{expected_q, optimal_expected_q};
use crate::solve::{SolveOptions, value_iteration};
use crate::verify::operators::{Operators, iterate, max_or_nan, sup_distance};
use crate::verify::random::Case;
use crate::verify::{Checks, EQUALS_SOLVER, Scope};

/// Grid points of the sweep.
pub const SWEEP_POINTS: usize = 25;

/// The sub-checks of the gridworld sweep.
pub const CHECKS: &[&str] = &["monotone", "risk-neutral-limit", EQUALS_SOLVER];

/// The sweep: per β, the certainty equivalents `β·V*_β` and the greedy actions.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The β grid.
    pub betas: Vec<f64>,
    /// `β·V*_β(s)` per grid point.
    pub certainty_equivalents: Vec<Array1<f64>>,
    /// Greedy action per state per grid point.
    pub greedy: Vec<Vec<usize>>,
    /// Q*_β per grid point.
    pub q: Vec<Array2<f64>>,
}

impl Sweep {
    /// How often the greedy action at `state` changes from one grid point to the next: a lower
    /// bound on its switches ([`every_switch`](crate::sweep::every_switch) finds them all).
    pub fn switches(&self, state: usize) -> usize {
        self.greedy.windows(2).filter(|w| w[0][state] != w[1][state]).count()
    }
}

/// Sweep β over `betas` through `ops`.
///
/// # Panics
/// If a β of the grid is not positive.
pub fn sweep(ops: &dyn Operators, mdp: &TabularMdp, betas: &[f64]) -> Sweep {
    let mut out = Sweep { betas: betas.to_vec(), certainty_equivalents: vec![], greedy: vec![], q: vec![] };
    for &b in betas {
        let beta = Beta::new(b).expect("sweep: β on a positive grid");
        let q = iterate(ops, mdp, beta, Aggregation::Max, None);
        out.certainty_equivalents.push(ops.max_value(mdp, q.view()).mapv(|x| b * x));
        out.greedy.push(ops.greedy(mdp, q.view()));
        out.q.push(q);
    }
    out
}

/// The grid of one case: fixed ends, shifted by the fractional part of log β in steps.
pub fn grid_of(case: &Case) -> Vec<f64> {
    let step = (1e3f64 / 1e-2).ln() / (SWEEP_POINTS - 1) as f64;
    let u = ((case.beta.get() / 1e-2).ln() / step).fract().abs();
    jittered_grid(1e-2, 1e3, SWEEP_POINTS, u)
}

/// `γ·S_V²/(8β(1−γ))` bounds the expected return the greedy policy of Q*_β loses against the
/// risk-neutral optimum (`beta_limits`); the violation of that bound at the last grid point.
fn risk_neutral_limit(mdp: &TabularMdp, sw: &Sweep) -> Violation {
    let (Some(&b), Some(w), Some(greedy)) = (sw.betas.last(), sw.certainty_equivalents.last(), sw.greedy.last()) else {
        return Violation::none();
    };
    let gamma = mdp.gamma();
    let result = (|| -> crate::Result<Violation> {
        let (q_inf, _) = optimal_expected_q(mdp)?;
        let v_inf: Vec<f64> = (0..mdp.n_states())
            .map(|s| {
                if mdp.is_terminal(s) { 0.0 } else { q_inf.row(s).iter().copied().fold(f64::NEG_INFINITY, max_or_nan) }
            })
            .collect();
        let q_g = expected_q(mdp, &Policy::stationary(mdp, one_hot(mdp.n_actions(), greedy))?)?;
        let s_v = support_span(mdp, w.view());
        let bound = gamma * s_v * s_v / (8.0 * b * (1.0 - gamma));
        let scale = scale_of(v_inf.iter().chain(w.iter()));
        Ok(over_states(mdp, |s| {
            at_most(
                &format!("V*_∞ − V_∞^greedy (s{s}) at β={b:.4e} ≤ Hoeffding bound {bound:.3e}"),
                v_inf[s] - q_g[[s, greedy[s]]],
                bound,
                scale,
            )
        }))
    })();
    result.unwrap_or_else(Violation::error)
}

/// The gridworld sweep on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let mdp = &case.mdp;
    let betas = grid_of(case);
    let sw = sweep(ops, mdp, &betas);
    let mut checks = Checks::new();
    let mut monotone = Violation::none();
    for (i, w) in sw.certainty_equivalents.windows(2).enumerate() {
        let scale = scale_of(w[0].iter().chain(w[1].iter()));
        monotone = monotone.max(over_states(mdp, |s| {
            at_most(&format!("βV*(s{s}) at β={:.4e} ≤ at β={:.4e}", betas[i + 1], betas[i]), w[1][s], w[0][s], scale)
        }));
    }
    checks.record("monotone", monotone);
    checks.record("risk-neutral-limit", risk_neutral_limit(mdp, &sw));
    if scope.with_solver() {
        let beta = Beta::new(betas[0]).expect("positive grid");
        let v = match value_iteration(mdp, beta, SolveOptions::default()) {
            Ok(sol) => identity(
                "Q* = crate value_iteration",
                sup_distance(mdp, sw.q[0].view(), sol.q.view()),
                0.0,
                scale_of(sol.q.iter()),
            ),
            Err(e) => Violation::error(e),
        };
        checks.record(EQUALS_SOLVER, v);
    }
    checks
}
