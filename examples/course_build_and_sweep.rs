//! Course example 1: build your own MDP in code, solve it at a few β, and find the exact β
//! where the optimal choice changes.
//!
//! The model: from `home` to the `market`, either over the `bridge` (a sure toll of 2) or
//! through the `ford` (free, but w.p. 0.2 the river sweeps you away: −20). On average the ford
//! costs 0.2·20 = 4 > 2, so a risk-neutral traveller takes the bridge; an optimist (small β)
//! hopes to stay dry and takes the ford.
//!
//! What you should see:
//! * β·Q(home, bridge) = −2 at every β (no risk), while β·Q(home, ford) falls from ≈ 0 (small
//!   β: "I will stay dry") to the expected −4 (large β);
//! * the posterior dynamics (Eq. 4) of the ford put less than the true 0.2 on `swept` when β is
//!   small — the optimist's belief — and return to 0.2 as β grows;
//! * one switch from `ford` to `bridge`, at the β* that solves
//!   `−2/β = log(0.8 + 0.2·e^{−20/β})` (Eq. 15 with V(dry) = 0, V(swept) = −20/β).
//!
//! Try: make the river safer (`P_SWEPT = 0.1`) or the toll higher, and watch β* move.
//!
//! Run: `cargo run --release --example course_build_and_sweep`.

use riskmdp::dual::log_grid;
use riskmdp::report::table::table;
use riskmdp::sweep::{SweepPoint, sweep, sweep_point};
use riskmdp::{MdpSpec, SolveOptions, TabularMdp};

/// States, in the order of the arrays below.
const HOME: usize = 0;
const DRY: usize = 1;
const SWEPT: usize = 2;
const MARKET: usize = 3;
/// Actions.
const BRIDGE: usize = 0;
const FORD: usize = 1;
/// The numbers of the story.
const TOLL: f64 = 2.0;
const P_SWEPT: f64 = 0.2;
const SWEPT_REWARD: f64 = -20.0;
/// The β of the printed table, and the sweep's grid.
const TABLE_BETAS: [f64; 6] = [0.5, 1.0, 2.0, 5.0, 10.0, 50.0];
const GRID: (f64, f64, usize) = (0.1, 100.0, 31);

/// The river crossing as an [`MdpSpec`]: the same fields as a JSON model file.
fn river() -> riskmdp::Result<TabularMdp> {
    // P[s][a][s']: one row per (state, action). `dry`, `swept` and `market` have both actions
    // doing the same thing (every state needs every action).
    let mut to_market = vec![0.0; 4];
    to_market[MARKET] = 1.0;
    let mut ford = vec![0.0; 4];
    (ford[DRY], ford[SWEPT]) = (1.0 - P_SWEPT, P_SWEPT);
    TabularMdp::new(MdpSpec {
        name: "river-crossing".into(),
        state_names: Some(["home", "dry", "swept", "market"].map(String::from).to_vec()),
        action_names: Some(vec!["bridge".into(), "ford".into()]),
        gamma: 1.0,
        horizon: None,
        initial: None, // start in state 0, `home`
        terminal: Some((0..4).map(|s| s == MARKET).collect()),
        transitions: vec![
            vec![to_market.clone(), ford],
            vec![to_market.clone(), to_market.clone()],
            vec![to_market.clone(), to_market.clone()],
            vec![to_market.clone(), to_market],
        ]
        .into(),
        // r[s][a]: the toll is paid on the bridge, the loss when swept away.
        rewards: vec![vec![-TOLL, 0.0], vec![0.0, 0.0], vec![SWEPT_REWARD, SWEPT_REWARD], vec![0.0, 0.0]],
        grid: None,
    })
}

/// `Q(home, bridge) − Q(home, ford)` in closed form (Eq. 15): zero at the switch.
fn indifference(beta: f64) -> f64 {
    -TOLL / beta - ((1.0 - P_SWEPT) + P_SWEPT * (SWEPT_REWARD / beta).exp()).ln()
}

/// What the example computes.
struct Report {
    /// The optimum at each β of the table, seen from `home`.
    table: Vec<SweepPoint>,
    /// The exact β where the greedy action at `home` switches.
    switch_beta: f64,
}

fn run(table_betas: &[f64], (lo, hi, points): (f64, f64, usize)) -> Result<Report, Box<dyn std::error::Error>> {
    let mdp = river()?;
    let options = SolveOptions::default();
    // One solve per β: Q*, β·Q*, the greedy action and the posterior dynamics at `home`.
    let table =
        table_betas.iter().map(|&b| sweep_point(&mdp, HOME, b, options)).collect::<riskmdp::Result<Vec<_>>>()?;
    // A sweep over a log grid finds every change of the greedy action and bisects it exactly.
    let result = sweep(&mdp, HOME, &log_grid(lo, hi, points)?, options)?;
    let switch_beta = match result.switches.as_slice() {
        [only] if (only.from, only.to) == (FORD, BRIDGE) => only.beta,
        other => return Err(format!("expected one switch from ford to bridge, found {other:?}").into()),
    };
    Ok(Report { table, switch_beta })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = run(&TABLE_BETAS, GRID)?;
    println!("River crossing: bridge (toll {TOLL}) or ford (swept away w.p. {P_SWEPT}: {SWEPT_REWARD})");
    let rows = report
        .table
        .iter()
        .map(|p| {
            vec![
                p.beta.to_string(),
                format!("{:.6}", p.certainty_equivalent[BRIDGE]),
                format!("{:.6}", p.certainty_equivalent[FORD]),
                (if p.greedy == FORD { "ford" } else { "bridge" }).to_string(),
                format!("{:.6}", p.posterior_dynamics[FORD][SWEPT]),
            ]
        })
        .collect();
    let header = ["β", "β·Q(bridge)", "β·Q(ford)", "greedy", "q(swept|ford)"];
    println!("{}", table(header.map(String::from).to_vec(), rows));
    println!("(the true P(swept|ford) is {P_SWEPT}; the expected cost of the ford is {})", P_SWEPT * -SWEPT_REWARD);
    println!();
    println!("the greedy action at home switches from `ford` to `bridge` at β* = {:.12}", report.switch_beta);
    println!(
        "check: Q(bridge) − Q(ford) at β* from the closed form −2/β − log(0.8 + 0.2·e^(−20/β)) = {:.1e}",
        indifference(report.switch_beta)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_solves_the_indifference_equation_and_the_posterior_is_optimistic() {
        let report = run(&[0.5, 50.0], (0.1, 100.0, 7)).expect("the example runs");
        // The closed form changes sign across β* (ford better below, bridge above); at β* it
        // vanishes to rounding.
        assert!(indifference(report.switch_beta).abs() < 1e-12);
        assert!(indifference(0.9 * report.switch_beta) < 0.0 && indifference(1.1 * report.switch_beta) > 0.0);
        let (small, large) = (&report.table[0], &report.table[1]);
        assert_eq!((small.greedy, large.greedy), (FORD, BRIDGE));
        assert!((small.certainty_equivalent[BRIDGE] + TOLL).abs() < 1e-12);
        // Optimism: almost nothing on `swept` at β = 0.5, most of the true 0.2 back at β = 50.
        assert!(small.posterior_dynamics[FORD][SWEPT] < 1e-6);
        assert!((0.1..P_SWEPT).contains(&large.posterior_dynamics[FORD][SWEPT]));
    }
}
