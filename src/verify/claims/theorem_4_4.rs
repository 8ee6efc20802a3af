//! Theorem 4.4 (deterministic optimum of the β-VMBPO objective): the maximum over (π, q) of the
//! scaled ELBO `E_q[Σ_t r_t]/β − KL(q(τ) ‖ p_π(τ))` is reached by a deterministic π with
//! `q(a|s) = π(a|s)`.
//!
//! Checked with a horizon T ≤ 3 (γ = 1 or γ < 1), through the operators under test: π* greedy
//! w.r.t. Q*_t (deterministic, time-dependent) and its posterior q*;
//!
//! * `posterior-is-prior` — the posterior policy of π* is π*;
//! * `elbo-tight` — the ELBO of (π*, q*) ([`elbo_through`], every KL through the operators)
//!   equals V*_0;
//! * `elbo-bound` — the ELBO of random pairs (random π with its posterior, random π with random
//!   q, π* with random q) is at most V*_0 in every state;
//! * `equals-solver` — the ELBO of (π*, q*) equals the crate's [`utility::elbo`](crate::utility::elbo),
//!   q* equals [`utility::posterior`](crate::utility::posterior), V*_0 equals
//!   [`solve_finite_horizon`](crate::solve::solve_finite_horizon).

use ndarray::{Array2, Array3};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most_or_minus_infinity, identity, one_hot, over_states, scale_of, stack};
use crate::mdp::TabularMdp;
use crate::policy::Policy;
use crate::utility::{Variational, elbo, posterior};
use crate::verify::operators::{Operators, backward, elbo_through, max_or_nan, posterior_through};
use crate::verify::random::{Case, normalise_row, random_policy};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of Theorem 4.4.
pub const CHECKS: &[&str] = &["posterior-is-prior", "elbo-tight", "elbo-bound", EQUALS_SOLVER];

/// A random variational distribution: random policies, and dynamics on the support of P (or P
/// itself, a third of the time).
pub(crate) fn random_variational(rng: &mut impl Rng, mdp: &TabularMdp, horizon: usize) -> Variational {
    let (n, m) = (mdp.n_states(), mdp.n_actions());
    let policy = stack(&(0..horizon).map(|_| random_policy(rng, n, m)).collect::<Vec<_>>());
    let dynamics = (0..horizon)
        .map(|_| {
            let mut d = Array3::zeros((n, m, n));
            for s in 0..n {
                for a in 0..m {
                    let p = mdp.transition_row(s, a);
                    let row = if rng.random_bool(1.0 / 3.0) {
                        p.to_vec()
                    } else {
                        let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
                        normalise_row(&w, &p.iter().map(|&x| x > 0.0).collect::<Vec<_>>(), s)
                    };
                    for (j, x) in row.into_iter().enumerate() {
                        d[[s, a, j]] = x;
                    }
                }
            }
            d
        })
        .collect();
    Variational { policy, dynamics }
}

/// The largest distance between two variational distributions over the rows of non-terminal
/// states (NaN-aware; terminal rows are ignored, as by the ELBO).
pub(crate) fn variational_distance(mdp: &TabularMdp, a: &Variational, b: &Variational) -> f64 {
    let mut worst = 0.0;
    for t in 0..a.dynamics.len() {
        for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
            for act in 0..mdp.n_actions() {
                worst = max_or_nan(worst, (a.policy[[t, s, act]] - b.policy[[t, s, act]]).abs());
                for j in 0..mdp.n_states() {
                    worst = max_or_nan(worst, (a.dynamics[t][[s, act, j]] - b.dynamics[t][[s, act, j]]).abs());
                }
            }
        }
    }
    worst
}

/// Theorem 4.4 on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let mut checks = Checks::new();
    let Some(horizon) = mdp.horizon() else {
        checks.record("elbo-tight", Violation::of(f64::INFINITY, "theorem-4.4 needs a model with a horizon"));
        return checks;
    };
    let (q_star, v_star) = backward(ops, mdp, beta, None);
    let det: Vec<Array2<f64>> = q_star.iter().map(|q| one_hot(mdp.n_actions(), &ops.greedy(mdp, q.view()))).collect();
    let post = posterior_through(ops, mdp, beta, &det);
    let scale = scale_of(v_star[0].iter());
    let mut prior = Violation::none();
    for (t, d) in det.iter().enumerate() {
        prior = prior.max(over_states(mdp, |s| {
            (0..mdp.n_actions())
                .map(|a| {
                    identity(&format!("q_{t}(a{a}|s{s}) = π*_{t}(a{a}|s{s})"), post.policy[[t, s, a]], d[[s, a]], 1.0)
                })
                .fold(Violation::none(), Violation::max)
        }));
    }
    checks.record("posterior-is-prior", prior);
    let best = elbo_through(ops, mdp, beta, &det, &post);
    checks.record(
        "elbo-tight",
        over_states(mdp, |s| identity(&format!("ELBO(π*, q*)(s{s}) = V*_0"), best[s], v_star[0][s], scale)),
    );

    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let mut bound = Violation::none();
    for i in 0..3 {
        let pis: Vec<Array2<f64>> = (0..horizon)
            .map(|t| {
                if i == 0 && t == 0 {
                    case.policy.clone()
                } else {
                    random_policy(&mut rng, mdp.n_states(), mdp.n_actions())
                }
            })
            .collect();
        let pairs = [
            ("random π, its posterior", elbo_through(ops, mdp, beta, &pis, &posterior_through(ops, mdp, beta, &pis))),
            ("random π, random q", elbo_through(ops, mdp, beta, &pis, &random_variational(&mut rng, mdp, horizon))),
            ("π*, random q", elbo_through(ops, mdp, beta, &det, &random_variational(&mut rng, mdp, horizon))),
        ];
        for (what, value) in pairs {
            bound = bound.max(over_states(mdp, |s| {
                at_most_or_minus_infinity(&format!("ELBO({what})(s{s}) ≤ V*_0"), value[s], v_star[0][s], scale)
            }));
        }
    }
    checks.record("elbo-bound", bound);

    if scope.with_solver() {
        let result = (|| -> crate::Result<Violation> {
            let pi_star = Policy::markov(mdp, stack(&det))?;
            let crate_elbo = elbo(mdp, beta, &pi_star, &post)?;
            let crate_post = posterior(mdp, beta, &pi_star)?;
            let crate_v = crate::solve::solve_finite_horizon(mdp, beta)?.v;
            Ok(over_states(mdp, |s| {
                identity(&format!("ELBO through the operators (s{s}) = utility::elbo"), best[s], crate_elbo[s], scale)
            })
            .max(identity(
                "posterior through the operators = utility::posterior",
                variational_distance(mdp, &post, &crate_post),
                0.0,
                1.0,
            ))
            .max(over_states(mdp, |s| {
                identity(&format!("V*_0(s{s}) = solve_finite_horizon"), v_star[0][s], crate_v[[0, s]], scale)
            })))
        })();
        checks.record(EQUALS_SOLVER, result.unwrap_or_else(Violation::error));
    }
    checks
}
