//! The β-scaled soft Bellman operators and the posteriors they induce (Eqs. 2–5, 15; Lemma 4.1).
//!
//! # Formula
//!
//! ```text
//! soft value     V_π(s)   = log Σ_a π(a|s) · exp Q(s,a)                        (Eq. 2)
//! max value      V*(s)    = max_a Q(s,a)                                        (Lemma 4.1)
//! backup         (B V)(s,a) = r(s,a)/β + γ · log Σ_{s'} P(s'|s,a) · exp V(s')   (Eqs. 5, 15)
//! T_π Q = B(V_π[Q]),   T* Q = B(V*[Q])
//! posterior dynamics  q(s'|s,a) = P(s'|s,a)·exp V(s') / Σ_{s''} P(s''|s,a)·exp V(s'')   (Eq. 4)
//! posterior policy    q(a|s)    = π(a|s)·exp Q(s,a) / Σ_{a'} π(a'|s)·exp Q(s,a')
//! ```
//!
//! Legend: β > 0 risk parameter, γ ∈ (0, 1] discount (outside the log), V(terminal) = 0 and
//! Q(terminal, ·) = 0. There is no γ in the tilt of the posterior dynamics: with γ outside the
//! log, `γ·log E_p e^V = max_q γ·(E_q V − KL(q‖p))`, maximised at that q.
//!
//! With γ < 1 the fixed point is a *recursive* risk measure; it is the exponential utility of
//! the return (Eq. 6) only for γ = 1 (finite horizon or terminating).

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2};

use rayon::prelude::*;

use crate::logsumexp::log_expect_exp;
use crate::mdp::TabularMdp;
use crate::risk::Beta;

/// States per rayon task in the per-state loops.
const STATES_PER_TASK: usize = 8192;

/// `V(s) = f(s)` for non-terminal s, 0 for terminal s, in parallel over states.
fn per_state(mdp: &TabularMdp, f: impl Fn(usize) -> f64 + Sync + Send) -> Array1<f64> {
    let v: Vec<f64> = (0..mdp.n_states())
        .into_par_iter()
        .with_min_len(STATES_PER_TASK)
        .map(|s| if mdp.is_terminal(s) { 0.0 } else { f(s) })
        .collect();
    Array1::from(v)
}

/// Soft state value under a policy, Eq. (2): `V(s) = log Σ_a π(a|s)·exp Q(s,a)`, 0 at terminals.
///
/// # Panics
/// If `q` or `pi` is not S×A (an internal invariant).
pub fn soft_value(mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
    Aggregation::Policy(pi).value(mdp, q)
}

/// Optimal state value, Lemma 4.1: `V(s) = max_a Q(s,a)`, 0 at terminals.
pub fn max_value(mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
    Aggregation::Max.value(mdp, q)
}

/// How a state's value is formed from its action values: under a policy (Eq. 2) or by the
/// max (Lemma 4.1). The one aggregation type of the crate: the solvers, the finiteness
/// certificate and the verifier all take it.
///
/// # Formula
///
/// ```text
/// Policy(π):  V(s) = log Σ_a π(a|s)·exp Q(s,a)      (Eq. 2)
/// Max:        V(s) = max_a Q(s,a)                    (Lemma 4.1)
/// ```
///
/// # Examples
/// ```
/// use ndarray::array;
/// use riskmdp::operators::Aggregation;
/// let pi = array![[0.5, 0.5]];
/// let soft = Aggregation::Policy(pi.view()).state_value(0, &[0.0, 2f64.ln()]);
/// assert!((soft - 1.5f64.ln()).abs() < 1e-15);
/// assert!((Aggregation::Max.state_value(0, &[0.0, 2f64.ln()]) - 2f64.ln()).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Aggregation<'a> {
    /// Under the stationary policy π (S×A): Eq. (2), the aggregation of T_π.
    Policy(ArrayView2<'a, f64>),
    /// By the max: Lemma 4.1, the aggregation of T*.
    Max,
}

impl Aggregation<'_> {
    /// The value of state `s` from its action values `q_row` (terminal states are the caller's
    /// business: see [`Aggregation::value`]).
    ///
    /// # Panics
    /// If `q_row` does not have one entry per action of the policy.
    pub fn state_value(&self, s: usize, q_row: &[f64]) -> f64 {
        match self {
            Aggregation::Policy(pi) => match pi.row(s).as_slice() {
                Some(weights) => log_expect_exp(weights, q_row),
                None => log_expect_exp(&pi.row(s).to_vec(), q_row),
            },
            Aggregation::Max => q_row.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// V from Q (S×A): Eq. (2) or the max, 0 at terminal states, in parallel over states.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::envs::risky_arm;
    /// use riskmdp::operators::Aggregation;
    /// let mdp = risky_arm();
    /// let q = ndarray::Array2::from_elem((mdp.n_states(), mdp.n_actions()), 1.0);
    /// let v = Aggregation::Max.value(&mdp, q.view());
    /// assert_eq!(v[0], 1.0); // S is not terminal
    /// assert_eq!(v[3], 0.0); // C is terminal: value 0
    /// ```
    pub fn value(&self, mdp: &TabularMdp, q: ArrayView2<f64>) -> Array1<f64> {
        per_state(mdp, |s| match q.row(s).as_slice() {
            Some(row) => self.state_value(s, row),
            None => self.state_value(s, &q.row(s).to_vec()),
        })
    }
}

/// The soft backup of state values, Eqs. (5, 15):
/// `(B V)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')`; 0 for terminal s.
///
/// # Panics
/// If `v` does not have S entries.
pub fn backup(mdp: &TabularMdp, beta: Beta, v: ArrayView1<f64>) -> Array2<f64> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    assert_eq!(v.len(), s_count, "backup: V has the wrong length");
    let v = v.to_vec();
    let (r, gamma, b) = (mdp.rewards(), mdp.gamma(), beta.get());
    let mut q = Array2::zeros((s_count, a_count));
    for s in 0..s_count {
        if mdp.is_terminal(s) {
            continue;
        }
        for a in 0..a_count {
            q[[s, a]] = r[[s, a]] / b + gamma * mdp.row(s, a).log_expect_exp(&v);
        }
    }
    q
}

/// T_π or T* by aggregation: `B(agg[Q])` (Eq. 15, Lemma 4.1).
pub fn operator(mdp: &TabularMdp, beta: Beta, agg: Aggregation, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, agg.value(mdp, q).view())
}

/// The risk-sensitive policy operator T_π, Eq. (15): `T_π Q = B(V_π[Q])`.
pub fn policy_operator(mdp: &TabularMdp, beta: Beta, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, soft_value(mdp, q, pi).view())
}

/// The optimal risk-sensitive operator T*, Lemma 4.1: `T* Q = B(max_a Q)`.
pub fn optimal_operator(mdp: &TabularMdp, beta: Beta, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, max_value(mdp, q).view())
}

/// One row of the posterior dynamics, Eq. (4): `q(s'|s,a) ∝ P(s'|s,a)·exp V(s')` over the
/// support of P(·|s,a), as `(s', q)` pairs (P itself for a terminal s).
pub fn posterior_row(mdp: &TabularMdp, v: &[f64], s: usize, a: usize) -> Vec<(usize, f64)> {
    let row = mdp.row(s, a);
    if mdp.is_terminal(s) {
        return row.iter().collect();
    }
    let log_z = row.log_expect_exp(v);
    row.iter().map(|(j, pj)| (j, pj * (v[j] - log_z).exp())).collect()
}

/// Posterior (variational) dynamics, Eq. (4): `q(s'|s,a) ∝ P(s'|s,a)·exp V(s')`, as a dense
/// S×A×S tensor (for small models; [`posterior_row`] works at any size).
///
/// Rows of terminal states are copied from P. Every row sums to 1 to rounding.
pub fn posterior_dynamics(mdp: &TabularMdp, v: ArrayView1<f64>) -> Array3<f64> {
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let v = v.to_vec();
    let mut out = Array3::zeros((s_count, a_count, s_count));
    for s in 0..s_count {
        for a in 0..a_count {
            for (j, q) in posterior_row(mdp, &v, s, a) {
                out[[s, a, j]] = q;
            }
        }
    }
    out
}

/// Posterior policy: `q(a|s) ∝ π(a|s)·exp Q(s,a)` (the optimal variational policy, Thm. 4.4).
///
/// Rows of terminal states are copied from π.
pub fn posterior_policy(mdp: &TabularMdp, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
    let mut out = pi.to_owned();
    for s in 0..mdp.n_states() {
        if mdp.is_terminal(s) {
            continue;
        }
        let weights = pi.row(s).to_vec();
        let values = q.row(s).to_vec();
        let log_z = log_expect_exp(&weights, &values);
        for (a, (&w, &x)) in weights.iter().zip(&values).enumerate() {
            out[[s, a]] = if w > 0.0 { w * (x - log_z).exp() } else { 0.0 };
        }
    }
    out
}
