//! Lemma 4.1 (optimal risk-sensitive operator): T* is a γ-contraction in sup norm, and its
//! iteration converges to Q*.
//!
//! Checked as Theorem 4.1 with T* in place of T_π; the reference fixed point is the crate's
//! [`value_iteration()`].

use crate::operators::Aggregation;
use crate::solve::{SolveOptions, value_iteration};
use crate::verify::Violation;
use crate::verify::operators::Operators;
use crate::verify::random::Case;

/// Lemma 4.1 on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    match value_iteration(&case.mdp, case.beta, SolveOptions::default()) {
        Ok(sol) => super::theorem_4_1::contraction_and_fixed_point(case, ops, Aggregation::Max, sol.q.view()),
        Err(e) => Violation::error(e),
    }
}
