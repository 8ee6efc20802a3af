//! Risk-sensitive policy iteration, Theorem 4.3.
//!
//! Alternate exact evaluation of a deterministic policy (Theorem 4.1) and greedy improvement
//! (Theorem 4.2) until the policy is stable; the result is deterministic and its Q is the
//! fixed point of T* (Lemma 4.1). Starts from the policy greedy for the immediate reward.
//!
//! Each policy is evaluated by Newton's method (see
//! [`policy_evaluation`](super::policy_evaluation)) on models up to
//! [`NEWTON_MAX_STATES`] states, and the result
//! certified by the fixed-point bound.

use super::iteration::fixed_point;
use super::policy_evaluation::{NEWTON_MAX_STATES, newton_evaluate};
use super::policy_improvement::{greedy_actions, improve};
use super::{SolveOptions, StationarySolution};
use crate::error::{Error, Result};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;

/// Optimal values by policy iteration on an infinite-horizon model.
///
/// `iterations` counts evaluation sweeps over all steps, `policy_updates` the improvements.
/// Each evaluation starts from the previous values (warm start).
///
/// # Formula
///
/// ```text
/// π_{k+1}(s) = argmax_a Q_{π_k}(s,a)   until π_{k+1} = π_k;   then Q_{π_k} = Q* = T* Q*   (Thm. 4.3)
/// ```
///
/// # Errors
/// As [`value_iteration()`](super::value_iteration()); also [`Error::Unsupported`] if the policy
/// has not settled after 10 000 improvements (which exact arithmetic rules out).
///
/// # Examples
/// On the cliff gridworld (γ = 0.9) policy iteration needs a few improvements and agrees with
/// value iteration.
/// ```
/// use riskmdp::envs::Gridworld;
/// use riskmdp::{Beta, SolveOptions, policy_iteration, value_iteration};
/// let mdp = Gridworld::cliff().build()?;
/// let beta = Beta::new(1.0)?;
/// let pi = policy_iteration(&mdp, beta, SolveOptions::default())?;
/// let vi = value_iteration(&mdp, beta, SolveOptions::default())?;
/// assert!(pi.policy_updates >= 1);
/// assert_eq!(pi.greedy, vi.greedy);
/// let gap = pi.v.iter().zip(vi.v.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
/// assert!(gap <= pi.error_bound + vi.error_bound);
/// # Ok::<(), riskmdp::Error>(())
/// ```
pub fn policy_iteration(mdp: &TabularMdp, beta: Beta, options: SolveOptions) -> Result<StationarySolution> {
    options.validate()?;
    if mdp.horizon().is_some() {
        return Err(Error::Unsupported {
            what: "policy_iteration: the model has a horizon; use solve_finite_horizon".into(),
        });
    }
    let mut actions = greedy_actions(mdp, mdp.rewards().view());
    let mut sweeps = 0;
    let mut v0 = None;
    for updates in 0..10_000 {
        let policy = Policy::deterministic(mdp, &actions)?;
        let Policy::Stationary(pi) = &policy else { unreachable!("deterministic policies are stationary") };
        let start = if mdp.n_states() <= NEWTON_MAX_STATES {
            newton_evaluate(mdp, beta, pi.view(), v0.clone()).or(v0.take())
        } else {
            v0.take()
        };
        let fp = fixed_point(mdp, beta, Aggregation::Policy(pi.view()), options, start)?;
        sweeps += fp.iterations;
        let (next, changed) = improve(mdp, fp.q.view(), &actions);
        if !changed {
            let greedy = greedy_actions(mdp, fp.q.view());
            return Ok(StationarySolution {
                iterations: sweeps,
                policy_updates: updates,
                ..StationarySolution::from_fixed_point(beta, fp, policy, greedy)
            });
        }
        v0 = Some(fp.v);
        actions = next;
    }
    Err(Error::Unsupported { what: "policy_iteration: no stable policy after 10000 improvements".into() })
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::envs::risky_arm::{self, LEFT, S};

    /// Kills "delete field policy_updates" and "delete field iterations" in the solution
    /// `policy_iteration` returns (which would report 0 updates and the last evaluation's
    /// sweeps only). On the risky arm at β = 3 the start, greedy for the immediate reward, takes
    /// `right` at S (0 > −5), while the optimum above β* = 5/ln 9 ≈ 2.28 is `left`: exactly
    /// one improvement, so two evaluations, each of at least one sweep.
    #[test]
    fn counts_every_improvement_and_every_evaluations_sweeps() {
        let mdp = risky_arm::risky_arm();
        let sol = policy_iteration(&mdp, Beta::new(3.0).expect("β > 0"), SolveOptions::default()).expect("finite");
        assert_eq!(sol.greedy[S], LEFT);
        assert_eq!(sol.policy_updates, 1);
        assert!(sol.iterations >= 2, "{} sweeps for two evaluations", sol.iterations);
    }
}
