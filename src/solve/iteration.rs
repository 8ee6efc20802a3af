//! The fixed-point loop shared by policy evaluation and value iteration.
//!
//! Iterates `V ← agg(B V)` ([`Aggregation`]: the soft value of a policy, Eq. 2, or the max,
//! Lemma 4.1) and
//! stops on a certified bound:
//! * γ < 1: the map is a γ-contraction in sup norm (Theorem 4.1, Lemma 4.1), so
//!   `‖V_{k+1} − V*‖ ≤ γ/(1−γ)·‖V_{k+1} − V_k‖`, and the same bound holds for Q = B V_k.
//! * γ = 1 (terminating model): the exp-space map is a c-contraction in the x-weighted norm of
//!   the finiteness [`Certificate`](super::certificate::Certificate); the weighted bound is
//!   turned back into a log-space bound per state.

use ndarray::{Array1, Array2, ArrayView2};

use super::certificate::{self, Certificate};
use super::{SolveOptions, StationarySolution, Termination};
use crate::error::{Error, Result};
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::tolerance;

use rayon::prelude::*;

/// Relative rounding error of one sweep (a few ulps of the values' scale).
const ROUNDING_SWEEP: f64 = 4.0 * f64::EPSILON;

/// States per rayon task in the per-state loops.
const PAR_MIN: usize = 8192;

/// Output of [`fixed_point`].
pub(crate) struct FixedPoint {
    pub q: Array2<f64>,
    pub v: Array1<f64>,
    pub iterations: usize,
    pub residual: f64,
    pub error_bound: f64,
    pub termination: Termination,
}

impl StationarySolution {
    /// The solution of a stationary solver that ended with `fp`, for `policy` and its `greedy`
    /// actions (no policy updates).
    pub(crate) fn from_fixed_point(beta: Beta, fp: FixedPoint, policy: Policy, greedy: Vec<usize>) -> Self {
        StationarySolution {
            beta: beta.get(),
            q: fp.q,
            v: fp.v,
            policy,
            greedy,
            iterations: fp.iterations,
            policy_updates: 0,
            residual: fp.residual,
            error_bound: fp.error_bound,
            termination: fp.termination,
        }
    }
}

fn sup_over_nonterminal(mdp: &TabularMdp, x: impl Fn(usize) -> f64 + Sync + Send) -> f64 {
    (0..mdp.n_states())
        .into_par_iter()
        .with_min_len(PAR_MIN)
        .filter(|&s| !mdp.is_terminal(s))
        .map(x)
        .reduce(|| 0.0, f64::max)
}

/// log-space error bound of `v_new` from the weighted contraction (γ = 1).
fn weighted_bound(cert: &Certificate, v_old: &Array1<f64>, v_new: &Array1<f64>, mdp: &TabularMdp) -> f64 {
    let lx = &cert.log_weights;
    if cert.log_rate == f64::NEG_INFINITY {
        return 0.0;
    }
    // ln(c / (1 − c))
    let log_factor = cert.log_rate - (-cert.log_rate.exp_m1()).ln();
    let nonterminal = || (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s));
    let log_step = nonterminal()
        .map(|s| v_old[s] - lx[s] + (v_new[s] - v_old[s]).exp_m1().abs().ln())
        .fold(f64::NEG_INFINITY, f64::max);
    let log_b = log_factor + log_step;
    nonterminal()
        .map(|s| {
            let eta = (lx[s] + log_b - v_new[s]).exp();
            if eta < 1.0 { -(-eta).ln_1p() } else { f64::INFINITY }
        })
        .fold(0.0, f64::max)
}

/// Actions whose Q lies more than this many nats below V(s) weigh less than e^−40 ≈ 4e-18 in
/// the soft value and nothing in the max: their rounding cannot reach V.
const CONTRIBUTING_NATS: f64 = 40.0;

/// The largest |r(s,a)/β| among the actions that contribute to V(s): with V and the next-state
/// values it bounds the magnitudes one sweep adds up, hence its rounding. Actions far below the
/// value are left out, so that a huge reward on a dominated action (−1e300, say) cannot pass a
/// residual of several nats off as rounding noise.
fn reward_scale(mdp: &TabularMdp, beta: Beta, q: &[f64], v: &Array1<f64>) -> f64 {
    let (a_count, b) = (mdp.n_actions(), beta.get());
    sup_over_nonterminal(mdp, |s| {
        let r = mdp.rewards().row(s);
        q[s * a_count..(s + 1) * a_count]
            .iter()
            .zip(r.iter())
            .filter(|&(&q, _)| q >= v[s] - CONTRIBUTING_NATS)
            .fold(0.0, |m: f64, (_, r)| m.max((r / b).abs()))
    })
}

/// Iterate to the fixed point of `V ← agg(B V)` from `v0` (default 0).
///
/// # Errors
/// From the finiteness certificate when γ = 1.
pub(crate) fn fixed_point(
    mdp: &TabularMdp,
    beta: Beta,
    agg: Aggregation,
    options: SolveOptions,
    v0: Option<Array1<f64>>,
) -> Result<FixedPoint> {
    let gamma = mdp.gamma();
    let cert = if gamma >= 1.0 { Some(certificate::certify(mdp, beta, &agg)?) } else { None };
    let mut v = v0.unwrap_or_else(|| Array1::zeros(mdp.n_states()));
    let mut q = vec![0.0; mdp.n_states() * mdp.n_actions()];
    let mut k = 0;
    loop {
        k += 1;
        backup_into(mdp, beta, v.as_slice().expect("contiguous"), &mut q);
        let v_new = agg.value(mdp, ArrayView2::from_shape((mdp.n_states(), mdp.n_actions()), &q).expect("S×A"));
        let residual = sup_over_nonterminal(mdp, |s| (v_new[s] - v[s]).abs());
        let scale = sup_over_nonterminal(mdp, |s| v_new[s].abs()).max(reward_scale(mdp, beta, &q, &v_new));
        if !(scale.is_finite() && residual.is_finite()) {
            return Err(Error::Overflow { beta: beta.get() });
        }
        // Each sweep is exact to a few ulps of the scale (ROUNDING_SWEEP); that rounding adds
        // up to ROUNDING_SWEEP·scale/(1 − γ) at the fixed point, so the bound includes it.
        let error_bound = match &cert {
            None => (gamma * residual + ROUNDING_SWEEP * scale) / (1.0 - gamma),
            Some(c) => residual + weighted_bound(c, &v, &v_new, mdp) + ROUNDING_SWEEP * scale,
        };
        let termination = if error_bound <= options.tol * scale {
            Some(Termination::Converged)
        } else if residual <= tolerance::ROUNDING_FLOOR * scale {
            Some(Termination::RoundingFloor)
        } else if k >= options.max_iterations {
            Some(Termination::IterationLimit)
        } else {
            None
        };
        if let Some(termination) = termination {
            let q = Array2::from_shape_vec((mdp.n_states(), mdp.n_actions()), q).expect("S×A");
            return Ok(FixedPoint { q, v: v_new, iterations: k, residual, error_bound, termination });
        }
        v = v_new;
    }
}
