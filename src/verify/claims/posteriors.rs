//! Eqs. 2, 4 and 15 as one variational principle (Gibbs; Donsker–Varadhan): for a
//! distribution p and values X,
//!
//! ```text
//! log Σ_j p_j·e^{X_j} = max_q ( Σ_j q_j·X_j − KL(q‖p) ),   attained at q_j ∝ p_j·e^{X_j}
//! ```
//!
//! * policy (p = π(·|s), X = Q(s,·)): Eq. 2's `V(s) = E_q Q(s,·) − KL(q‖π)` at the posterior
//!   policy `q(a|s) ∝ π(a|s)·e^{Q(s,a)}`;
//! * dynamics (p = P(·|s,a), X = V): `(B V)(s,a) = r(s,a)/β + γ·(E_q V − KL(q‖P))` at the
//!   posterior dynamics `q(s'|s,a) ∝ P(s'|s,a)·e^{V(s')}` (Eq. 4) — with γ outside the log there
//!   is no γ in the tilt.
//!
//! Checked on discounted random MDPs at a random V (spread up to ‖r‖/(β(1−γ))), with
//! `Q = B V` and Eq. 2's soft value of the case's policy, all through the operators under test:
//!
//! * `posterior-rows` — both posteriors are distributions on the support of their prior;
//! * `eq-2-variational` and `backup-variational` — the two identities above, every KL through
//!   the operators;
//! * `maximiser` — a random q on the same support does no better (≤);
//! * `equals-solver` — backup, soft value and both posteriors equal [`crate::operators`].

use ndarray::{Array1, Array2};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{at_most, identity, over_states, scale_of};
use crate::operators;
use crate::verify::operators::{Operators, max_or_nan, sup_distance};
use crate::verify::random::{Case, log_uniform, normalise_row};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of the posteriors claim.
pub const CHECKS: &[&str] = &["posterior-rows", "eq-2-variational", "backup-variational", "maximiser", EQUALS_SOLVER];

/// `Σ_j q_j·x_j − KL(q‖p)` over `q_j ≠ 0`, the KL through `ops`.
fn gibbs(ops: &dyn Operators, q: &[f64], p: &[f64], x: &[f64]) -> f64 {
    let mean: f64 = q.iter().zip(x).filter(|&(&w, _)| w != 0.0).map(|(w, v)| w * v).sum();
    mean - ops.kl(q, p)
}

/// How far `q` is from a distribution on the support of `p`: |Σq − 1| plus mass off the
/// support plus negative mass (NaN stays NaN).
fn row_defect(q: &[f64], p: &[f64]) -> f64 {
    let total: f64 = q.iter().sum();
    let off: f64 = q.iter().zip(p).filter(|&(_, &pj)| pj <= 0.0).map(|(w, _)| w.abs()).sum();
    let negative: f64 = q.iter().filter(|&&w| w < 0.0).map(|w| -w).sum();
    (total - 1.0).abs() + off + negative
}

/// A random distribution on the support of `p`.
fn random_on_support(rng: &mut impl Rng, p: &[f64]) -> Vec<f64> {
    let w: Vec<f64> = p.iter().map(|_| rng.random_range(0.0..1.0)).collect();
    let keep: Vec<bool> = p.iter().map(|&x| x > 0.0).collect();
    let fallback = p.iter().position(|&x| x > 0.0).unwrap_or(0);
    normalise_row(&w, &keep, fallback)
}

/// The posteriors claim on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta, gamma) = (&case.mdp, case.beta, case.mdp.gamma());
    let (s_count, a_count) = (mdp.n_states(), mdp.n_actions());
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let r_max = mdp.rewards().iter().fold(0.0f64, |m, x| m.max(x.abs())) / beta.get() / (1.0 - gamma);
    let spread = r_max.max(1.0) * log_uniform(&mut rng, 1e-3, 1.0);
    let v0 = Array1::from_iter((0..s_count).map(|s| {
        let x = spread * rng.random_range(-1.0..=1.0);
        if mdp.is_terminal(s) { 0.0 } else { x }
    }));
    let pi = case.policy.view();
    let q = ops.backup(mdp, beta, v0.view());
    let v = ops.soft_value(mdp, q.view(), pi);
    let q_pol = ops.posterior_policy(mdp, pi, q.view());
    let q_dyn = ops.posterior_dynamics(mdp, v0.view());
    let scale = scale_of(q.iter().chain(v0.iter()).chain(v.iter()));
    let v0s = v0.to_vec();
    let dyn_row = |s: usize, a: usize| (0..s_count).map(|j| q_dyn[[s, a, j]]).collect::<Vec<f64>>();
    let mut checks = Checks::new();

    checks.record(
        "posterior-rows",
        over_states(mdp, |s| {
            let policy = identity(
                &format!("q(·|s{s}) a distribution on supp π"),
                row_defect(&q_pol.row(s).to_vec(), &pi.row(s).to_vec()),
                0.0,
                1.0,
            );
            (0..a_count).fold(policy, |worst, a| {
                let defect = row_defect(&dyn_row(s, a), &mdp.transition_row(s, a));
                worst.max(identity(&format!("q(·|s{s},a{a}) a distribution on supp P"), defect, 0.0, 1.0))
            })
        }),
    );
    checks.record(
        "eq-2-variational",
        over_states(mdp, |s| {
            let rhs = gibbs(ops, &q_pol.row(s).to_vec(), &pi.row(s).to_vec(), &q.row(s).to_vec());
            identity(&format!("V(s{s}) = E_q Q − KL(q‖π) at the posterior policy"), v[s], rhs, scale)
        }),
    );
    checks.record(
        "backup-variational",
        over_states(mdp, |s| {
            (0..a_count).fold(Violation::none(), |worst, a| {
                let inner = gibbs(ops, &dyn_row(s, a), &mdp.transition_row(s, a), &v0s);
                let rhs = mdp.rewards()[[s, a]] / beta.get() + gamma * inner;
                worst.max(identity(
                    &format!("(BV)(s{s},a{a}) = r/β + γ(E_q V − KL(q‖P)) at the posterior"),
                    q[[s, a]],
                    rhs,
                    scale,
                ))
            })
        }),
    );
    checks.record(
        "maximiser",
        over_states(mdp, |s| {
            let other = random_on_support(&mut rng, &pi.row(s).to_vec());
            let policy = gibbs(ops, &other, &pi.row(s).to_vec(), &q.row(s).to_vec());
            let mut worst = at_most(&format!("E_q' Q − KL(q'‖π) ≤ V(s{s}), random q'"), policy, v[s], scale);
            for a in 0..a_count {
                let p = mdp.transition_row(s, a);
                let other = random_on_support(&mut rng, &p);
                let rhs = mdp.rewards()[[s, a]] / beta.get() + gamma * gibbs(ops, &other, &p, &v0s);
                worst = worst.max(at_most(
                    &format!("r/β + γ(E_q' V − KL(q'‖P)) ≤ (BV)(s{s},a{a}), random q'"),
                    rhs,
                    q[[s, a]],
                    scale,
                ));
            }
            worst
        }),
    );
    if scope.with_solver() {
        let crate_q = operators::backup(mdp, beta, v0.view());
        let crate_v = operators::soft_value(mdp, crate_q.view(), pi);
        let crate_pol = operators::posterior_policy(mdp, pi, crate_q.view());
        let crate_dyn = operators::posterior_dynamics(mdp, v0.view());
        let gap = |a: &Array2<f64>, b: &Array2<f64>| sup_distance(mdp, a.view(), b.view());
        let dyn_gap = q_dyn.iter().zip(crate_dyn.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, max_or_nan);
        let v_gap = v.iter().zip(crate_v.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, max_or_nan);
        checks.record(
            EQUALS_SOLVER,
            identity("B V = operators::backup", gap(&q, &crate_q), 0.0, scale)
                .max(identity("Eq. 2 = operators::soft_value", v_gap, 0.0, scale))
                .max(identity("posterior policy = operators::posterior_policy", gap(&q_pol, &crate_pol), 0.0, 1.0))
                .max(identity("posterior dynamics = operators::posterior_dynamics", dyn_gap, 0.0, 1.0)),
        );
    }
    checks
}
