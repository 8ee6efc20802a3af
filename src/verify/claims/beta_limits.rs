//! The β limits, with explicit rates. Values in reward units: `W_β = β·V_β`.
//!
//! # β → ∞: the risk-neutral optimum, within O(1/β)
//!
//! Hoeffding's lemma, `β·log E e^{X/β} ≤ E X + (max X − min X)²/(8β)`, and Jensen,
//! `β·log E e^{X/β} ≥ E X`, applied at every backup of the fixed point give, for γ < 1,
//!
//! ```text
//! 0 ≤ β·V_{π,β} − V_{π,∞} ≤ (γ·S_V² + S_Q²) / (8β(1−γ))
//! 0 ≤ β·V*_β − V*_∞       ≤  γ·S_V² / (8β(1−γ))
//! 0 ≤ V*_∞ − V_∞^{greedy(Q*_β)} ≤ γ·S_V² / (8β(1−γ))
//! ```
//!
//! `S_V`: largest span of `W_β` over the support of a row P(·|s,a); `S_Q`: largest span of
//! `β·Q_{π,β}(s,·)` over the support of π(·|s); `V_∞` from the crate's risk-neutral linear
//! solves. [`check_large`] uses β' = 100·max(β, 1).
//!
//! # β → 0: the best case, within O(β)
//!
//! `max X + β·log p_min ≤ β·log E_p e^{X/β} ≤ max X` gives
//!
//! ```text
//! 0 ≤ V_best − β·V*_β ≤ β·γ·L / (1−γ),         V_best = max_a [r + γ·max_{s'∈supp P} V_best(s')]
//! 0 ≤ V_best,π − β·V_π,β ≤ β·(γ·L + L_π)/(1−γ)    (max over the support of π instead)
//! ```
//!
//! with `L = max −log(smallest positive P(s'|s,a))`, `L_π` the same for π; V_best by plain
//! best-case value iteration (no soft operator involved). [`check_small`] uses
//! β' = min(β, 1)/100.
//!
//! # β ↦ β·V_β is non-increasing ([`check_monotone`])
//!
//! For a fixed distribution `β ↦ β·log E e^{X/β}` is non-increasing (Lyapunov: power means
//! increase with the power). The backups are monotone, so by induction on the iterates the
//! fixed points `β·V_{π,β}` and `β·V*_β` are non-increasing in β in every state, for every γ.
//! Checked at β and 2β.

use ndarray::{Array1, Array2};

use super::{at_most, one_hot, over_states, scale_of, support_span};
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::solve::risk_neutral::{expected_q, optimal_expected_q};
use crate::verify::operators::{Operators, iterate, max_or_nan};
use crate::verify::random::Case;
use crate::verify::{Checks, Scope, Violation};

/// The sub-checks of `beta-large` (the risk-neutral values are the limit, not the solver under
/// test: no `equals-solver`).
pub const CHECKS_LARGE: &[&str] = &["jensen", "hoeffding", "greedy-loss"];
/// The sub-checks of `beta-small` (against plain best-case value iteration).
pub const CHECKS_SMALL: &[&str] = &["best-case-upper", "best-case-gap"];
/// The sub-check of `beta-monotone`.
pub const CHECKS_MONOTONE: &[&str] = &["monotone"];

fn values(ops: &dyn Operators, mdp: &TabularMdp, beta: Beta, pi: Option<&Array2<f64>>) -> (Array2<f64>, Array1<f64>) {
    match pi {
        Some(pi) => {
            let q = iterate(ops, mdp, beta, Aggregation::Policy(pi.view()), None);
            let v = ops.soft_value(mdp, q.view(), pi.view());
            (q, v)
        }
        None => {
            let q = iterate(ops, mdp, beta, Aggregation::Max, None);
            let v = ops.max_value(mdp, q.view());
            (q, v)
        }
    }
}

fn beta_or_error(b: f64) -> Result<Beta, Violation> {
    Beta::new(b).map_err(Violation::error)
}

/// β → ∞ on one case (at β' = 100·max(β, 1)).
pub fn check_large(case: &Case, ops: &dyn Operators, _scope: Scope) -> Checks {
    let (mdp, gamma) = (&case.mdp, case.mdp.gamma());
    let mut checks = Checks::new();
    let b = case.beta.get().max(1.0) * 100.0;
    let beta = match beta_or_error(b) {
        Ok(beta) => beta,
        Err(v) => {
            checks.record("jensen", v);
            return checks;
        }
    };
    let result = (|| -> crate::Result<()> {
        let (q, v) = values(ops, mdp, beta, None);
        let w = v.mapv(|x| b * x);
        let (q_inf, _) = optimal_expected_q(mdp)?;
        let v_inf = Array1::from_iter((0..mdp.n_states()).map(|s| {
            if mdp.is_terminal(s) { 0.0 } else { q_inf.row(s).iter().copied().fold(f64::NEG_INFINITY, max_or_nan) }
        }));
        let scale = scale_of(v_inf.iter().chain(w.iter()));
        let s_v = support_span(mdp, w.view());
        let bound = gamma * s_v * s_v / (8.0 * b * (1.0 - gamma));
        let greedy = ops.greedy(mdp, q.view());
        let q_g = expected_q(mdp, &Policy::stationary(mdp, one_hot(mdp.n_actions(), &greedy))?)?;
        checks.record(
            "jensen",
            over_states(mdp, |s| at_most(&format!("V*_∞(s{s}) ≤ βV*_β(s{s})"), v_inf[s], w[s], scale)),
        );
        checks.record(
            "hoeffding",
            over_states(mdp, |s| {
                at_most(&format!("βV*_β − V*_∞ (s{s}) ≤ Hoeffding bound"), w[s] - v_inf[s], bound, scale)
            }),
        );
        checks.record(
            "greedy-loss",
            over_states(mdp, |s| {
                at_most(
                    &format!("V*_∞ − V_∞^greedy (s{s}) ≤ Hoeffding bound"),
                    v_inf[s] - q_g[[s, greedy[s]]],
                    bound,
                    scale,
                )
            }),
        );
        let pi = &case.policy;
        let (q_pi, v_pi) = values(ops, mdp, beta, Some(pi));
        let w_pi = v_pi.mapv(|x| b * x);
        let q_inf_pi = expected_q(mdp, &Policy::stationary(mdp, pi.clone())?)?;
        let s_v = support_span(mdp, w_pi.view());
        let s_q = (0..mdp.n_states())
            .filter(|&s| !mdp.is_terminal(s))
            .map(|s| {
                let on: Vec<f64> =
                    (0..mdp.n_actions()).filter(|&a| pi[[s, a]] > 0.0).map(|a| b * q_pi[[s, a]]).collect();
                let hi = on.iter().copied().fold(f64::NEG_INFINITY, max_or_nan);
                let lo = -on.iter().map(|x| -x).fold(f64::NEG_INFINITY, max_or_nan);
                hi - lo
            })
            .fold(0.0, max_or_nan);
        let bound_pi = (gamma * s_v * s_v + s_q * s_q) / (8.0 * b * (1.0 - gamma));
        let v_inf_pi = Array1::from_iter((0..mdp.n_states()).map(|s| pi.row(s).dot(&q_inf_pi.row(s))));
        checks.record(
            "jensen",
            over_states(mdp, |s| at_most(&format!("V_π,∞(s{s}) ≤ βV_π,β(s{s})"), v_inf_pi[s], w_pi[s], scale)),
        );
        checks.record(
            "hoeffding",
            over_states(mdp, |s| {
                at_most(&format!("βV_π,β − V_π,∞ (s{s}) ≤ Hoeffding bound"), w_pi[s] - v_inf_pi[s], bound_pi, scale)
            }),
        );
        Ok(())
    })();
    if let Err(e) = result {
        checks.record("jensen", Violation::error(e));
    }
    checks
}

/// Best-case values by plain value iteration: max over the support of P, and over the support
/// of π when given (else over all actions).
fn best_case(mdp: &TabularMdp, pi: Option<&Array2<f64>>) -> Array1<f64> {
    let gamma = mdp.gamma();
    let mut v = Array1::<f64>::zeros(mdp.n_states());
    for _ in 0..1_000_000 {
        let next = Array1::from_iter((0..mdp.n_states()).map(|s| {
            if mdp.is_terminal(s) {
                return 0.0;
            }
            (0..mdp.n_actions())
                .filter(|&a| pi.is_none_or(|pi| pi[[s, a]] > 0.0))
                .map(|a| {
                    let future = mdp
                        .transition_row(s, a)
                        .iter()
                        .zip(v.iter())
                        .filter(|(p, _)| **p > 0.0)
                        .map(|(_, &x)| x)
                        .fold(f64::NEG_INFINITY, f64::max);
                    mdp.rewards()[[s, a]] + gamma * future
                })
                .fold(f64::NEG_INFINITY, f64::max)
        }));
        let delta = next.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, max_or_nan);
        v = next;
        if delta <= crate::tolerance::ROUNDING_FLOOR * scale_of(v.iter()) {
            break;
        }
    }
    v
}

fn max_neg_log_min(rows: impl Iterator<Item = Vec<f64>>) -> f64 {
    rows.map(|row| -row.iter().copied().filter(|&p| p > 0.0).fold(1.0, f64::min).ln()).fold(0.0, f64::max)
}

/// β → 0 on one case (at β' = min(β, 1)/100).
pub fn check_small(case: &Case, ops: &dyn Operators, _scope: Scope) -> Checks {
    let (mdp, gamma) = (&case.mdp, case.mdp.gamma());
    let mut checks = Checks::new();
    let b = case.beta.get().min(1.0) / 100.0;
    let beta = match beta_or_error(b) {
        Ok(beta) => beta,
        Err(v) => {
            checks.record("best-case-upper", v);
            return checks;
        }
    };
    let live = || (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s));
    let l_p =
        max_neg_log_min(live().flat_map(|s| (0..mdp.n_actions()).map(move |a| mdp.transition_row(s, a).to_vec())));
    let l_pi = max_neg_log_min(live().map(|s| case.policy.row(s).to_vec()));
    for (pi, bound) in
        [(None, b * gamma * l_p / (1.0 - gamma)), (Some(&case.policy), b * (gamma * l_p + l_pi) / (1.0 - gamma))]
    {
        let (_, v) = values(ops, mdp, beta, pi);
        let w = v.mapv(|x| b * x);
        let best = best_case(mdp, pi);
        let scale = scale_of(best.iter().chain(w.iter()));
        let which = if pi.is_some() { "π" } else { "*" };
        checks.record(
            "best-case-upper",
            over_states(mdp, |s| at_most(&format!("βV{which}_β(s{s}) ≤ V_best(s{s})"), w[s], best[s], scale)),
        );
        checks.record(
            "best-case-gap",
            over_states(mdp, |s| {
                at_most(&format!("V_best − βV{which}_β (s{s}) ≤ β·(γL + L_π)/(1−γ)"), best[s] - w[s], bound, scale)
            }),
        );
    }
    checks
}

/// β ↦ β·V_β non-increasing (optimum and the case's policy), at β and 2β.
pub fn check_monotone(case: &Case, ops: &dyn Operators, _scope: Scope) -> Checks {
    let mdp = &case.mdp;
    let b = case.beta.get();
    let mut checks = Checks::new();
    let beta2 = match beta_or_error(2.0 * b) {
        Ok(beta) => beta,
        Err(v) => {
            checks.record("monotone", v);
            return checks;
        }
    };
    for pi in [None, Some(&case.policy)] {
        let w1 = values(ops, mdp, case.beta, pi).1.mapv(|x| b * x);
        let w2 = values(ops, mdp, beta2, pi).1.mapv(|x| 2.0 * b * x);
        let scale = scale_of(w1.iter().chain(w2.iter()));
        let which = if pi.is_some() { "π" } else { "*" };
        checks.record(
            "monotone",
            over_states(mdp, |s| at_most(&format!("2β·V{which}_2β(s{s}) ≤ β·V{which}_β(s{s})"), w2[s], w1[s], scale)),
        );
    }
    checks
}
