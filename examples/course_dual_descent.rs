//! Course example 3: dual descent on β (Eq. 9) — converging to β*(ε), and two ways it fails.
//!
//! β-VMBPO learns β by gradient steps on the dual `J(β) = β·ε − β·KL_β` (Eq. 9):
//!
//! ```text
//! β ← clamp( β − η·(ε − KL_β), β_min, 1e7 )
//! ```
//!
//! where KL_β is the mean KL between the posterior and the true dynamics of the optimum at β
//! (Eq. 8). Here KL_β is exact, on the risky arm, and `kl_roots` finds every β with KL_β = ε
//! by bisection, so we can watch descent against the answer. Three runs side by side:
//!
//! 1. uniform weights, η = 20: KL_β falls smoothly with β, and β settles on the root β*(ε);
//! 2. the same with η = 100: near the root a step moves β by η·|dKL_β/dβ| ≈ 2.2 times its
//!    distance to the root, so every step overshoots (a ratio above 2 cannot converge), and β
//!    ends up jumping between two values either side of β*(ε);
//! 3. occupancy weights (the paper's): the KL is that of the greedy policy's path, which
//!    jumps from ≈ 0.88 to 0 where the greedy action switches (β = 5/ln 9 ≈ 2.2756). For
//!    ε = 0.05 there is no root — KL_β = ε is never met — so β cycles around the jump forever.
//!
//! What you should see: run 1 ends at β*(ε) to many digits; runs 2 and 3 still move in their
//! last steps, and `kl_roots` reports a root for run 1's setting and only a jump for run 3's.
//!
//! Run: `cargo run --release --example course_dual_descent`.

use riskmdp::dual::{DualDescent, DualStep, RootScan, dual_descent, kl_roots};
use riskmdp::envs::risky_arm;
use riskmdp::utility::KlWeights;
use riskmdp::{SolveOptions, TabularMdp};

/// The KL budget ε (nats).
const EPSILON: f64 = 0.05;
/// Start, lower clamp and grid of the root scan.
const BETA0: f64 = 1.0;
const BETA_MIN: f64 = 1e-3;
const ROOT_GRID: (f64, f64, usize) = (1e-3, 1e7, 121);
/// The step sizes of the three runs.
const LR_GOOD: f64 = 20.0;
const LR_TOO_LARGE: f64 = 100.0;
const LR_JUMP: f64 = 1.0;
/// Steps of each run.
const STEPS: usize = 40;

/// What the example computes.
struct Report {
    /// The roots of KL_β = ε with uniform weights (runs 1 and 2).
    uniform: RootScan,
    /// The roots (none) and jumps of KL_β = ε with occupancy weights (run 3).
    occupancy: RootScan,
    /// The three trajectories, `steps + 1` points each.
    good: Vec<DualStep>,
    too_large: Vec<DualStep>,
    jump: Vec<DualStep>,
}

fn descend(mdp: &TabularMdp, lr: f64, weights: KlWeights, steps: usize) -> riskmdp::Result<Vec<DualStep>> {
    let settings = DualDescent { epsilon: EPSILON, beta0: BETA0, lr, steps, beta_min: BETA_MIN, weights };
    dual_descent(mdp, settings, SolveOptions::default())
}

fn run(steps: usize) -> Result<Report, Box<dyn std::error::Error>> {
    let mdp = risky_arm::risky_arm();
    let (lo, hi, points) = ROOT_GRID;
    let scan = |weights| kl_roots(&mdp, EPSILON, (lo, hi), points, weights, SolveOptions::default());
    Ok(Report {
        uniform: scan(KlWeights::Uniform)?,
        occupancy: scan(KlWeights::Occupancy)?,
        good: descend(&mdp, LR_GOOD, KlWeights::Uniform, steps)?,
        too_large: descend(&mdp, LR_TOO_LARGE, KlWeights::Uniform, steps)?,
        jump: descend(&mdp, LR_JUMP, KlWeights::Occupancy, steps)?,
    })
}

/// The spread (max − min) of β over the last `n` steps: 0 once descent has settled.
fn last_spread(path: &[DualStep], n: usize) -> f64 {
    let tail = &path[path.len().saturating_sub(n)..];
    let (lo, hi) = tail.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.beta), hi.max(p.beta)));
    hi - lo
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = run(STEPS)?;
    println!("Dual descent β ← β − η·(ε − KL_β) on the risky arm, ε = {EPSILON}, from β = {BETA0}");
    println!(
        "uniform weights:   roots of KL_β = ε: {:?} (stable: {:?})",
        report.uniform.roots, report.uniform.stable_roots
    );
    let jumps: Vec<f64> = report.occupancy.jumps.iter().map(|c| c.beta).collect();
    println!("occupancy weights: roots {:?}, KL_β jumps across ε at β = {jumps:?}", report.occupancy.roots);
    println!("                   (the greedy switch 5/ln 9 = {:.10})", risky_arm::switch_beta());
    println!();
    println!(
        "{:>4}  {:>22}  {:>22}  {:>22}",
        "step",
        format!("1: η = {LR_GOOD}, uniform"),
        format!("2: η = {LR_TOO_LARGE}, uniform"),
        format!("3: η = {LR_JUMP}, occupancy")
    );
    println!("{:>4}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}", "", "β", "KL_β", "β", "KL_β", "β", "KL_β");
    for (k, ((a, b), c)) in report.good.iter().zip(&report.too_large).zip(&report.jump).enumerate() {
        println!(
            "{k:>4}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}  {:>10.6}",
            a.beta, a.kl, b.beta, b.kl, c.beta, c.kl
        );
    }
    println!();
    for (name, path) in [("1", &report.good), ("2", &report.too_large), ("3", &report.jump)] {
        println!("run {name}: spread of β over the last 10 steps = {:.3e}", last_spread(path, 10));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descent_converges_to_the_root_and_fails_with_a_large_step_or_across_a_jump() {
        let report = run(STEPS).expect("the example runs");
        let [root] = report.uniform.roots.as_slice() else { panic!("one root: {:?}", report.uniform.roots) };
        // Run 1 settles on β*(ε).
        let last = report.good[STEPS];
        assert!((last.beta - root).abs() < 1e-6 * root && last_spread(&report.good, 10) < 1e-6);
        // Run 2 keeps jumping over the root.
        assert!(last_spread(&report.too_large, 10) > 0.1 * root);
        let tail = &report.too_large[STEPS - 10..];
        assert!(tail.iter().any(|p| p.beta < *root) && tail.iter().any(|p| p.beta > *root));
        // Run 3: no root, one jump at the greedy switch, and β keeps crossing it.
        assert!(report.occupancy.roots.is_empty());
        let [jump] = report.occupancy.jumps.as_slice() else { panic!("one jump") };
        assert!((jump.beta - risky_arm::switch_beta()).abs() < 1e-9);
        let tail = &report.jump[STEPS - 10..];
        assert!(tail.iter().any(|p| p.beta < jump.beta) && tail.iter().any(|p| p.beta > jump.beta));
    }
}
