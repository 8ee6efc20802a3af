//! γ = 1 without a horizon: is the risk-seeking value finite?
//!
//! In exp space the evaluation equation is linear, `Z = M Z + b` with `Z = exp V` on the
//! non-terminal states and the *twisted chain* `M[s][s'] = Σ_a π(a|s)·exp(r(s,a)/β)·P(s'|s,a)`
//! (max over a for the optimum). The value is finite iff the spectral radius ρ(M) < 1.
//!
//! We certify either side with Collatz–Wielandt bounds, computed in log space so that
//! `exp(r/β)` never overflows:
//! * upper: for any x > 0, ρ(M_π) ≤ max_s (max_a M_a x)_s / x_s for every policy π;
//! * lower: for any x ≥ 0, x ≠ 0, ρ(M_π) ≥ min_{s : x_s > 0} (M_π x)_s / x_s.
//!
//! x comes from power iteration on I + M (aperiodic, same Perron vector). The upper-bound x
//! also makes `Z ↦ M Z + b` a contraction with modulus c = bound in the x-weighted sup norm,
//! which gives the value iteration its certified error bound.

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::logsumexp::log_add_exp;
use crate::mdp::TabularMdp;
use crate::operators::{Aggregation, backup};
use crate::risk::Beta;

/// A certified finiteness proof: `max_a M_a x ≤ exp(log_rate)·x` with `x = exp(log_weights)`.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    /// log of the contraction modulus c < 1 (−∞ if M = 0).
    pub log_rate: f64,
    /// log x, finite on non-terminal states.
    pub log_weights: Vec<f64>,
}

/// `h(s,a) = r(s,a)/β + log Σ_{s'} P(s'|s,a)·exp w(s')` with w = −∞ where x = 0: the backup
/// of Eq. (15) at γ = 1 (its kernel skips −∞ terms; terminal rows are never read).
fn homogeneous(mdp: &TabularMdp, beta: Beta, w: &[f64]) -> Array2<f64> {
    debug_assert!(mdp.gamma() >= 1.0, "the certificate is for γ = 1");
    backup(mdp, beta, ndarray::ArrayView1::from(w))
}

fn aggregate_row(agg: &Aggregation, s: usize, h_row: &[f64]) -> f64 {
    agg.state_value(s, h_row)
}

/// Best Collatz–Wielandt lower bound on log ρ(M_π) from x restricted to the states whose
/// growth ratio is near the top; π is the given policy, or the greedy one for the optimum.
///
/// Ties are broken to the lowest index: the greedy action is the first maximiser of `h`, and
/// the state returned is the first of the heaviest states (largest w) of the first set that
/// attains the bound.
fn lower_bound(
    mdp: &TabularMdp,
    beta: Beta,
    agg: &Aggregation,
    w: &[f64],
    ratio: &[f64],
    h: &Array2<f64>,
) -> (f64, usize) {
    let s_count = mdp.n_states();
    let hi = ratio.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let greedy: Vec<usize> = (0..s_count)
        .map(|s| {
            let row = h.row(s);
            (0..row.len()).fold(0, |best, a| if row[a] > row[best] { a } else { best })
        })
        .collect();
    let mut best = (f64::NEG_INFINITY, 0);
    for theta in [0.0, 1e-9, 1e-6, 1e-3, 1e-2, 0.1, 1.0, 10.0, f64::INFINITY] {
        let cut = hi - theta * hi.abs().max(1.0);
        let inside: Vec<bool> = (0..s_count).map(|s| !mdp.is_terminal(s) && ratio[s] >= cut).collect();
        if !inside.iter().any(|&x| x) {
            continue;
        }
        let w_c: Vec<f64> = (0..s_count).map(|s| if inside[s] { w[s] } else { f64::NEG_INFINITY }).collect();
        let h_c = homogeneous(mdp, beta, &w_c);
        let mut lo = f64::INFINITY;
        let mut heaviest = (f64::NEG_INFINITY, 0);
        for s in (0..s_count).filter(|&s| inside[s]) {
            let value = match agg {
                Aggregation::Policy(_) => aggregate_row(agg, s, &h_c.row(s).to_vec()),
                Aggregation::Max => h_c[[s, greedy[s]]],
            };
            lo = lo.min(value - w[s]);
            if w[s] > heaviest.0 {
                heaviest = (w[s], s);
            }
        }
        if lo > best.0 {
            best = (lo, heaviest.1);
        }
    }
    best
}

/// Decide whether the value under `agg` (a policy, or the optimum) is finite.
///
/// # Errors
/// [`Error::InfiniteValue`] if ρ(M) > 1 is certified; [`Error::UndecidedFiniteness`] if
/// neither side is certified within the iteration budget (ρ within ~1e-12 of 1).
pub(crate) fn certify(mdp: &TabularMdp, beta: Beta, agg: &Aggregation) -> Result<Certificate> {
    const MARGIN: f64 = 1e-12;
    const MAX_ROUNDS: usize = 20_000;
    let s_count = mdp.n_states();
    let mut w: Vec<f64> = (0..s_count).map(|s| if mdp.is_terminal(s) { f64::NEG_INFINITY } else { 0.0 }).collect();
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for round in 0..MAX_ROUNDS {
        let h = homogeneous(mdp, beta, &w);
        let hv: Vec<f64> = (0..s_count).map(|s| aggregate_row(agg, s, &h.row(s).to_vec())).collect();
        let ratio: Vec<f64> =
            (0..s_count).map(|s| if mdp.is_terminal(s) { f64::NEG_INFINITY } else { hv[s] - w[s] }).collect();
        hi = ratio.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi < -MARGIN {
            return Ok(Certificate { log_rate: hi, log_weights: w });
        }
        if round % 8 == 0 || hi > 1.0 {
            let (bound, state) = lower_bound(mdp, beta, agg, &w, &ratio, &h);
            lo = lo.max(bound);
            if lo > MARGIN {
                return Err(Error::InfiniteValue {
                    beta: beta.get(),
                    state: mdp.state_names()[state].clone(),
                    log_spectral_radius_lower_bound: lo,
                });
            }
        }
        for s in 0..s_count {
            if !mdp.is_terminal(s) {
                w[s] = log_add_exp(w[s], hv[s]);
            }
        }
        let top = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for x in &mut w {
            *x -= top;
        }
    }
    Err(Error::UndecidedFiniteness { beta: beta.get(), lower: lo.exp(), upper: hi.exp() })
}

#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::mdp::MdpSpec;
    use crate::tolerance::CLOSED_FORM;

    /// γ = 1, β = 1, the last state terminal; `rows[s][a]` = (reward, transition row).
    fn model(names: &[&str], rows: Vec<Vec<(f64, Vec<f64>)>>) -> TabularMdp {
        let s_count = rows.len();
        let mut terminal = vec![false; s_count];
        terminal[s_count - 1] = true;
        TabularMdp::new(MdpSpec {
            name: "certificate".into(),
            state_names: Some(names.iter().map(|s| s.to_string()).collect()),
            action_names: None,
            gamma: 1.0,
            horizon: None,
            initial: None,
            terminal: Some(terminal),
            transitions: rows
                .iter()
                .map(|r| r.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>())
                .collect::<Vec<_>>()
                .into(),
            rewards: rows.iter().map(|r| r.iter().map(|(x, _)| *x).collect()).collect(),
            grid: None,
        })
        .expect("a terminating model")
    }

    /// What `certify` hands `lower_bound`: h = B(w) and ratio = agg(h) − w off the terminals.
    fn bound_at(mdp: &TabularMdp, agg: &Aggregation, w: &[f64]) -> (f64, usize) {
        let beta = Beta::new(1.0).unwrap();
        let h = homogeneous(mdp, beta, w);
        let ratio: Vec<f64> =
            (0..mdp.n_states())
                .map(|s| {
                    if mdp.is_terminal(s) {
                        f64::NEG_INFINITY
                    } else {
                        aggregate_row(agg, s, &h.row(s).to_vec()) - w[s]
                    }
                })
                .collect();
        lower_bound(mdp, beta, agg, w, &ratio, &h)
    }

    /// Kills the cut `hi − θ·max(|hi|, 1)` → `hi + θ·…`, `hi / (θ·…)`, `hi − (θ + …)`,
    /// `hi − θ / …` (64:22, 64:30) and `!terminal && ratio ≥ cut` → `||` (65:74).
    ///
    /// A 2-cycle A ⇄ B (each step w.p. ½, rewards ln 2 + 5 and ln 2 + 4.7) and C → A w.p. ½
    /// (reward ln 2 + 4), β = 1, x = 1: the growth ratios (M·1)_s are e⁵, e^4.7, e⁴ (by hand:
    /// e^{r}·½). Collatz–Wielandt on a set C of states: min_{s∈C} (M x_C)_s / x_s.
    /// * {A}: A's only successor B is outside, so (M x_C)_A = 0: log bound −∞.
    /// * {A, B}: both keep their successor: min(5, 4.7) = 4.7 — the best; the code reaches
    ///   it at θ = 0.1 (cut 5 − 0.5 = 4.5 keeps B at 4.7 and drops C at 4).
    /// * {A, B, C}: min(5, 4.7, 4) = 4.
    ///
    /// Sound: log ρ = (5 + 4.7)/2 = 4.85 (the 2-cycle's ρ = √(ab)) ≥ 4.7. The mutants only try
    /// {A} (or nothing) and the full set (cut offsets 0.02…2, or always the full set): 4 or −∞.
    /// Also kills `w[s] > heaviest` → `>=` (79:21): A and B weigh the same, and the first is A.
    #[test]
    fn the_best_bound_comes_from_the_cycle_without_its_upstream_state() {
        let l2 = std::f64::consts::LN_2;
        let mdp = model(
            &["A", "B", "C", "T"],
            vec![
                vec![(l2 + 5.0, vec![0.0, 0.5, 0.0, 0.5])],
                vec![(l2 + 4.7, vec![0.5, 0.0, 0.0, 0.5])],
                vec![(l2 + 4.0, vec![0.5, 0.0, 0.0, 0.5])],
                vec![(0.0, vec![0.0, 0.0, 0.0, 1.0])],
            ],
        );
        let w = [0.0, 0.0, 0.0, f64::NEG_INFINITY];
        for agg in [Aggregation::Max, Aggregation::Policy(ndarray::ArrayView2::from_shape((4, 1), &[1.0; 4]).unwrap())]
        {
            let (bound, state) = bound_at(&mdp, &agg, &w);
            assert!((bound - 4.7).abs() <= CLOSED_FORM * 4.7, "bound {bound}, expected 4.7 from the set {{A, B}}");
            assert!(bound <= 4.85, "unsound: {bound} > log ρ = 4.85");
            assert_eq!(state, 0, "the heaviest of {{A, B}} (both weigh 1) is the first, A");
        }
    }

    /// Kills `value − w[s]` → `+` (78:31) and the heaviest-state update `w[s] > heaviest` →
    /// `==`, `<` (79:21, which leave the state at 0).
    ///
    /// C → A w.p. ½ (reward 0) and A stays w.p. ½ (reward 1.5), β = 1, with x = (1, e⁻¹), i.e.
    /// w = (0, −1). A's ratio is its self-loop, e^{1.5}/2 whatever x_A: log 1.5 − ln 2 ≈ 0.807 =
    /// log ρ exactly (C is on no cycle). C's ratio is ½·x_A/x_C: −ln 2 − 1. The set {A} gives
    /// 1.5 − ln 2; the sets with C give −1 − ln 2. So the bound is 1.5 − ln 2 from {A}, whose
    /// heaviest (only) state is A = 1. `+ w` gives (1.5 − ln 2 − 1) − 1 instead.
    #[test]
    fn a_self_loop_behind_a_lighter_weighted_entry_gives_its_exact_log_rate() {
        let mdp = model(
            &["C", "A", "T"],
            vec![vec![(0.0, vec![0.0, 0.5, 0.5])], vec![(1.5, vec![0.0, 0.5, 0.5])], vec![(0.0, vec![0.0, 0.0, 1.0])]],
        );
        let expected = 1.5 - std::f64::consts::LN_2;
        let (bound, state) = bound_at(&mdp, &Aggregation::Max, &[0.0, -1.0, f64::NEG_INFINITY]);
        assert!((bound - expected).abs() <= CLOSED_FORM, "bound {bound}, expected 1.5 − ln 2 = {expected}");
        assert_eq!(state, 1, "A carries the bound");
    }

    /// Kills the greedy choice `row[a] > row[best]` → `==`, `>=` (59:56): for the optimum the
    /// lower bound uses π = the first action maximising h = B(w) (ties to the lowest index).
    ///
    /// C → A w.p. ½ (reward 0); A's action 0 stays w.p. ½ and action 1 goes to C w.p. ½, both
    /// with reward 1.5, so with x = 1 both give h = 1.5 − ln 2 bit for bit (the same row up to
    /// the order of its zeros). Action 0 is greedy: on {A} it keeps its successor, so the bound
    /// is 1.5 − ln 2 = log ρ(M_{a₀}) ≤ log ρ(M_max) (A's self-loop). The mutants take action 1,
    /// whose successor C lies outside {A} (−∞), and then the best set is {C, A} with C's ratio
    /// −ln 2.
    #[test]
    fn the_greedy_action_of_a_tie_is_the_first() {
        let mdp = model(
            &["C", "A", "T"],
            vec![
                vec![(0.0, vec![0.0, 0.5, 0.5]), (0.0, vec![0.0, 0.5, 0.5])],
                vec![(1.5, vec![0.0, 0.5, 0.5]), (1.5, vec![0.5, 0.0, 0.5])],
                vec![(0.0, vec![0.0, 0.0, 1.0]); 2],
            ],
        );
        let expected = 1.5 - std::f64::consts::LN_2;
        let (bound, state) = bound_at(&mdp, &Aggregation::Max, &[0.0, 0.0, f64::NEG_INFINITY]);
        assert!((bound - expected).abs() <= CLOSED_FORM, "bound {bound}, expected 1.5 − ln 2 = {expected}");
        assert_eq!(state, 1);
    }
}
