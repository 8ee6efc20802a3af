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

    /// Kills `lo > best` → `>=` (83:15): the state comes from the *first* set that attains
    /// the bound. C (index 0) → A w.p. ½; A stays w.p. ½ and goes to C w.p. ¼; both reward
    /// 1.5, β = 1, x = 1. Ratios by hand: A 1.5 + ln ¾, C 1.5 − ln 2. On {A} (θ ≤ 0.1, cut ≥
    /// 1.09) A keeps only its self-loop: 1.5 − ln 2. On {C, A} (θ = 1) A keeps all, C has
    /// 1.5 − ln 2: the same bound, bit for bit (½·1 in both sums), whose heaviest first state
    /// is C. The bound is the first one's, from A.
    #[test]
    fn a_bound_tied_by_a_larger_set_keeps_the_state_of_the_first() {
        let mdp = model(
            &["C", "A", "T"],
            vec![
                vec![(1.5, vec![0.0, 0.5, 0.5])],
                vec![(1.5, vec![0.25, 0.5, 0.25])],
                vec![(0.0, vec![0.0, 0.0, 1.0])],
            ],
        );
        let expected = 1.5 - std::f64::consts::LN_2;
        let (bound, state) = bound_at(&mdp, &Aggregation::Max, &[0.0, 0.0, f64::NEG_INFINITY]);
        assert!((bound - expected).abs() <= CLOSED_FORM, "bound {bound}, expected 1.5 − ln 2 = {expected}");
        assert_eq!(state, 1, "the state of {{A}}, the first set that attains the bound");
    }

    /// A one-action model with M[s][s'] = e^{r(s)}·P(s'|s) (β = 1), dense, in linear space.
    fn twisted(mdp: &TabularMdp, rows: &[(f64, Vec<f64>)]) -> Vec<Vec<f64>> {
        (0..mdp.n_states())
            .map(|s| {
                rows[s]
                    .1
                    .iter()
                    .enumerate()
                    .map(|(j, p)| if mdp.is_terminal(j) { 0.0 } else { rows[s].0.exp() * p })
                    .collect()
            })
            .collect()
    }

    fn one_action(names: &[&str], rows: &[(f64, Vec<f64>)]) -> TabularMdp {
        model(names, rows.iter().map(|r| vec![r.clone()]).collect())
    }

    /// The one-action model of `rows` (states s0…s{n−1}, each row over n + 1 next states) with
    /// the terminal state s{n} appended to `rows`.
    fn with_an_end(rows: &mut Vec<(f64, Vec<f64>)>) -> TabularMdp {
        let n = rows.len();
        let mut end = vec![0.0; n + 1];
        end[n] = 1.0;
        rows.push((0.0, end));
        let names: Vec<String> = (0..=n).map(|s| format!("s{s}")).collect();
        let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        one_action(&names, rows)
    }

    /// A cycle A → B → C → A, each step w.p. ½ (else the end), with factors e^{r}/2 = 3, 0.1,
    /// 1.5: ρ(M) = (3·0.1·1.5)^{1/3} = 0.45^{1/3} ≈ 0.766 (a cycle's M³ = abc·I).
    ///
    /// The certificate must keep its promise `M x ≤ e^{log_rate}·x` (checked here in linear
    /// space from the hand-built M), with ln ρ ≤ log_rate < 0 (Collatz–Wielandt: no x gives a
    /// rate below ρ). A soundness check beside the kills; `hv − w` → `+` (105:91) is killed
    /// by `a_growing_cycle_is_reported_with_the_bound_of_the_second_round`.
    #[test]
    fn a_finite_cycle_gets_a_certificate_that_keeps_its_promise() {
        let l2 = std::f64::consts::LN_2;
        let rows = vec![
            ((6.0f64).ln(), vec![0.0, 0.5, 0.0, 0.5]),
            ((0.2f64).ln(), vec![0.0, 0.0, 0.5, 0.5]),
            (3.0f64.ln(), vec![0.5, 0.0, 0.0, 0.5]),
            (0.0, vec![0.0, 0.0, 0.0, 1.0]),
        ];
        assert!((rows[0].0 - l2 - 3.0f64.ln()).abs() < 1e-15);
        let mdp = one_action(&["A", "B", "C", "T"], &rows);
        let m = twisted(&mdp, &rows);
        let cert = certify(&mdp, Beta::new(1.0).unwrap(), &Aggregation::Max).expect("ρ < 1");
        let log_rho = 0.45f64.ln() / 3.0;
        assert!(cert.log_rate < 0.0 && cert.log_rate >= log_rho - CLOSED_FORM, "log_rate {}", cert.log_rate);
        let x: Vec<f64> = cert.log_weights.iter().map(|w| w.exp()).collect();
        for s in 0..3 {
            let mx: f64 = (0..4).map(|j| m[s][j] * x[j]).sum();
            assert!(
                mx <= cert.log_rate.exp() * x[s] * (1.0 + CLOSED_FORM),
                "state {s}: (Mx) = {mx} > c·x = {}",
                cert.log_rate.exp() * x[s]
            );
        }
    }

    /// A chain of 64 states, each staying w.p. ½ and moving on w.p. ½ (the last to the end),
    /// rewards 0: M = ½·I + ½·shift is triangular, so ρ(M) = ½. From x = 1 the power iteration
    /// on I + M changes x only from the end of the chain, one state at a time: the first
    /// state's ratio stays exactly 1 (log 0) until the change reaches it, so the certificate
    /// takes many rounds (~80 here; a simulation of the iteration, not this test, counted them).
    ///
    /// Kills the renormalisation `*x -= top` → `+=` (128:16): the mutant's log weights double
    /// every round (w ← 2w + O(1)), lose their precision and overflow to +∞ in round ~1024,
    /// where every ratio is NaN and the certificate claims log_rate = −∞ (M = 0). The code
    /// keeps max w = 0 and certifies with ln ½ ≤ log_rate < 0 and `M x ≤ e^{log_rate}·x`
    /// (checked in linear space from the hand-built M). The mutant also fails
    /// `a_slowly_revealed_growth_is_still_reported` (found when confirming this kill by hand),
    /// where its overflowed weights certify a value that is infinite; this test is the
    /// finite-side check.
    #[test]
    fn a_long_chain_needs_many_rounds_and_still_gets_a_sound_certificate() {
        let n = 64;
        let mut rows: Vec<(f64, Vec<f64>)> = (0..n)
            .map(|s| {
                let mut p = vec![0.0; n + 1];
                p[s] = 0.5;
                p[s + 1] = 0.5;
                (0.0, p)
            })
            .collect();
        let mdp = with_an_end(&mut rows);
        let m = twisted(&mdp, &rows);
        let cert = certify(&mdp, Beta::new(1.0).unwrap(), &Aggregation::Max).expect("ρ = ½ < 1");
        assert!(
            cert.log_rate < 0.0 && cert.log_rate >= 0.5f64.ln() - CLOSED_FORM,
            "log_rate {} outside [ln ½, 0)",
            cert.log_rate
        );
        assert!(cert.log_weights[..n].iter().all(|w| w.is_finite()), "{:?}", cert.log_weights);
        let x: Vec<f64> = cert.log_weights.iter().map(|w| w.exp()).collect();
        for s in 0..n {
            let mx: f64 = (0..=n).map(|j| m[s][j] * x[j]).sum();
            assert!(mx <= cert.log_rate.exp() * x[s] * (1.0 + CLOSED_FORM), "state {s}: (Mx) = {mx} > c·x");
        }
    }

    /// A 2-cycle A ⇄ B (w.p. ½ each) with factors a = 20, b = 0.2: ρ = √(ab) = 2 > 1.
    ///
    /// By hand: round 0 (x = 1) gives the ratios ln 20, ln 0.2 and the bound ln 0.2 < 0 (the
    /// set {A} alone gives −∞); round 1 has x = 1 + M·1 = (21, 1.2), the ratios
    /// a·1.2/21 = 8/7 and b·21/1.2 = 3.5 (hi = ln 3.5 > 1, so the bound is checked), the bound
    /// ln(8/7) > 0 on {A, B}, whose heaviest state is A. So `InfiniteValue` at A with
    /// ln(8/7) ≤ ln 2. Kills the cadence `hi > 1` → `==`, `<` (110:33), which skip round 1 and
    /// report a later, larger bound, and `hv − w` → `+` (105:91), whose round-1 hi is ln(8/7).
    #[test]
    fn a_growing_cycle_is_reported_with_the_bound_of_the_second_round() {
        let rows = vec![
            ((40.0f64).ln(), vec![0.0, 0.5, 0.5]),
            ((0.4f64).ln(), vec![0.5, 0.0, 0.5]),
            (0.0, vec![0.0, 0.0, 1.0]),
        ];
        let mdp = one_action(&["A", "B", "T"], &rows);
        match certify(&mdp, Beta::new(1.0).unwrap(), &Aggregation::Max) {
            Err(Error::InfiniteValue { state, log_spectral_radius_lower_bound: lo, .. }) => {
                let expected = (8.0f64 / 7.0).ln();
                assert!((lo - expected).abs() <= CLOSED_FORM, "bound {lo}, expected ln(8/7) = {expected}");
                assert!(lo <= std::f64::consts::LN_2);
                assert_eq!(state, "A");
            }
            other => panic!("expected InfiniteValue, got {other:?}"),
        }
    }

    /// A 2-cycle with factors a = 2.5, b = 1.2 (ρ = √3 > 1): from x = 1 the bound is
    /// min(ln 2.5, ln 1.2) = ln 1.2 > 0 at once, with hi = ln 2.5 ≤ 1. Kills the cadence
    /// `round % 8 == 0` → `!=` (110:22), which skips round 0 and reports round 1's
    /// min(2.5·2.2/3.5, 1.2·3.5/2.2) = ln(11/7).
    #[test]
    fn a_cycle_growing_from_the_start_is_reported_at_round_zero() {
        let rows = vec![
            ((5.0f64).ln(), vec![0.0, 0.5, 0.5]),
            ((2.4f64).ln(), vec![0.5, 0.0, 0.5]),
            (0.0, vec![0.0, 0.0, 1.0]),
        ];
        let mdp = one_action(&["A", "B", "T"], &rows);
        match certify(&mdp, Beta::new(1.0).unwrap(), &Aggregation::Max) {
            Err(Error::InfiniteValue { state, log_spectral_radius_lower_bound: lo, .. }) => {
                assert!((lo - 1.2f64.ln()).abs() <= CLOSED_FORM, "bound {lo}, expected ln 1.2");
                assert_eq!(state, "A");
            }
            other => panic!("expected InfiniteValue, got {other:?}"),
        }
    }

    /// A 40-cycle, each step w.p. ½, with factors 0.5 at the first state and 1.05 elsewhere:
    /// ln ρ = (ln 0.5 + 39·ln 1.05)/40 ≈ 0.030 > 0, every ratio ≤ ln 1.05 < 1, and the deficit
    /// of the first state takes power iteration many rounds to spread. Kills `round % 8` →
    /// `round / 8` (110:18), which checks the lower bound only in rounds 0..7 here and so ends
    /// `UndecidedFiniteness`; the code reports ρ > 1 with a sound bound 0 < lo ≤ ln ρ.
    #[test]
    fn a_slowly_revealed_growth_is_still_reported() {
        let n = 40;
        let mut rows: Vec<(f64, Vec<f64>)> = (0..n)
            .map(|s| {
                let mut p = vec![0.0; n + 1];
                p[(s + 1) % n] = 0.5;
                p[n] = 0.5;
                ((if s == 0 { 1.0 } else { 2.1f64 }).ln(), p)
            })
            .collect();
        let mdp = with_an_end(&mut rows);
        let log_rho = (0.5f64.ln() + 39.0 * 1.05f64.ln()) / 40.0;
        match certify(&mdp, Beta::new(1.0).unwrap(), &Aggregation::Max) {
            Err(Error::InfiniteValue { log_spectral_radius_lower_bound: lo, .. }) => {
                assert!(lo > 0.0 && lo <= log_rho + CLOSED_FORM, "bound {lo}, ln ρ = {log_rho}");
            }
            other => panic!("expected InfiniteValue, got {other:?}"),
        }
    }
}
