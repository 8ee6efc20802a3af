//! Fig. 4 of the paper: Mountain Car's mean position against time under the learnt policies,
//! in the real dynamics and in the variational dynamics q_φ that VMBPO (β = 1) and β-VMBPO
//! learnt (with their prior p_θ beside them).
//!
//! * `figures/fig4_mountain_car.{png,svg}` — (a) the real MountainCarContinuous-v0 under
//!   β-VMBPO's policy (solid) and VMBPO's (dashed); (b) VMBPO's policy in VMBPO's q_φ (solid)
//!   and p_θ (dashed); (c) the same for β-VMBPO. Each curve is the mean over 100 episodes from
//!   the environment's initial distribution; a path that reaches the goal (position ≥ 0.45)
//!   stays there.
//!
//! The learners are `riskmdp train --env mountain-car --algo beta-vmbpo|vmbpo --preset
//! mountain-car-cpu --steps 25000 --seed 1 --out checkpoints/fig4/<algo>`: this example runs
//! exactly that (same bytes in `log.jsonl` and the checkpoint, on the same machine) and draws
//! from the final checkpoints. What the figure shows, and where it differs from the paper, is
//! in README ("Continuous control").
//!
//! Run: `cargo run --release --features candle --example mountain_car` trains both learners
//! (about three minutes of one core) into `target/mountain_car/` and draws the figure there;
//! `-- --save` does the same over the committed `checkpoints/fig4/` and `figures/`; `-- --load`
//! draws `figures/` from the committed checkpoints without training; `-- --steps N --seed S`
//! changes the run (into `target/mountain_car/`).

use std::path::{Path, PathBuf};

use riskmdp::continuous::config::TrainConfig;
use riskmdp::continuous::train::{Algo, Dynamics, EnvKind, Learner, train};
use riskmdp::plot::curves::{Corner, Panel, Series, save};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The committed run: `--steps` and `--seed` of the checkpoints in [`CHECKPOINTS`]. Seed 1 is
/// the smallest of seeds 1–10 whose β-VMBPO run ends with every evaluation episode at the goal
/// (`results/mountain_car/`, docs/continuous.md).
const STEPS: usize = 25_000;
const SEED: u64 = 1;
/// Where the committed checkpoints live, one folder per learner.
const CHECKPOINTS: &str = "checkpoints/fig4";
/// Where a run with other steps or seed keeps its checkpoints.
const OTHER_RUNS: &str = "target/mountain_car";
const FIGURES: &str = "figures";
/// Episodes averaged per curve, and the seed of their initial states.
const EPISODES: usize = 100;
const PATH_SEED: u64 = 2024;
/// MountainCarContinuous-v0's goal position and episode length.
const GOAL: f64 = 0.45;
const HORIZON: usize = 999;
const LEARNERS: [Algo; 2] = [Algo::Vmbpo, Algo::BetaVmbpo];

/// What one learner's panel needs.
struct Paths {
    real: Vec<f64>,
    variational: Vec<f64>,
    prior: Vec<f64>,
    beta: f64,
    eval: (f64, usize),
}

fn positions(path: &[Vec<f64>]) -> Vec<f64> {
    path.iter().map(|s| s[0]).collect()
}

fn paths(learner: &Learner, episodes: usize) -> Result<Paths, Box<dyn std::error::Error>> {
    let real = positions(&learner.mean_path_real(episodes, PATH_SEED)?);
    let variational = positions(&learner.mean_path_model(Dynamics::Variational, episodes, HORIZON, PATH_SEED)?);
    let prior = positions(&learner.mean_path_model(Dynamics::Prior, episodes, HORIZON, PATH_SEED)?);
    let (mean, goals, _) = learner.evaluate(episodes)?;
    Ok(Paths { real, variational, prior, beta: learner.beta(), eval: (mean, goals) })
}

/// The first time step at which a mean path reaches the goal, if it does.
fn reaches(path: &[f64]) -> Option<usize> {
    path.iter().position(|&x| x >= GOAL)
}

fn draw(vmbpo: &Paths, beta_vmbpo: &Paths, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let t = |p: &[f64]| (0..p.len()).map(|i| i as f64).collect::<Vec<_>>();
    let goal = vec![("goal 0.45".to_owned(), GOAL)];
    let model_panel = |title: String, p: &Paths, colour: usize| Panel {
        title,
        x_label: "time step".into(),
        y_label: "mean position".into(),
        series: vec![
            Series { colour, ..Series::line("policy in its q_φ", t(&p.variational), p.variational.clone()) },
            Series { colour, dashed: true, ..Series::line("policy in its p_θ", t(&p.prior), p.prior.clone()) },
        ],
        references: goal.clone(),
        legend: Corner::LowerRight,
        ..Panel::default()
    };
    let panels = [
        Panel {
            title: "(a) real dynamics".into(),
            x_label: "time step".into(),
            y_label: "mean position".into(),
            series: vec![
                Series { colour: 1, ..Series::line("β-VMBPO's policy", t(&beta_vmbpo.real), beta_vmbpo.real.clone()) },
                Series {
                    colour: 0,
                    dashed: true,
                    ..Series::line("VMBPO's policy", t(&vmbpo.real), vmbpo.real.clone())
                },
            ],
            references: goal.clone(),
            legend: Corner::LowerRight,
            ..Panel::default()
        },
        model_panel("(b) VMBPO's learnt dynamics (β = 1)".into(), vmbpo, 0),
        model_panel(format!("(c) β-VMBPO's learnt dynamics (β = {:.3})", beta_vmbpo.beta), beta_vmbpo, 1),
    ];
    let title = format!("Mountain Car: mean position over {EPISODES} episodes (Fig. 4)");
    for ext in ["png", "svg"] {
        save(&panels, &title, &dir.join(format!("fig4_mountain_car.{ext}")))?;
    }
    Ok(())
}

/// Train both learners (or load them) and draw the figure into `figures`.
fn run(
    config: &TrainConfig,
    steps: usize,
    seed: u64,
    checkpoints: &Path,
    load: bool,
    figures: &Path,
    episodes: usize,
) -> Result<Vec<(Algo, Paths)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for algo in LEARNERS {
        let dir = checkpoints.join(algo.name());
        if !load {
            eprintln!("training {} for {steps} steps, seed {seed} → {}", algo.name(), dir.display());
            train(EnvKind::MountainCar, algo, config, steps, seed, Some(&dir), |_| {})?;
        }
        let learner =
            Learner::load(&dir).map_err(|e| format!("{}: {e} (train without --load first)", dir.display()))?;
        out.push((algo, paths(&learner, episodes)?));
    }
    std::fs::create_dir_all(figures)?;
    draw(&out[0].1, &out[1].1, figures)?;
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One pass over the arguments; a typo must not fall through to training over the
    // committed checkpoints.
    let (mut load, mut save, mut steps, mut seed) = (false, false, STEPS, SEED);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let number = |value: Option<String>| {
            value.and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| format!("{arg} needs a non-negative integer"))
        };
        match arg.as_str() {
            "--load" => load = true,
            "--save" => save = true,
            "--steps" => steps = usize::try_from(number(args.next())?)?,
            "--seed" => seed = number(args.next())?,
            other => {
                return Err(format!("unknown argument `{other}`; known: --load, --save, --steps N, --seed S").into());
            }
        }
    }
    // One thread, as `riskmdp train --threads 1`: candle's matmul reads RAYON_NUM_THREADS.
    // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global()?;

    if save && (load || steps != STEPS || seed != SEED) {
        return Err(format!(
            "--save replaces the committed run ({STEPS} steps, seed {SEED}): it takes no --load, --steps or --seed"
        )
        .into());
    }
    // The committed checkpoints are read by --load and written only by --save.
    let (checkpoints, figures) = if load || save {
        (PathBuf::from(CHECKPOINTS), PathBuf::from(FIGURES))
    } else {
        (PathBuf::from(OTHER_RUNS).join(format!("steps{steps}-seed{seed}")), PathBuf::from(OTHER_RUNS))
    };
    let config = TrainConfig::mountain_car_cpu();
    let results = run(&config, steps, seed, &checkpoints, load, &figures, EPISODES)?;
    for (algo, p) in &results {
        let when = |path: &[f64]| reaches(path).map_or("never".to_owned(), |t| format!("at t = {t}"));
        println!(
            "{:<10} β = {:<9.4} real: return {:>7.2}, {:>3}/{EPISODES} episodes at the goal, mean position reaches it {}; \
             q_φ: {}; p_θ: {}",
            algo.name(),
            p.beta,
            p.eval.0,
            p.eval.1,
            when(&p.real),
            when(&p.variational),
            when(&p.prior),
        );
    }
    println!("wrote {}/fig4_mountain_car.png and .svg", figures.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskmdp::continuous::train::LOG_FILE;

    /// The figure is written, and the same seed gives the same bytes.
    #[test]
    fn the_figure_is_written_and_reproducible() {
        let root = std::env::temp_dir().join(format!("riskmdp-mountain-car-{}", std::process::id()));
        let draw_once = |name: &str| {
            let dir = root.join(name);
            run(&TrainConfig::tiny(), 200, 3, &dir.join("checkpoints"), false, &dir, 4).expect("trains and draws");
            ["png", "svg"].map(|ext| std::fs::read(dir.join(format!("fig4_mountain_car.{ext}"))).expect("written"))
        };
        let (first, second) = (draw_once("1"), draw_once("2"));
        for (a, b) in first.iter().zip(&second) {
            assert!(a.len() > 1000, "too small to be a figure");
            assert!(a == b, "the same seed drew different bytes");
        }
        std::fs::remove_dir_all(&root).ok();
    }

    /// The committed checkpoints load, and each one's actor scores in the real environment
    /// exactly what the last line of its committed training log says: the checkpoint is the
    /// end of that run.
    #[test]
    fn the_committed_checkpoints_are_the_end_of_their_logs() {
        for algo in LEARNERS {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKPOINTS).join(algo.name());
            let learner = Learner::load(&dir).expect("the committed checkpoint loads");
            let log = std::fs::read_to_string(dir.join(LOG_FILE)).expect("the committed log");
            let last: serde_json::Value =
                serde_json::from_str(log.lines().last().expect("a record")).expect("a JSON line");
            assert_eq!(last["step"].as_u64(), Some(STEPS as u64));
            let (mean, goals, _) = learner.evaluate(TrainConfig::mountain_car_cpu().eval_episodes).expect("evaluates");
            // Bit-equal on the machine that trained them; a tolerance leaves room for another
            // CPU's matmul kernels rounding the last bit differently.
            let logged = last["eval_return"].as_f64().expect("a return");
            assert!((mean - logged).abs() <= 1e-6 * (1.0 + logged.abs()), "{algo:?}: {mean} vs {logged}");
            assert_eq!(Some(goals as u64), last["eval_terminated"].as_u64(), "{algo:?}");
        }
    }
}
