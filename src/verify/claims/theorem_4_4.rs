//! Theorem 4.4 (deterministic optimum of the β-VMBPO objective): the maximum over (π, q) of the
//! scaled ELBO `E_q[Σ_t r_t]/β − KL(q(τ) ‖ p_π(τ))` is reached by a deterministic π with
//! `q(a|s) = π(a|s)`.
//!
//! Checked with a horizon T ≤ 3 (γ = 1 or γ < 1): π* greedy w.r.t. Q*_t computed through the
//! operators under test (deterministic, time-dependent); its posterior policy equals π*; the
//! ELBO of (π*, posterior) — computed by [`utility::elbo`](crate::utility::elbo), which does not
//! use the operators — equals V*_0; and the ELBO of random pairs (random π with its posterior,
//! random π with random q, π* with random q) is at most V*_0 in every state.

use ndarray::{Array2, Array3};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, one_hot, over_states, scale_of, stack};
use crate::mdp::TabularMdp;
use crate::policy::Policy;
use crate::solve::greedy_actions;
use crate::utility::{Variational, elbo, posterior};
use crate::verify::Violation;
use crate::verify::operators::{Operators, backward};
use crate::verify::random::{Case, normalise_row, random_policy};

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

/// Theorem 4.4 on one case.
pub fn check(case: &Case, ops: &dyn Operators) -> Violation {
    let (mdp, beta) = (&case.mdp, case.beta);
    let Some(horizon) = mdp.horizon() else {
        return Violation::of(f64::INFINITY, "theorem-4.4 needs a model with a horizon");
    };
    let result = (|| -> crate::Result<Violation> {
        let (q_star, v_star) = backward(ops, mdp, beta, None);
        let det: Vec<Array2<f64>> =
            q_star.iter().map(|q| one_hot(mdp.n_actions(), &greedy_actions(mdp, q.view()))).collect();
        let pi_star = Policy::markov(mdp, stack(&det))?;
        let post = posterior(mdp, beta, &pi_star)?;
        let scale = scale_of(v_star[0].iter());
        let mut worst = Violation::none();
        for (t, d) in det.iter().enumerate() {
            worst = worst.max(over_states(mdp, |s| {
                (0..mdp.n_actions())
                    .map(|a| {
                        identity(
                            &format!("q_{t}(a{a}|s{s}) = π*_{t}(a{a}|s{s})"),
                            post.policy[[t, s, a]],
                            d[[s, a]],
                            1.0,
                        )
                    })
                    .fold(Violation::none(), Violation::max)
            }));
        }
        let best = elbo(mdp, beta, &pi_star, &post)?;
        worst = worst
            .max(over_states(mdp, |s| identity(&format!("ELBO(π*, q*)(s{s}) = V*_0"), best[s], v_star[0][s], scale)));

        let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
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
            let pi = Policy::markov(mdp, stack(&pis))?;
            let pairs = [
                ("random π, its posterior", elbo(mdp, beta, &pi, &posterior(mdp, beta, &pi)?)?),
                ("random π, random q", elbo(mdp, beta, &pi, &random_variational(&mut rng, mdp, horizon))?),
                ("π*, random q", elbo(mdp, beta, &pi_star, &random_variational(&mut rng, mdp, horizon))?),
            ];
            for (what, value) in pairs {
                worst = worst.max(over_states(mdp, |s| {
                    at_most(&format!("ELBO({what})(s{s}) ≤ V*_0"), value[s], v_star[0][s], scale)
                }));
            }
        }
        Ok(worst)
    })();
    result.unwrap_or_else(Violation::error)
}
