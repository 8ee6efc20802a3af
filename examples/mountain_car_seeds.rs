//! Where β acts in continuous β-VMBPO on Mountain Car: the seed table and the dual's figure,
//! drawn from the committed logs of `scripts/mountain-car-seeds.sh` (seeds 1–10 of β-VMBPO at
//! ε = 10, 1 and 0.1, and VMBPO) in `results/mountain_car/`.
//!
//! * prints the seed table (the one README and `docs/continuous.md` quote; `tests/mountain_car_table.rs`
//!   recounts it) and, per learner, the medians over every fit of the numbers
//!   `docs/continuous.md` explains;
//! * `figures/mountain_car_dual.{png,svg}`: per fit and seed, (a) β after the dual step, (b) the
//!   KL the dual sees against ε, (c) the share of Eq. 11's weights at the clamp, (d) the actor
//!   loss's gradients at ε = 10: the value term Q₂′/β against the prior term.
//!
//! Run: `cargo run --release --example mountain_car_seeds` (reads logs only: no training, no
//! `candle`). Rerun the grid first with `scripts/mountain-car-seeds.sh` to draw from new runs.

use std::path::Path;

use riskmdp::plot::curves::{Corner, Panel, Series, save};
use riskmdp::report::seeds::{FitPoint, LearnerRuns, MOUNTAIN_CAR, markdown, median, read_fits, summarise};

/// Palette colours of the rows of [`MOUNTAIN_CAR`].
const COLOURS: [usize; 4] = [0, 2, 3, 1];
const RESULTS: &str = "results/mountain_car";
const FIGURES: &str = "figures";

/// The grid's learners that have runs, with their fits per seed.
type Grid = Vec<(LearnerRuns, usize, Vec<Vec<FitPoint>>)>;

fn load() -> Result<Grid, Box<dyn std::error::Error>> {
    let mut grid = Vec::new();
    for ((folder, name, dual), colour) in MOUNTAIN_CAR.into_iter().zip(COLOURS) {
        let dir = Path::new(RESULTS).join(folder);
        if !dir.exists() {
            eprintln!("note: no runs in {} (run scripts/mountain-car-seeds.sh)", dir.display());
            continue;
        }
        let runs = summarise(&dir, name, dual)?;
        let fits =
            runs.runs.iter().map(|r| read_fits(&dir.join(format!("seed-{}", r.seed)))).collect::<Result<_, _>>()?;
        grid.push((runs, colour, fits));
    }
    Ok(grid)
}

fn label(runs: &LearnerRuns) -> String {
    match runs.epsilon {
        Some(e) => format!("{}, ε = {e}", runs.name),
        None => runs.name.clone(),
    }
}

/// One series per seed of each learner with fits (legend on its first seed).
fn per_seed(grid: &Grid, value: impl Fn(&FitPoint) -> f64) -> Vec<Series> {
    let mut out = Vec::new();
    for (runs, colour, fits) in grid {
        for (i, seed_fits) in fits.iter().enumerate().filter(|(_, f)| !f.is_empty()) {
            out.push(Series {
                label: if i == 0 { label(runs) } else { String::new() },
                x: seed_fits.iter().map(|f| f.step).collect(),
                y: seed_fits.iter().map(&value).collect(),
                colour: *colour,
                ..Series::default()
            });
        }
    }
    out
}

fn summary(grid: &Grid) {
    println!("\nMedians over every fit of every seed:");
    println!(
        "| learner | KL | KL (Monte Carlo, mixtures) | at the clamp | entropy (nats) | ‖∇ prior term‖ / ‖∇ value term‖ | signal share, prior term | signal share, value term |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (runs, _, fits) in grid {
        let all: Vec<&FitPoint> = fits.iter().flatten().collect();
        if all.is_empty() {
            continue;
        }
        let m = |f: &dyn Fn(&FitPoint) -> f64| median(all.iter().map(|p| f(p)).collect()).unwrap_or(f64::NAN);
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {:.2} | {:.2} |",
            label(runs),
            m(&|p| p.kl),
            m(&|p| p.kl_monte_carlo),
            m(&|p| p.saturated),
            m(&|p| p.entropy),
            m(&|p| p.grads[0] / p.grads[2]),
            m(&|p| p.signal[0]),
            m(&|p| p.signal[1]),
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let grid = load()?;
    if grid.is_empty() {
        return Err(format!("no runs under {RESULTS}").into());
    }
    let learners: Vec<LearnerRuns> = grid.iter().map(|(r, _, _)| r.clone()).collect();
    print!("{}", markdown(&learners));
    summary(&grid);

    let epsilons: Vec<(String, f64)> =
        learners.iter().filter_map(|r| Some((format!("ε = {}", r.epsilon?), r.epsilon?))).collect();
    let panel = |title: &str, y_label: &str, log_y: bool, series: Vec<Series>| Panel {
        title: title.into(),
        x_label: "environment step".into(),
        y_label: y_label.into(),
        log_y,
        series,
        ..Panel::default()
    };
    let mut kl = panel("(b) the KL the dual sees (nats)", "KL(q_φ ‖ p_θ)", true, per_seed(&grid, |f| f.kl));
    kl.references = epsilons;
    kl.legend = Corner::UpperRight;
    let mut beta = panel("(a) β after each dual step", "β", true, per_seed(&grid, |f| f.beta));
    beta.legend = Corner::LowerRight;
    let saturated =
        panel("(c) Eq. 11 weights at the clamp e^±4", "share of D_env", false, per_seed(&grid, |f| f.saturated));
    let eps10: Grid = grid.iter().filter(|(r, _, _)| r.epsilon == Some(10.0)).cloned().collect();
    let mut grads = Vec::new();
    for (term, index, colour) in [("‖∇ value term Q₂′/β‖", 2, 0), ("‖∇ prior term log q_ω − log π_κ‖", 0, 3)]
    {
        for (i, fits) in eps10.iter().flat_map(|(_, _, f)| f).enumerate() {
            grads.push(Series {
                label: if i == 0 { term.into() } else { String::new() },
                x: fits.iter().map(|f| f.step).collect(),
                y: fits.iter().map(|f| f.grads[index]).collect(),
                colour,
                ..Series::default()
            });
        }
    }
    let mut grads = panel("(d) actor gradients, β-VMBPO at ε = 10", "gradient norm", true, grads);
    grads.legend = Corner::LowerRight;
    let panels = [beta, kl, saturated, grads];
    std::fs::create_dir_all(FIGURES)?;
    for ext in ["png", "svg"] {
        let path = Path::new(FIGURES).join(format!("mountain_car_dual.{ext}"));
        save(&panels, "Mountain Car: where β acts (each line one seed, each point one model fit)", &path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
