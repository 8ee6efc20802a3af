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
    ///
    /// # Examples
    /// ```
    /// use riskmdp::SolveOptions;
    /// let options = SolveOptions::default().tol(1e-9).max_iterations(500);
    /// assert_eq!((options.tol, options.max_iterations), (1e-9, 500));
    /// assert!(options.validate().is_ok());
    /// ```
    pub fn tol(self, tol: f64) -> Self {
        SolveOptions { tol, ..self }
    }
    /// Set the sweep limit.
    ///
    /// # Examples
    /// A solver that runs out of sweeps says so, and still reports a certified bound.
    /// ```
    /// use riskmdp::envs::Gridworld;
    /// use riskmdp::{Beta, SolveOptions, Termination, value_iteration};
    /// let mdp = Gridworld::cliff().build()?;
    /// let sol = value_iteration(&mdp, Beta::new(1.0)?, SolveOptions::default().max_iterations(3))?;
    /// assert_eq!((sol.iterations, sol.termination), (3, Termination::IterationLimit));
    /// assert!(sol.error_bound > 1e-6);
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn max_iterations(self, max_iterations: usize) -> Self {
        SolveOptions { max_iterations, ..self }
    }
    /// Check the options.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless 0 < tol < 1 and max_iterations ≥ 1.
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Error, SolveOptions};
    /// assert!(SolveOptions::default().validate().is_ok());
    /// let bad = SolveOptions::default().tol(0.0).validate();
    /// assert!(matches!(bad, Err(Error::InvalidParameter { .. })));
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use riskmdp::{Beta, Method, SolveOptions, envs::risky_arm, solve_optimal};
    /// let sol = solve_optimal(&risky_arm(), Beta::new(2.5)?, Method::default(), SolveOptions::default())?;
    /// assert_eq!(sol.beta(), 2.5);
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn beta(&self) -> f64 {
        match self {
            Solution::Stationary(s) => s.beta,
            Solution::FiniteHorizon(s) => s.beta,
        }
    }
    /// Q at the first decision step (Q_0 with a horizon), S×A.
    ///
    /// # Examples
    /// With a horizon of 1 only the immediate reward counts: Q_0 = r/β.
    /// ```
    /// use riskmdp::{Beta, Method, SolveOptions, envs::risky_arm, solve_optimal};
    /// let mdp = risky_arm().with_horizon(Some(1))?;
    /// let sol = solve_optimal(&mdp, Beta::new(2.0)?, Method::default(), SolveOptions::default())?;
    /// assert!((sol.q0()[[0, 0]] + 5.0 / 2.0).abs() < 1e-15); // Q_0(S, left) = −5/β
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn q0(&self) -> Array2<f64> {
        match self {
            Solution::Stationary(s) => s.q.clone(),
            Solution::FiniteHorizon(s) => s.q.index_axis(ndarray::Axis(0), 0).to_owned(),
        }
    }
    /// V at the first decision step, S.
    ///
    /// # Examples
    /// The risky arm at β = 1: the gamble wins, V*(S) = Q*(S,right) = log(0.9·e^{−10} + 0.1).
    /// ```
    /// use riskmdp::{Beta, Method, SolveOptions, envs::risky_arm, solve_optimal};
    /// let sol = solve_optimal(&risky_arm(), Beta::new(1.0)?, Method::default(), SolveOptions::default())?;
    /// assert!((sol.v0()[0] - (0.9 * (-10f64).exp() + 0.1).ln()).abs() < 1e-12);
    /// # Ok::<(), riskmdp::Error>(())
    /// ```
    pub fn v0(&self) -> Array1<f64> {
        match self {
            Solution::Stationary(s) => s.v.clone(),
            Solution::FiniteHorizon(s) => s.v.row(0).to_owned(),
        }
    }
}

/// Backward induction cannot diverge, but extreme rewards/β can leave the range of f64.
fn finite(sol: FiniteHorizonSolution) -> Result<Solution> {
    if sol.q.iter().any(|x| x.is_nan()) {
        Err(Error::NonFiniteResult { solver: "backward induction", beta: sol.beta })
    } else if sol.q.iter().all(|x| x.is_finite()) {
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
/// # Formula
///
/// ```text
/// Q* = T* Q*,   (T* Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp max_{a'} Q(s',a')   (Lemma 4.1)
/// ```
///
/// # Errors
/// [`Error::InfiniteValue`] / [`Error::UndecidedFiniteness`] (γ = 1 without horizon), and
/// invalid options.
///
/// # Examples
/// The greedy action of the risky arm at S switches from the gamble to the sure −5 at
/// β* = 5/ln 9 ≈ 2.2756; value and policy iteration agree.
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, RIGHT, S};
/// use riskmdp::solve::greedy_actions;
/// use riskmdp::{Beta, Method, SolveOptions, solve_optimal};
/// let mdp = risky_arm::risky_arm();
/// let greedy_at = |beta: f64, method| -> riskmdp::Result<usize> {
///     let sol = solve_optimal(&mdp, Beta::new(beta)?, method, SolveOptions::default())?;
///     Ok(greedy_actions(&mdp, sol.q0().view())[S])
/// };
/// for method in [Method::ValueIteration, Method::PolicyIteration] {
///     assert_eq!(greedy_at(2.2, method)?, RIGHT);
///     assert_eq!(greedy_at(2.3, method)?, LEFT);
/// }
/// # Ok::<(), riskmdp::Error>(())
/// ```
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
/// # Formula
///
/// ```text
/// Q_π = T_π Q_π,   (T_π Q)(s,a) = r(s,a)/β + γ·log Σ_{s'} P(s'|s,a)·exp V_π(s')   (Eq. 15, Thm. 4.1)
/// ```
///
/// # Errors
/// As [`solve_optimal`]; [`Error::Unsupported`] for a time-dependent policy without horizon.
///
/// # Examples
/// The risky arm always taking `left` earns a sure −5: β·Q_π(S, left) = −5 at any β.
/// ```
/// use riskmdp::envs::risky_arm::{self, LEFT, S};
/// use riskmdp::{Beta, Policy, SolveOptions, solve_policy};
/// let mdp = risky_arm::risky_arm();
/// let left = Policy::deterministic(&mdp, &[LEFT; 6])?;
/// for beta in [0.1, 1.0, 100.0] {
///     let sol = solve_policy(&mdp, Beta::new(beta)?, &left, SolveOptions::default())?;
///     assert!((beta * sol.v0()[S] + 5.0).abs() < 1e-12);
/// }
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn solve_policy(mdp: &TabularMdp, beta: Beta, policy: &Policy, options: SolveOptions) -> Result<Solution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return finite(evaluate_finite_horizon(mdp, beta, policy)?);
    }
    Ok(Solution::Stationary(evaluate_policy(mdp, beta, policy, options)?))
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// Kills "delete field tol" and "delete field max_iterations" in the builder methods
    /// (`SolveOptions { ..self }`, which would ignore the value asked for).
    #[test]
    fn builder_methods_set_their_field() {
        let options = SolveOptions::default().tol(1e-6).max_iterations(7);
        assert_eq!(options.tol.to_bits(), 1e-6f64.to_bits());
        assert_eq!(options.max_iterations, 7);
        let default = SolveOptions::default();
        assert_eq!(default.tol.to_bits(), tolerance::SOLVE.to_bits());
        assert_eq!(default.max_iterations, 1_000_000);
    }

    /// Kills `Solution::v0` → `[0.0]`, `[1.0]`, `[−1.0]` (226:9; only doc tests, which the
    /// mutation runs leave out, called it): on the risky arm at β = 1 the gamble wins and
    /// V*(S) = ln(0.9·e^{−10} + 0.1) in closed form (`risky_arm`), and V has one entry per state.
    #[test]
    fn v0_is_the_optimal_value_of_every_state() {
        let mdp = crate::envs::risky_arm::risky_arm();
        let sol = solve_optimal(&mdp, Beta::new(1.0).unwrap(), Method::default(), SolveOptions::default()).unwrap();
        let v = sol.v0();
        assert_eq!(v.len(), mdp.n_states());
        let closed = (0.9 * (-10f64).exp() + 0.1).ln();
        assert!((v[0] - closed).abs() < 1e-12, "{} vs {closed}", v[0]);
    }

    /// Kills `<Termination as Display>::fmt` → `Ok(())` (50:9): `riskmdp solve` prints these
    /// words, and each termination has its own.
    #[test]
    fn each_termination_prints_its_own_words() {
        let words =
            [Termination::Converged, Termination::RoundingFloor, Termination::IterationLimit, Termination::Exact]
                .map(|t| t.to_string());
        assert_eq!(words, ["converged", "rounding floor", "iteration limit", "exact"]);
    }

    /// Kills `tol < 1.0` → `tol <= 1.0` (117:41): the tolerance must lie in the open (0, 1), so
    /// exactly 1 is refused, naming `tol`, and the largest float below 1 is accepted.
    #[test]
    fn a_tolerance_of_exactly_one_is_refused() {
        let err = SolveOptions::default().tol(1.0).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { ref name, .. } if name == "tol"), "{err:?}");
        assert!(SolveOptions::default().tol(1.0 - f64::EPSILON / 2.0).validate().is_ok());
    }
}
