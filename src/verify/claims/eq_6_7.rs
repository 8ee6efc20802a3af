//! Eqs. (6–7): with γ = 1 and a horizon, the backup gives the exponential utility exactly,
//! `β·V_π(s) = β·log E[exp(Σ_t r_t/β) | s_0 = s]`, and the ELBO is a lower bound on the
//! log-marginal `V_π(s)`, tight at the posterior.
//!
//! Checked on random MDPs with T ≤ 3 and a random stationary policy: `V_π,0` by backward
//! induction through the operators under test equals the log-marginal found by enumerating
//! every trajectory ([`exponential_utility`]); the ELBO of
//! the posterior equals it; the ELBO of three random q is at most it.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::theorem_4_4::random_variational;
use super::{at_most, identity, over_states, scale_of};
use crate::policy::Policy;
use crate::utility::{elbo, exponential_utility, posterior};
use crate::verify::Violation;
use crate::verify::operators::{Operators, backward};
use crate::verify::random::Case;

/// Most trajectories enumerated per start state.
pub const TRAJECTORY_LIMIT: usize = 1_000_000;

/// Eqs. (6–7) on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let (mdp, beta) = (&case.mdp, case.beta);
    let Some(horizon) = mdp.horizon() else {
        return Violation::of(f64::INFINITY, "eq-6-7 needs a model with a horizon");
    };
    let result = (|| -> crate::Result<Violation> {
        let policy = Policy::stationary(mdp, case.policy.clone())?;
        let (_, v) = backward(ops, mdp, beta, Some(&vec![case.policy.clone(); horizon]));
        let mut log_marginal = v[0].clone();
        for s in (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)) {
            log_marginal[s] = exponential_utility(mdp, beta, &policy, s, TRAJECTORY_LIMIT)?.log_marginal;
        }
        let scale = scale_of(log_marginal.iter());
        let mut worst =
            over_states(mdp, |s| identity(&format!("V_π,0(s{s}) = log E exp(R/β)"), v[0][s], log_marginal[s], scale));
        let tight = elbo(mdp, beta, &policy, &posterior(mdp, beta, &policy)?)?;
        worst = worst.max(over_states(mdp, |s| {
            identity(&format!("ELBO(posterior)(s{s}) = log-marginal"), tight[s], log_marginal[s], scale)
        }));
        let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
        for _ in 0..3 {
            let bound = elbo(mdp, beta, &policy, &random_variational(&mut rng, mdp, horizon))?;
            worst = worst.max(over_states(mdp, |s| {
                at_most(&format!("ELBO(random q)(s{s}) ≤ log-marginal"), bound[s], log_marginal[s], scale)
            }));
        }
        Ok(worst)
    })();
    result.unwrap_or_else(Violation::error)
}
