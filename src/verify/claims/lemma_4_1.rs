//! Lemma 4.1 (optimal risk-sensitive operator): T* is a γ-contraction in sup norm, and its
//! iteration converges to Q*.
//!
//! Checked as Theorem 4.1 with T* in place of T_π (`contraction`, `fixed-point`,
//! `geometric-rate`), plus `dominates-policies`: the fixed point of T* is at least the value of
//! the case's policy, `V*(s) ≥ V_π(s)` (T* Q ≥ T_π Q for every Q, both monotone). The
//! reference of `equals-solver` is the crate's [`value_iteration()`].

use super::over_states;
use super::{at_most, scale_of};
use crate::operators::Aggregation;
use crate::solve::{SolveOptions, value_iteration};
use crate::verify::operators::{Operators, iterate};
use crate::verify::random::Case;
use crate::verify::{Checks, EQUALS_SOLVER, Scope};

/// The sub-checks of Lemma 4.1.
pub const CHECKS: &[&str] = &["contraction", "fixed-point", "geometric-rate", "dominates-policies", EQUALS_SOLVER];

/// Lemma 4.1 on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let mut checks = Checks::new();
    let fixed = super::theorem_4_1::contraction_and_fixed_point(case, ops, Aggregation::Max, &mut checks);
    let v_star = ops.max_value(mdp, fixed.view());
    let pi = case.policy.view();
    let q_pi = iterate(ops, mdp, beta, Aggregation::Policy(pi), None);
    let v_pi = ops.soft_value(mdp, q_pi.view(), pi);
    let scale = scale_of(v_star.iter().chain(v_pi.iter()));
    checks.record(
        "dominates-policies",
        over_states(mdp, |s| at_most(&format!("V_π(s{s}) ≤ V*(s{s})"), v_pi[s], v_star[s], scale)),
    );
    if scope.with_solver() {
        let reference = value_iteration(mdp, beta, SolveOptions::default()).map(|sol| sol.q);
        super::theorem_4_1::equals_solver(case, fixed.view(), reference, &mut checks);
    }
    checks
}
