//! Theorem 4.2 (risk-sensitive policy improvement): the greedy policy π' w.r.t. Q_π satisfies
//! `V_{π'}(s) ≥ V_π(s)` for every state.
//!
//! * [`check_finite`] — the paper's setting: a horizon T ≤ 3 (γ = 1 or γ < 1), a random
//!   *time-dependent* π_t, π'_t greedy (through the operators under test) w.r.t. Q_{π,t};
//!   `improvement` at every t and s; `equals-solver`: V_π through the operators equals the
//!   crate's [`evaluate_finite_horizon`].
//! * [`check_discounted`] — the case the paper leaves open: γ < 1, no horizon, stationary π;
//!   `improvement`, the step of the proof in `docs/theory.md` (`proof-step`:
//!   `Q_π ≤ T_{π'} Q_π`), and `equals-solver`: Q_π equals the crate's [`evaluate_policy`].

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, one_hot, over_states, scale_of, stack};
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::solve::{SolveOptions, evaluate_finite_horizon, evaluate_policy};
use crate::verify::operators::{Operators, backward, iterate, sup_distance};
use crate::verify::random::{Case, random_policy};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of Theorem 4.2 with a horizon.
pub const CHECKS_FINITE: &[&str] = &["improvement", EQUALS_SOLVER];
/// The sub-checks of Theorem 4.2 without a horizon.
pub const CHECKS_DISCOUNTED: &[&str] = &["improvement", "proof-step", EQUALS_SOLVER];

/// Theorem 4.2 with a horizon and time-dependent policies.
pub fn check_finite(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let mut checks = Checks::new();
    let Some(horizon) = mdp.horizon() else {
        checks.record("improvement", Violation::of(f64::INFINITY, "theorem-4.2-finite needs a model with a horizon"));
        return checks;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let pis: Vec<Array2<f64>> = (0..horizon)
        .map(|t| if t == 0 { case.policy.clone() } else { random_policy(&mut rng, mdp.n_states(), mdp.n_actions()) })
        .collect();
    let (q_pi, v_pi) = backward(ops, mdp, beta, Some(&pis));
    let greedy: Vec<Array2<f64>> = q_pi.iter().map(|q| one_hot(mdp.n_actions(), &ops.greedy(mdp, q.view()))).collect();
    let (_, v_new) = backward(ops, mdp, beta, Some(&greedy));
    let scale = scale_of(v_pi.iter().flatten().chain(v_new.iter().flatten()));
    let mut improved = Violation::none();
    for t in 0..horizon {
        improved = improved.max(over_states(mdp, |s| {
            at_most(&format!("V_π,{t}(s{s}) ≤ V_π',{t}(s{s})"), v_pi[t][s], v_new[t][s], scale)
        }));
    }
    checks.record("improvement", improved);
    if scope.with_solver() {
        let v = match Policy::markov(mdp, stack(&pis)).and_then(|p| evaluate_finite_horizon(mdp, beta, &p)) {
            Ok(sol) => {
                over_states(mdp, |s| identity(&format!("V_π,0(s{s}) = crate"), v_pi[0][s], sol.v[[0, s]], scale))
            }
            Err(e) => Violation::error(e),
        };
        checks.record(EQUALS_SOLVER, v);
    }
    checks
}

/// Theorem 4.2 for γ < 1 without horizon (open in the paper; proof sketch in docs/theory.md).
pub fn check_discounted(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let pi = case.policy.view();
    let q_pi = iterate(ops, mdp, beta, Aggregation::Policy(pi), None);
    let v_pi = ops.soft_value(mdp, q_pi.view(), pi);
    let greedy = one_hot(mdp.n_actions(), &ops.greedy(mdp, q_pi.view()));
    let q_new = iterate(ops, mdp, beta, Aggregation::Policy(greedy.view()), Some(q_pi.clone()));
    let v_new = ops.soft_value(mdp, q_new.view(), greedy.view());
    let scale = scale_of(q_pi.iter().chain(q_new.iter()));
    let mut checks = Checks::new();
    checks.record(
        "improvement",
        over_states(mdp, |s| at_most(&format!("V_π(s{s}) ≤ V_π'(s{s})"), v_pi[s], v_new[s], scale)),
    );
    let step = ops.policy_operator(mdp, beta, greedy.view(), q_pi.view());
    checks.record(
        "proof-step",
        over_states(mdp, |s| {
            (0..mdp.n_actions())
                .map(|a| at_most(&format!("Q_π(s{s},a{a}) ≤ (T_π' Q_π)(s{s},a{a})"), q_pi[[s, a]], step[[s, a]], scale))
                .fold(Violation::none(), Violation::max)
        }),
    );
    if scope.with_solver() {
        let v = match Policy::stationary(mdp, case.policy.clone())
            .and_then(|p| evaluate_policy(mdp, beta, &p, SolveOptions::default()))
        {
            Ok(sol) => {
                identity("Q_π = crate evaluate_policy", sup_distance(mdp, q_pi.view(), sol.q.view()), 0.0, scale)
            }
            Err(e) => Violation::error(e),
        };
        checks.record(EQUALS_SOLVER, v);
    }
    checks
}
