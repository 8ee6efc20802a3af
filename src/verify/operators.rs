//! The operators the claims are checked on, behind a small trait, and planted bugs.
//!
//! Every claim computes its values through [`Operators`] (its own iteration or backward
//! induction, [`iterate`] and [`backward`] below) and compares them with computations that do
//! not go through the trait: trajectory enumeration, risk-neutral linear solves, best-case
//! iteration, closed forms, or the crate's own solvers. [`Exact`] delegates to
//! [`crate::operators`]; the `#[doc(hidden)]` planted bugs are wrong in one place each, and
//! `tests/planted_bugs.rs` asserts that each is caught.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::logsumexp::log_expect_exp;
use crate::mdp::TabularMdp;
use crate::operators::{self, Aggregation};
use crate::risk::Beta;
use crate::tolerance;

/// The three ingredients of the paper's operators (Eqs. 2, 5, 15; Lemma 4.1).
///
/// ```text
/// backup       (B V)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')
/// soft_value   V(s) = log Σ_a π(a|s)·exp Q(s,a)
/// max_value    V(s) = max_a Q(s,a)
/// T_π Q = B(soft_value(Q)),   T* Q = B(max_value(Q))
/// ```
pub trait Operators {
    /// A short name for tables.
    fn name(&self) -> &'static str;
    /// The soft backup B of state values, Eqs. (5, 15); 0 at terminal states.
    fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64>;
    /// The soft state value of a policy, Eq. (2); 0 at terminal states.
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64>;
    /// The optimal state value, Lemma 4.1; 0 at terminal states.
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64>;

    /// T_π Q, Eq. (15).
    fn policy_operator(&self, mdp: &TabularMdp, beta: Beta, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
        self.backup(mdp, beta, self.soft_value(mdp, q, pi).view())
    }
    /// T* Q, Lemma 4.1.
    fn optimal_operator(&self, mdp: &TabularMdp, beta: Beta, q: ArrayView2<f64>) -> Array2<f64> {
        self.backup(mdp, beta, self.max_value(mdp, q).view())
    }
}

/// The paper's operators: delegates to [`crate::operators`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Exact;

impl Operators for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }
    fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
        operators::backup(mdp, beta, v)
    }
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
        operators::soft_value(mdp, q, pi)
    }
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        operators::max_value(mdp, q)
    }
}

fn backup_with(mdp: &TabularMdp, v: ArrayView1<f64>, f: impl Fn(f64, f64) -> f64) -> Array2<f64> {
    let v: Vec<f64> = v.to_vec();
    let mut q = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            q[[s, a]] = f(mdp.rewards()[[s, a]], log_expect_exp(&mdp.transition_row(s, a), &v));
        }
    }
    q
}

/// Planted bug: γ inside the log, `r/β + log Σ P·exp(γ·V)`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct GammaInsideLog;

impl Operators for GammaInsideLog {
    fn name(&self) -> &'static str {
        "gamma-inside-log"
    }
    fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
        let scaled = v.mapv(|x| mdp.gamma() * x);
        backup_with(mdp, scaled.view(), |r, l| r / beta.get() + l)
    }
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
        operators::soft_value(mdp, q, pi)
    }
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        operators::max_value(mdp, q)
    }
}

/// Planted bug: the optimal operator aggregates actions by their mean instead of the max.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanInsteadOfMax;

impl Operators for MeanInsteadOfMax {
    fn name(&self) -> &'static str {
        "mean-instead-of-max"
    }
    fn backup(&self, mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
        operators::backup(mdp, beta, v)
    }
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
        operators::soft_value(mdp, q, pi)
    }
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        Array1::from_iter(
            (0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0.0 } else { q.row(s).mean().unwrap_or(0.0) }),
        )
    }
}

/// Planted bug: rewards not divided by β, `r + γ·log Σ P·exp V`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MissingInverseBeta;

impl Operators for MissingInverseBeta {
    fn name(&self) -> &'static str {
        "missing-inverse-beta"
    }
    fn backup(&self, mdp: &TabularMdp, _beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
        backup_with(mdp, v, |r, l| r + mdp.gamma() * l)
    }
    fn soft_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
        operators::soft_value(mdp, q, pi)
    }
    fn max_value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        operators::max_value(mdp, q)
    }
}

/// The planted bugs, for the tests that show every claim has teeth.
#[doc(hidden)]
pub fn planted_bugs() -> [&'static dyn Operators; 3] {
    [&GammaInsideLog, &MeanInsteadOfMax, &MissingInverseBeta]
}

/// Every operator set by name: `exact` and the planted bugs.
#[doc(hidden)]
pub fn by_name(name: &str) -> Option<&'static dyn Operators> {
    std::iter::once(&Exact as &'static dyn Operators).chain(planted_bugs()).find(|o| o.name() == name)
}

fn apply(ops: &dyn Operators, mdp: &TabularMdp, beta: Beta, agg: Aggregation, q: ArrayView2<f64>) -> Array2<f64> {
    match agg {
        Aggregation::Policy(pi) => ops.policy_operator(mdp, beta, pi, q),
        Aggregation::Max => ops.optimal_operator(mdp, beta, q),
    }
}

/// Sup norm over the rows of non-terminal states.
pub fn sup_distance(mdp: &TabularMdp, a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    (0..mdp.n_states())
        .filter(|&s| !mdp.is_terminal(s))
        .flat_map(|s| a.row(s).iter().zip(b.row(s)).map(|(x, y)| (x - y).abs()).collect::<Vec<_>>())
        .fold(0.0, f64::max)
}

/// The fixed point of T_π or T* by iteration from `start` (zeros if `None`), computed through
/// `ops`, to the relative accuracy [`tolerance::SOLVE`] of the sup norm of Q (in nats, which
/// is tiny at large β: no absolute floor) (γ < 1: stop once the contraction
/// bound γ·δ/(1−γ) is below it; γ = 1: once a sweep changes nothing beyond rounding).
/// Gives up after `max_sweeps` and returns the last iterate.
pub fn iterate(
    ops: &dyn Operators,
    mdp: &TabularMdp,
    beta: Beta,
    agg: Aggregation,
    start: Option<Array2<f64>>,
) -> Array2<f64> {
    const MAX_SWEEPS: usize = 200_000;
    let gamma = mdp.gamma();
    let mut q = start.unwrap_or_else(|| Array2::zeros((mdp.n_states(), mdp.n_actions())));
    for _ in 0..MAX_SWEEPS {
        let next = apply(ops, mdp, beta, agg, q.view());
        let delta = sup_distance(mdp, next.view(), q.view());
        let scale = next.iter().filter(|x| x.is_finite()).fold(0.0f64, |m, x| m.max(x.abs()));
        q = next;
        if !delta.is_finite() || delta <= 0.0 {
            break;
        }
        let bound = if gamma < 1.0 { gamma * delta / (1.0 - gamma) } else { delta };
        if bound <= tolerance::SOLVE * scale || delta <= tolerance::ROUNDING_FLOOR * scale {
            break;
        }
    }
    q
}

/// Backward induction through `ops` over the model's horizon: `(Q_t, V_t)` for t = 0..T
/// (`V` has T+1 entries, `V_T = 0`). `policies[t]` aggregates step t; `None`: the max.
///
/// # Panics
/// If the model has no horizon or `policies` has the wrong length.
pub fn backward(
    ops: &dyn Operators,
    mdp: &TabularMdp,
    beta: Beta,
    policies: Option<&[Array2<f64>]>,
) -> (Vec<Array2<f64>>, Vec<Array1<f64>>) {
    let horizon = mdp.horizon().expect("backward: the model has a horizon");
    if let Some(p) = policies {
        assert_eq!(p.len(), horizon, "backward: one policy per step");
    }
    let mut qs = vec![Array2::zeros((0, 0)); horizon];
    let mut vs = vec![Array1::zeros(mdp.n_states()); horizon + 1];
    for t in (0..horizon).rev() {
        let q = ops.backup(mdp, beta, vs[t + 1].view());
        vs[t] = match policies {
            Some(p) => ops.soft_value(mdp, q.view(), p[t].view()),
            None => ops.max_value(mdp, q.view()),
        };
        qs[t] = q;
    }
    (qs, vs)
}
