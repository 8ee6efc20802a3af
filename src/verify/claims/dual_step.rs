//! Eqs. 8–9: the weights of the KL constraint and the dual step on β.
//!
//! ```text
//! d(s,a) = Σ_t γ^t·Pr(s_t = s, a_t = a)  ⇔  Σ_a d(s',a) = ρ(s') + γ·Σ_{s,a} d(s,a)·P(s'|s,a),  d(s,a) = π(a|s)·Σ_b d(s,b)
//! J(β) = β·(ε − KL_β)     (Eq. 9);   a step β' = β − η·(ε − KL_β) at fixed KL_β descends it:
//!                                    J(β') − J(β) = (β' − β)·(ε − KL_β) ≤ 0, also after the clamp to [β_min, 1e7]
//! ```
//!
//! Checked on discounted random MDPs (non-terminal states s', s), through the operators under
//! test, with ε log-uniform in [1e-3, 1] nats and η log-uniform in [1e-2, 1e2]:
//!
//! * `occupancy-flow` — the occupancy of the case's policy and of the greedy policy of Q*_β
//!   solve the flow equation above (relative to the largest state occupancy);
//! * `descent` — the dual step from β at KL_β ([`kl_through`])
//!   does not increase J and stays in [β_min, 1e7];
//! * `equals-solver` — KL_β equals [`dual::kl_at`](crate::dual::kl_at) (in nats, absolute
//!   below 1 nat as the probe's tolerance) and the step, taken at the crate's KL_β, equals the
//!   first step of [`dual::dual_descent`](crate::dual::dual_descent).

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::dual_kl::kl_through;
use super::{at_most, identity, one_hot, over_states, scale_of};
use crate::dual::{BETA_MAX, DualDescent, dual_descent, kl_at};
use crate::mdp::TabularMdp;
use crate::solve::SolveOptions;
use crate::utility::KlWeights;
use crate::verify::operators::Operators;
use crate::verify::random::{Case, log_uniform};
use crate::verify::{Checks, EQUALS_SOLVER, Scope, Violation};

/// The sub-checks of Eqs. 8–9.
pub const CHECKS: &[&str] = &["occupancy-flow", "descent", EQUALS_SOLVER];

/// Lower clamp of β in the dual steps of this claim (below every β of the random cases).
pub const BETA_MIN: f64 = 1e-4;

/// How far `d` is from the discounted occupancy of `pi`: the residual of the flow equation and
/// of `d(s,a) = π(a|s)·Σ_b d(s,b)`, relative to the largest state occupancy; negative entries
/// count too.
fn flow_violation(mdp: &TabularMdp, pi: ArrayView2<f64>, d: &Array2<f64>, which: &str) -> Violation {
    let (s_count, a_count, gamma) = (mdp.n_states(), mdp.n_actions(), mdp.gamma());
    let mu: Vec<f64> = (0..s_count).map(|s| d.row(s).sum()).collect();
    let scale = scale_of(mu.iter());
    let mut inflow: Vec<f64> = (0..s_count).map(|s| mdp.initial()[s]).collect();
    for s in (0..s_count).filter(|&s| !mdp.is_terminal(s)) {
        for a in 0..a_count {
            for (j, p) in mdp.transition_row(s, a).iter().enumerate() {
                inflow[j] += gamma * d[[s, a]] * p;
            }
        }
    }
    over_states(mdp, |s| {
        let mut worst =
            identity(&format!("{which}: Σ_a d(s{s},a) = ρ + γ·Σ d·P (flow into s{s})"), mu[s], inflow[s], scale);
        for a in 0..a_count {
            worst = worst
                .max(identity(
                    &format!("{which}: d(s{s},a{a}) = π(a{a}|s{s})·Σ_b d(s{s},b)"),
                    d[[s, a]],
                    pi[[s, a]] * mu[s],
                    scale,
                ))
                .max(at_most(&format!("{which}: d(s{s},a{a}) ≥ 0"), -d[[s, a]], 0.0, scale));
        }
        worst
    })
}

/// Eqs. 8–9 on one case.
pub fn check(case: &Case, ops: &dyn Operators, scope: Scope) -> Checks {
    let (mdp, beta) = (&case.mdp, case.beta);
    let mut rng = ChaCha8Rng::seed_from_u64(case.seed);
    let settings = DualDescent {
        epsilon: log_uniform(&mut rng, 1e-3, 1.0),
        beta0: beta.get(),
        lr: log_uniform(&mut rng, 1e-2, 1e2),
        steps: 1,
        beta_min: BETA_MIN,
        weights: KlWeights::Occupancy,
    };
    let mut checks = Checks::new();
    let kl_beta = kl_through(ops, mdp, beta);
    let greedy = one_hot(mdp.n_actions(), &kl_beta.greedy);
    let own = ops.occupancy(mdp, case.policy.view());
    checks.record(
        "occupancy-flow",
        flow_violation(mdp, case.policy.view(), &own, "case π").max(flow_violation(
            mdp,
            greedy.view(),
            &kl_beta.occupancy,
            "greedy π",
        )),
    );

    let (b, kl) = (beta.get(), kl_beta.kl);
    let next = ops.dual_step(&settings, b, kl);
    let slope = settings.epsilon - kl;
    // J(β') − J(β) = (β' − β)·(ε − KL_β), measured against |β' − β|·|ε − KL_β|: 1 for a step
    // the wrong way, 0 for a right one.
    let rise = (next - b) * slope;
    let size = ((next - b).abs() * slope.abs()).max(f64::MIN_POSITIVE);
    checks.record(
        "descent",
        at_most(&format!("J(β') ≤ J(β): β {b:.6e} → {next:.6e} at ε − KL_β = {slope:.3e}"), rise, 0.0, size)
            .max(at_most(&format!("β' = {next:.6e} ≥ β_min"), settings.beta_min, next, settings.beta_min))
            .max(at_most(&format!("β' = {next:.6e} ≤ 1e7"), next, BETA_MAX, BETA_MAX)),
    );

    if scope.with_solver() {
        let result = (|| -> crate::Result<Violation> {
            let reference = kl_at(mdp, beta, KlWeights::Occupancy, SolveOptions::default())?;
            let steps = dual_descent(mdp, settings, SolveOptions::default())?;
            // KL_β in nats, as the probe's KL_PROBE: near 0 its rounding is absolute (a sum of
            // q·log(q/p) terms of both signs), so the scale is at least 1 nat.
            let kl_scale = kl.abs().max(reference.abs()).max(1.0);
            // The step formula alone: the operators' step at the crate's KL_β.
            let step = ops.dual_step(&settings, b, steps[0].kl);
            Ok(identity("KL_β through the operators = dual::kl_at", kl, reference, kl_scale).max(identity(
                "dual step through the operators = dual::dual_descent (at its KL_β)",
                step,
                steps[1].beta,
                step.abs().max(steps[1].beta.abs()),
            )))
        })();
        checks.record(EQUALS_SOLVER, result.unwrap_or_else(Violation::error));
    }
    checks
}
