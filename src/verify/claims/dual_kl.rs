//! Probe (Fig. 3c, not proven in the paper): is the mean posterior KL
//! `KL_β = Σ d(s,a)·KL(q_β(·|s,a) ‖ P(·|s,a)) / Σ d` non-increasing in β? If it is, dual
//! descent on β has one fixed point for every budget ε.
//!
//! On discounted random MDPs, `KL_β` (occupancy weights of the greedy policy from ρ, Eq. 8) is
//! computed through the operators under test ([`kl_through`]: Q* by iteration, the greedy step,
//! the posterior dynamics, the KL and the occupancy all through them) on a log grid of
//! [`KL_POINTS`] β in [1e-2, 1e3] (shifted by a random fraction of a step);
//!
//! * `monotone` — the largest rise of `KL_β` from one grid point to the next, in nats; the
//!   detail says whether it crosses a change of the greedy policy (where KL_β jumps) or not;
//! * `equals-solver` — at the first point the value equals
//!   [`dual::kl_at`](crate::dual::kl_at), which shares none of the verifier's pieces (its KL is
//!   `utility::kl_of_posterior_dynamics`, its occupancy a linear solve; the verifier's are its
//!   own sum and series, checked on their own by the `posteriors` and `dual-step` claims).

use ndarray::Array2;

use super::{Violation, identity, jittered_grid, one_hot};
use crate::dual::kl_at;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::risk::Beta;
use crate::solve::SolveOptions;
use crate::utility::KlWeights;
use crate::verify::operators::{Operators, iterate};
use crate::verify::random::Case;
use crate::verify::{Checks, EQUALS_SOLVER, Scope};

/// Grid points of the probe.
pub const KL_POINTS: usize = 13;

/// The sub-checks of the probe.
pub const CHECKS: &[&str] = &["monotone", EQUALS_SOLVER];

/// `KL_β` through the operators, with what it is made of.
#[derive(Debug, Clone)]
pub struct KlBeta {
    /// `Σ d·KL / Σ d` (Eq. 8).
    pub kl: f64,
    /// The greedy policy of Q*_β.
    pub greedy: Vec<usize>,
    /// KL(q_β(·|s,a) ‖ P(·|s,a)) per pair (0 at terminal states).
    pub per_pair: Array2<f64>,
    /// The occupancy d of the greedy policy.
    pub occupancy: Array2<f64>,
}

/// `KL_β` of Eq. 8 through `ops`: Q*_β by iteration, V* and the greedy policy of it, the
/// posterior dynamics at V*, KL per pair, the occupancy of the greedy policy, and
/// `Σ d·KL / Σ d` over pairs with `d ≠ 0` (NaN stays NaN).
pub fn kl_through(ops: &dyn Operators, mdp: &TabularMdp, beta: Beta) -> KlBeta {
    let q = iterate(ops, mdp, beta, Aggregation::Max, None);
    let v = ops.max_value(mdp, q.view());
    let greedy = ops.greedy(mdp, q.view());
    let post = ops.posterior_dynamics(mdp, v.view());
    let s_count = mdp.n_states();
    let per_pair = Array2::from_shape_fn((s_count, mdp.n_actions()), |(s, a)| {
        if mdp.is_terminal(s) {
            0.0
        } else {
            let row: Vec<f64> = (0..s_count).map(|j| post[[s, a, j]]).collect();
            ops.kl(&row, &mdp.transition_row(s, a))
        }
    });
    let occupancy = ops.occupancy(mdp, one_hot(mdp.n_actions(), &greedy).view());
    let (mut weighted, mut total) = (0.0, 0.0);
    for (k, d) in per_pair.iter().zip(occupancy.iter()).filter(|&(_, &d)| d != 0.0) {
        weighted += d * k;
        total += d;
    }
    KlBeta { kl: weighted / total, greedy, per_pair, occupancy }
}

/// The probe on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let step = (1e3f64 / 1e-2).ln() / (KL_POINTS - 1) as f64;
    let u = ((case.beta.get() / 1e-2).ln() / step).fract().abs();
    let betas = jittered_grid(1e-2, 1e3, KL_POINTS, u);
    let mut checks = Checks::new();
    let mut points = Vec::with_capacity(betas.len());
    for &b in &betas {
        match Beta::new(b) {
            Ok(beta) => points.push(kl_through(ops, &case.mdp, beta)),
            Err(e) => {
                checks.record("monotone", Violation::error(e));
                return checks;
            }
        }
    }
    let mut rise = Violation::none();
    for i in 0..betas.len() - 1 {
        let (p0, p1) = (&points[i], &points[i + 1]);
        let why = if p0.greedy == p1.greedy { "same greedy policy" } else { "greedy policy changes" };
        let detail = format!(
            "KL rises {:.6e} → {:.6e} nats from β={:.4e} to β={:.4e} ({why})",
            p0.kl,
            p1.kl,
            betas[i],
            betas[i + 1]
        );
        let amount = if p0.kl.is_finite() && p1.kl.is_finite() { (p1.kl - p0.kl).max(0.0) } else { f64::INFINITY };
        rise = rise.max(Violation::of(amount, detail));
    }
    checks.record("monotone", rise);
    if scope.with_solver() {
        let reference =
            Beta::new(betas[0]).and_then(|beta| kl_at(&case.mdp, beta, KlWeights::Occupancy, SolveOptions::default()));
        let v = match reference {
            Ok(kl) => identity("KL_β through the operators = dual::kl_at", points[0].kl, kl, 1.0),
            Err(e) => Violation::error(e),
        };
        checks.record(EQUALS_SOLVER, v);
    }
    checks
}
