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

/// Soft state value under a policy, Eq. (2), 0 at terminal states.
///
/// # Formula
///
/// ```text
/// V(s) = log Σ_a π(a|s)·exp Q(s,a)        (Eq. 2)
/// ```
///
/// π(a|s) the policy, Q(s,a) scaled action values (nats).
///
/// # Panics
/// If `q` or `pi` is not S×A (an internal invariant).
///
/// # Examples
/// ```
/// use ndarray::Array2;
/// use riskmdp::envs::risky_arm;
/// use riskmdp::operators::soft_value;
/// let mdp = risky_arm();
/// let mut q = Array2::zeros((6, 2));
/// q[[0, 1]] = 3f64.ln(); // Q(S,left) = 0, Q(S,right) = ln 3
/// let pi = Array2::from_elem((6, 2), 0.5);
/// let v = soft_value(&mdp, q.view(), pi.view());
/// assert!((v[0] - 2f64.ln()).abs() < 1e-15); // log(½·1 + ½·3) = ln 2
/// assert_eq!(v[3], 0.0); // C is terminal
/// ```
pub fn soft_value(mdp: &TabularMdp, q: ArrayView2<f64>, pi: ArrayView2<f64>) -> Array1<f64> {
    Aggregation::Policy(pi).value(mdp, q)
}

/// Optimal state value, Lemma 4.1, 0 at terminal states.
///
/// # Formula
///
/// ```text
/// V*(s) = max_a Q(s,a)        (Lemma 4.1: the aggregation of T*)
/// ```
///
/// # Examples
/// ```
/// use ndarray::Array2;
/// use riskmdp::envs::risky_arm;
/// use riskmdp::operators::max_value;
/// let mdp = risky_arm();
/// let mut q = Array2::zeros((6, 2));
/// q[[0, 1]] = 3f64.ln();
/// q[[3, 1]] = 7.0; // ignored: C is terminal
/// let v = max_value(&mdp, q.view());
/// assert!((v[0] - 3f64.ln()).abs() < 1e-15);
/// assert_eq!(v[3], 0.0);
/// ```
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
/// // A NaN action value is never dropped (f64::max would drop it).
/// assert!(Aggregation::Max.state_value(0, &[f64::NAN, 1.0]).is_nan());
/// assert!(Aggregation::Max.state_value(0, &[1.0, f64::NAN]).is_nan());
/// assert!(Aggregation::Policy(pi.view()).state_value(0, &[1.0, f64::NAN]).is_nan());
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
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use riskmdp::operators::Aggregation;
    /// // π(·|0) = (¼, ¾), Q(0,·) = (ln 4, 0): V = log(¼·4 + ¾·1) = ln 1.75, max = ln 4.
    /// let pi = array![[0.25, 0.75]];
    /// let q_row = [4f64.ln(), 0.0];
    /// assert!((Aggregation::Policy(pi.view()).state_value(0, &q_row) - 1.75f64.ln()).abs() < 1e-15);
    /// assert!((Aggregation::Max.state_value(0, &q_row) - 4f64.ln()).abs() < 1e-15);
    /// ```
    pub fn state_value(&self, s: usize, q_row: &[f64]) -> f64 {
        match self {
            Aggregation::Policy(pi) => match pi.row(s).as_slice() {
                Some(weights) => log_expect_exp(weights, q_row),
                None => log_expect_exp(&pi.row(s).to_vec(), q_row),
            },
            // Not f64::max, which drops a NaN: a NaN action value must give a NaN state value.
            Aggregation::Max => {
                q_row.iter().copied().fold(f64::NEG_INFINITY, |m, x| if x.is_nan() || x > m { x } else { m })
            }
        }
    }

    /// V from Q (S×A): Eq. (2) or the max, 0 at terminal states, in parallel over states.
    ///
    /// # Formula
    ///
    /// ```text
    /// V(s) = log Σ_a π(a|s)·exp Q(s,a)  (Eq. 2)   or   max_a Q(s,a)  (Lemma 4.1);   V(terminal) = 0
    /// ```
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

/// The soft backup of state values, Eqs. (5, 15); 0 for terminal s.
///
/// # Formula
///
/// ```text
/// (B V)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V(s')        (Eq. 5 with γ, Eq. 15)
/// ```
///
/// r reward, β risk parameter, γ discount (outside the log), P true dynamics, V scaled state
/// values. The log is taken stably over the support of P(·|s,a).
///
/// # Panics
/// If `v` does not have S entries.
///
/// # Examples
/// One backup of the risky arm's optimal values gives its closed-form Q* (see
/// [`mod@crate::envs::risky_arm`]).
/// ```
/// use ndarray::Array1;
/// use riskmdp::envs::risky_arm::{self, A, LEFT, RIGHT, S};
/// use riskmdp::operators::backup;
/// use riskmdp::Beta;
/// let (mdp, beta) = (risky_arm::risky_arm(), 2.0);
/// let mut v = Array1::zeros(6);
/// v[A] = -10.0 / beta; // V*(A) = −10/β, V*(B) = 0, terminals 0
/// let q = backup(&mdp, Beta::new(beta)?, v.view());
/// assert!((q[[S, LEFT]] - (-5.0 / beta)).abs() < 1e-15);
/// let closed = (0.9 * (-10.0 / beta).exp() + 0.1).ln();
/// assert!((q[[S, RIGHT]] - closed).abs() < 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
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
    #[cfg(feature = "fault-injection")]
    crate::fault::apply(crate::fault::Site::Plain, q.as_slice_mut().expect("standard layout"));
    q
}

/// T_π or T* by aggregation: `B(agg[Q])` (Eq. 15, Lemma 4.1).
///
/// # Formula
///
/// ```text
/// T_π Q = B(V_π[Q])   with V_π[Q](s) = log Σ_a π(a|s)·exp Q(s,a)     (Eqs. 2, 15)
/// T* Q  = B(V*[Q])    with V*[Q](s)  = max_a Q(s,a)                  (Lemma 4.1)
/// ```
///
/// B is the backup of [`backup`].
///
/// # Examples
/// The risky arm is acyclic with two decisions before termination, so two applications of T*
/// from Q = 0 reach its optimum Q*.
/// ```
/// use ndarray::Array2;
/// use riskmdp::envs::risky_arm::{self, RIGHT, S};
/// use riskmdp::operators::{Aggregation, operator};
/// use riskmdp::Beta;
/// let (mdp, beta) = (risky_arm::risky_arm(), Beta::new(1.0)?);
/// let mut q = Array2::zeros((6, 2));
/// for _ in 0..2 {
///     q = operator(&mdp, beta, Aggregation::Max, q.view());
/// }
/// assert!((q[[S, RIGHT]] - (0.9 * (-10f64).exp() + 0.1).ln()).abs() < 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn operator(mdp: &TabularMdp, beta: Beta, agg: Aggregation, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, agg.value(mdp, q).view())
}

/// The risk-sensitive policy operator T_π, Eq. (15).
///
/// # Formula
///
/// ```text
/// (T_π Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_π[Q](s'),
/// V_π[Q](s')   = log Σ_{a'} π(a'|s')·exp Q(s',a')                    (Eqs. 2, 15)
/// ```
///
/// Its fixed point is Q_π (Theorem 4.1).
///
/// # Examples
/// Q_π of the uniform policy is a fixed point of T_π.
/// ```
/// use riskmdp::envs::risky_arm;
/// use riskmdp::operators::policy_operator;
/// use riskmdp::{Beta, Policy, SolveOptions, evaluate_policy};
/// let (mdp, beta) = (risky_arm(), Beta::new(1.5)?);
/// let uniform = Policy::uniform(&mdp);
/// let sol = evaluate_policy(&mdp, beta, &uniform, SolveOptions::default())?;
/// let again = policy_operator(&mdp, beta, uniform.at(0), sol.q.view());
/// assert!(again.iter().zip(sol.q.iter()).all(|(x, y)| (x - y).abs() <= sol.error_bound + 1e-14));
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn policy_operator(mdp: &TabularMdp, beta: Beta, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, soft_value(mdp, q, pi).view())
}

/// The optimal risk-sensitive operator T*, Lemma 4.1.
///
/// # Formula
///
/// ```text
/// (T* Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp max_{a'} Q(s',a')      (Lemma 4.1)
/// ```
///
/// Its fixed point is Q* (the value of the best deterministic policy, Theorem 4.3).
///
/// # Examples
/// Q* from value iteration is a fixed point of T*, here on the cliff gridworld (γ = 0.9).
/// ```
/// use riskmdp::envs::Gridworld;
/// use riskmdp::operators::optimal_operator;
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let mdp = Gridworld::cliff().build()?;
/// let beta = Beta::new(2.0)?;
/// let sol = value_iteration(&mdp, beta, SolveOptions::default())?;
/// let again = optimal_operator(&mdp, beta, sol.q.view());
/// assert!(again.iter().zip(sol.q.iter()).all(|(x, y)| (x - y).abs() <= sol.error_bound + 1e-14));
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn optimal_operator(mdp: &TabularMdp, beta: Beta, q: ArrayView2<f64>) -> Array2<f64> {
    backup(mdp, beta, max_value(mdp, q).view())
}

/// One row of the posterior dynamics, Eq. (4), over the support of P(·|s,a), as `(s', q)`
/// pairs (P itself for a terminal s). Works at any model size; [`posterior_dynamics`] is the
/// dense S×A×S form.
///
/// # Formula
///
/// ```text
/// q(s'|s,a) = P(s'|s,a)·exp V(s') / Σ_{s''} P(s''|s,a)·exp V(s'')        (Eq. 4)
/// ```
///
/// No γ in the tilt (γ sits outside the log in Eq. 15).
///
/// # Panics
/// If `v` has fewer than S entries or `s`, `a` are out of range.
///
/// # Examples
/// The risky arm's posterior of `right` at the optimum matches the closed form
/// `q(A|S,right) = 0.9·e^{−10/β} / (0.9·e^{−10/β} + 0.1)`.
/// ```
/// use riskmdp::envs::risky_arm::{self, A, B, RIGHT, S};
/// use riskmdp::operators::posterior_row;
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let (mdp, beta) = (risky_arm::risky_arm(), 3.0);
/// let sol = value_iteration(&mdp, Beta::new(beta)?, SolveOptions::default())?;
/// let row = posterior_row(&mdp, &sol.v.to_vec(), S, RIGHT);
/// assert_eq!(row.iter().map(|&(j, _)| j).collect::<Vec<_>>(), vec![A, B]); // P's support
/// assert!((row[0].1 - risky_arm::posterior_a(beta)).abs() < 1e-12);
/// assert!((row[0].1 + row[1].1 - 1.0).abs() < 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn posterior_row(mdp: &TabularMdp, v: &[f64], s: usize, a: usize) -> Vec<(usize, f64)> {
    let row = mdp.row(s, a);
    if mdp.is_terminal(s) {
        return row.iter().collect();
    }
    let log_z = row.log_expect_exp(v);
    row.iter().map(|(j, pj)| (j, pj * (v[j] - log_z).exp())).collect()
}

/// Posterior (variational) dynamics, Eq. (4), as a dense S×A×S tensor (for small models;
/// [`posterior_row`] works at any size).
///
/// Rows of terminal states are copied from P. Every row sums to 1 to rounding.
///
/// # Formula
///
/// ```text
/// q(s'|s,a) ∝ P(s'|s,a)·exp V(s')        (Eq. 4)
/// ```
///
/// # Examples
/// Small β makes the risky arm's posterior optimistic (nearly all mass on the lucky B); as β
/// grows it returns to the true 0.9/0.1.
/// ```
/// use riskmdp::envs::risky_arm::{self, A, B, RIGHT, S};
/// use riskmdp::operators::posterior_dynamics;
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let mdp = risky_arm::risky_arm();
/// let q_of = |beta: f64| -> riskmdp::Result<_> {
///     let sol = value_iteration(&mdp, Beta::new(beta)?, SolveOptions::default())?;
///     Ok(posterior_dynamics(&mdp, sol.v.view()))
/// };
/// let (optimist, realist) = (q_of(0.5)?, q_of(1e4)?);
/// assert!(optimist[[S, RIGHT, B]] > 0.999);
/// assert!((realist[[S, RIGHT, A]] - 0.9).abs() < 1e-3);
/// assert!((optimist[[S, RIGHT, A]] + optimist[[S, RIGHT, B]] - 1.0).abs() < 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
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

/// Posterior policy (the optimal variational policy of Theorem 4.4). Rows of terminal states are
/// copied from π.
///
/// # Formula
///
/// ```text
/// q(a|s) = π(a|s)·exp Q(s,a) / Σ_{a'} π(a'|s)·exp Q(s,a')
/// ```
///
/// # Examples
/// ```
/// use ndarray::Array2;
/// use riskmdp::envs::risky_arm;
/// use riskmdp::operators::posterior_policy;
/// let mdp = risky_arm();
/// let mut q = Array2::zeros((6, 2));
/// q[[0, 1]] = 3f64.ln(); // `right` is worth three times as much in exp space
/// let pi = Array2::from_elem((6, 2), 0.5);
/// let post = posterior_policy(&mdp, pi.view(), q.view());
/// assert!((post[[0, 1]] - 0.75).abs() < 1e-15); // ½·3 / (½·1 + ½·3)
/// assert!((post[[0, 0]] - 0.25).abs() < 1e-15);
/// ```
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

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm;

    /// Kills `w > 0.0` → `w >= 0.0` in `posterior_policy`: an action the prior never takes
    /// keeps posterior 0 however large its Q, where 0·e^{1000 − log Z} would be 0·∞ = NaN.
    /// Expected: π(·|S) = (1, 0), Q(S,·) = (0, 1000) ⇒ q(·|S) = (1·e⁰, 0)/(1·e⁰) = (1, 0).
    #[test]
    fn posterior_policy_keeps_zero_prior_actions_at_zero() {
        let mdp = risky_arm();
        let mut pi = Array2::from_elem((6, 2), 0.5);
        pi[[0, 0]] = 1.0;
        pi[[0, 1]] = 0.0;
        let mut q = Array2::zeros((6, 2));
        q[[0, 1]] = 1000.0;
        let post = posterior_policy(&mdp, pi.view(), q.view());
        assert!((post[[0, 0]] - 1.0).abs() < 1e-15, "{}", post[[0, 0]]);
        assert_eq!(post[[0, 1]].to_bits(), 0f64.to_bits(), "{}", post[[0, 1]]);
    }
}
