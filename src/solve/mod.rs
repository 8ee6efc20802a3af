//! Solvers: policy evaluation, greedy improvement, policy iteration, value iteration, finite
//! horizon, and the risk-neutral (β = ∞) reference.
//!
//! Every stationary solver returns a [`StationarySolution`] that says how it stopped
//! ([`Termination`]), its last residual and a certified bound on the error of its values.

use std::fmt;

use ndarray::{Array1, Array2, Array3};

use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::tolerance;

mod certificate;
pub mod finite_horizon;
mod iteration;
pub(crate) mod linear;
pub mod policy_evaluation;
pub mod policy_improvement;
pub mod policy_iteration;
pub mod risk_neutral;
pub mod value_iteration;

pub use finite_horizon::{evaluate_finite_horizon, solve_finite_horizon};
pub use policy_evaluation::evaluate_policy;
pub use policy_improvement::{greedy_actions, improve};
pub use policy_iteration::policy_iteration;
pub use value_iteration::value_iteration;

/// Why an iterative solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The certified error bound fell below `tol · scale`.
    Converged,
    /// The residual reached rounding noise before the bound reached `tol`; the bound reported
    /// is still certified.
    RoundingFloor,
    /// `max_iterations` sweeps were made without convergence.
    IterationLimit,
    /// Exact backward induction (finite horizon): no iteration error.
    Exact,
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Termination::Converged => "converged",
            Termination::RoundingFloor => "rounding floor",
            Termination::IterationLimit => "iteration limit",
            Termination::Exact => "exact",
        })
    }
}

/// Stopping rule of the iterative solvers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct SolveOptions {
    /// Relative tolerance on the certified error bound (default [`tolerance::SOLVE`]).
    pub tol: f64,
    /// Most sweeps before giving up (default 1 000 000).
    pub max_iterations: usize,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions { tol: tolerance::SOLVE, max_iterations: 1_000_000 }
    }
}

impl SolveOptions {
    /// Set the relative tolerance.
    pub fn tol(self, tol: f64) -> Self {
        SolveOptions { tol, ..self }
    }
    /// Set the sweep limit.
    pub fn max_iterations(self, max_iterations: usize) -> Self {
        SolveOptions { max_iterations, ..self }
    }
    /// Check the options.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless 0 < tol < 1 and max_iterations ≥ 1.
    pub fn validate(&self) -> Result<()> {
        if !(self.tol > 0.0 && self.tol < 1.0) {
            return Err(Error::InvalidParameter {
                name: "tol".into(),
                message: format!("{} is not in (0, 1)", self.tol),
            });
        }
        if self.max_iterations == 0 {
            return Err(Error::InvalidParameter {
                name: "max_iterations".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// The result of a stationary (infinite-horizon) solver.
#[derive(Debug, Clone)]
pub struct StationarySolution {
    /// β.
    pub beta: f64,
    /// Scaled action values Q(s,a) (nats), S×A.
    pub q: Array2<f64>,
    /// Scaled state values V(s), S.
    pub v: Array1<f64>,
    /// The policy whose values these are (the greedy deterministic one for optimal solvers).
    pub policy: Policy,
    /// Greedy action per state w.r.t. `q`.
    pub greedy: Vec<usize>,
    /// Operator sweeps made.
    pub iterations: usize,
    /// Policy-improvement steps (policy iteration only).
    pub policy_updates: usize,
    /// Sup-norm change of V in the last sweep.
    pub residual: f64,
    /// Certified sup-norm bound on the error of `q` and `v`.
    pub error_bound: f64,
    /// Why the solver stopped.
    pub termination: Termination,
}

/// The result of backward induction over a horizon T.
#[derive(Debug, Clone)]
pub struct FiniteHorizonSolution {
    /// β.
    pub beta: f64,
    /// Time-indexed scaled action values Q_t(s,a), shape (T, S, A).
    pub q: Array3<f64>,
    /// Time-indexed state values V_t(s), shape (T + 1, S); V_T = 0.
    pub v: Array2<f64>,
    /// The (time-dependent) policy whose values these are.
    pub policy: Policy,
    /// Greedy action per time and state, shape (T, S).
    pub greedy: Array2<usize>,
}

/// A solution of either kind.
#[derive(Debug, Clone)]
pub enum Solution {
    /// Infinite horizon.
    Stationary(StationarySolution),
    /// Finite horizon T.
    FiniteHorizon(FiniteHorizonSolution),
}

impl Solution {
    /// β.
    pub fn beta(&self) -> f64 {
        match self {
            Solution::Stationary(s) => s.beta,
            Solution::FiniteHorizon(s) => s.beta,
        }
    }
    /// Q at the first decision step (Q_0 with a horizon), S×A.
    pub fn q0(&self) -> Array2<f64> {
        match self {
            Solution::Stationary(s) => s.q.clone(),
            Solution::FiniteHorizon(s) => s.q.index_axis(ndarray::Axis(0), 0).to_owned(),
        }
    }
    /// V at the first decision step, S.
    pub fn v0(&self) -> Array1<f64> {
        match self {
            Solution::Stationary(s) => s.v.clone(),
            Solution::FiniteHorizon(s) => s.v.row(0).to_owned(),
        }
    }
}

/// Backward induction cannot diverge, but extreme rewards/β can leave the range of f64.
fn finite(sol: FiniteHorizonSolution) -> Result<Solution> {
    if sol.q.iter().all(|x| x.is_finite()) {
        Ok(Solution::FiniteHorizon(sol))
    } else {
        Err(Error::Overflow { beta: sol.beta })
    }
}

/// Which algorithm finds the optimum of an infinite-horizon model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// [`value_iteration()`].
    #[default]
    ValueIteration,
    /// [`policy_iteration()`].
    PolicyIteration,
}

/// The optimal values Q* at β: backward induction with a horizon, otherwise `method`.
///
/// # Errors
/// [`Error::InfiniteValue`] / [`Error::UndecidedFiniteness`] (γ = 1 without horizon), and
/// invalid options.
pub fn solve_optimal(mdp: &TabularMdp, beta: Beta, method: Method, options: SolveOptions) -> Result<Solution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return finite(solve_finite_horizon(mdp, beta)?);
    }
    Ok(Solution::Stationary(match method {
        Method::ValueIteration => value_iteration(mdp, beta, options)?,
        Method::PolicyIteration => policy_iteration(mdp, beta, options)?,
    }))
}

/// Q_π at β: backward induction with a horizon, otherwise iterative evaluation.
///
/// # Errors
/// As [`solve_optimal`]; [`Error::Unsupported`] for a time-dependent policy without horizon.
pub fn solve_policy(mdp: &TabularMdp, beta: Beta, policy: &Policy, options: SolveOptions) -> Result<Solution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return finite(evaluate_finite_horizon(mdp, beta, policy)?);
    }
    Ok(Solution::Stationary(evaluate_policy(mdp, beta, policy, options)?))
}
