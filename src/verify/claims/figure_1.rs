//! Fig. 1 (the risky arm): closed forms at every β.
//!
//! ```text
//! Q(S, left)  = −5/β
//! Q(S, right) = log(0.9·e^{−10/β} + 0.1)          = log1p(0.9·expm1(−10/β))
//! right is greedy  ⇔  β < 5/ln 9 ≈ 2.2756  (the paper reads "β > 2.5" off its plot)
//! q(A | S, right) = 0.9·e^{−10/β} / (0.9·e^{−10/β} + 0.1)   increasing in β, → 0.9
//! ```
//!
//! Checked to [`tolerance::CLOSED_FORM`](crate::tolerance::CLOSED_FORM) relative, β
//! log-uniform in [1e-3, 1e7], with Q iterated through the operators under test (γ = 1, the
//! model terminates) and the posterior from [`posterior_dynamics`].
//! Monotonicity of q(A|S,right) is checked between β and 1.01·β.

use super::{Violation, at_most};
use crate::operators::Aggregation;
use crate::operators::posterior_dynamics;
use crate::risk::Beta;
use crate::solve::greedy_actions;
use crate::verify::operators::{Operators, iterate};
use crate::verify::random::Case;

/// The exact β at which the greedy action at S switches from right (risky) to left.
pub fn switch_beta() -> f64 {
    5.0 / 9f64.ln()
}

/// Closed-form Q(S, left), Q(S, right), q(A|S, right).
pub fn closed_form(beta: f64) -> (f64, f64, f64) {
    let left = -5.0 / beta;
    let right = (0.9 * (-10.0 / beta).exp_m1()).ln_1p();
    let q_a = 0.9 / (0.9 + 0.1 * (10.0 / beta).exp());
    (left, right, q_a)
}

fn relative(what: &str, a: f64, b: f64) -> Violation {
    let gap = (a - b).abs() / a.abs().max(b.abs()).max(1e-290);
    Violation::of(gap, format!("{what}: {a:.17e} vs closed form {b:.17e}"))
}

fn through(ops: &dyn Operators, case: &Case, beta: Beta) -> (f64, f64, f64, usize) {
    let mdp = &case.mdp;
    let (s, a_state, left, right) = (0, 1, 0, 1);
    let q = iterate(ops, mdp, beta, Aggregation::Max, None);
    let post = posterior_dynamics(mdp, ops.max_value(mdp, q.view()).view());
    (q[[s, left]], q[[s, right]], post[[s, right, a_state]], greedy_actions(mdp, q.view())[s])
}

/// Fig. 1 on one case (the case's model must be the risky arm).
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let b = case.beta.get();
    let (left, right, q_a, greedy) = through(ops, case, case.beta);
    let (left_cf, right_cf, q_a_cf) = closed_form(b);
    let mut worst = relative("Q(S,left)", left, left_cf)
        .max(relative("Q(S,right)", right, right_cf))
        .max(relative("q(A|S,right)", q_a, q_a_cf))
        .max(at_most("q(A|S,right) ≤ 0.9", q_a, 0.9, 1.0));
    if (b / switch_beta() - 1.0).abs() > 1e-9 {
        let expected = usize::from(b < switch_beta());
        worst = worst.max(Violation::of(
            if greedy == expected { 0.0 } else { 1.0 },
            format!("greedy action at S is {greedy}, expected {expected} (switch at 5/ln 9)"),
        ));
    }
    if let Ok(beta2) = Beta::new(1.01 * b) {
        let (_, _, q_a2, _) = through(ops, case, beta2);
        worst = worst.max(at_most("q(A|S,right) at β ≤ at 1.01β", q_a, q_a2, q_a2.abs().max(1e-290)));
    }
    worst
}
