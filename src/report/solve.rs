//! `riskmdp solve`: the optimum Q* or a policy's Q_π at one β, with everything derived from it.

use ndarray::{ArrayView1, ArrayView2, Axis};
use serde::Serialize;

use super::PerStep;
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::{posterior_dynamics, posterior_policy, posterior_row};
use crate::policy::Policy;
use crate::risk::Beta;
use crate::solve::risk_neutral::{expected_q, expected_q_finite_horizon};
use crate::solve::{Method, Solution, SolveOptions, Termination, solve_optimal, solve_policy};

/// What was solved for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The optimum Q* (Lemma 4.1; backward induction with a horizon).
    Optimal,
    /// Q_π of a given policy (Theorem 4.1).
    Policy,
}

/// Posterior dynamics q(s'|s,a) ∝ P(s'|s,a)·exp V(s') (Eq. 4), in the form of the model's rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PosteriorDynamics {
    /// S×A×S probabilities (a dense model).
    Dense(Vec<Vec<Vec<f64>>>),
    /// S×A lists of `[s', q]` pairs over the support of P (a sparse model).
    Sparse(Vec<Vec<Vec<(usize, f64)>>>),
}

/// Everything `riskmdp solve` prints (its `--json`, field for field).
///
/// Values are scaled (nats); `certainty_equivalent` = β·V and `certainty_equivalent_q` = β·Q
/// are in reward units. With a horizon every per-step field is a list over t = 0..T−1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveReport {
    /// The model's name.
    pub name: String,
    /// State names.
    pub states: Vec<String>,
    /// Action names.
    pub actions: Vec<String>,
    /// Terminal flags (value 0, rows ignored).
    pub terminal: Vec<bool>,
    /// Discount γ.
    pub gamma: f64,
    /// Horizon T, if any.
    pub horizon: Option<usize>,
    /// Risk parameter β.
    pub beta: f64,
    /// The optimum or a given policy.
    pub objective: Objective,
    /// Q(s,a), nats.
    pub q: PerStep<Vec<Vec<f64>>>,
    /// V(s), nats.
    pub v: PerStep<Vec<f64>>,
    /// β·V(s), reward units.
    pub certainty_equivalent: PerStep<Vec<f64>>,
    /// β·Q(s,a), reward units.
    pub certainty_equivalent_q: PerStep<Vec<Vec<f64>>>,
    /// The greedy action per state (lowest index on ties).
    pub greedy: PerStep<Vec<usize>>,
    /// Posterior dynamics (Eq. 4) at the values of the next step.
    pub posterior_dynamics: PerStep<PosteriorDynamics>,
    /// Posterior policy q(a|s) ∝ π(a|s)·exp Q(s,a) of the solution's policy.
    pub posterior_policy: PerStep<Vec<Vec<f64>>>,
    /// The expected return E[Σ γ^t r_t] of the same policy from each state at t = 0 (β = ∞,
    /// by a linear solve), reward units.
    pub expected_return: Vec<f64>,
    /// Operator sweeps made (T with a horizon).
    pub iterations: usize,
    /// Sup-norm change of V in the last sweep (0 with a horizon).
    pub residual: f64,
    /// Certified sup-norm bound on the error of `q` and `v` (0 with a horizon).
    pub error_bound: f64,
    /// Why the solver stopped.
    pub termination: Termination,
}

/// A solve and its report (the solution is kept for plots).
#[derive(Debug, Clone)]
pub struct Solved {
    /// The solver's output.
    pub solution: Solution,
    /// What `riskmdp solve` prints.
    pub report: SolveReport,
}

fn rows(a: ArrayView2<f64>) -> Vec<Vec<f64>> {
    a.outer_iter().map(|r| r.to_vec()).collect()
}

fn scaled_rows(a: ArrayView2<f64>, beta: f64) -> Vec<Vec<f64>> {
    a.outer_iter().map(|r| r.iter().map(|x| beta * x).collect()).collect()
}

fn posterior_of(mdp: &TabularMdp, v: ArrayView1<f64>) -> PosteriorDynamics {
    if !mdp.is_sparse() {
        return PosteriorDynamics::Dense(posterior_dynamics(mdp, v).outer_iter().map(|m| rows(m)).collect());
    }
    let v = v.to_vec();
    PosteriorDynamics::Sparse(
        (0..mdp.n_states()).map(|s| (0..mdp.n_actions()).map(|a| posterior_row(mdp, &v, s, a)).collect()).collect(),
    )
}

/// `Σ_a π(a|s)·Q(s,a)` per state, 0 at terminal states.
fn state_values(mdp: &TabularMdp, pi: ArrayView2<f64>, q: ArrayView2<f64>) -> Vec<f64> {
    (0..mdp.n_states()).map(|s| if mdp.is_terminal(s) { 0.0 } else { pi.row(s).dot(&q.row(s)) }).collect()
}

impl SolveReport {
    /// The report of a solution of `mdp` (the expected return is computed here, by a linear
    /// solve for the solution's policy).
    ///
    /// # Errors
    /// [`Error::Overflow`] if the expected return leaves f64's range (rewards/(1 − γ) > 1e308).
    pub fn new(mdp: &TabularMdp, solution: &Solution, objective: Objective) -> Result<Self> {
        let b = solution.beta();
        let report = match solution {
            Solution::Stationary(sol) => {
                let Policy::Stationary(pi) = &sol.policy else {
                    unreachable!("stationary solutions have stationary policies")
                };
                let expected = expected_q(mdp, &sol.policy)?;
                SolveReport {
                    q: PerStep::Stationary(rows(sol.q.view())),
                    v: PerStep::Stationary(sol.v.to_vec()),
                    certainty_equivalent: PerStep::Stationary(sol.v.iter().map(|v| b * v).collect()),
                    certainty_equivalent_q: PerStep::Stationary(scaled_rows(sol.q.view(), b)),
                    greedy: PerStep::Stationary(sol.greedy.clone()),
                    posterior_dynamics: PerStep::Stationary(posterior_of(mdp, sol.v.view())),
                    posterior_policy: PerStep::Stationary(rows(posterior_policy(mdp, pi.view(), sol.q.view()).view())),
                    expected_return: state_values(mdp, pi.view(), expected.view()),
                    iterations: sol.iterations,
                    residual: sol.residual,
                    error_bound: sol.error_bound,
                    termination: sol.termination,
                    ..SolveReport::empty(mdp, b, objective)
                }
            }
            Solution::FiniteHorizon(sol) => {
                let horizon = sol.q.len_of(Axis(0));
                let q_t = |t: usize| sol.q.index_axis(Axis(0), t);
                let per_t = |f: &dyn Fn(usize) -> Vec<f64>| (0..horizon).map(f).collect::<Vec<_>>();
                let expected = expected_q_finite_horizon(mdp, Some(&sol.policy))?;
                SolveReport {
                    q: PerStep::TimeIndexed((0..horizon).map(|t| rows(q_t(t))).collect()),
                    v: PerStep::TimeIndexed(per_t(&|t| sol.v.row(t).to_vec())),
                    certainty_equivalent: PerStep::TimeIndexed(per_t(&|t| {
                        sol.v.row(t).iter().map(|v| b * v).collect()
                    })),
                    certainty_equivalent_q: PerStep::TimeIndexed(
                        (0..horizon).map(|t| scaled_rows(q_t(t), b)).collect(),
                    ),
                    greedy: PerStep::TimeIndexed(sol.greedy.outer_iter().map(|r| r.to_vec()).collect()),
                    posterior_dynamics: PerStep::TimeIndexed(
                        (0..horizon).map(|t| posterior_of(mdp, sol.v.row(t + 1))).collect(),
                    ),
                    posterior_policy: PerStep::TimeIndexed(
                        (0..horizon).map(|t| rows(posterior_policy(mdp, sol.policy.at(t), q_t(t)).view())).collect(),
                    ),
                    expected_return: state_values(mdp, sol.policy.at(0), expected.index_axis(Axis(0), 0)),
                    iterations: horizon,
                    residual: 0.0,
                    error_bound: 0.0,
                    termination: Termination::Exact,
                    ..SolveReport::empty(mdp, b, objective)
                }
            }
        };
        if !report.expected_return.iter().all(|x| x.is_finite()) {
            // The risk-neutral reference (β = ∞) overflows first: rewards/(1 − γ) beyond f64.
            return Err(Error::Overflow { beta: f64::INFINITY });
        }
        Ok(report)
    }

    fn empty(mdp: &TabularMdp, beta: f64, objective: Objective) -> Self {
        SolveReport {
            name: mdp.name().to_string(),
            states: mdp.state_names().to_vec(),
            actions: mdp.action_names().to_vec(),
            terminal: mdp.terminal().to_vec(),
            gamma: mdp.gamma(),
            horizon: mdp.horizon(),
            beta,
            objective,
            q: PerStep::Stationary(Vec::new()),
            v: PerStep::Stationary(Vec::new()),
            certainty_equivalent: PerStep::Stationary(Vec::new()),
            certainty_equivalent_q: PerStep::Stationary(Vec::new()),
            greedy: PerStep::Stationary(Vec::new()),
            posterior_dynamics: PerStep::Stationary(PosteriorDynamics::Dense(Vec::new())),
            posterior_policy: PerStep::Stationary(Vec::new()),
            expected_return: Vec::new(),
            iterations: 0,
            residual: 0.0,
            error_bound: 0.0,
            termination: Termination::Exact,
        }
    }
}

/// `riskmdp solve`: the optimum at β (with `policy = None`, by `method` without a horizon),
/// or the values of `policy`, and its [`SolveReport`].
///
/// # Errors
/// Those of [`solve_optimal`] / [`solve_policy`] and [`SolveReport::new`].
///
/// # Examples
/// ```
/// use riskmdp::{Beta, Method, SolveOptions, report};
/// let mdp = riskmdp::envs::risky_arm();
/// let r = report::solve(&mdp, Beta::new(10.0)?, None, Method::PolicyIteration, SolveOptions::default())?.report;
/// // At β = 10 the sure −5 (`left`) beats the gamble.
/// assert_eq!(r.greedy.first()[0], 0);
/// assert!((r.expected_return[0] + 5.0).abs() < 1e-9);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn solve(
    mdp: &TabularMdp,
    beta: Beta,
    policy: Option<&Policy>,
    method: Method,
    options: SolveOptions,
) -> Result<Solved> {
    let (solution, objective) = match policy {
        Some(pi) => (solve_policy(mdp, beta, pi, options)?, Objective::Policy),
        None => (solve_optimal(mdp, beta, method, options)?, Objective::Optimal),
    };
    let report = SolveReport::new(mdp, &solution, objective)?;
    Ok(Solved { solution, report })
}
