//! The fixed-point loop shared by policy evaluation and value iteration.
//!
//! Iterates `V ← agg(B V)` ([`Aggregation`]: the soft value of a policy, Eq. 2, or the max,
//! Lemma 4.1) and
//! stops on a certified bound:
//! * γ < 1: the map is a γ-contraction in sup norm (Theorem 4.1, Lemma 4.1), so
//!   `‖V_{k+1} − V*‖ ≤ γ/(1−γ)·‖V_{k+1} − V_k‖`, and the same bound holds for Q = B V_k.
//! * γ = 1 (terminating model): the exp-space map is a c-contraction in the x-weighted norm of
//!   the finiteness [`Certificate`](super::certificate::Certificate); the weighted bound is
//!   turned back into a log-space bound per state.

use ndarray::{Array1, Array2, ArrayView2};

use super::certificate::{self, Certificate};
use super::{SolveOptions, StationarySolution, Termination};
use crate::error::{Error, Result};
use crate::kernel::backup_into;
use crate::mdp::TabularMdp;
use crate::operators::Aggregation;
use crate::policy::Policy;
use crate::risk::Beta;
use crate::tolerance;

use rayon::prelude::*;

/// Relative rounding error of one sweep (a few ulps of the values' scale).
const ROUNDING_SWEEP: f64 = 4.0 * f64::EPSILON;

/// States per rayon task in the per-state loops.
const PAR_MIN: usize = 8192;

/// Output of [`fixed_point`].
pub(crate) struct FixedPoint {
    pub q: Array2<f64>,
    pub v: Array1<f64>,
    pub iterations: usize,
    pub residual: f64,
    pub error_bound: f64,
    pub termination: Termination,
}

impl StationarySolution {
    /// The solution of a stationary solver that ended with `fp`, for `policy` and its `greedy`
    /// actions (no policy updates).
    pub(crate) fn from_fixed_point(beta: Beta, fp: FixedPoint, policy: Policy, greedy: Vec<usize>) -> Self {
        StationarySolution {
            beta: beta.get(),
            q: fp.q,
            v: fp.v,
            policy,
            greedy,
            iterations: fp.iterations,
            policy_updates: 0,
            residual: fp.residual,
            error_bound: fp.error_bound,
            termination: fp.termination,
        }
    }
}

/// The three sups one sweep's stop needs, in one pass over the non-terminal states:
/// `(sup |V_new − V|, sup |V_new|, the largest |r(s,a)| among the actions that contribute to
/// V_new(s))`, and whether a NaN appeared in Q or V_new (a fault, which `f64::max` would
/// otherwise drop from the sups).
///
/// The last, divided by β, is the reward part of the sweep's scale: `max|r| / β` is
/// `max |r/β|` bit for bit, since a correctly rounded division by β > 0 is monotone. With V and
/// the next-state values it bounds the magnitudes one sweep adds up, hence its rounding. Actions
/// far below the value are left out, so that a huge reward on a dominated action (−1e300, say)
/// cannot pass a residual of several nats off as rounding noise.
fn sweep_sups(mdp: &TabularMdp, q: &[f64], v: &[f64], v_new: &[f64]) -> (f64, f64, f64, bool) {
    let a_count = mdp.n_actions();
    let rewards = mdp.rewards();
    (0..mdp.n_states())
        .into_par_iter()
        .with_min_len(PAR_MIN)
        .filter(|&s| !mdp.is_terminal(s))
        .map(|s| {
            let floor = v_new[s] - CONTRIBUTING_NATS;
            let (largest, nan) = q[s * a_count..(s + 1) * a_count]
                .iter()
                .zip(rewards.row(s))
                .fold((0.0, v_new[s].is_nan()), |(m, nan): (f64, bool), (&q, r)| {
                    (if q >= floor { m.max(r.abs()) } else { m }, nan || q.is_nan())
                });
            ((v_new[s] - v[s]).abs(), v_new[s].abs(), largest, nan)
        })
        .reduce(|| (0.0, 0.0, 0.0, false), |a, b| (a.0.max(b.0), a.1.max(b.1), a.2.max(b.2), a.3 || b.3))
}

/// log-space error bound of `v_new` from the weighted contraction (γ = 1).
fn weighted_bound(cert: &Certificate, v_old: &Array1<f64>, v_new: &Array1<f64>, mdp: &TabularMdp) -> f64 {
    let lx = &cert.log_weights;
    if cert.log_rate == f64::NEG_INFINITY {
        return 0.0;
    }
    // ln(c / (1 − c))
    let log_factor = cert.log_rate - (-cert.log_rate.exp_m1()).ln();
    let nonterminal = || (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s));
    let log_step = nonterminal()
        .map(|s| v_old[s] - lx[s] + (v_new[s] - v_old[s]).exp_m1().abs().ln())
        .fold(f64::NEG_INFINITY, f64::max);
    let log_b = log_factor + log_step;
    nonterminal()
        .map(|s| {
            let eta = (lx[s] + log_b - v_new[s]).exp();
            if eta < 1.0 { -(-eta).ln_1p() } else { f64::INFINITY }
        })
        .fold(0.0, f64::max)
}

/// Actions whose Q lies more than this many nats below V(s) weigh less than e^−40 ≈ 4e-18 in
/// the soft value and nothing in the max: their rounding cannot reach V.
const CONTRIBUTING_NATS: f64 = 40.0;

/// Iterate to the fixed point of `V ← agg(B V)` from `v0` (default 0).
///
/// # Errors
/// From the finiteness certificate when γ = 1.
pub(crate) fn fixed_point(
    mdp: &TabularMdp,
    beta: Beta,
    agg: Aggregation,
    options: SolveOptions,
    v0: Option<Array1<f64>>,
) -> Result<FixedPoint> {
    let gamma = mdp.gamma();
    let cert = if gamma >= 1.0 { Some(certificate::certify(mdp, beta, &agg)?) } else { None };
    let mut v = v0.unwrap_or_else(|| Array1::zeros(mdp.n_states()));
    let mut q = vec![0.0; mdp.n_states() * mdp.n_actions()];
    let mut k = 0;
    loop {
        k += 1;
        backup_into(mdp, beta, v.as_slice().expect("contiguous"), &mut q);
        let v_new = agg.value(mdp, ArrayView2::from_shape((mdp.n_states(), mdp.n_actions()), &q).expect("S×A"));
        let (v_old, v_next) = (v.as_slice().expect("contiguous"), v_new.as_slice().expect("contiguous"));
        let (residual, v_scale, largest_reward, nan) = sweep_sups(mdp, &q, v_old, v_next);
        if nan {
            let solver = if matches!(agg, Aggregation::Max) { "value iteration" } else { "policy evaluation" };
            return Err(Error::NonFiniteResult { solver, beta: beta.get() });
        }
        let scale = v_scale.max(largest_reward / beta.get());
        if !(scale.is_finite() && residual.is_finite()) {
            return Err(Error::Overflow { beta: beta.get() });
        }
        // Each sweep is exact to a few ulps of the scale (ROUNDING_SWEEP); that rounding adds
        // up to ROUNDING_SWEEP·scale/(1 − γ) at the fixed point, so the bound includes it.
        let error_bound = match &cert {
            None => (gamma * residual + ROUNDING_SWEEP * scale) / (1.0 - gamma),
            Some(c) => residual + weighted_bound(c, &v, &v_new, mdp) + ROUNDING_SWEEP * scale,
        };
        let termination = if error_bound <= options.tol * scale {
            Some(Termination::Converged)
        } else if residual <= tolerance::ROUNDING_FLOOR * scale {
            Some(Termination::RoundingFloor)
        } else if k >= options.max_iterations {
            Some(Termination::IterationLimit)
        } else {
            None
        };
        if let Some(termination) = termination {
            let q = Array2::from_shape_vec((mdp.n_states(), mdp.n_actions()), q).expect("S×A");
            return Ok(FixedPoint { q, v: v_new, iterations: k, residual, error_bound, termination });
        }
        v = v_new;
    }
}

/// Tests added for mutants that `cargo mutants` found alive (docs/mutation-testing.md); each
/// names the mutant it kills.
#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::mdp::MdpSpec;

    /// State s0 pays `reward` and stays w.p. `stay`, else ends in the terminal s1; one action.
    fn self_loop(gamma: f64, stay: f64, reward: f64) -> TabularMdp {
        let transitions = vec![vec![vec![stay, 1.0 - stay]], vec![vec![0.0, 1.0]]];
        TabularMdp::new(MdpSpec {
            terminal: Some(vec![false, true]),
            ..MdpSpec::new("self-loop", gamma, transitions, vec![vec![reward], vec![0.0]])
        })
        .expect("a valid model")
    }

    /// `fixed_point` at β = 1 from V = 0, stopped after at most `sweeps` sweeps.
    fn iterate(mdp: &TabularMdp, sweeps: usize) -> FixedPoint {
        let options = SolveOptions { max_iterations: sweeps, ..SolveOptions::default() };
        fixed_point(mdp, Beta::new(1.0).unwrap(), Aggregation::Max, options, None).expect("finite")
    }

    /// Kills `ROUNDING_SWEEP = 4·ε` → `4 + ε`, `4 / ε` (27:33), which add ~4·scale/(1 − γ) to
    /// every bound, so that nothing converges.
    ///
    /// γ = 0.9, s0 pays 1 and stays: the sweeps are V_k = 1 + 0.9·V_{k−1} = (1 − 0.9^k)/0.1,
    /// with V* = 10 (by hand). After 5 sweeps: V₅ = 4.0951, residual 0.9⁴, and the bound
    /// γ/(1 − γ)·residual = 0.9⁵/0.1 = 5.9049 is the exact error 10 − V₅ (the rounding term
    /// 4ε·4.1/0.1 ≈ 4e-14 is below the tolerance). Run to the end, the solve converges with
    /// |V − 10| ≤ bound ≤ tol·|V|. Started at V*, the bound is the rounding term alone, which
    /// kills `ROUNDING_SWEEP * scale` → `/` (139:56; `+` and `γ * residual` → `+` (139:28)
    /// fail the first bound).
    #[test]
    fn the_discounted_bound_is_gamma_over_one_minus_gamma_times_the_residual() {
        let mdp = self_loop(0.9, 1.0, 1.0);
        let fp = iterate(&mdp, 5);
        assert_eq!((fp.iterations, fp.termination), (5, Termination::IterationLimit));
        let v5 = (1.0 - 0.9f64.powi(5)) / 0.1;
        assert!((fp.v[0] - v5).abs() <= 1e-14, "V₅ = {}, by hand {v5}", fp.v[0]);
        assert!((fp.residual - 0.9f64.powi(4)).abs() <= 1e-14, "residual {}", fp.residual);
        let bound = 0.9f64.powi(5) / 0.1;
        assert!((fp.error_bound - bound).abs() <= 1e-12 * bound, "bound {}, by hand {bound}", fp.error_bound);
        assert!(fp.error_bound >= 10.0 - fp.v[0], "unsound: {} < {}", fp.error_bound, 10.0 - fp.v[0]);

        let fp = iterate(&mdp, 1_000_000);
        assert_eq!(fp.termination, Termination::Converged);
        assert!((fp.v[0] - 10.0).abs() <= fp.error_bound, "|{} − 10| > bound {}", fp.v[0], fp.error_bound);
        assert!(fp.error_bound <= tolerance::SOLVE * 10.0, "bound {}", fp.error_bound);

        // Started at V* = 10 (1 + 0.9·10 = 10 in floats), the residual is 0 and the bound is
        // the rounding term alone, 4ε·scale/(1 − γ) with scale = max(|V|, |r|) = 10.
        let start = Some(Array1::from(vec![10.0, 0.0]));
        let fp = fixed_point(&mdp, Beta::new(1.0).unwrap(), Aggregation::Max, SolveOptions::default(), start).unwrap();
        assert_eq!((fp.iterations, fp.residual, fp.v[0]), (1, 0.0, 10.0));
        let rounding = 4.0 * f64::EPSILON * 10.0 / (1.0 - 0.9);
        assert!((fp.error_bound - rounding).abs() <= 1e-12 * rounding, "bound {}, by hand {rounding}", fp.error_bound);
    }

    /// Kills the mutants of `weighted_bound`'s formula that weights x = 1 cannot see (80:27
    /// `v_old − lx` → `+`, 85:38 `lx + log_b − v_new` → `+ v_new`, …), by calling it with a
    /// hand-made certificate x = (½, 1), c = 0.6 on two states, and checking it against the
    /// bound in linear space: with Z = e^V, the weighted step is max_s |Z_new − Z_old|/x_s =
    /// max(0.5/0.5, 0.2/1) = 1, the exp-space bound b = c/(1 − c)·1 = 1.5, and per state
    /// η_s = x_s·b/Z_new(s) = (0.3, 1.5/2.8); the log-space bound is max_s −ln(1 − η_s) =
    /// ln(2.8/1.3). With c = 0.9, b = 9 and η ≥ 1: no finite bound (∞). With c = 0, the bound
    /// is 0 (the next sweep is exact).
    #[test]
    fn the_weighted_bound_matches_its_linear_space_form() {
        let transitions = vec![vec![vec![0.0, 0.5, 0.5]], vec![vec![0.0, 0.5, 0.5]], vec![vec![0.0, 0.0, 1.0]]];
        let mdp = TabularMdp::new(MdpSpec {
            terminal: Some(vec![false, false, true]),
            ..MdpSpec::new("two states", 1.0, transitions, vec![vec![0.0]; 3])
        })
        .expect("a valid model");
        let x: [f64; 2] = [0.5, 1.0];
        let cert =
            |c: f64| Certificate { log_rate: c.ln(), log_weights: vec![x[0].ln(), x[1].ln(), f64::NEG_INFINITY] };
        let (z_old, z_new): ([f64; 3], [f64; 3]) = ([2.0, 3.0, 1.0], [2.5, 2.8, 1.0]);
        let v_old = Array1::from_iter(z_old.iter().map(|z: &f64| z.ln()));
        let v_new = Array1::from_iter(z_new.iter().map(|z: &f64| z.ln()));

        let step = (0..2).map(|s| (z_new[s] - z_old[s]).abs() / x[s]).fold(0.0, f64::max);
        let b = 0.6 / (1.0 - 0.6) * step;
        let expected = (0..2).map(|s| -(1.0 - x[s] * b / z_new[s]).ln()).fold(0.0, f64::max);
        assert!((expected - (2.8f64 / 1.3).ln()).abs() < 1e-15, "the hand value above");
        let got = weighted_bound(&cert(0.6), &v_old, &v_new, &mdp);
        assert!((got - expected).abs() <= 1e-13 * expected, "bound {got}, by hand {expected}");

        let none = weighted_bound(&cert(0.9), &v_old, &v_new, &mdp);
        assert!(none.is_infinite() && none > 0.0, "η ≥ 1: {none}");
        let exact = weighted_bound(&cert(0.0), &v_old, &v_new, &mdp);
        assert!(exact == 0.0, "c = 0: {exact}");
    }

    /// Kills the first run's `reward_scale` → 0.0, −1.0, its row slice `s * a_count` → `+`, `/`
    /// and `(s + 1) * a_count` → `(s * 1) * …`, and its filter `q >= v − 40` → `<`, `v + 40`,
    /// `v / 40` (the slice and the filter are in `sweep_sups` now, where the re-run catches
    /// them, and the function is gone): the stop is relative to
    /// max(|V|, |r/β| of the actions within 40 nats of V), so a solve whose values tend to 0
    /// still converges, relative to its rewards.
    ///
    /// γ = 0.9, no terminal state, two self-loops per state: s0 pays 0 or −100, s1 pays 0 or
    /// −30, and V* = 0. From V = 1 the sweeps are V_k = 0.9^k at both states (action 0; β = 1,
    /// max). s1's −30 action contributes (−30 ≥ V − 40), s0's −100 does not, so the scale is
    /// 30, and the bound after sweep k is 0.9·(0.1·0.9^{k−1})/0.1 + 4ε·30/0.1 = 0.9^k + 2.7e-13:
    /// it first falls below 1e-12·30 at k = 231 (0.9^230 = 2.99e-11, 0.9^231 = 2.69e-11,
    /// against 2.97e-11). The mutants see a scale of 0.9^k (no contributing reward: the
    /// relative bound never shrinks, and the values underflow after thousands of sweeps) or of
    /// 100 (the dominated reward: k = 219).
    #[test]
    fn the_stop_is_relative_to_the_contributing_rewards_when_the_values_vanish() {
        let transitions = vec![vec![vec![1.0, 0.0]; 2], vec![vec![0.0, 1.0]; 2]];
        let mdp = TabularMdp::new(MdpSpec::new(
            "vanishing values",
            0.9,
            transitions,
            vec![vec![0.0, -100.0], vec![0.0, -30.0]],
        ))
        .expect("a valid model");
        let start = Some(Array1::from(vec![1.0, 1.0]));
        let fp = fixed_point(&mdp, Beta::new(1.0).unwrap(), Aggregation::Max, SolveOptions::default(), start).unwrap();
        assert_eq!((fp.iterations, fp.termination), (231, Termination::Converged));
        let v = 0.9f64.powi(231);
        assert!(fp.v.iter().all(|&x| (x - v).abs() <= 1e-12 * v), "V = {}, by hand 0.9^231 = {v}", fp.v);
        assert!(fp.error_bound >= v && fp.error_bound <= 1e-12 * 30.0, "bound {}", fp.error_bound);
    }

    /// Kills `scale.is_finite() && residual.is_finite()` → `||` (133:32), which reports an
    /// overflow only when both are infinite. β = 1e-310 (subnormal, a valid β) and an action
    /// that pays 1 make r/β = 1e310 = +∞ in f64: Q(s0, a1) = +∞. The policy never takes a1
    /// (π = (1, 0)), so V(s0) = Q(s0, a0) = 0 and the residual is 0, but the scale (the
    /// rewards within 40 nats of V, a1's included) is +∞: an overflow, not a solution.
    #[test]
    fn an_infinite_q_of_an_action_the_policy_never_takes_is_an_overflow() {
        let transitions = vec![vec![vec![0.0, 1.0]; 2], vec![vec![0.0, 1.0]; 2]];
        let mdp = TabularMdp::new(MdpSpec {
            terminal: Some(vec![false, true]),
            ..MdpSpec::new("one step", 0.9, transitions, vec![vec![0.0, 1.0], vec![0.0; 2]])
        })
        .expect("a valid model");
        let beta = Beta::new(1e-310).expect("a positive finite β");
        assert!((1.0 / beta.get()).is_infinite());
        let pi = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, 0.5, 0.5]).unwrap();
        let result = fixed_point(&mdp, beta, Aggregation::Policy(pi.view()), SolveOptions::default(), None);
        assert!(matches!(result, Err(Error::Overflow { .. })), "{:?}", result.map(|fp| fp.v));
    }

    /// Kills `weighted_bound` → 1.0 (72:5) and the mutants of its log step
    /// `v_old − lx + ln|expm1(v_new − v_old)|` (80:27 `−` → `+`, 80:35 `+` → `*`), whose bound
    /// is off (or never small enough to converge).
    ///
    /// γ = 1, s0 stays w.p. ½ and pays ln 1.2: in exp space Z = e^V follows
    /// Z_k = 1.2·(½·Z_{k−1} + ½) = 0.6·Z_{k−1} + 0.6, so Z_k = 1.5 − 0.5·0.6^k and V* = ln 1.5
    /// (by hand; the twisted chain is M = 0.6, so the certificate is x = 1, c = 0.6). After 5
    /// sweeps the weighted bound is b = c/(1 − c)·|Z₅ − Z₄| = Z* − Z₅ in exp space, which is
    /// ln(1/(1 − b/Z₅)) in log space, and the solver reports residual + that + rounding
    /// (≈ 1e-16). Run to the end, it converges with |V − ln 1.5| ≤ bound ≤ tol·|V|.
    #[test]
    fn the_undiscounted_bound_is_the_weighted_contraction_bound_in_log_space() {
        let mdp = self_loop(1.0, 0.5, 1.2f64.ln());
        let fp = iterate(&mdp, 5);
        assert_eq!((fp.iterations, fp.termination), (5, Termination::IterationLimit));
        let z = |k: i32| 1.5 - 0.5 * 0.6f64.powi(k);
        assert!((fp.v[0] - z(5).ln()).abs() <= 1e-14, "V₅ = {}, by hand {}", fp.v[0], z(5).ln());
        let residual = (z(5) / z(4)).ln();
        assert!((fp.residual - residual).abs() <= 1e-14, "residual {}, by hand {residual}", fp.residual);
        let b = 0.6 / 0.4 * (z(5) - z(4));
        let bound = residual - (1.0 - b / z(5)).ln();
        assert!((fp.error_bound - bound).abs() <= 1e-12 * bound, "bound {}, by hand {bound}", fp.error_bound);
        assert!(fp.error_bound >= 1.5f64.ln() - fp.v[0], "unsound: {} < {}", fp.error_bound, 1.5f64.ln() - fp.v[0]);

        let fp = iterate(&mdp, 1_000_000);
        assert_eq!(fp.termination, Termination::Converged);
        let v_star = 1.5f64.ln();
        assert!((fp.v[0] - v_star).abs() <= fp.error_bound, "|{} − ln 1.5| > bound {}", fp.v[0], fp.error_bound);
        assert!(fp.error_bound <= tolerance::SOLVE * v_star, "bound {}", fp.error_bound);

        // Started at V* = ln 1.5, one sweep moves V by an ulp at most, and the bound still
        // includes the rounding term 4ε·scale (scale = ln 1.5 > ln 1.2): kills its `+` → `-`
        // (148:70), which subtracts it…
        let start = Some(Array1::from(vec![v_star, 0.0]));
        let options = SolveOptions { max_iterations: 1, ..SolveOptions::default() };
        let fp = fixed_point(&mdp, Beta::new(1.0).unwrap(), Aggregation::Max, options, start).unwrap();
        assert!((fp.v[0] - v_star).abs() <= f64::EPSILON, "one sweep from V*: {}", fp.v[0]);
        let rounding = ROUNDING_SWEEP * v_star;
        assert!(fp.error_bound >= rounding, "bound {} < the rounding term {rounding}", fp.error_bound);
        // …and not much more: the weighted part is c/(1 − c)·|ΔZ|/Z ≈ 1.5·residual, so the bound
        // is at most the rounding term + 3·residual (kills `ROUNDING_SWEEP * scale` → `/` at
        // 148:87, which adds 4ε/ln 1.5 ≈ 2.2e-15 instead of 4ε·ln 1.5 ≈ 3.6e-16).
        assert!(
            fp.error_bound <= rounding + 3.0 * fp.residual,
            "bound {} > rounding {rounding} + 3·residual {}",
            fp.error_bound,
            fp.residual
        );
    }
}
