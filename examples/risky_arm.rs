//! Fig. 1 of the paper: the risky arm.
//!
//! At S the agent either takes a sure −5 (`left`) or gambles (`right`): −10 w.p. 0.9, 0 w.p.
//! 0.1. Risk-neutrally the sure −5 is better (−9 < −5); an optimistic agent (small β) hopes
//! for the 0 and gambles. The figure shows, against β on a log axis,
//!
//! * left: the certainty equivalents β·Q*(S,left) = −5 and β·Q*(S,right), with the β range where
//!   the gamble is optimal shaded red and where the sure thing is optimal shaded green;
//! * right: the posterior dynamics q(A|S,right) and q(B|S,right) (Eq. 4): for small β the
//!   agent "believes" it will land in B, for large β the posterior returns to the real 0.9/0.1.
//!
//! The greedy action switches at exactly β* = 5/ln 9 ≈ 2.2756 (the paper reads "β > 2.5" off its
//! plot); the posterior gives A and B equal mass at β = 10/ln 9 ≈ 4.5512.
//!
//! Run: `cargo run --release --example risky_arm` (writes `figures/fig1_risky_arm.{png,svg}`).

use std::path::Path;

use riskmdp::bisection::{Side, Width, bisect_log_beta};
use riskmdp::dual::log_grid;
use riskmdp::envs::risky_arm::{self, A, B, RIGHT, S};
use riskmdp::report::table::table;
use riskmdp::sweep::{SweepPoint, sweep, sweep_point};
use riskmdp::{SolveOptions, plot};

/// Where the figures go.
const OUT_DIR: &str = "figures";
/// File names of the figure.
const PNG: &str = "fig1_risky_arm.png";
const SVG: &str = "fig1_risky_arm.svg";
/// The β range plotted, and the number of grid points.
const BETA_MIN: f64 = 0.1;
const BETA_MAX: f64 = 1000.0;
const POINTS: usize = 121;
/// The β values of the printed table.
const TABLE_BETAS: [f64; 8] = [0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 100.0];

/// What the example computes and prints.
struct Report {
    /// The exact β where the greedy action at S switches (from the sweep's bisection).
    switch_beta: f64,
    /// The β where q(A|S,right) = q(B|S,right) = 1/2 (bisection on the solver's posterior).
    equal_posterior_beta: f64,
    /// The optimum at the table's β values.
    table: Vec<SweepPoint>,
}

fn run(out_dir: &Path, points: usize) -> Result<Report, Box<dyn std::error::Error>> {
    let mdp = risky_arm::risky_arm();
    let options = SolveOptions::default();
    let result = sweep(&mdp, S, &log_grid(BETA_MIN, BETA_MAX, points)?, options)?;
    let switch_beta = match result.switches.as_slice() {
        [only] => only.beta,
        other => return Err(format!("expected one greedy switch, found {}", other.len()).into()),
    };

    // q(A|S,right) increases with β: bisect in log β for the point where it equals 1/2.
    let below_half = |beta: f64| -> riskmdp::Result<Side> {
        let q_a = sweep_point(&mdp, S, beta, options)?.posterior_dynamics[RIGHT][A];
        Ok(if q_a < 0.5 { Side::Below } else { Side::Above })
    };
    let equal_posterior_beta =
        bisect_log_beta(BETA_MIN.ln(), BETA_MAX.ln(), Width::Absolute(1e-14), below_half)?.beta();

    std::fs::create_dir_all(out_dir)?;
    for name in [PNG, SVG] {
        let path = out_dir.join(name);
        plot::beta_sweep::save(&mdp, &result, &path).map_err(|e| format!("saving {}: {e}", path.display()))?;
    }
    let table = TABLE_BETAS.iter().map(|&b| sweep_point(&mdp, S, b, options)).collect::<riskmdp::Result<Vec<_>>>()?;
    Ok(Report { switch_beta, equal_posterior_beta, table })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = run(Path::new(OUT_DIR), POINTS)?;
    println!("Fig. 1, the risky arm: wrote {OUT_DIR}/{PNG} and {OUT_DIR}/{SVG}");
    println!(
        "greedy action at S switches from `right` (gamble) to `left` (sure −5) at β* = {:.12}",
        report.switch_beta
    );
    println!("  exact: 5/ln 9 = {:.12}   (the paper's text: \"β > 2.5\")", risky_arm::switch_beta());
    println!("posterior q(A|S,right) = q(B|S,right) = 1/2 at β = {:.12}", report.equal_posterior_beta);
    println!("  exact: 10/ln 9 = {:.12}", risky_arm::equal_posterior_beta());
    println!();
    let header = ["β", "β·Q(S,left)", "β·Q(S,right)", "greedy", "q(A|S,right)", "q(B|S,right)"];
    let rows = report
        .table
        .iter()
        .map(|p| {
            let greedy = if p.greedy == RIGHT { "right" } else { "left" };
            vec![
                format!("{:.3}", p.beta),
                format!("{:.6}", p.certainty_equivalent[0]),
                format!("{:.6}", p.certainty_equivalent[1]),
                greedy.to_string(),
                format!("{:.6}", p.posterior_dynamics[RIGHT][A]),
                format!("{:.6}", p.posterior_dynamics[RIGHT][B]),
            ]
        })
        .collect();
    println!("{}", table(header.map(String::from).to_vec(), rows));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fig1_numbers_match_the_closed_forms_and_files_are_written() {
        let dir = std::env::temp_dir().join(format!("riskmdp-fig1-{}", std::process::id()));
        let report = run(&dir, 21).expect("the example runs");
        // β* = 5/ln 9 and 10/ln 9: see `riskmdp::envs::risky_arm` for the derivation.
        assert!((report.switch_beta - risky_arm::switch_beta()).abs() < 1e-10);
        assert!((report.equal_posterior_beta - risky_arm::equal_posterior_beta()).abs() < 1e-10);
        for p in &report.table {
            assert!((p.posterior_dynamics[RIGHT][A] - risky_arm::posterior_a(p.beta)).abs() < 1e-10);
            assert!((p.certainty_equivalent[0] + 5.0).abs() < 1e-10);
            assert_eq!(p.greedy == RIGHT, p.beta < risky_arm::switch_beta());
        }
        for name in [PNG, SVG] {
            let len = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{name} written");
        }
        let svg = std::fs::read_to_string(dir.join(SVG)).unwrap_or_default();
        assert!(svg.contains("<text") && svg.contains("Certainty equivalents"), "the SVG has text");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
