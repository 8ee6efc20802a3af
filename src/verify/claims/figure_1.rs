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
//! model terminates), the greedy action and the posterior dynamics through them too:
//!
//! * `closed-form` — Q(S, left), Q(S, right), q(A|S, right) equal the closed forms;
//! * `switch` — the greedy action at S is right below 5/ln 9 and left above;
//! * `posterior-monotone` — q(A|S,right) ≤ 0.9 and q(A|S,right) at β ≤ at 1.01·β.
//!
//! Every reference is a closed form: there is no `equals-solver`.

use super::{Violation, at_most};
use crate::envs::risky_arm::{A, LEFT, RIGHT, S};
use crate::operators::Aggregation;
use crate::risk::Beta;
use crate::verify::operators::{Operators, iterate};
use crate::verify::random::Case;
use crate::verify::{Checks, Scope};

/// The sub-checks of Fig. 1.
pub const CHECKS: &[&str] = &["closed-form", "switch", "posterior-monotone"];

/// The exact β at which the greedy action at S switches from right (risky) to left: 5/ln 9.
pub use crate::envs::risky_arm::switch_beta;

/// Closed-form Q(S, left), Q(S, right), q(A|S, right).
pub fn closed_form(beta: f64) -> (f64, f64, f64) {
    let left = -5.0 / beta;
    let right = (0.9 * (-10.0 / beta).exp_m1()).ln_1p();
    let q_a = 0.9 / (0.9 + 0.1 * (10.0 / beta).exp());
    (left, right, q_a)
}

/// `|a − b| / max(|a|, |b|)`; NaN or ±∞ on either side is a violation.
fn relative(what: &str, a: f64, b: f64) -> Violation {
    let scale = a.abs().max(b.abs()).max(1e-290);
    super::identity(what, a, b, scale)
}

fn through(ops: &dyn Operators, case: &Case, beta: Beta) -> (f64, f64, f64, usize) {
    let mdp = &case.mdp;
    let q = iterate(ops, mdp, beta, Aggregation::Max, None);
    let post = ops.posterior_dynamics(mdp, ops.max_value(mdp, q.view()).view());
    (q[[S, LEFT]], q[[S, RIGHT]], post[[S, RIGHT, A]], ops.greedy(mdp, q.view())[S])
}

/// Fig. 1 on one case (the case's model must be the risky arm).
pub fn check(case: &Case, ops: &dyn Operators, _scope: Scope) -> Checks {
    let b = case.beta.get();
    let (left, right, q_a, greedy) = through(ops, case, case.beta);
    let (left_cf, right_cf, q_a_cf) = closed_form(b);
    let mut checks = Checks::new();
    checks.record(
        "closed-form",
        relative("Q(S,left)", left, left_cf).max(relative("Q(S,right)", right, right_cf)).max(relative(
            "q(A|S,right)",
            q_a,
            q_a_cf,
        )),
    );
    if (b / switch_beta() - 1.0).abs() > 1e-9 {
        let expected = if b < switch_beta() { RIGHT } else { LEFT };
        checks.record(
            "switch",
            Violation::of(
                if greedy == expected { 0.0 } else { 1.0 },
                format!("greedy action at S is {greedy}, expected {expected} (switch at 5/ln 9)"),
            ),
        );
    }
    let mut monotone = at_most("q(A|S,right) ≤ 0.9", q_a, 0.9, 1.0);
    if let Ok(beta2) = Beta::new(1.01 * b) {
        let (_, _, q_a2, _) = through(ops, case, beta2);
        monotone = monotone.max(at_most("q(A|S,right) at β ≤ at 1.01β", q_a, q_a2, q_a2.abs().max(1e-290)));
    }
    checks.record("posterior-monotone", monotone);
    checks
}
