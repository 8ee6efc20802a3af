//! γ = 1 without a horizon: is the risk-seeking value finite?
//!
//! In exp space the evaluation equation is linear, `Z = M Z + b` with `Z = exp V` on the
//! non-terminal states and the *twisted chain* `M[s][s'] = Σ_a π(a|s)·exp(r(s,a)/β)·P(s'|s,a)`
//! (max over a for the optimum). The value is finite iff the spectral radius ρ(M) < 1.
//!
//! We certify either side with Collatz–Wielandt bounds, computed in log space so that
//! `exp(r/β)` never overflows:
//! * upper: for any x > 0, ρ(M_π) ≤ max_s (max_a M_a x)_s / x_s for every policy π;
//! * lower: for any x ≥ 0, x ≠ 0, ρ(M_π) ≥ min_{s : x_s > 0} (M_π x)_s / x_s.
//!
//! x comes from power iteration on I + M (aperiodic, same Perron vector). The upper-bound x
//! also makes `Z ↦ M Z + b` a contraction with modulus c = bound in the x-weighted sup norm,
//! which gives the value iteration its certified error bound.

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::logsumexp::log_add_exp;
use crate::mdp::TabularMdp;
use crate::operators::{Aggregation, backup};
use crate::risk::Beta;

/// A certified finiteness proof: `max_a M_a x ≤ exp(log_rate)·x` with `x = exp(log_weights)`.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    /// log of the contraction modulus c < 1 (−∞ if M = 0).
    pub log_rate: f64,
    /// log x, finite on non-terminal states.
    pub log_weights: Vec<f64>,
}

/// `h(s,a) = r(s,a)/β + log Σ_{s'} P(s'|s,a)·exp w(s')` with w = −∞ where x = 0: the backup
/// of Eq. (15) at γ = 1 (its kernel skips −∞ terms; terminal rows are never read).
fn homogeneous(mdp: &TabularMdp, beta: Beta, w: &[f64]) -> Array2<f64> {
    debug_assert!(mdp.gamma() >= 1.0, "the certificate is for γ = 1");
    backup(mdp, beta, ndarray::ArrayView1::from(w))
}

fn aggregate_row(agg: &Aggregation, s: usize, h_row: &[f64]) -> f64 {
    agg.state_value(s, h_row)
}

/// Best Collatz–Wielandt lower bound on log ρ(M_π) from x restricted to the states whose
/// growth ratio is near the top; π is the given policy, or the greedy one for the optimum.
fn lower_bound(
    mdp: &TabularMdp,
    beta: Beta,
    agg: &Aggregation,
    w: &[f64],
    ratio: &[f64],
    h: &Array2<f64>,
) -> (f64, usize) {
    let s_count = mdp.n_states();
    let hi = ratio.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let greedy: Vec<usize> = (0..s_count)
        .map(|s| {
            let row = h.row(s);
            (0..row.len()).fold(0, |best, a| if row[a] > row[best] { a } else { best })
        })
        .collect();
    let mut best = (f64::NEG_INFINITY, 0);
    for theta in [0.0, 1e-9, 1e-6, 1e-3, 1e-2, 0.1, 1.0, 10.0, f64::INFINITY] {
        let cut = hi - theta * hi.abs().max(1.0);
        let inside: Vec<bool> = (0..s_count).map(|s| !mdp.is_terminal(s) && ratio[s] >= cut).collect();
        if !inside.iter().any(|&x| x) {
            continue;
        }
        let w_c: Vec<f64> = (0..s_count).map(|s| if inside[s] { w[s] } else { f64::NEG_INFINITY }).collect();
        let h_c = homogeneous(mdp, beta, &w_c);
        let mut lo = f64::INFINITY;
        let mut heaviest = (f64::NEG_INFINITY, 0);
        for s in (0..s_count).filter(|&s| inside[s]) {
            let value = match agg {
                Aggregation::Policy(_) => aggregate_row(agg, s, &h_c.row(s).to_vec()),
                Aggregation::Max => h_c[[s, greedy[s]]],
            };
            lo = lo.min(value - w[s]);
            if w[s] > heaviest.0 {
                heaviest = (w[s], s);
            }
        }
        if lo > best.0 {
            best = (lo, heaviest.1);
        }
    }
    best
}

/// Decide whether the value under `agg` (a policy, or the optimum) is finite.
///
/// # Errors
/// [`Error::InfiniteValue`] if ρ(M) > 1 is certified; [`Error::UndecidedFiniteness`] if
/// neither side is certified within the iteration budget (ρ within ~1e-12 of 1).
pub(crate) fn certify(mdp: &TabularMdp, beta: Beta, agg: &Aggregation) -> Result<Certificate> {
    const MARGIN: f64 = 1e-12;
    const MAX_ROUNDS: usize = 20_000;
    let s_count = mdp.n_states();
    let mut w: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { f64::NEG_INFINITY } else { 0.0 }).collect();
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for round in 0..MAX_ROUNDS {
        let h = homogeneous(mdp, beta, &w);
        let hv: Vec<f64> = (0..s_count).map(|s| aggregate_row(agg, s, &h.row(s).to_vec())).collect();
        let ratio: Vec<f64> =
            (0..s_count).map(|s| if mdp.is_terminal(s) { f64::NEG_INFINITY } else { hv[s] - w[s] }).collect();
        hi = ratio.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi < -MARGIN {
            return Ok(Certificate { log_rate: hi, log_weights: w });
        }
        if round % 8 == 0 || hi > 1.0 {
            let (bound, state) = lower_bound(mdp, beta, agg, &w, &ratio, &h);
            lo = lo.max(bound);
            if lo > MARGIN {
                return Err(Error::InfiniteValue {
                    beta: beta.get(),
                    state: mdp.state_names()[state].clone(),
                    log_spectral_radius_lower_bound: lo,
                });
            }
        }
        for s in 0..s_count {
            if !mdp.is_terminal(s) {
                w[s] = log_add_exp(w[s], hv[s]);
            }
        }
        let top = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for x in &mut w {
            *x -= top;
        }
    }
    Err(Error::UndecidedFiniteness { beta: beta.get(), lower: lo.exp(), upper: hi.exp() })
}
