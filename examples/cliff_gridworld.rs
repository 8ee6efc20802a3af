//! Fig. 2 of the paper: the cliff gridworld.
//!
//! The gridworld of Eysenbach et al. 2022 with a cliff below the wall (see
//! `riskmdp::envs::cliff_gridworld`): from the start S (top left) to the goal G (top right) the
//! short way runs between the wall and the cliff, the long way round the cliff. Moves are noisy
//! (the chosen move w.p. 0.775, each other w.p. 0.075), so walking next to the cliff risks a fall:
//! −20 and back to the start. Three panels:
//!
//! 1. the real dynamics of the action `right` in every cell: mostly right, a little elsewhere;
//! 2. at a small β (optimistic), the posterior dynamics of the greedy action (Eq. 4) and the
//!    greedy path from the start in red: the agent "believes" it will not slip, and hugs the
//!    cliff;
//! 3. at a large β (nearly risk-neutral), the posterior stays close to the real dynamics and the
//!    greedy path, in green, goes round the cliff.
//!
//! It prints both paths and the β where the greedy path switches from one to the other.
//!
//! Run: `cargo run --release --example cliff_gridworld` (writes
//! `figures/fig2_cliff_gridworld.{png,svg}`).

use std::path::Path;

use riskmdp::dual::log_grid;
use riskmdp::envs::Gridworld;
use riskmdp::envs::cliff_gridworld::RIGHT;
use riskmdp::operators::posterior_dynamics;
use riskmdp::plot::gridworld::{GridLayout, Panel, PathStyle, arrows_of, greedy_path};
use riskmdp::report::table::table;
use riskmdp::sweep::{every_switch, path_switches};
use riskmdp::{Beta, Method, Solution, SolveOptions, TabularMdp, solve_optimal};

/// Where the figures go.
const OUT_DIR: &str = "figures";
/// File names of the figure.
const PNG: &str = "fig2_cliff_gridworld.png";
const SVG: &str = "fig2_cliff_gridworld.svg";
/// An optimistic β: the greedy path hugs the cliff.
const SMALL_BETA: f64 = 0.5;
/// A nearly risk-neutral β: the greedy path goes round the cliff.
const LARGE_BETA: f64 = 1e3;
/// The β values of the printed table.
const TABLE_BETAS: [f64; 9] = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1e3, 1e4];
/// Grid points of the scan for every switch between the two β (the scan certifies that no
/// switch hides between them, so the count only trades grid solves for refinement).
const SCAN_POINTS: usize = 9;
/// Longest path followed.
const MAX_PATH: usize = 100;

/// What the example computes and prints.
struct Report {
    small_path: Vec<usize>,
    large_path: Vec<usize>,
    /// Every β between the two where the greedy path changes, with the paths below and above
    /// (exact: `sweep::every_switch` over every state, then `sweep::path_switches`).
    path_switches: Vec<(f64, Vec<usize>, Vec<usize>)>,
    /// The β where the greedy path stops hugging the cliff (the last such path switch).
    switch_beta: f64,
}

/// The greedy actions and posterior dynamics of the optimum at β.
fn optimum(mdp: &TabularMdp, beta: f64) -> riskmdp::Result<(Vec<usize>, ndarray::Array3<f64>)> {
    match solve_optimal(mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())? {
        Solution::Stationary(sol) => {
            let post = posterior_dynamics(mdp, sol.v.view());
            Ok((sol.greedy, post))
        }
        Solution::FiniteHorizon(_) => unreachable!("the gridworld has no horizon"),
    }
}

fn path_at(world: &Gridworld, mdp: &TabularMdp, beta: f64) -> riskmdp::Result<Vec<usize>> {
    let (greedy, _) = optimum(mdp, beta)?;
    Ok(greedy_path(mdp, &greedy, world.state(world.start), MAX_PATH))
}

/// Whether a path passes through a cell next to the cliff.
fn hugs_cliff(world: &Gridworld, path: &[usize]) -> bool {
    path.iter().any(|&s| world.is_next_to_cliff(world.cell(s)))
}

fn show(world: &Gridworld, path: &[usize]) -> String {
    path.iter().map(|&s| format!("{:?}", world.cell(s))).collect::<Vec<_>>().join(" → ")
}

fn run(
    out_dir: &Path,
    world: &Gridworld,
    (small, large): (f64, f64),
    points: usize,
) -> Result<Report, Box<dyn std::error::Error>> {
    let mdp = world.build()?;
    let small_path = path_at(world, &mdp, small)?;
    let large_path = path_at(world, &mdp, large)?;
    if !hugs_cliff(world, &small_path) || hugs_cliff(world, &large_path) {
        return Err(format!("the path must hug the cliff at β = {small} and not at β = {large}").into());
    }
    // Every switch of every state's greedy action between the two β, then every change of the
    // greedy path they cause.
    let states: Vec<usize> = (0..mdp.n_states()).filter(|&s| !mdp.is_terminal(s)).collect();
    let scan = every_switch(&mdp, &states, &log_grid(small, large, points)?, SolveOptions::default())?;
    if !scan.unresolved.is_empty() {
        return Err(format!("hidden switches not excluded: {:?}", scan.unresolved).into());
    }
    let path_switches = path_switches(&mdp, &scan, world.state(world.start), MAX_PATH);
    let switch_beta = path_switches
        .iter()
        .rev()
        .find(|(_, below, above)| hugs_cliff(world, below) && !hugs_cliff(world, above))
        .map(|sw| sw.0)
        .ok_or("the greedy path never stops hugging the cliff")?;

    let layout = GridLayout::infer(&mdp)?;
    let start = world.state(world.start);
    // A panel of the posterior dynamics of the greedy action at β, with the greedy path.
    let posterior_panel = |beta: f64, path_style: PathStyle, what: &str| -> riskmdp::Result<Panel> {
        let (greedy, post) = optimum(&mdp, beta)?;
        Ok(Panel {
            title: format!("β = {beta}: posterior q(s' | s, greedy a)"),
            arrows: arrows_of(&mdp, &post, &greedy, &layout),
            path: greedy_path(&mdp, &greedy, start, MAX_PATH),
            path_style,
            path_label: format!("greedy path, β = {beta}: {what}"),
        })
    };
    let panels = [
        Panel {
            title: "Real dynamics P(s' | s, right)".into(),
            arrows: arrows_of(&mdp, &mdp.transitions(), &vec![RIGHT; mdp.n_states()], &layout),
            path: Vec::new(),
            path_style: PathStyle::Plain,
            path_label: String::new(),
        },
        posterior_panel(small, PathStyle::Risky, "hugs the cliff")?,
        posterior_panel(large, PathStyle::Safe, "safe")?,
    ];
    let title = format!(
        "Cliff gridworld (noise {}, cliff −{}, goal +{}, γ = {}): the greedy path leaves the cliff above β = {:.4}",
        world.noise, world.cliff_penalty, world.goal_reward, world.gamma, switch_beta
    );
    std::fs::create_dir_all(out_dir)?;
    for name in [PNG, SVG] {
        let path = out_dir.join(name);
        riskmdp::plot::gridworld::save(&layout, &panels, &title, &path)
            .map_err(|e| format!("saving {}: {e}", path.display()))?;
    }
    Ok(Report { small_path, large_path, path_switches, switch_beta })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let world = Gridworld::cliff();
    let report = run(Path::new(OUT_DIR), &world, (SMALL_BETA, LARGE_BETA), SCAN_POINTS)?;
    println!("Fig. 2, the cliff gridworld: wrote {OUT_DIR}/{PNG} and {OUT_DIR}/{SVG}");
    println!(
        "noise {}, cliff cells {:?}, penalty {}, goal reward {}, step reward {}, γ = {}",
        world.noise, world.cliff, world.cliff_penalty, world.goal_reward, world.step_reward, world.gamma
    );
    println!("greedy path at β = {SMALL_BETA}: {}", show(&world, &report.small_path));
    println!("greedy path at β = {LARGE_BETA}: {}", show(&world, &report.large_path));
    println!("the greedy path stops hugging the cliff at β = {:.10}", report.switch_beta);
    println!("every change of the greedy path for β in [{SMALL_BETA}, {LARGE_BETA}]:");
    for (beta, below, above) in &report.path_switches {
        let kind = |path: &[usize]| if hugs_cliff(&world, path) { "cliff" } else { "safe" };
        println!(
            "  β = {beta:.10}: {} path of {} steps → {} path of {} steps",
            kind(below),
            below.len() - 1,
            kind(above),
            above.len() - 1
        );
    }
    println!();
    let mdp = world.build()?;
    let mut rows = Vec::new();
    for beta in TABLE_BETAS {
        let sol = solve_optimal(&mdp, Beta::new(beta)?, Method::ValueIteration, SolveOptions::default())?;
        let path = path_at(&world, &mdp, beta)?;
        let kind = if hugs_cliff(&world, &path) { "cliff" } else { "safe" };
        let v0 = beta * sol.v0()[world.state(world.start)];
        rows.push(vec![beta.to_string(), kind.to_string(), (path.len() - 1).to_string(), format!("{v0:.6}")]);
    }
    println!("{}", table(["β", "path", "steps", "β·V*(start)"].map(String::from).to_vec(), rows));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fig2_paths_differ_and_the_switch_lies_between() {
        let dir = std::env::temp_dir().join(format!("riskmdp-fig2-{}", std::process::id()));
        let world = Gridworld::cliff();
        let report = run(&dir, &world, (SMALL_BETA, LARGE_BETA), 3).expect("the example runs");
        assert!(hugs_cliff(&world, &report.small_path));
        assert!(!hugs_cliff(&world, &report.large_path));
        assert!(SMALL_BETA < report.switch_beta && report.switch_beta < LARGE_BETA);
        // The path found on either side of every path switch is the path solved there.
        let mdp = world.build().expect("valid");
        for (beta, below, above) in &report.path_switches {
            assert_eq!(&path_at(&world, &mdp, beta * (1.0 - 1e-9)).expect("solves"), below, "β = {beta}");
            assert_eq!(&path_at(&world, &mdp, beta * (1.0 + 1e-9)).expect("solves"), above, "β = {beta}");
        }
        // The Fig. 2 switch, 4.6908 (README).
        assert!((report.switch_beta - 4.6908).abs() < 1e-4, "{}", report.switch_beta);
        // Both paths reach the goal.
        let goal = world.state(world.goal);
        assert_eq!(report.small_path.last(), Some(&goal));
        assert_eq!(report.large_path.last(), Some(&goal));
        // The requirement: along the cliff for every β ≤ 1, round it up to β = 1e4.
        for beta in [0.1, 0.5, 1.0] {
            assert!(hugs_cliff(&world, &path_at(&world, &mdp, beta).expect("solves")), "β = {beta}");
        }
        for beta in [10.0, 100.0, 1e3, 1e4] {
            assert!(!hugs_cliff(&world, &path_at(&world, &mdp, beta).expect("solves")), "β = {beta}");
        }
        for name in [PNG, SVG] {
            let len = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{name} written");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
