//! One file per claim of the paper (and per probe of what it leaves open). Each exposes
//! `check(&Case, &dyn Operators, Scope) -> Checks` and the names of its sub-checks (`CHECKS`);
//! the registry in [`super::claims()`] names them. The comparison helpers here treat NaN, and
//! ±∞ where a value must be finite, as an infinite violation.

use ndarray::{Array2, Array3, ArrayView1};

use super::Violation;
use super::operators::max_or_nan;
use crate::mdp::TabularMdp;

pub mod beta_limits;
pub mod dual_kl;
pub mod dual_step;
pub mod eq_6_7;
pub mod figure_1;
pub mod gridworld;
pub mod lemma_4_1;
pub mod posteriors;
pub mod theorem_4_1;
pub mod theorem_4_2;
pub mod theorem_4_3;
pub mod theorem_4_4;

/// `max |x|` over the finite entries (at least the smallest positive normal number): the scale
/// of relative comparisons. Truly relative — no floor of 1 nat, which would make a "relative"
/// tolerance absolute for the small values of large β.
pub(crate) fn scale_of<'a>(xs: impl IntoIterator<Item = &'a f64>) -> f64 {
    xs.into_iter().filter(|x| x.is_finite()).fold(f64::MIN_POSITIVE, |m, x| m.max(x.abs()))
}

/// A non-finite operand where both sides must be finite: an infinite violation.
fn not_finite(what: &str, a: f64, b: f64) -> Option<Violation> {
    (!a.is_finite() || !b.is_finite())
        .then(|| Violation::of(f64::INFINITY, format!("{what}: {a:e} vs {b:e}, not finite")))
}

/// `a = b`, measured as `|a − b| / scale`; NaN or ±∞ on either side is a violation.
pub(crate) fn identity(what: &str, a: f64, b: f64, scale: f64) -> Violation {
    not_finite(what, a, b)
        .unwrap_or_else(|| Violation::of((a - b).abs() / scale, format!("{what}: {a:.15e} vs {b:.15e}")))
}

/// `a ≤ b`, measured as `(a − b)⁺ / scale`; NaN or ±∞ on either side is a violation.
pub(crate) fn at_most(what: &str, a: f64, b: f64, scale: f64) -> Violation {
    not_finite(what, a, b).unwrap_or_else(|| {
        let gap = if a > b { (a - b) / scale } else { 0.0 };
        Violation::of(gap, format!("{what}: {a:.15e} > {b:.15e}"))
    })
}

/// `a ≤ b` where `a` may be −∞ (an ELBO whose q leaves the support of the prior): as
/// [`at_most`] otherwise.
pub(crate) fn at_most_or_minus_infinity(what: &str, a: f64, b: f64, scale: f64) -> Violation {
    if a.is_infinite() && a < 0.0 && b.is_finite() { Violation::none() } else { at_most(what, a, b, scale) }
}

/// The worst of `f(s)` over non-terminal states.
pub(crate) fn over_states(mdp: &TabularMdp, f: impl FnMut(usize) -> Violation) -> Violation {
    (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)).map(f).fold(Violation::none(), Violation::max)
}

/// A deterministic policy as an S×A one-hot array.
pub(crate) fn one_hot(n_actions: usize, actions: &[usize]) -> Array2<f64> {
    let mut pi = Array2::zeros((actions.len(), n_actions));
    for (s, &a) in actions.iter().enumerate() {
        pi[[s, a]] = 1.0;
    }
    pi
}

/// Stack per-step S×A policies into T×S×A.
pub(crate) fn stack(steps: &[Array2<f64>]) -> Array3<f64> {
    let (s, a) = steps[0].dim();
    let mut out = Array3::zeros((steps.len(), s, a));
    for (t, p) in steps.iter().enumerate() {
        out.index_axis_mut(ndarray::Axis(0), t).assign(p);
    }
    out
}

/// Largest span `max − min` of `x` over the support of each row `P(·|s,a)`, non-terminal s.
pub(crate) fn support_span(mdp: &TabularMdp, x: ArrayView1<f64>) -> f64 {
    let mut worst = 0.0f64;
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            let on: Vec<f64> =
                mdp.transition_row(s, a).iter().zip(x.iter()).filter(|(p, _)| **p > 0.0).map(|(_, &v)| v).collect();
            let (lo, hi) = on.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let nan = on.iter().any(|v| v.is_nan());
            worst = max_or_nan(worst, if nan { f64::NAN } else { hi - lo });
        }
    }
    worst
}

/// A log-spaced grid of `points` β values over `[lo, hi]`, shifted by a fraction `u ∈ [0, 1)`
/// of one step (so that repeated cases probe different β).
pub(crate) fn jittered_grid(lo: f64, hi: f64, points: usize, u: f64) -> Vec<f64> {
    let step = (hi / lo).ln() / (points - 1) as f64;
    (0..points).map(|i| lo * ((i as f64 + u) * step).exp()).collect()
}
