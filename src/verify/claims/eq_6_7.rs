//! Eqs. (6–7): with γ = 1 and a horizon, the backup gives the exponential utility exactly,
//! `β·V_π(s) = β·log E[exp(Σ_t r_t/β) | s_0 = s]`, and the ELBO is a lower bound on the
//! log-marginal `V_π(s)`, tight at the posterior.
//!
//! Checked on random MDPs with T ≤ 3 and a random stationary policy:
//!
//! * `exponential-utility` — `V_π,0` by backward induction through the operators under test
//!   equals the log-marginal found by enumerating every trajectory
//!   ([`exponential_utility`]), which uses no operator;
//! * `elbo-tight` — the ELBO ([`elbo_through`], KLs through the operators) of the posterior
//!   (through the operators) equals it;
//! * `elbo-bound` — the ELBO of three random q is at most it;
//! * `equals-solver` — that ELBO and posterior equal the crate's
//!   [`utility::elbo`](crate::utility::elbo) and [`utility::posterior`](crate::utility::posterior).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::theorem_4_4::{random_variational, variational_distance};
use super::{at_most_or_minus_infinity, identity, over_states, scale_of};
use crate::policy::Policy;
use crate::utility::{elbo, exponential_utility, posterior};
use crate::verify::operators::{Operators, backward, elbo_through, posterior_through};
use crate::verify::random::Case;
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// Most trajectories enumerated per start state.
pub const TRAJECTORY_LIMIT: usize = 1_000_000;

/// The sub-checks of Eqs. 6–7.
pub const CHECKS: &[&str] = &["exponential-utility", "elbo-tight", "elbo-bound", EQUALS_SOLVER];

/// Eqs. (6–7) on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let mut checks = Checks::new();
    let Some(horizon) = mdp.horizon() else {
        checks.record("exponential-utility", Violation::of(f64::INFINITY, "eq-6-7 needs a model with a horizon"));
        return checks;
    };
    let policy = match Policy::stationary(mdp, case.policy.clone()) {
        Ok(p) => p,
        Err(e) => {
            checks.record("exponential-utility", Violation::error(e));
            return checks;
        }
    };
    let pis = vec![case.policy.clone(); horizon];
    let (_, v) = backward(ops, mdp, beta, Some(&pis));
    let mut log_marginal = v[0].clone();
    for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
        match exponential_utility(mdp, beta, &policy, s, TRAJECTORY_LIMIT) {
            Ok(u) => log_marginal[s] = u.log_marginal,
            Err(e) => {
                checks.record("exponential-utility", Violation::error(e));
                return checks;
            }
        }
    }
    let scale = scale_of(log_marginal.iter());
    checks.record(
        "exponential-utility",
        over_states(mdp, |s| identity(&format!("V_π,0(s{s}) = log E exp(R/β)"), v[0][s], log_marginal[s], scale)),
    );
    let post = posterior_through(ops, mdp, beta, &pis);
    let tight = elbo_through(ops, mdp, beta, &pis, &post);
    checks.record(
        "elbo-tight",
        over_states(mdp, |s| {
            identity(&format!("ELBO(posterior)(s{s}) = log-marginal"), tight[s], log_marginal[s], scale)
        }),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let mut bound = Violation::none();
    for _ in 0..3 {
        let value = elbo_through(ops, mdp, beta, &pis, &random_variational(&mut rng, mdp, horizon));
        bound = bound.max(over_states(mdp, |s| {
            at_most_or_minus_infinity(&format!("ELBO(random q)(s{s}) ≤ log-marginal"), value[s], log_marginal[s], scale)
        }));
    }
    checks.record("elbo-bound", bound);
    if scope.with_solver() {
        let result = (|| -> crate::Result<Violation> {
            let crate_elbo = elbo(mdp, beta, &policy, &post)?;
            let crate_post = posterior(mdp, beta, &policy)?;
            Ok(over_states(mdp, |s| {
                identity(&format!("ELBO through the operators (s{s}) = utility::elbo"), tight[s], crate_elbo[s], scale)
            })
            .max(identity(
                "posterior through the operators = utility::posterior",
                variational_distance(mdp, &post, &crate_post),
                0.0,
                1.0,
            )))
        })();
        checks.record(EQUALS_SOLVER, result.unwrap_or_else(Violation::error));
    }
    checks
}
