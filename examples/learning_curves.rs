//! Figs. 3 and 6 of the paper, and the ε figure it lacks: the sample-based learners of
//! `riskmdp::learn` on the cliff gridworld and the MnM gridworld.
//!
//! * `figures/fig3_cliff_learning.{png,svg}` — cliff gridworld: (a) exact return of the greedy
//!   policy, mean ± std over 5 seeds, for β-VMBPO (dual step in log β, and the paper's linear
//!   step), VMBPO and Q-learning; (b) β-VMBPO's return from β0 ∈ {1, 10, 100, 1000};
//!   (c) its β (geometric mean over seeds) for those β0, log step solid, linear step dashed.
//! * `figures/fig6_mnm_learning.{png,svg}` — MnM gridworld: MnM, β-VMBPO, VMBPO and Q-learning
//!   with the critic initialised optimistically (a) and at 0 (b), in the paper's order.
//! * `figures/fig_epsilon_cliff.{png,svg}` — β-VMBPO on the cliff gridworld: final return (a)
//!   and final β (b) against the KL bound ε.
//!
//! Every run is `riskmdp learn --env … --algo … --seed k --config …` with the settings below
//! (seeds 1–5, in parallel with rayon); the "return" is exact (the greedy policy's expected
//! discounted return in the true dynamics, `riskmdp::learn`). What the figures show, and where
//! they differ from the paper, is in README ("What the learners reproduce") and in
//! `docs/learning.md`.
//!
//! Run: `cargo run --release --example learning_curves` (32 s on two idle cores, 53 s of CPU;
//! prints the final numbers). `-- --quick` runs a small budget into
//! `target/learning_curves/`.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use riskmdp::envs::Gridworld;
use riskmdp::learn::predict::{data_kl, predicted_betas};
use riskmdp::learn::{Algorithm, Band, LearnConfig, LearnReport, Learner, learn_seeds};
use riskmdp::losses::{BetaUpdate, DualConfig};
use riskmdp::plot::curves::{Corner, Panel, Series, save};
use riskmdp::{Beta, SolveOptions, TabularMdp, sweep::sweep};

/// Where the figures go (the full run) and the quick run's folder.
const OUT_DIR: &str = "figures";
const QUICK_DIR: &str = "target/learning_curves";
/// β0 values of Fig. 3 (b, c).
const BETA0S: [f64; 4] = [1.0, 10.0, 100.0, 1000.0];
/// KL bounds of the ε figure.
const EPSILONS: [f64; 7] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];

/// How much to run.
#[derive(Debug, Clone, Copy)]
struct Budget {
    episodes: usize,
    log_every: usize,
    seeds: u64,
}

const FULL: Budget = Budget { episodes: 3000, log_every: 30, seeds: 5 };
const QUICK: Budget = Budget { episodes: 40, log_every: 10, seeds: 2 };

/// One curve: a learner with its settings.
struct Setting {
    label: String,
    algorithm: Algorithm,
    config: LearnConfig,
}

/// The runs of one setting, over the seeds.
struct Runs {
    label: String,
    reports: Vec<LearnReport>,
}

impl Runs {
    fn returns(&self) -> riskmdp::Result<Band> {
        Band::mean_std(&self.reports, |r| &r.returns)
    }

    fn betas(&self) -> riskmdp::Result<Band> {
        Band::geometric(&self.reports, |r| &r.betas)
    }

    /// Mean and sample std of the final returns, and the geometric mean of the final β: the
    /// last point of the curves (each report's last measurement is its final one).
    fn finals(&self) -> riskmdp::Result<(f64, f64, Option<f64>)> {
        let returns = self.returns()?;
        let (m, upper) = (returns.last(), returns.upper.last().copied().unwrap_or(f64::NAN));
        let has_beta = self.reports.iter().all(|r| !r.betas.is_empty());
        let beta = if has_beta { Some(self.betas()?.last()) } else { None };
        Ok((m, upper - m, beta))
    }
}

fn run(mdp: &TabularMdp, setting: Setting, budget: Budget) -> riskmdp::Result<Runs> {
    let seeds: Vec<u64> = (1..=budget.seeds).collect();
    let reports = learn_seeds(mdp, setting.algorithm, &setting.config, &seeds)?;
    Ok(Runs { label: setting.label, reports })
}

/// The cliff gridworld's learner settings (Fig. 3, `LearnConfig::cliff_figure_3`, the
/// default of `riskmdp learn --env cliff`) at the budget's episodes.
fn cliff_config(budget: Budget) -> LearnConfig {
    LearnConfig { episodes: budget.episodes, log_every: budget.log_every, ..LearnConfig::cliff_figure_3() }
}

fn beta_vmbpo(label: &str, config: LearnConfig) -> Setting {
    Setting { label: label.into(), algorithm: Algorithm::BetaVmbpo, config }
}

fn return_series(runs: &Runs, colour: usize, dashed: bool, band: bool) -> riskmdp::Result<Series> {
    let b = runs.returns()?;
    Ok(Series {
        label: runs.label.clone(),
        x: b.x(),
        y: b.centre.clone(),
        band: band.then(|| (b.lower.clone(), b.upper.clone())),
        colour,
        dashed,
    })
}

fn print_finals(title: &str, runs: &[&Runs]) -> riskmdp::Result<()> {
    println!("{title}");
    for r in runs {
        let (m, s, beta) = r.finals()?;
        let beta = beta.map_or(String::new(), |b| format!("   final β (geometric mean) {b:>9.3}"));
        println!("  {:<34} final return {m:>9.4} ± {s:.4}{beta}", r.label);
    }
    Ok(())
}

/// Risk-neutral optimum V*(start) of a learner's report (the same for every run).
fn v_star(runs: &Runs) -> f64 {
    runs.reports[0].v_star
}

/// The exact β where the greedy path on the true cliff gridworld stops hugging the cliff: where
/// the greedy action changes at the cell the two paths part, (5, 0) (`examples/cliff_gridworld.rs`
/// derives the same β from the paths themselves).
fn path_switch_beta(world: &Gridworld, mdp: &TabularMdp) -> riskmdp::Result<f64> {
    let switches = sweep(mdp, world.state((5, 0)), &[0.5, 1000.0], SolveOptions::default())?.switches;
    use riskmdp::envs::cliff_gridworld::{ACTIONS, RIGHT};
    let down = ACTIONS.iter().position(|&a| a == "down").expect("an action `down`");
    switches.iter().find(|s| (s.from, s.to) == (RIGHT, down)).map(|s| s.beta).ok_or_else(|| {
        riskmdp::Error::Unsupported { what: format!("no switch from `right` to `down` at (5, 0): {switches:?}") }
    })
}

/// Fig. 3: the cliff gridworld.
fn figure_3(out: &Path, budget: Budget) -> Result<(), Box<dyn std::error::Error>> {
    let world = Gridworld::cliff();
    let mdp = world.build()?;
    let base = cliff_config(budget);
    let linear =
        LearnConfig { dual: DualConfig { beta_update: BetaUpdate::Linear, ..base.dual.clone() }, ..base.clone() };
    let a = [
        run(&mdp, beta_vmbpo("β-VMBPO (log-β step)", base.clone()), budget)?,
        run(&mdp, beta_vmbpo("β-VMBPO (linear step, paper)", linear.clone()), budget)?,
        run(
            &mdp,
            Setting { label: "VMBPO (β = 1)".into(), algorithm: Algorithm::Vmbpo, config: base.clone() },
            budget,
        )?,
        run(
            &mdp,
            Setting { label: "Q-learning".into(), algorithm: Algorithm::QLearning, config: base.clone() },
            budget,
        )?,
    ];
    let mut by_beta0 = Vec::new();
    for (k, &beta0) in BETA0S.iter().enumerate() {
        let log = run(
            &mdp,
            beta_vmbpo(
                &format!("β0 = {beta0}"),
                LearnConfig { dual: DualConfig { beta0, ..base.dual.clone() }, ..base.clone() },
            ),
            budget,
        )?;
        let lin = run(
            &mdp,
            beta_vmbpo(
                &format!("β0 = {beta0}, linear"),
                LearnConfig { dual: DualConfig { beta0, ..linear.dual.clone() }, ..linear.clone() },
            ),
            budget,
        )?;
        by_beta0.push((k, log, lin));
    }
    let switch_beta = path_switch_beta(&world, &mdp)?;

    let v = v_star(&a[0]);
    let panel_a = Panel {
        title: "(a) return, mean ± std over seeds".into(),
        x_label: "episode".into(),
        y_label: "exact return of the greedy policy".into(),
        series: a.iter().enumerate().map(|(k, r)| return_series(r, k, false, true)).collect::<riskmdp::Result<_>>()?,
        references: vec![(format!("V* = {v:.4}"), v)],
        legend: Corner::LowerRight,
        ..Panel::default()
    };
    let panel_b = Panel {
        title: "(b) β-VMBPO (log-β step) by β0".into(),
        x_label: "episode".into(),
        y_label: "exact return of the greedy policy".into(),
        series: by_beta0
            .iter()
            .map(|(k, log, _)| return_series(log, *k, false, false))
            .collect::<riskmdp::Result<_>>()?,
        references: vec![(String::new(), v)],
        legend: Corner::LowerRight,
        ..Panel::default()
    };
    let mut beta_series = Vec::new();
    for (k, log, lin) in &by_beta0 {
        for (runs, dashed) in [(log, false), (lin, true)] {
            let b = runs.betas()?;
            let label = if dashed { String::new() } else { runs.label.clone() };
            beta_series.push(Series { label, x: b.x(), y: b.centre, band: None, colour: *k, dashed });
        }
    }
    let panel_c = Panel {
        title: "(c) β (geometric mean); dashed: linear step".into(),
        x_label: "episode".into(),
        y_label: "β".into(),
        log_y: true,
        series: beta_series,
        references: vec![(format!("path switch β = {switch_beta:.3}"), switch_beta)],
        legend: Corner::LowerRight,
        ..Panel::default()
    };
    let title =
        format!("Fig. 3 — cliff gridworld, ε = {}, Q₀ = {}, {} seeds", base.dual.epsilon, base.q_init, budget.seeds);
    for name in ["fig3_cliff_learning.png", "fig3_cliff_learning.svg"] {
        save(&[panel_a.clone(), panel_b.clone(), panel_c.clone()], &title, &out.join(name))?;
    }
    println!("Fig. 3, cliff gridworld (V* = {v:.6}; exact path switch at β = {switch_beta:.4}):");
    print_finals("  (a)", &a.iter().collect::<Vec<_>>())?;
    let logs: Vec<&Runs> = by_beta0.iter().flat_map(|(_, log, lin)| [log, lin]).collect();
    print_finals("  (b, c)", &logs)?;
    Ok(())
}

/// Fig. 6: the MnM gridworld, critic initialised at 0 and optimistically.
fn figure_6(out: &Path, budget: Budget) -> Result<(), Box<dyn std::error::Error>> {
    let world = Gridworld::mnm();
    let mdp = world.build()?;
    let base = LearnConfig { episodes: budget.episodes, log_every: budget.log_every, ..LearnConfig::default() };
    // Optimistic: the largest discounted value in each learner's own reward units (the presets
    // of `riskmdp learn --env mnm`).
    let optimistic = LearnConfig::mnm_figure_6(false).q_init;
    let optimistic_mnm = LearnConfig::mnm_figure_6(true).q_init;
    let mut panels = Vec::new();
    let mut all = Vec::new();
    for (tag, init, init_mnm) in [("optimistic Q₀", optimistic, optimistic_mnm), ("Q₀ = 0", 0.0, 0.0)] {
        let with = |q_init: f64| LearnConfig { q_init, ..base.clone() };
        let settings = [
            ("MnM", Algorithm::Mnm, with(init_mnm)),
            ("β-VMBPO", Algorithm::BetaVmbpo, with(init)),
            ("VMBPO (β = 1)", Algorithm::Vmbpo, with(init)),
            ("Q-learning", Algorithm::QLearning, with(init)),
        ];
        let runs = settings
            .into_iter()
            .map(|(label, algorithm, config)| run(&mdp, Setting { label: label.into(), algorithm, config }, budget))
            .collect::<riskmdp::Result<Vec<_>>>()?;
        let v = v_star(&runs[0]);
        let letter = if panels.is_empty() { "a" } else { "b" };
        let init_text = if init == 0.0 { String::new() } else { format!(" ({init:.0}; MnM {init_mnm:.3})") };
        panels.push(Panel {
            title: format!("({letter}) {tag}{init_text}"),
            x_label: "episode".into(),
            y_label: "exact return of the greedy policy".into(),
            series: runs
                .iter()
                .enumerate()
                .map(|(k, r)| return_series(r, k, false, true))
                .collect::<riskmdp::Result<_>>()?,
            references: vec![(format!("V* = {v:.4}"), v)],
            legend: Corner::LowerRight,
            ..Panel::default()
        });
        all.push((tag, runs));
    }
    let title = format!("Fig. 6 — MnM gridworld, mean ± std over {} seeds", budget.seeds);
    for name in ["fig6_mnm_learning.png", "fig6_mnm_learning.svg"] {
        save(&panels, &title, &out.join(name))?;
    }
    println!("Fig. 6, MnM gridworld (V* = {:.6}):", v_star(&all[0].1[0]));
    for (tag, runs) in &all {
        print_finals(&format!("  {tag}"), &runs.iter().collect::<Vec<_>>())?;
    }
    Ok(())
}

/// The ε figure: where β settles, and what the greedy policy earns there.
fn figure_epsilon(out: &Path, budget: Budget) -> Result<(), Box<dyn std::error::Error>> {
    let world = Gridworld::cliff();
    let mdp = world.build()?;
    let switch_beta = path_switch_beta(&world, &mdp)?;
    let mut rows = Vec::new();
    for &epsilon in &EPSILONS {
        let base = cliff_config(budget);
        let config = LearnConfig { dual: DualConfig { epsilon, ..base.dual.clone() }, ..base };
        rows.push((epsilon, run(&mdp, beta_vmbpo(&format!("ε = {epsilon}"), config), budget)?));
    }
    let eps: Vec<f64> = rows.iter().map(|(e, _)| *e).collect();
    let finals: Vec<(f64, f64, Option<f64>)> = rows.iter().map(|(_, r)| r.finals()).collect::<riskmdp::Result<_>>()?;
    let mean: Vec<f64> = finals.iter().map(|f| f.0).collect();
    let lower: Vec<f64> = finals.iter().map(|f| f.0 - f.1).collect();
    let upper: Vec<f64> = finals.iter().map(|f| f.0 + f.1).collect();
    let beta: Vec<f64> = finals.iter().map(|f| f.2.unwrap_or(f64::NAN)).collect();
    let v = v_star(&rows[0].1);
    let panel_a = Panel {
        title: "(a) final return, mean ± std".into(),
        x_label: "KL bound ε".into(),
        y_label: "exact return of the greedy policy".into(),
        log_x: true,
        series: vec![Series { band: Some((lower, upper)), ..Series::line("β-VMBPO", eps.clone(), mean) }],
        references: vec![(format!("V* = {v:.4}"), v)],
        legend: Corner::LowerLeft,
        ..Panel::default()
    };
    let panel_b = Panel {
        title: "(b) final β (geometric mean)".into(),
        x_label: "KL bound ε".into(),
        y_label: "β".into(),
        log_x: true,
        log_y: true,
        series: vec![Series::line("β-VMBPO", eps, beta)],
        references: vec![(format!("path switch β = {switch_beta:.3}"), switch_beta)],
        legend: Corner::UpperRight,
    };
    let title = format!("β-VMBPO on the cliff gridworld after {} episodes, {} seeds", budget.episodes, budget.seeds);
    for name in ["fig_epsilon_cliff.png", "fig_epsilon_cliff.svg"] {
        save(&[panel_a.clone(), panel_b.clone()], &title, &out.join(name))?;
    }
    print_finals(
        "ε figure, cliff gridworld (β-VMBPO, log-β step, β0 = 100):",
        &rows.iter().map(|(_, r)| r).collect::<Vec<_>>(),
    )?;
    Ok(())
}

/// Where β settled against where the exact engine puts the dual's fixed point on the same data
/// (`riskmdp::learn::predict`): one seed of β-VMBPO per gridworld.
fn predictions(budget: Budget) -> Result<(), Box<dyn std::error::Error>> {
    println!("where β settles (seed 1) against the exact root of KL̂_β = ε on the learner's data:");
    let mut cliff = cliff_config(budget);
    cliff.dual.beta0 = 100.0;
    let mnm = LearnConfig { episodes: budget.episodes, ..LearnConfig::default() };
    for (name, world, config) in [("cliff", Gridworld::cliff(), cliff), ("MnM", Gridworld::mnm(), mnm)] {
        let mdp = world.build()?;
        let mut learner = Learner::new(&mdp, Algorithm::BetaVmbpo, &config)?;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..config.episodes {
            learner.episode(&mut rng);
        }
        let Learner::Variational(learner) = learner else { unreachable!("β-VMBPO is variational") };
        let (beta, kl) = (learner.beta(), learner.kl());
        match predicted_betas(learner.model(), &mdp, config.dual.epsilon, (1e-2, 1e4), 61) {
            Ok(roots) => {
                let exact_kl = data_kl(learner.model(), &mdp, Beta::new(beta)?)?;
                println!(
                    "  {name:<6} ε = {}: learnt β = {beta:.4} (its KL {kl:.5}); predicted roots {roots:.4?}; \
                     exact KL̂ at the learnt β {exact_kl:.5}",
                    config.dual.epsilon
                );
            }
            Err(e) => println!(
                "  {name:<6} ε = {}: learnt β = {beta:.4} (its KL {kl:.5}); no prediction: {e}",
                config.dual.epsilon
            ),
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (budget, out) = if quick { (QUICK, PathBuf::from(QUICK_DIR)) } else { (FULL, PathBuf::from(OUT_DIR)) };
    std::fs::create_dir_all(&out)?;
    figure_3(&out, budget)?;
    figure_6(&out, budget)?;
    figure_epsilon(&out, budget)?;
    predictions(budget)?;
    println!("wrote fig3_cliff_learning, fig6_mnm_learning and fig_epsilon_cliff (.png, .svg) to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: [&str; 6] = [
        "fig3_cliff_learning.png",
        "fig3_cliff_learning.svg",
        "fig6_mnm_learning.png",
        "fig6_mnm_learning.svg",
        "fig_epsilon_cliff.png",
        "fig_epsilon_cliff.svg",
    ];

    fn draw_all(dir: &Path) {
        std::fs::create_dir_all(dir).expect("temp dir");
        figure_3(dir, QUICK).expect("Fig. 3");
        figure_6(dir, QUICK).expect("Fig. 6");
        figure_epsilon(dir, QUICK).expect("ε figure");
    }

    /// Every figure is written, and the same seeds give the same bytes (the runs are parallel).
    #[test]
    fn the_figures_are_written_and_reproducible() {
        let root = std::env::temp_dir().join(format!("riskmdp-learning-curves-{}", std::process::id()));
        let (first, second) = (root.join("1"), root.join("2"));
        draw_all(&first);
        draw_all(&second);
        for name in FILES {
            let a = std::fs::read(first.join(name)).expect("written");
            let b = std::fs::read(second.join(name)).expect("written");
            assert!(a.len() > 1000, "{name} is too small to be a figure");
            assert!(a == b, "{name} differs between two runs with the same seeds");
        }
        std::fs::remove_dir_all(&root).ok();
    }
}
