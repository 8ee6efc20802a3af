//! The quantities the theorems are about: exponential utility (Eq. 6), the ELBO (Eq. 7), the
//! KL between posterior and true dynamics and the occupancy that weights it (Eq. 8).
//!
//! # Formula
//!
//! ```text
//! U_β(π, s) = β·log E_{τ∼p_π(·|s_0=s)} exp( Σ_t r(s_t,a_t)/β )                      (Eq. 6)
//! ELBO(q; s) = E_q[Σ_t r_t]/β − KL(q(τ) ‖ p_π(τ)) ≤ V_π(s)      with equality at the posterior (Eq. 7)
//!   computed backwards:  L_T = 0,
//!   L_t(s) = Σ_a q_t(a|s)·[ r(s,a)/β − log(q_t(a|s)/π_t(a|s))
//!                          + γ·Σ_{s'} q_t(s'|s,a)·( L_{t+1}(s') − log(q_t(s'|s,a)/P(s'|s,a)) ) ]
//! KL(s,a)  = Σ_{s'} q(s'|s,a)·log( q(s'|s,a) / P(s'|s,a) )
//! d(s,a)   = Σ_t γ^t · Pr_π(s_t = s, a_t = a | s_0 ∼ ρ),   normalised to sum 1         (Eq. 8)
//! ```
//!
//! `U_β` is the exponential utility of the *undiscounted* return: it equals `β·V_π` only for
//! γ = 1 (with γ < 1 the backups define a recursive risk measure instead).

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::logsumexp::log_expect_exp;
use crate::mdp::TabularMdp;
use crate::operators::{posterior_dynamics, posterior_policy};
use crate::policy::Policy;
use crate::risk::Beta;
use crate::solve::evaluate_finite_horizon;
use crate::solve::linear::{DENSE_SOLVE_MAX, Orientation, solve_chain};

/// The distribution of the undiscounted return of a policy, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnSummary {
    /// `β·log E[exp(R/β)]` (Eq. 6), in reward units.
    pub certainty_equivalent: f64,
    /// `log E[exp(R/β)]`, in nats (compare with V_π).
    pub log_marginal: f64,
    /// `E[R]`.
    pub mean: f64,
    /// `Var[R]`.
    pub variance: f64,
    /// Trajectories enumerated.
    pub trajectories: usize,
}

/// Exponential utility (Eq. 6) of a policy from state `start`, by enumerating every
/// trajectory of the horizon (a terminal state ends a trajectory early), at most `limit`.
///
/// # Formula
///
/// ```text
/// U_β(π, s) = β·log E_{τ∼p_π(·|s_0=s)} exp( Σ_t r(s_t,a_t)/β )        (Eq. 6)
/// ```
///
/// The sum is undiscounted: for γ = 1 it equals β·V_π,0(s); for γ < 1 it does not.
///
/// # Errors
/// [`Error::Unsupported`] without a horizon, [`Error::InvalidParameter`] for a bad start
/// state, [`Error::TooManyTrajectories`] past `limit`.
///
/// # Examples
/// Always gambling on the risky arm: return −10 w.p. 0.9, 0 w.p. 0.1.
/// ```
/// use riskmdp::envs::risky_arm::{self, RIGHT, S};
/// use riskmdp::utility::exponential_utility;
/// use riskmdp::{Beta, Policy};
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let gamble = Policy::deterministic(&mdp, &[RIGHT; 6])?;
/// let u = exponential_utility(&mdp, Beta::new(2.0)?, &gamble, S, 100)?;
/// assert_eq!(u.trajectories, 2);
/// assert!((u.mean + 9.0).abs() < 1e-12 && (u.variance - 9.0).abs() < 1e-12); // 0.9·0.1·10²
/// let closed = 2.0 * (0.9 * (-10.0f64 / 2.0).exp() + 0.1).ln();
/// assert!((u.certainty_equivalent - closed).abs() < 1e-12);
/// assert!(u.certainty_equivalent > u.mean); // small β is optimistic
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn exponential_utility(
    mdp: &TabularMdp,
    beta: Beta,
    policy: &Policy,
    start: usize,
    limit: usize,
) -> Result<ReturnSummary> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported {
            what: "exponential_utility: enumeration needs a model with a horizon".into(),
        });
    };
    if start >= mdp.n_states() {
        return Err(Error::InvalidParameter { name: "start".into(), message: format!("no state {start}") });
    }
    let mut probs = Vec::new();
    let mut returns = Vec::new();
    let mut stack = vec![(0usize, start, 1.0f64, 0.0f64)];
    while let Some((t, s, p, ret)) = stack.pop() {
        if t == horizon || mdp.is_terminal(s) {
            if probs.len() >= limit {
                return Err(Error::TooManyTrajectories { limit });
            }
            probs.push(p);
            returns.push(ret);
            continue;
        }
        let pi = policy.at(t);
        for a in 0..mdp.n_actions() {
            let pa = pi[[s, a]];
            if pa == 0.0 {
                continue;
            }
            for (j, &pj) in mdp.transition_row(s, a).iter().enumerate() {
                if pj > 0.0 {
                    stack.push((t + 1, j, p * pa * pj, ret + mdp.rewards()[[s, a]]));
                }
            }
        }
    }
    let b = beta.get();
    let scaled: Vec<f64> = returns.iter().map(|r| r / b).collect();
    let log_marginal = log_expect_exp(&probs, &scaled);
    let mean: f64 = probs.iter().zip(&returns).map(|(p, r)| p * r).sum();
    let variance: f64 = probs.iter().zip(&returns).map(|(p, r)| p * (r - mean) * (r - mean)).sum();
    Ok(ReturnSummary {
        certainty_equivalent: b * log_marginal,
        log_marginal,
        mean,
        variance,
        trajectories: probs.len(),
    })
}

/// A variational distribution q(τ) over a horizon: time-indexed policy and dynamics.
#[derive(Debug, Clone)]
pub struct Variational {
    /// q_t(a|s), shape (T, S, A).
    pub policy: Array3<f64>,
    /// q_t(s'|s,a), shape (T, S, A, S) flattened as one (S, A, S) array per t.
    pub dynamics: Vec<Array3<f64>>,
}

/// The exact posterior of a policy over the horizon — the maximiser of the ELBO (Eq. 7).
///
/// # Formula
///
/// ```text
/// q_t(a|s)    ∝ π_t(a|s)·exp Q_π,t(s,a)                 posterior policy
/// q_t(s'|s,a) ∝ P(s'|s,a)·exp V_π,t+1(s')              posterior dynamics (Eq. 4)
/// ```
///
/// # Errors
/// [`Error::Unsupported`] without a horizon.
///
/// # Examples
/// Under the uniform prior the risky arm's posterior of `right` at t = 0 is the closed form
/// of [`risky_arm::posterior_a`](crate::envs::risky_arm::posterior_a).
/// ```
/// use riskmdp::envs::risky_arm::{self, A, RIGHT, S};
/// use riskmdp::utility::posterior;
/// use riskmdp::{Beta, Policy};
/// let (mdp, beta) = (risky_arm::risky_arm().with_horizon(Some(2))?, 3.0);
/// let q = posterior(&mdp, Beta::new(beta)?, &Policy::uniform(&mdp))?;
/// assert!((q.dynamics[0][[S, RIGHT, A]] - risky_arm::posterior_a(beta)).abs() < 1e-12);
/// assert!((q.policy[[0, S, 0]] + q.policy[[0, S, 1]] - 1.0).abs() < 1e-15);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn posterior(mdp: &TabularMdp, beta: Beta, prior: &Policy) -> Result<Variational> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported { what: "posterior: needs a model with a horizon".into() });
    };
    let sol = evaluate_finite_horizon(mdp, beta, prior)?;
    let mut policy = Array3::zeros(sol.q.raw_dim());
    let mut dynamics = Vec::with_capacity(horizon);
    for t in 0..horizon {
        let q_t = sol.q.index_axis(Axis(0), t);
        policy.index_axis_mut(Axis(0), t).assign(&posterior_policy(mdp, prior.at(t), q_t));
        dynamics.push(posterior_dynamics(mdp, sol.v.row(t + 1)));
    }
    Ok(Variational { policy, dynamics })
}

/// `Σ_j q_j·log(q_j/p_j)` over `(q_j, p_j)` pairs (+∞ if q puts mass where p has none).
fn kl_of_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    pairs
        .into_iter()
        .filter(|&(q, _)| q > 0.0)
        .map(|(q, p)| if p > 0.0 { q * (q / p).ln() } else { f64::INFINITY })
        .sum()
}

/// `KL(q ‖ p) = Σ_j q_j·log(q_j/p_j)` of two dense rows.
fn kl(q: &[f64], p: &[f64]) -> f64 {
    kl_of_pairs(q.iter().copied().zip(p.iter().copied()))
}

/// The scaled ELBO (Eq. 7 divided by β) of a variational q against prior π, per start state.
///
/// # Formula
///
/// ```text
/// ELBO(q; s) = E_q[Σ_t r_t]/β − KL(q(τ) ‖ p_π(τ)) ≤ V_π,0(s), with equality at the posterior (Eq. 7)
/// computed backwards:  L_T = 0,
/// L_t(s) = Σ_a q_t(a|s)·[ r(s,a)/β − log(q_t(a|s)/π_t(a|s))
///                        + γ·Σ_{s'} q_t(s'|s,a)·( L_{t+1}(s') − log(q_t(s'|s,a)/P(s'|s,a)) ) ]
/// ```
///
/// # Errors
/// [`Error::Unsupported`] without a horizon; [`Error::Shape`] if q has the wrong shape.
///
/// # Examples
/// The ELBO is tight at the posterior and equals the expected return / β at the prior itself
/// (KL = 0): for the uniform policy on the risky arm, the expected return is ½·(−5) + ½·(−9) = −7.
/// ```
/// use ndarray::Array3;
/// use riskmdp::envs::risky_arm::{self, S};
/// use riskmdp::utility::{Variational, elbo, posterior};
/// use riskmdp::{Beta, Policy, evaluate_finite_horizon};
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let (beta, prior) = (Beta::new(2.0)?, Policy::uniform(&mdp));
/// let v = evaluate_finite_horizon(&mdp, beta, &prior)?.v;
/// let tight = elbo(&mdp, beta, &prior, &posterior(&mdp, beta, &prior)?)?;
/// assert!((tight[S] - v[[0, S]]).abs() < 1e-12);
/// let p = mdp.transitions().into_owned();
/// let at_prior = Variational { policy: Array3::from_elem((2, 6, 2), 0.5), dynamics: vec![p.clone(), p] };
/// let loose = elbo(&mdp, beta, &prior, &at_prior)?;
/// assert!((loose[S] - (-7.0 / 2.0)).abs() < 1e-12 && loose[S] < v[[0, S]]);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn elbo(mdp: &TabularMdp, beta: Beta, prior: &Policy, q: &Variational) -> Result<Array1<f64>> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported { what: "elbo: needs a model with a horizon".into() });
    };
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    if q.policy.dim() != (horizon, s_count, a_count) || q.dynamics.len() != horizon {
        return Err(Error::Shape {
            field: "variational".into(),
            what: "one S×A policy and one S×A×S dynamics per time step".into(),
            expected: horizon,
            found: q.dynamics.len(),
        });
    }
    let mut next = Array1::<f64>::zeros(s_count);
    for t in (0..horizon).rev() {
        let pi = prior.at(t);
        let mut cur = Array1::zeros(s_count);
        for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
            let mut total = 0.0;
            for a in 0..a_count {
                let qa = q.policy[[t, s, a]];
                if qa == 0.0 {
                    continue;
                }
                let log_ratio = if pi[[s, a]] > 0.0 { (qa / pi[[s, a]]).ln() } else { f64::INFINITY };
                let p_row = mdp.transition_row(s, a);
                let q_row: Vec<f64> = (0..s_count).map(|j| q.dynamics[t][[s, a, j]]).collect();
                let future: f64 = q_row.iter().zip(next.iter()).filter(|(w, _)| **w > 0.0).map(|(w, l)| w * l).sum();
                let inner = future - kl(&q_row, &p_row);
                total += qa * (mdp.rewards()[[s, a]] / beta.get() - log_ratio + mdp.gamma() * inner);
            }
            cur[s] = total;
        }
        next = cur;
    }
    Ok(next)
}

/// KL(q(·|s,a) ‖ P(·|s,a)) for every pair of a dense S×A×S q; 0 at terminal states.
///
/// # Formula
///
/// ```text
/// KL(s,a) = Σ_{s'} q(s'|s,a)·log( q(s'|s,a) / P(s'|s,a) )     (the per-pair term of Eq. 8)
/// ```
///
/// # Panics
/// If `q` is not S×A×S.
///
/// # Examples
/// ```
/// use riskmdp::envs::risky_arm::{self, A, B, RIGHT, S};
/// use riskmdp::operators::posterior_dynamics;
/// use riskmdp::utility::kl_per_pair;
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let mdp = risky_arm::risky_arm();
/// let sol = value_iteration(&mdp, Beta::new(3.0)?, SolveOptions::default())?;
/// let q = posterior_dynamics(&mdp, sol.v.view());
/// let kl = kl_per_pair(&mdp, &q);
/// let (qa, qb) = (q[[S, RIGHT, A]], q[[S, RIGHT, B]]);
/// assert!((kl[[S, RIGHT]] - (qa * (qa / 0.9).ln() + qb * (qb / 0.1).ln())).abs() < 1e-15);
/// assert_eq!(kl[[S, 0]], 0.0); // `left` is deterministic: nothing to tilt
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn kl_per_pair(mdp: &TabularMdp, q: &Array3<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            let q_row: Vec<f64> = (0..mdp.n_states()).map(|j| q[[s, a, j]]).collect();
            out[[s, a]] = kl(&q_row, &mdp.transition_row(s, a)).max(0.0);
        }
    }
    out
}

/// `g(d) = d·e^d − e^d + 1 = Σ_{n≥2} (n−1)·dⁿ/n!` — non-negative, ≈ d²/2 near 0 — summed as
/// a series where the closed form would cancel.
fn kl_summand(d: f64) -> f64 {
    if d == f64::NEG_INFINITY {
        return 1.0;
    }
    if d.abs() >= 0.5 {
        return 1.0 + d.exp() * (d - 1.0);
    }
    let (mut power, mut sum) = (d, 0.0); // power = dⁿ/n!
    for n in 2..60 {
        power *= d / n as f64;
        let term = (n - 1) as f64 * power;
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    sum
}

/// KL(q(·|s,a) ‖ P(·|s,a)) of the posterior dynamics at values V (Eqs. 4, 8), row by row over
/// the support of P: the same numbers as `kl_per_pair(mdp, &posterior_dynamics(mdp, v))`
/// without the S×A×S tensor, so it works on large sparse models; 0 at terminal states.
///
/// # Formula
///
/// ```text
/// q_j = P_j·e^{d_j},   d_j = V_j − log Σ_k P_k·e^{V_k}                          (Eq. 4)
/// KL(q ‖ P) = Σ_j q_j·d_j = Σ_j P_j·g(d_j),   g(d) = d·e^d − e^d + 1 ≥ 0
/// ```
///
/// (the second form adds Σ_j P_j·(1 − e^{d_j}) = 0). As β → ∞ the tilt vanishes and
/// KL ≈ Var_P(V)/2 is second order in the spread of V: `Σ q·log(q/P)` would lose all but a few
/// digits to cancellation (3 left at β = 1e7 on the risky arm), while every term of `Σ P·g(d)`
/// is non-negative. The `d_j` are formed after shifting by max V, with `log1p`, so they are
/// exact to a few ulps of themselves.
///
/// # Panics
/// If `v` has fewer than S entries.
///
/// # Examples
/// ```
/// use riskmdp::envs::Gridworld;
/// use riskmdp::operators::posterior_dynamics;
/// use riskmdp::utility::{kl_of_posterior_dynamics, kl_per_pair};
/// use riskmdp::{Beta, SolveOptions, value_iteration};
/// let mdp = Gridworld::cliff().build()?;
/// let v = value_iteration(&mdp, Beta::new(0.5)?, SolveOptions::default())?.v;
/// let row_by_row = kl_of_posterior_dynamics(&mdp, &v.to_vec());
/// let dense = kl_per_pair(&mdp, &posterior_dynamics(&mdp, v.view()));
/// assert!(row_by_row.iter().zip(dense.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
/// assert!(row_by_row.iter().any(|&kl| kl > 0.1)); // β = 0.5 tilts the noisy moves a lot
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn kl_of_posterior_dynamics(mdp: &TabularMdp, v: &[f64]) -> Array2<f64> {
    let mut out = Array2::zeros((mdp.n_states(), mdp.n_actions()));
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            let support: Vec<(usize, f64)> = mdp.row(s, a).iter().filter(|&(_, p)| p > 0.0).collect();
            let m = support.iter().map(|&(j, _)| v[j]).fold(f64::NEG_INFINITY, f64::max);
            let (p, shifted): (Vec<f64>, Vec<f64>) = support.iter().map(|&(j, p)| (p, v[j] - m)).unzip();
            let log_z = log_expect_exp(&p, &shifted); // log Z − m, via log1p when the mass is near m
            out[[s, a]] = p.iter().zip(&shifted).map(|(&p, &x)| p * kl_summand(x - log_z)).sum();
        }
    }
    out
}

/// State-action occupancy of a stationary policy in the true dynamics from ρ, on an
/// infinite-horizon model (not normalised): the weights of KL_β (Eq. 8).
///
/// # Formula
///
/// ```text
/// d(s,a) = Σ_t γ^t·Pr(s_t = s, a_t = a | s_0 ∼ ρ) = μ(s)·π(a|s),   μ = ρ + γ·P_πᵀ μ
/// ```
///
/// on the non-terminal states (one linear solve; by iteration above 3000 states).
///
/// # Errors
/// [`Error::Unsupported`] for a model with a horizon or a time-dependent policy.
///
/// # Examples
/// Always gambling on the risky arm visits S once, A w.p. 0.9 and B w.p. 0.1.
/// ```
/// use riskmdp::envs::risky_arm::{self, A, B, RIGHT, S};
/// use riskmdp::utility::occupancy;
/// use riskmdp::Policy;
/// let mdp = risky_arm::risky_arm();
/// let d = occupancy(&mdp, &Policy::deterministic(&mdp, &[RIGHT; 6])?)?;
/// assert!((d[[S, RIGHT]] - 1.0).abs() < 1e-15);
/// assert!((d[[A, RIGHT]] - 0.9).abs() < 1e-15 && (d[[B, RIGHT]] - 0.1).abs() < 1e-15);
/// assert_eq!(d[[S, 0]] + d[[3, RIGHT]], 0.0); // `left` never taken; C terminal
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn occupancy(mdp: &TabularMdp, policy: &Policy) -> Result<Array2<f64>> {
    occupancy_switching_at(mdp, policy, DENSE_SOLVE_MAX)
}

/// [`occupancy`], solved by the dense LU up to `dense_max` states and by iteration above: the
/// switch is a parameter so that the tests reach both sides of it with small models.
fn occupancy_switching_at(mdp: &TabularMdp, policy: &Policy, dense_max: usize) -> Result<Array2<f64>> {
    let pi = policy.stationary_probs(mdp, "occupancy", "occupancy_finite_horizon")?;
    let s_count = mdp.n_states();
    // μ = ρ + γ P_πᵀ μ on the non-terminal states.
    let mu: Vec<f64> = if s_count > dense_max {
        occupancy_by_iteration(mdp, pi)?
    } else {
        let rows = |s: usize, a: usize| mdp.row(s, a).iter();
        solve_chain(mdp, mdp.gamma(), |s, a| pi[[s, a]], rows, &mdp.initial().to_vec(), Orientation::Transposed)
            .ok_or_else(|| Error::Unsupported { what: "occupancy: singular system".into() })?
    };
    let mut d = Array2::zeros((s_count, mdp.n_actions()));
    for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..mdp.n_actions() {
            d[[s, a]] = mu[s].max(0.0) * pi[[s, a]];
        }
    }
    Ok(d)
}

/// One step of the state flow under π in the true dynamics, between non-terminal states:
/// `next(s') = Σ_{s,a} w(s,a)·P(s'|s,a)` with `w(s,a) = factor·flow(s)·π(a|s)`, which
/// `visit(s, a, w)` sees for every pair with flow.
fn flow_step(
    mdp: &TabularMdp,
    pi: ArrayView2<f64>,
    flow: &[f64],
    factor: f64,
    mut visit: impl FnMut(usize, usize, f64),
) -> Vec<f64> {
    let mut next = vec![0.0; mdp.n_states()];
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s) && flow[s] > 0.0) {
        for a in 0..mdp.n_actions() {
            let w = factor * flow[s] * pi[[s, a]];
            visit(s, a, w);
            for (j, p) in mdp.row(s, a).iter().filter(|&(j, _)| !mdp.is_terminal(j)) {
                next[j] += w * p;
            }
        }
    }
    next
}

/// μ = ρ + γ P_πᵀ μ by iteration (large models): μ_k = Σ_{t<k} γ^t ρ P_π^t, to 1e-12 relative.
fn occupancy_by_iteration(mdp: &TabularMdp, pi: &Array2<f64>) -> Result<Vec<f64>> {
    let s_count = mdp.n_states();
    let mut flow: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { 0.0 } else { mdp.initial()[s] }).collect();
    let mut mu = flow.clone();
    for _ in 0..10_000_000 {
        let next = flow_step(mdp, pi.view(), &flow, mdp.gamma(), |_, _, _| {});
        let added: f64 = next.iter().sum();
        let total: f64 = mu.iter().sum();
        for (m, x) in mu.iter_mut().zip(&next) {
            *m += x;
        }
        flow = next;
        if added <= 1e-13 * total {
            return Ok(mu);
        }
    }
    Err(Error::Unsupported { what: "occupancy: the state flow did not die out".into() })
}

/// Time-indexed occupancy of a policy from ρ over the horizon, shape (T, S, A): the weights of
/// KL_β (Eq. 8) with a horizon.
///
/// # Formula
///
/// ```text
/// d_t(s,a) = γ^t·Pr(s_t = s, a_t = a | s_0 ∼ ρ)      (0 at terminal states)
/// ```
///
/// # Errors
/// [`Error::Unsupported`] without a horizon.
///
/// # Examples
/// The uniform policy on the risky arm: S at t = 0, then A w.p. ½·0.9 at t = 1.
/// ```
/// use riskmdp::envs::risky_arm::{self, A, S};
/// use riskmdp::utility::occupancy_finite_horizon;
/// use riskmdp::Policy;
/// let mdp = risky_arm::risky_arm().with_horizon(Some(2))?;
/// let d = occupancy_finite_horizon(&mdp, &Policy::uniform(&mdp))?;
/// assert!((d[[0, S, 0]] - 0.5).abs() < 1e-15);
/// assert!((d[[1, A, 0]] - 0.5 * 0.9 * 0.5).abs() < 1e-15);
/// assert_eq!(d[[1, S, 0]], 0.0);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn occupancy_finite_horizon(mdp: &TabularMdp, policy: &Policy) -> Result<Array3<f64>> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::Unsupported { what: "occupancy_finite_horizon: the model has no horizon".into() });
    };
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut d = Array3::zeros((horizon, s_count, a_count));
    let mut mu = mdp.initial().to_vec();
    let mut discount = 1.0;
    for t in 0..horizon {
        let pi = policy.at(t);
        mu = flow_step(mdp, pi, &mu, 1.0, |s, a, w| d[[t, s, a]] = discount * w);
        discount *= mdp.gamma();
    }
    Ok(d)
}

/// How the per-pair KLs are averaged into one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KlWeights {
    /// By the occupancy d(s,a) of the prior policy from ρ (Eq. 8).
    #[default]
    Occupancy,
    /// Uniformly over non-terminal pairs (and time steps).
    Uniform,
}

/// The weighted mean `Σ w·kl / Σ w` (0 when all weights vanish); pairs with zero weight are
/// skipped, so an infinite KL where nothing is visited does not count.
///
/// # Formula
///
/// ```text
/// KL_β = Σ_{s,a} d(s,a)·KL(s,a) / Σ_{s,a} d(s,a)        (Eq. 8, normalised)
/// ```
///
/// # Examples
/// ```
/// use riskmdp::utility::weighted_mean;
/// assert!((weighted_mean(&[1.0, f64::INFINITY, 4.0], &[3.0, 0.0, 1.0]) - 1.75).abs() < 1e-15);
/// assert_eq!(weighted_mean(&[1.0], &[0.0]), 0.0);
/// ```
pub fn weighted_mean(kl: &[f64], weights: &[f64]) -> f64 {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    kl.iter().zip(weights).filter(|(_, w)| **w > 0.0).map(|(k, w)| k * w).sum::<f64>() / total
}

/// Uniform weights: 1 on non-terminal pairs, repeated `steps` times.
pub(crate) fn uniform_weights(mdp: &TabularMdp, steps: usize) -> Vec<f64> {
    let one: Vec<f64> = (0..mdp.n_states())
        .flat_map(|s| std::iter::repeat_n(if mdp.is_terminal(s) { 0.0 } else { 1.0 }, mdp.n_actions()))
        .collect();
    one.repeat(steps)
}

/// The first axis of an array whose length is not the expected one, as [`Error::Shape`].
fn check_dims(field: &str, found: &[usize], expected: &[usize], layout: &str) -> Result<()> {
    match found.iter().zip(expected).position(|(f, e)| f != e) {
        None => Ok(()),
        Some(axis) => Err(Error::Shape {
            field: format!("{field} (axis {axis})"),
            what: layout.into(),
            expected: expected[axis],
            found: found[axis],
        }),
    }
}

/// The scaled ELBO (Eq. 7 divided by β) of a stationary q against prior π on an
/// infinite-horizon model with γ < 1, per start state: the fixed point of the stationary form
/// of the recursion of [`elbo`]. It is at most V_π, with equality at the posterior.
///
/// # Formula
///
/// ```text
/// L(s) = Σ_a q(a|s)·[ r(s,a)/β − log(q(a|s)/π(a|s))
///                     + γ·( Σ_{s'} q(s'|s,a)·L(s') − KL(q(·|s,a) ‖ P(·|s,a)) ) ]
/// ```
///
/// solved as the linear system `(I − γ·M) L = c`, `M[s][s'] = Σ_a q(a|s)·q(s'|s,a)`; a state
/// that reaches (under q) a pair where q takes an action π never takes has L = −∞.
///
/// # Errors
/// [`Error::Unsupported`] for a horizon or γ = 1; [`Error::Shape`] if `prior`, `q_policy` are
/// not S×A or `q_dynamics` not S×A×S.
///
/// # Examples
/// ```
/// use riskmdp::envs::Gridworld;
/// use riskmdp::operators::{posterior_dynamics, posterior_policy};
/// use riskmdp::utility::elbo_stationary;
/// use riskmdp::{Beta, Policy, SolveOptions, evaluate_policy};
/// let mdp = Gridworld::cliff().build()?; // γ = 0.9
/// let beta = Beta::new(2.0)?;
/// let prior = Policy::uniform(&mdp);
/// let sol = evaluate_policy(&mdp, beta, &prior, SolveOptions::default())?;
/// let pi = prior.at(0).to_owned();
/// // At the posterior q(a|s) ∝ π·exp Q, q(s'|s,a) ∝ P·exp V the ELBO is tight: L = V_π.
/// let q_pi = posterior_policy(&mdp, pi.view(), sol.q.view());
/// let q_p = posterior_dynamics(&mdp, sol.v.view());
/// let tight = elbo_stationary(&mdp, beta, &pi, &q_pi, &q_p)?;
/// let start = mdp.initial_state().unwrap_or(0);
/// assert!((tight[start] - sol.v[start]).abs() < 1e-9 * sol.v[start].abs().max(1.0));
/// // With the true dynamics instead of the posterior it is strictly lower.
/// let loose = elbo_stationary(&mdp, beta, &pi, &q_pi, &mdp.transitions())?;
/// assert!(loose[start] < sol.v[start] - 1e-6);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn elbo_stationary(
    mdp: &TabularMdp,
    beta: Beta,
    prior: &Array2<f64>,
    q_policy: &Array2<f64>,
    q_dynamics: &Array3<f64>,
) -> Result<Array1<f64>> {
    if mdp.horizon().is_some() || mdp.gamma() >= 1.0 {
        return Err(Error::Unsupported { what: "elbo_stationary: needs γ < 1 and no horizon".into() });
    }
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    check_dims("prior", prior.shape(), &[s_count, a_count], "S×A")?;
    check_dims("q_policy", q_policy.shape(), &[s_count, a_count], "S×A")?;
    check_dims("q_dynamics", q_dynamics.shape(), &[s_count, a_count, s_count], "S×A×S")?;
    // L = c + γ·M L with c the one-step terms and M[s][s'] = Σ_a q(a|s)·q(s'|s,a).
    let q_row = |s: usize, a: usize| (0..s_count).map(move |j| (j, q_dynamics[[s, a, j]]));
    let mut c = vec![0.0; s_count];
    for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..a_count {
            let qa = q_policy[[s, a]];
            if qa == 0.0 {
                continue;
            }
            let log_ratio = if prior[[s, a]] > 0.0 { (qa / prior[[s, a]]).ln() } else { f64::INFINITY };
            let row: Vec<f64> = q_row(s, a).map(|(_, w)| w).collect();
            c[s] += qa
                * (mdp.rewards()[[s, a]] / beta.get() - log_ratio - mdp.gamma() * kl(&row, &mdp.transition_row(s, a)));
        }
    }
    // States whose one-step term is −∞ (q where the prior has no mass), and every state that
    // reaches one under q, have ELBO −∞; solve the linear system on the rest.
    let reaches = |s: usize, j: usize| {
        j != s
            && !mdp.is_terminal(s)
            && !mdp.is_terminal(j)
            && (0..a_count).any(|a| mdp.gamma() * q_policy[[s, a]] * q_dynamics[[s, a, j]] > 0.0)
    };
    let mut minus_inf: Vec<bool> = (0..s_count).map(|s| c[s] == f64::NEG_INFINITY).collect();
    loop {
        let grown: Vec<bool> =
            (0..s_count).map(|s| minus_inf[s] || (0..s_count).any(|j| minus_inf[j] && reaches(s, j))).collect();
        if grown == minus_inf {
            break;
        }
        minus_inf = grown;
    }
    for s in (0..s_count).filter(|&s| minus_inf[s]) {
        c[s] = 0.0;
    }
    let weight = |s: usize, a: usize| if minus_inf[s] { 0.0 } else { q_policy[[s, a]] };
    let l = solve_chain(mdp, mdp.gamma(), weight, q_row, &c, Orientation::Rows)
        .ok_or_else(|| Error::Unsupported { what: "elbo_stationary: singular system".into() })?;
    Ok(Array1::from_iter((0..s_count).map(|s| if minus_inf[s] { f64::NEG_INFINITY } else { l[s] })))
}

/// Tests written for mutants that `scripts/mutants.sh src/utility.rs` found missed
/// (docs/mutation-testing.md); each checks a value computed by hand.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm::{self, RIGHT, S};

    /// Kills `pj > 0.0` → `pj >= 0.0` in `exponential_utility`: the risky arm's dense rows hold
    /// zeros, and a zero-probability branch is no trajectory. Gambling from S with horizon 2
    /// has exactly two (S → A, S → B, then terminal), so a limit of 2 suffices and 1 does not.
    #[test]
    fn only_trajectories_of_positive_probability_are_enumerated() {
        let mdp = risky_arm::risky_arm().with_horizon(Some(2)).unwrap();
        let gamble = Policy::deterministic(&mdp, &[RIGHT; 6]).unwrap();
        let beta = Beta::new(2.0).unwrap();
        let u = exponential_utility(&mdp, beta, &gamble, S, 2).unwrap();
        assert_eq!(u.trajectories, 2);
        assert!(matches!(exponential_utility(&mdp, beta, &gamble, S, 1), Err(Error::TooManyTrajectories { limit: 1 })));
    }

    /// Kills the arithmetic mutants of the mean and variance in `exponential_utility` (only
    /// the doc test checked them, on the gamble, where `p + r` happens to sum to the same −9).
    /// The uniform policy on the risky arm with horizon 2, by hand: `left` (1/2) pays −5 and
    /// ends; `right` (1/2) reaches A (0.9), which pays −10 whichever action, or B (0.1), which
    /// pays 0. Returns −5, −10, 0 w.p. 0.5, 0.45, 0.05 (five trajectories: one per action at
    /// A and at B): mean −7, variance 0.5·2² + 0.45·3² + 0.05·7² = 8.5,
    /// certainty equivalent 2·ln(0.5·e^−2.5 + 0.45·e^−5 + 0.05) at β = 2.
    #[test]
    fn mean_variance_and_certainty_equivalent_of_a_mixed_policy_match_the_hand_computation() {
        let mdp = risky_arm::risky_arm().with_horizon(Some(2)).unwrap();
        let u = exponential_utility(&mdp, Beta::new(2.0).unwrap(), &Policy::uniform(&mdp), S, 100).unwrap();
        assert_eq!(u.trajectories, 5);
        assert!((u.mean + 7.0).abs() < 1e-12, "{}", u.mean);
        assert!((u.variance - 8.5).abs() < 1e-12, "{}", u.variance);
        let closed = 2.0 * (0.5 * (-2.5f64).exp() + 0.45 * (-5.0f64).exp() + 0.05).ln();
        assert!((u.certainty_equivalent - closed).abs() < 1e-12);
        assert!((u.log_marginal - closed / 2.0).abs() < 1e-12);
    }

    /// Kills `q > 0.0` → `q >= 0.0` in `kl_of_pairs`: a zero of q contributes 0 (the limit of
    /// q·log q), not 0·log 0 = NaN. KL((0, 1) ‖ (1/2, 1/2)) = 1·ln(1/(1/2)) = ln 2; mass of q
    /// where p has none makes it +∞.
    #[test]
    fn kl_skips_the_zeros_of_q_and_is_infinite_off_the_support_of_p() {
        assert!((kl(&[0.0, 1.0], &[0.5, 0.5]) - std::f64::consts::LN_2).abs() < 1e-15);
        assert!(kl(&[0.0, 1.0], &[0.0, 1.0]).abs() < 1e-300);
        assert!(kl(&[0.5, 0.5], &[1.0, 0.0]).is_infinite());
    }

    /// Kills `||` → `&&` in the shape check of `elbo` (231:54): a variational q whose policy
    /// has the wrong number of steps is a shape error even when its dynamics have the right
    /// number, and the other way round (the mutant lets either through to an index panic).
    #[test]
    fn an_elbo_of_a_variational_with_one_wrong_part_is_a_shape_error() {
        let mdp = risky_arm::risky_arm().with_horizon(Some(2)).unwrap();
        let (beta, prior) = (Beta::new(2.0).unwrap(), Policy::uniform(&mdp));
        let good = posterior(&mdp, beta, &prior).unwrap();
        assert!(elbo(&mdp, beta, &prior, &good).is_ok());
        let short_policy = Variational {
            policy: good.policy.slice_axis(Axis(0), ndarray::Slice::from(0..1)).to_owned(),
            dynamics: good.dynamics.clone(),
        };
        let short_dynamics = Variational { policy: good.policy.clone(), dynamics: good.dynamics[..1].to_vec() };
        for q in [short_policy, short_dynamics] {
            assert!(matches!(elbo(&mdp, beta, &prior, &q), Err(Error::Shape { .. })));
        }
    }

    /// Kills `(r − mean)·(r − mean)` → `(r + mean)·(r − mean)` (either factor) in the variance:
    /// Σ p·(r² − mean²) = E[R²] − mean² is the variance too, but with catastrophic cancellation.
    /// The same model with 10¹² added to both rewards at S: the returns are 10¹² − 5,
    /// 10¹² − 10 and 10¹², the variance still 8.5 (a shift does not change it). The mean is
    /// off by an ulp of 10¹² (~1e-4), which enters (r − mean)² only to second order (~1e-8);
    /// the terms p·(r + mean)·(r − mean) are ~10¹² each, and their cancellation leaves errors
    /// of ~1e-4. Measured: either mutant gives 8.50024 or 8.49976; the code 8.5 within 1e-6.
    #[test]
    fn the_variance_of_shifted_returns_has_no_cancellation() {
        let text = r#"{ "states": ["S", "A", "B", "C", "D", "L"], "actions": ["left", "right"],
            "gamma": 1, "horizon": 2, "terminal": [false, false, false, true, true, true],
            "transitions": [
                [[0, 0, 0, 0, 0, 1], [0, 0.9, 0.1, 0, 0, 0]],
                [[0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0]], [[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0]],
                [[0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0]], [[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0]],
                [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]]],
            "rewards": [[999999999995, 1000000000000], [-10, -10], [0, 0], [0, 0], [0, 0], [0, 0]] }"#;
        let mdp = TabularMdp::from_json_str(text, "shifted risky arm").unwrap();
        let u = exponential_utility(&mdp, Beta::new(2.0).unwrap(), &Policy::uniform(&mdp), S, 100).unwrap();
        assert!((u.mean - (1e12 - 7.0)).abs() < 1e-3, "{}", u.mean);
        assert!((u.variance - 8.5).abs() < 1e-6, "{}", u.variance);
    }

    /// A small model built in code (dense rows; state names s0, s1, …).
    fn small_model(
        gamma: f64,
        horizon: Option<usize>,
        initial: Option<Vec<f64>>,
        terminal: Vec<bool>,
        transitions: Vec<Vec<Vec<f64>>>,
        rewards: Vec<Vec<f64>>,
    ) -> TabularMdp {
        TabularMdp::new(crate::MdpSpec {
            name: "small".into(),
            state_names: None,
            action_names: None,
            gamma,
            horizon,
            initial,
            terminal: Some(terminal),
            transitions: transitions.into(),
            rewards,
            grid: None,
        })
        .unwrap()
    }

    /// `x` is −∞ (not NaN, not finite).
    fn is_minus_infinity(x: f64) -> bool {
        x.is_infinite() && x.is_sign_negative()
    }

    /// Kills `p > 0.0` → `p >= 0.0` in `kl_of_pairs` (184:28), which was listed as equivalent
    /// for p = +0. A probability of −0.0 passes validation (`(0.0..=1.0).contains(&-0.0)`):
    /// `−0 > 0` is false and the code gives +∞ (q has mass where p has none), while `−0 >= 0`
    /// is true and the mutant computes q·ln(q/−0) = q·ln(−∞) = NaN — which `kl_per_pair`'s
    /// `.max(0.0)` then turns into a KL of 0.
    #[test]
    fn kl_is_infinite_where_p_is_a_negative_zero() {
        assert!(kl(&[0.5, 0.5], &[1.0, -0.0]).is_infinite());
        // s0 --a0--> s1 with P = (0, 1, −0): q puts ½ on s2.
        let mdp = small_model(
            0.5,
            None,
            None,
            vec![false, true, true],
            vec![vec![vec![0.0, 1.0, -0.0]], vec![vec![0.0, 1.0, 0.0]], vec![vec![0.0, 0.0, 1.0]]],
            vec![vec![0.0]; 3],
        );
        let mut q = Array3::zeros((3, 1, 3));
        q[[0, 0, 1]] = 0.5;
        q[[0, 0, 2]] = 0.5;
        let per_pair = kl_per_pair(&mdp, &q);
        assert!(per_pair[[0, 0]].is_infinite() && per_pair[[0, 0]] > 0.0, "{}", per_pair[[0, 0]]);
    }

    /// Kills `pi > 0.0` → `>=` (250:47) and `**w > 0.0` → `>=` (253:85) in `elbo`. The risky
    /// arm with horizon 2 and β = 2; prior: uniform at S and A, (1, −0.0) at B (a valid
    /// distribution: −0.0 is in [0, 1]); q: `right` at S with dynamics S → A w.p. 1, true
    /// dynamics elsewhere, uniform at A, `right` at B. By hand:
    /// L₁(A) = −10/2 = −5 (q = π, dynamics = P: no KL); L₁(B) = L₀(B) = −∞ (q takes `right`, π
    /// never does); L₀(S) = 0/2 − ln(1/½) + (1·L₁(A) + 0·L₁(B) − KL((1, 0) ‖ (0.9, 0.1)))
    /// = −ln 2 − 5 + ln 0.9, where the zero weight on B drops its −∞.
    /// The first mutant takes ln(1/−0) = ln(−∞) = NaN for L(B); the second 0·(−∞) = NaN for L₀(S).
    #[test]
    fn an_elbo_skips_a_minus_infinite_future_of_zero_weight_and_treats_a_negative_zero_prior_as_zero() {
        use crate::envs::risky_arm::{A, B};
        let mdp = risky_arm::risky_arm().with_horizon(Some(2)).unwrap();
        let beta = Beta::new(2.0).unwrap();
        let mut pi = Array2::from_elem((6, 2), 0.5);
        pi[[B, 0]] = 1.0;
        pi[[B, 1]] = -0.0;
        let prior = Policy::stationary(&mdp, pi).unwrap();
        let p = mdp.transitions().into_owned();
        let mut q_policy = Array3::from_elem((2, 6, 2), 0.5);
        for t in 0..2 {
            for s in [S, B] {
                q_policy[[t, s, 0]] = 0.0;
                q_policy[[t, s, 1]] = 1.0;
            }
        }
        let mut tilted = p.clone();
        tilted[[S, RIGHT, A]] = 1.0;
        tilted[[S, RIGHT, B]] = 0.0;
        let q = Variational { policy: q_policy, dynamics: vec![tilted, p] };
        let l = elbo(&mdp, beta, &prior, &q).unwrap();
        let by_hand = -std::f64::consts::LN_2 - 5.0 + 0.9f64.ln();
        assert!((l[S] - by_hand).abs() < 1e-12, "{} vs {by_hand}", l[S]);
        assert!((l[A] + 5.0).abs() < 1e-12, "{}", l[A]);
        assert!(is_minus_infinity(l[B]), "{}", l[B]);
    }

    /// Kills `v[j] - m` → `v[j] + m` in `kl_of_posterior_dynamics` (362:92). The KL depends
    /// only on the differences of V over the support, so shifting by m (the largest) is exact
    /// (Sterbenz) while adding m doubles the magnitude and rounds the differences to a coarser
    /// grid. The risky arm's (S, right) goes to A w.p. 0.9 and B w.p. 0.1; with V(A) = 10¹⁵,
    /// V(B) = 10¹⁵ + 2.125 (both exact; the spacing of floats there is 0.125, at 2·10¹⁵ it is
    /// 0.25, where 2·10¹⁵ + 2.125 is a tie) the closed form with δ = 2.125 is
    /// q_B = 0.1·e^δ / (0.9 + 0.1·e^δ), KL = q_B·δ − ln(0.9 + 0.1·e^δ) (Eq. 4: q ∝ P·e^V).
    #[test]
    fn the_posterior_kl_of_large_values_depends_only_on_their_differences() {
        use crate::envs::risky_arm::{A, B};
        let mdp = risky_arm::risky_arm();
        let mut v = vec![0.0; 6];
        v[A] = 1e15;
        v[B] = 1e15 + 2.125;
        let delta: f64 = 2.125;
        let z = 0.9 + 0.1 * delta.exp();
        let closed = 0.1 * delta.exp() / z * delta - z.ln();
        let kl = kl_of_posterior_dynamics(&mdp, &v);
        assert!((kl[[S, RIGHT]] - closed).abs() < 1e-13, "{} vs {closed}", kl[[S, RIGHT]]);
        assert!(kl[[S, 0]].abs() < 1e-300); // `left` is deterministic
    }

    /// Kills `s_count > dense_max` → `<`, `>=`, `==` in `occupancy_switching_at` (407:35),
    /// which send small models, or a model of exactly `dense_max` states, to the iteration: it
    /// stops once a step adds ≤ 1e-13 of the total, which on a slow chain leaves a tail of
    /// 1e-13/(1 − r) relative. One state s0 that stays w.p. r = 0.99 and else ends, γ = 1:
    /// μ(s0) = 1/(1 − r) = 100 (the float 1 − 0.99 is exact, so the dense solve is exact to an
    /// ulp); the iteration is 1e-11 relative off. Solved with the real switch (3000 states) and
    /// with the switch at the model's own 2 states, the largest size the dense solve takes.
    #[test]
    fn the_occupancy_of_a_slow_small_chain_is_exact_to_rounding() {
        let mdp = small_model(
            1.0,
            None,
            None,
            vec![false, true],
            vec![vec![vec![0.99, 0.01]], vec![vec![0.0, 1.0]]],
            vec![vec![0.0]; 2],
        );
        let closed = 1.0 / (1.0 - 0.99);
        for dense_max in [DENSE_SOLVE_MAX, 2] {
            let d = occupancy_switching_at(&mdp, &Policy::uniform(&mdp), dense_max).unwrap();
            let at = format!("switch at {dense_max} states");
            assert!((d[[0, 0]] - closed).abs() < 4.0 * f64::EPSILON * closed, "{at}: {} vs {closed}", d[[0, 0]]);
            assert!(d[[1, 0]].abs() < 1e-300, "{at}");
        }
    }

    /// Kills `1e-13 * total` → `1e-13 / total` in the stop of `occupancy_by_iteration`
    /// (453:27), which only models above `DENSE_SOLVE_MAX` states reach. 3001 states: s0 stays
    /// w.p. ½ and else goes to s1; every other state is terminal; γ = 0.9; ρ puts 1e-9 on s0
    /// and the rest on s1. By hand μ(s0) = 1e-9·Σ_t (0.45)^t = 1e-9/0.55. The total flow is
    /// ~2e-9, so the mutant's threshold 1e-13/total ≈ 5e-5 stops after one step with
    /// μ(s0) = 1.45e-9 (20 % short); the code iterates to 1e-13 relative.
    #[test]
    fn the_iterated_occupancy_of_a_tiny_flow_is_accurate() {
        let n = DENSE_SOLVE_MAX + 1;
        let mut transitions: Vec<Vec<Vec<(usize, f64)>>> = vec![vec![vec![(0, 0.5), (1, 0.5)]]];
        transitions.extend((1..n).map(|s| vec![vec![(s, 1.0)]]));
        let mut initial = vec![0.0; n];
        initial[0] = 1e-9;
        initial[1] = 1.0 - 1e-9;
        let mut terminal = vec![true; n];
        terminal[0] = false;
        let mdp = TabularMdp::new(crate::MdpSpec {
            name: "tiny flow".into(),
            state_names: None,
            action_names: None,
            gamma: 0.9,
            horizon: None,
            initial: Some(initial),
            terminal: Some(terminal),
            transitions: transitions.into(),
            rewards: vec![vec![0.0]; n],
            grid: None,
        })
        .unwrap();
        let d = occupancy(&mdp, &Policy::uniform(&mdp)).unwrap();
        let closed = mdp.initial()[0] / (1.0 - 0.9 * 0.5);
        assert!((d[[0, 0]] - closed).abs() < 1e-12 * closed, "{} vs {closed}", d[[0, 0]]);
        assert!(d.iter().skip(1).all(|&x| x.abs() < 1e-300));
    }

    /// Kills `discount * w` → `+`, `/` (495:77) and `discount *= γ` → `+=`, `/=` (496:18) in
    /// `occupancy_finite_horizon` (the doc test alone checked it, with γ = 1), and `&&` → `||`
    /// in `flow_step`'s state filter (428:66), which lets a terminal state with initial mass
    /// flow. States s0, s1, terminal s2; ρ = (0.6, 0.2, 0.2); γ = ½, T = 3;
    /// s0: a0 → (s0 ½, s1 ½), a1 → (s1 0.2, s2 0.8); s1: a0 → s0, a1 → s2;
    /// π(s0) = (¼, ¾), π(s1) = (½, ½). By hand: d₀(s0) = (0.15, 0.45), d₀(s1) = (0.1, 0.1),
    /// d₀(s2) = 0; the flow at t = 1 is s0: 0.15·½ + 0.1 = 0.175, s1: 0.15·½ + 0.45·0.2 = 0.165,
    /// so d₁(s0) = ½·0.175·(¼, ¾) = (0.021875, 0.065625), d₁(s1) = ½·0.165·(½, ½) = 0.04125.
    /// Every entry is also checked against a brute-force sum over all 6³ action–state paths
    /// of γ^t·Pr(path prefix) (a path stops at the terminal state).
    #[test]
    fn the_finite_horizon_occupancy_is_discounted_and_matches_path_enumeration() {
        let transitions = vec![
            vec![vec![0.5, 0.5, 0.0], vec![0.0, 0.2, 0.8]],
            vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0]],
            vec![vec![0.0, 0.0, 1.0], vec![0.0, 0.0, 1.0]],
        ];
        let (gamma, horizon, rho) = (0.5, 3, [0.6, 0.2, 0.2]);
        let mdp = small_model(
            gamma,
            Some(horizon),
            Some(rho.to_vec()),
            vec![false, false, true],
            transitions,
            vec![vec![0.0; 2]; 3],
        );
        let mut pi = Array2::from_elem((3, 2), 0.5);
        pi[[0, 0]] = 0.25;
        pi[[0, 1]] = 0.75;
        let d = occupancy_finite_horizon(&mdp, &Policy::stationary(&mdp, pi.clone()).unwrap()).unwrap();
        let by_hand = [
            ((0, 0, 0), 0.15),
            ((0, 0, 1), 0.45),
            ((0, 1, 0), 0.1),
            ((0, 2, 0), 0.0),
            ((0, 2, 1), 0.0),
            ((1, 0, 0), 0.021875),
            ((1, 0, 1), 0.065625),
            ((1, 1, 1), 0.04125),
        ];
        for (ix, x) in by_hand {
            assert!((d[ix] - x).abs() < 1e-15, "d{ix:?} = {} vs {x}", d[ix]);
        }
        // Brute force: depth-first over (t, s, probability of the prefix up to s_t).
        let mut brute = Array3::<f64>::zeros((horizon, 3, 2));
        let mut stack: Vec<(usize, usize, f64)> = (0..3).map(|s| (0, s, rho[s])).collect();
        while let Some((t, s, p)) = stack.pop() {
            if t == horizon || mdp.is_terminal(s) {
                continue;
            }
            for a in 0..2 {
                let pa = p * pi[[s, a]];
                brute[[t, s, a]] += gamma.powi(t as i32) * pa;
                for j in 0..3 {
                    stack.push((t + 1, j, pa * mdp.transition(s, a, j)));
                }
            }
        }
        for (ix, x) in brute.indexed_iter() {
            assert!((d[ix] - x).abs() < 1e-15, "d{ix:?} = {} vs brute force {x}", d[ix]);
        }
    }

    /// Kills `**w > 0.0` → `>=` in `weighted_mean` (531:48; only its doc test checked it): an
    /// infinite KL of weight 0 is skipped, not 0·∞ = NaN. (3·1 + 1·4)/(3 + 0 + 1) = 1.75.
    #[test]
    fn a_weighted_mean_skips_an_infinite_kl_of_zero_weight() {
        assert!((weighted_mean(&[1.0, f64::INFINITY, 4.0], &[3.0, 0.0, 1.0]) - 1.75).abs() < 1e-15);
    }

    /// The two-state model of the stationary-ELBO tests: s0, s1, terminal s2, γ = ½;
    /// s0: a0 → s1 (reward 1), a1 → (s0 ½, s2 ½) (reward 0); s1: a0 → (s0 ½, s2 ½) (reward 2),
    /// a1 → s2 (reward 0).
    fn stationary_elbo_model() -> TabularMdp {
        small_model(
            0.5,
            None,
            None,
            vec![false, false, true],
            vec![
                vec![vec![0.0, 1.0, 0.0], vec![0.5, 0.0, 0.5]],
                vec![vec![0.5, 0.0, 0.5], vec![0.0, 0.0, 1.0]],
                vec![vec![0.0, 0.0, 1.0], vec![0.0, 0.0, 1.0]],
            ],
            vec![vec![1.0, 0.0], vec![2.0, 0.0], vec![0.0, 0.0]],
        )
    }

    /// Kills the mutants of `elbo_stationary` that change its value (its only check was a doc
    /// test): the body → `Ok([0.0])`, `Ok([1.0])`, `Ok([-1.0])` (602:5), `γ >= 1` → `γ < 1`
    /// (602:47), `!` deleted in the non-terminal filter (612:39), `qa == 0` → `!=` (615:19),
    /// `prior > 0` → `==`, `<` (618:46), `qa / prior` → `%` (618:58), `c[s] +=` → `-=`, `*=`
    /// (620:18), and the arithmetic of the one-step term (621), and `check_dims`'s `!=` → `==`
    /// (544:58, which makes every right shape an error). By hand, on `stationary_elbo_model`
    /// with β = 2, π uniform, q(·|s0) = (¼, ¾), q(·|s1) = (1, 0), q's dynamics P except
    /// (s0, a1) → (s0 0.8, s2 0.2), whose KL is K = 0.8·ln(0.8/0.5) + 0.2·ln(0.2/0.5):
    /// c0 = ¼·(1/2 − ln(¼/½)) + ¾·(0 − ln(¾/½) − ½·K),  c1 = 2/2 − ln(1/½) = 1 − ln 2;
    /// L0 = c0 + ½·(¼·L1 + ¾·0.8·L0),  L1 = c1 + ½·(1·½·L0);
    /// so L0 = (c0 + c1/8) / (1 − 0.3 − 1/32), L1 = c1 + L0/4, L(s2) = 0.
    #[test]
    fn the_stationary_elbo_solves_the_hand_computed_two_state_system() {
        let mdp = stationary_elbo_model();
        let beta = Beta::new(2.0).unwrap();
        let prior = Array2::from_elem((3, 2), 0.5);
        let mut q_policy = Array2::from_elem((3, 2), 0.5);
        q_policy.row_mut(0).assign(&ndarray::arr1(&[0.25, 0.75]));
        q_policy.row_mut(1).assign(&ndarray::arr1(&[1.0, 0.0]));
        let mut q_dynamics = mdp.transitions().into_owned();
        q_dynamics[[0, 1, 0]] = 0.8;
        q_dynamics[[0, 1, 2]] = 0.2;
        let l = elbo_stationary(&mdp, beta, &prior, &q_policy, &q_dynamics).unwrap();
        let k = 0.8 * (0.8f64 / 0.5).ln() + 0.2 * (0.2f64 / 0.5).ln();
        let c0 = 0.25 * (0.5 - (0.25f64 / 0.5).ln()) + 0.75 * (-(0.75f64 / 0.5).ln() - 0.5 * k);
        let c1 = 1.0 - std::f64::consts::LN_2;
        let l0 = (c0 + c1 / 8.0) / (1.0 - 0.3 - 1.0 / 32.0);
        let l1 = c1 + l0 / 4.0;
        assert_eq!(l.len(), 3);
        assert!((l[0] - l0).abs() < 1e-14 && (l[1] - l1).abs() < 1e-14, "{l} vs ({l0}, {l1})");
        assert!(l[2].abs() < 1e-300);
    }

    /// Kills the mutants of the −∞ propagation in `elbo_stationary` (the `reaches` test, 627–630,
    /// the growth loop, 632–636) and `prior > 0` → `>=` (618:46), on `stationary_elbo_model`
    /// with a third live state: s0 takes (under q) an action the prior never takes, so
    /// L(s0) = −∞; s1 reaches s0 under q (a0 w.p. 1, to s0 w.p. ½), so L(s1) = −∞; s3 takes
    /// a0 → s2 (reward 1) w.p. 1, and its other action a1, which q never takes, would lead to
    /// s0: L(s3) = 1/2 − ln(1/½) = ½ − ln 2, by hand. The prior's zero is written once as +0
    /// and once as −0 (a valid probability; `−0 >= 0` would take ln(q/−0) = ln(−∞) = NaN).
    #[test]
    fn an_elbo_is_minus_infinite_exactly_where_q_reaches_an_action_the_prior_never_takes() {
        let mdp = small_model(
            0.5,
            None,
            None,
            vec![false, false, true, false],
            vec![
                vec![vec![0.0, 1.0, 0.0, 0.0], vec![0.5, 0.0, 0.5, 0.0]],
                vec![vec![0.5, 0.0, 0.5, 0.0], vec![0.0, 0.0, 1.0, 0.0]],
                vec![vec![0.0, 0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0, 0.0]],
                vec![vec![0.0, 0.0, 1.0, 0.0], vec![1.0, 0.0, 0.0, 0.0]],
            ],
            vec![vec![1.0, 0.0], vec![2.0, 0.0], vec![0.0, 0.0], vec![1.0, 0.0]],
        );
        let beta = Beta::new(2.0).unwrap();
        let mut q_policy = Array2::from_elem((4, 2), 0.5);
        q_policy.row_mut(0).assign(&ndarray::arr1(&[0.0, 1.0]));
        q_policy.row_mut(1).assign(&ndarray::arr1(&[1.0, 0.0]));
        q_policy.row_mut(3).assign(&ndarray::arr1(&[1.0, 0.0]));
        let q_dynamics = mdp.transitions().into_owned();
        for zero in [0.0, -0.0] {
            let mut prior = Array2::from_elem((4, 2), 0.5);
            prior.row_mut(0).assign(&ndarray::arr1(&[1.0, zero]));
            let l = elbo_stationary(&mdp, beta, &prior, &q_policy, &q_dynamics).unwrap();
            assert!(is_minus_infinity(l[0]) && is_minus_infinity(l[1]), "{l}");
            assert!(l[2].abs() < 1e-300, "{l}");
            let by_hand = 0.5 - std::f64::consts::LN_2;
            assert!((l[3] - by_hand).abs() < 1e-15, "{l} vs {by_hand}");
        }
    }

    /// Kills `check_dims` → `Ok(())` (544:5) and `!=` → `==` (544:58), and `||` → `&&` in the
    /// model check of `elbo_stationary` (602:32), which lets a model with a horizon and γ < 1
    /// through. The error names the first wrong axis and its expected and found lengths.
    #[test]
    fn a_stationary_elbo_rejects_a_horizon_gamma_one_and_wrong_shapes() {
        let mdp = stationary_elbo_model();
        let beta = Beta::new(2.0).unwrap();
        let (pi, dynamics) = (Array2::from_elem((3, 2), 0.5), mdp.transitions().into_owned());
        let with_horizon = mdp.with_horizon(Some(2)).unwrap();
        let undiscounted = risky_arm::risky_arm();
        let uniform = Array2::from_elem((6, 2), 0.5);
        assert!(matches!(elbo_stationary(&with_horizon, beta, &pi, &pi, &dynamics), Err(Error::Unsupported { .. })));
        assert!(matches!(
            elbo_stationary(&undiscounted, beta, &uniform, &uniform, &undiscounted.transitions()),
            Err(Error::Unsupported { .. })
        ));
        let shape = |r: Result<Array1<f64>>| match r {
            Err(Error::Shape { field, expected, found, .. }) => Some((field, expected, found)),
            _ => None,
        };
        let narrow = Array2::from_elem((3, 1), 1.0);
        assert_eq!(shape(elbo_stationary(&mdp, beta, &narrow, &pi, &dynamics)), Some(("prior (axis 1)".into(), 2, 1)));
        let short = Array2::from_elem((2, 2), 0.5);
        assert_eq!(
            shape(elbo_stationary(&mdp, beta, &pi, &short, &dynamics)),
            Some(("q_policy (axis 0)".into(), 3, 2))
        );
        let cut = dynamics.slice_axis(Axis(2), ndarray::Slice::from(0..2)).to_owned();
        assert_eq!(shape(elbo_stationary(&mdp, beta, &pi, &pi, &cut)), Some(("q_dynamics (axis 2)".into(), 3, 2)));
        assert!(elbo_stationary(&mdp, beta, &pi, &pi, &dynamics).is_ok());
    }
}
