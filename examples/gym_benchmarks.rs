//! The paper's gym benchmarks, drawn from the runs' JSON-lines logs:
//!
//! * `figures/fig5_gym.{png,svg}` — Fig. 5: β-VMBPO, VMBPO, MBPO and SAC on Hopper, Walker2d
//!   and HalfCheetah, the mean evaluation return over seeds ± one standard deviation, every
//!   evaluation (1000 steps);
//! * `figures/fig7_ant.{png,svg}` — Fig. 7: the same four learners on Ant;
//! * `figures/fig8_hopper.{png,svg}` — Fig. 8: β-VMBPO on Hopper from β₀ ∈ {1, 10, 100, 1000}
//!   (left) and with the dual's step size η ∈ {0.1, 0.01, 0.001, 0.0003} (right).
//!
//! It also prints, per task and learner, the last evaluation's mean ± std over seeds (the
//! table README and `docs/continuous.md` quote).
//!
//! Where the logs come from: the manifest `riskmdp grid gather FILE` writes into an
//! experiment's output folder (every run, its status and its folder), so drawing needs neither
//! MuJoCo nor the experiment's tasks in the build:
//! * `-- --load`: the runs committed in `results/gym_cpu/{fig5,fig7,fig8}/` (experiment files
//!   `experiments/{fig5_gym_cpu,fig7_ant_cpu,fig8_hopper_cpu}.json`, preset `gym-cpu`, 3 seeds,
//!   12 000 steps, Fig. 8 8000): the same logs give byte for byte the same figures;
//! * by default: the Table 1 grids of `experiments/{fig5_gym,fig7_ant,fig8_hopper_ablations}.json`
//!   (5 seeds), once run — `riskmdp grid local FILE --jobs N` on one machine, or
//!   `riskmdp grid sbatch FILE` on a Slurm cluster — and gathered (`riskmdp grid gather FILE`:
//!   `results/fig5_gym/manifest.json`, …);
//! * `--fig5 MANIFEST`, `--fig7 MANIFEST`, `--fig8 MANIFEST`: other grids' manifests.
//!
//! Runs that were not done when gathered are left out of their curve, and listed. For Fig. 8,
//! β₀ and η at the preset's own values are taken from the Fig. 5 grid's β-VMBPO runs on Hopper
//! (their `config.json`) when the Fig. 8 grid has no such variant (the CPU grid does not run
//! them twice).
//!
//! The dashed line of the paper's Fig. 5 (SAC after millions of steps) is not drawn: at this
//! budget it would squash the curves to the axis. Each panel's title gives a published figure
//! for it instead (`SAC_ASYMPTOTES`, cited there).
//!
//! Run: `cargo run --release --features candle --example gym_benchmarks -- --load` (reads logs
//! only: no MuJoCo needed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use riskmdp::continuous::config::TrainConfig;
use riskmdp::grid::{Manifest, Status};
use riskmdp::learn::Band;
use riskmdp::plot::curves::{Corner, Panel, Series, save};
use riskmdp::report::seeds::{FitPoint, median, read_fits, read_returns};

const FIGURES: &str = "figures";

/// The manifests of `--load` (the committed CPU-budget runs) and of the default (the Table 1
/// grids, once gathered).
const CPU: [&str; 3] =
    ["results/gym_cpu/fig5/manifest.json", "results/gym_cpu/fig7/manifest.json", "results/gym_cpu/fig8/manifest.json"];
const PAPER: [&str; 3] =
    ["results/fig5_gym/manifest.json", "results/fig7_ant/manifest.json", "results/fig8_hopper_ablations/manifest.json"];

/// The learners of Figs. 5 and 7: `--algo` name, legend, palette colour.
const LEARNERS: [(&str, &str, usize); 4] =
    [("beta-vmbpo", "β-VMBPO", 0), ("vmbpo", "VMBPO", 3), ("mbpo", "MBPO", 2), ("sac", "SAC", 1)];

/// Published returns of SAC trained for millions of steps, the role of Fig. 5's dashed line:
/// task, return, source. Farama's Minari expert policies (SAC, gymnasium v5 tasks) and the
/// RL Zoo's SAC for Ant (Ant-v3, 1 M steps); the paper gives no number for its line.
const SAC_ASYMPTOTES: [(&str, f64, &str); 4] = [
    ("hopper", 4098.17, "huggingface.co/farama-minari/Hopper-v5-SAC-expert"),
    ("walker2d", 6956.61, "huggingface.co/farama-minari/Walker2d-v5-SAC-expert"),
    ("half-cheetah", 11448.22, "huggingface.co/farama-minari/HalfCheetah-v5-SAC-expert"),
    ("ant", 5181.27, "huggingface.co/sb3/sac-Ant-v3"),
];

type Error = Box<dyn std::error::Error>;

/// One run's evaluations: `(environment step, mean evaluation return)`.
type Returns = Vec<(usize, f64)>;

/// The done runs of one grid, by (task, learner).
#[derive(Default)]
struct Logs {
    /// Each run's evaluations.
    curves: BTreeMap<(String, String), Vec<Returns>>,
    /// The model fits of each run of a variational learner.
    fits: BTreeMap<(String, String), Vec<Vec<FitPoint>>>,
    /// Each run's folder.
    dirs: BTreeMap<(String, String), Vec<PathBuf>>,
}

/// The done runs of the manifest `path`; an empty set, with a note, when it does not exist.
fn read(path: &Path) -> Result<Logs, Error> {
    let mut logs = Logs::default();
    if !path.exists() {
        eprintln!("note: no {} (run the grid and `riskmdp grid gather` it first)", path.display());
        return Ok(logs);
    }
    let manifest = Manifest::load(path)?;
    let root = path.parent().unwrap_or(Path::new("."));
    let mut missing = Vec::new();
    for run in &manifest.runs {
        if run.status != Status::Done {
            missing.push(format!("{} {} {} seed {} ({})", run.id, run.task, run.learner, run.seed, run.status.name()));
            continue;
        }
        let key = (run.task.clone(), run.learner.clone());
        let dir = root.join(&run.dir);
        let fits = read_fits(&dir)?;
        if !fits.is_empty() {
            logs.fits.entry(key.clone()).or_default().push(fits);
        }
        logs.curves.entry(key.clone()).or_default().push(read_returns(&dir)?);
        logs.dirs.entry(key).or_default().push(dir);
    }
    if !missing.is_empty() {
        eprintln!("note: {}: {} of {} runs not done, left out:", path.display(), missing.len(), manifest.runs.len());
        for line in &missing {
            eprintln!("  {line}");
        }
    }
    Ok(logs)
}

/// Mean ± std over the seeds at the steps every seed reached.
fn band(runs: &[Returns]) -> Result<Band, Error> {
    let n = runs.iter().map(Vec::len).min().unwrap_or(0);
    if n == 0 {
        return Err("a curve without runs, or a run without an evaluation".into());
    }
    let steps: Vec<usize> = runs[0][..n].iter().map(|&(s, _)| s).collect();
    if runs.iter().any(|r| r[..n].iter().map(|&(s, _)| s).ne(steps.iter().copied())) {
        return Err("the seeds of one curve were evaluated at different steps".into());
    }
    let columns: Vec<Vec<f64>> = (0..n).map(|k| runs.iter().map(|r| r[k].1).collect()).collect();
    Ok(Band::mean_std_columns(steps, &columns)?)
}

fn series(label: String, colour: usize, runs: &[Returns]) -> Result<Series, Error> {
    let b = band(runs)?;
    Ok(Series {
        label: format!("{label} ({} seeds)", runs.len()),
        x: b.episodes.iter().map(|&s| s as f64).collect(),
        y: b.centre,
        band: Some((b.lower, b.upper)),
        colour,
        dashed: false,
    })
}

fn panel(title: String, series: Vec<Series>) -> Panel {
    Panel {
        title,
        x_label: "environment steps".into(),
        y_label: "average return".into(),
        series,
        legend: Corner::UpperLeft,
        ..Panel::default()
    }
}

fn asymptote(task: &str) -> String {
    SAC_ASYMPTOTES
        .iter()
        .find(|(t, ..)| *t == task)
        .map_or_else(String::new, |(_, r, _)| format!(" (SAC asymptote, published: {r:.0})"))
}

fn title(task: &str) -> &'static str {
    match task {
        "hopper" => "Hopper-v4",
        "walker2d" => "Walker2d-v4",
        "half-cheetah" => "HalfCheetah-v4",
        "ant" => "Ant-v4",
        _ => "?",
    }
}

/// A table row: the last point of `s`, mean ± std over the seeds `runs`, and each seed's mean
/// over the last half of its evaluations, mean ± std over the seeds (steadier than one point).
fn last_row(task: &str, learner: &str, runs: &[Returns], s: &Series) -> Result<String, Error> {
    let k = s.y.len() - 1;
    let (lo, hi) = s.band.as_ref().map_or((s.y[k], s.y[k]), |(l, h)| (l[k], h[k]));
    let n = s.y.len();
    let halves: Vec<f64> =
        runs.iter().map(|r| r[n / 2..n].iter().map(|&(_, y)| y).sum::<f64>() / (n - n / 2) as f64).collect();
    let half = Band::mean_std_columns(vec![0], &[halves])?;
    Ok(format!(
        "| {task} | {learner} | {} | {} | {:.0} ± {:.0} | {} – {} | {:.0} ± {:.0} |",
        runs.len(),
        s.x[k],
        s.y[k],
        (hi - lo) / 2.0,
        s.x[n / 2],
        s.x[k],
        half.centre[0],
        half.upper[0] - half.centre[0]
    ))
}

/// One panel per task of `tasks`, one curve per learner of [`LEARNERS`] with done runs; the
/// last evaluation of each curve into `table`.
fn learner_panels(logs: &Logs, tasks: &[&str], table: &mut Vec<String>) -> Result<Vec<Panel>, Error> {
    let mut panels = Vec::new();
    for task in tasks {
        let mut curves = Vec::new();
        for (algo, name, colour) in LEARNERS {
            let Some(runs) = logs.curves.get(&(task.to_string(), algo.to_string())) else { continue };
            let s = series(name.to_string(), colour, runs)?;
            table.push(last_row(title(task), name, runs, &s)?);
            curves.push(s);
        }
        if !curves.is_empty() {
            panels.push(panel(format!("{}{}", title(task), asymptote(task)), curves));
        }
    }
    Ok(panels)
}

/// Fig. 8's two panels: the variants `beta0-*` and `beta-lr-*` of β-VMBPO on Hopper, with the
/// preset's own value from `fig5` when `fig8` has no such variant.
fn ablation_panels(fig8: &Logs, fig5: &Logs, table: &mut Vec<String>) -> Result<Vec<Panel>, Error> {
    // Fig. 5's runs up to Fig. 8's budget: what a run of that length logs (a run's length
    // changes only where it stops; tests/candle_train.rs).
    let Some(budget) = fig8.curves.values().flatten().filter_map(|r| r.last()).map(|&(s, _)| s).max() else {
        return Ok(Vec::new());
    };
    let key = ("hopper".to_string(), "beta-vmbpo".to_string());
    let default_runs: Option<Vec<Returns>> = fig5
        .curves
        .get(&key)
        .map(|runs| runs.iter().map(|r| r.iter().copied().filter(|&(s, _)| s <= budget).collect()).collect());
    let own = match fig5.dirs.get(&key).and_then(|d| d.first()) {
        Some(dir) => Some(TrainConfig::load(dir.join("config.json"))?.dual),
        None => None,
    };
    let mut panels = Vec::new();
    for (prefix, symbol, own, side) in [
        ("beta-vmbpo-beta0-", "β₀", own.as_ref().map(|d| d.beta0), "β's start"),
        ("beta-vmbpo-beta-lr-", "η", own.as_ref().map(|d| d.beta_lr), "the dual's step size"),
    ] {
        let mut variants: Vec<(f64, String, &Vec<Returns>)> = Vec::new();
        for ((task, learner), runs) in &fig8.curves {
            let Some(value) = learner.strip_prefix(prefix).filter(|_| task == "hopper") else { continue };
            let number: f64 = value.parse().map_err(|_| format!("variant `{learner}`: `{value}` is not a number"))?;
            variants.push((number, format!("{symbol} = {value}"), runs));
        }
        if let (Some(own), Some(runs)) = (own, &default_runs)
            && !variants.iter().any(|(v, ..)| v.to_bits() == own.to_bits())
        {
            variants.push((own, format!("{symbol} = {own} (Fig. 5's runs)"), runs));
        }
        variants.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut curves = Vec::new();
        for (i, (_, label, runs)) in variants.iter().enumerate() {
            let s = series(label.clone(), i, runs)?;
            table.push(last_row("Hopper-v4 (Fig. 8)", label, runs, &s)?);
            curves.push(s);
        }
        if !curves.is_empty() {
            panels.push(panel(format!("β-VMBPO on Hopper-v4: {side}"), curves));
        }
    }
    Ok(panels)
}

/// Where β acts, per (task, learner) with model fits: β after the last fit (range over seeds),
/// and medians over every fit of every seed of the KL the dual sees and of the actor's value
/// gradient against its prior gradient (‖∇ Q₂′/β‖ / ‖∇ (log q_ω − log π_κ)‖).
fn dual_table(all: &[&Logs]) -> String {
    let mut out = vec![
        "| task | learner | β after the last fit | KL (median) | ‖∇ value term‖ / ‖∇ prior term‖ (median) |"
            .to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    for logs in all {
        for ((task, learner), runs) in &logs.fits {
            let last: Vec<f64> = runs.iter().filter_map(|r| r.last()).map(|f| f.beta).collect();
            let (lo, hi) = last.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            let every = || runs.iter().flatten();
            let kl = median(every().map(|f| f.kl).collect()).unwrap_or(f64::NAN);
            let ratio = median(every().map(|f| f.grads[2] / f.grads[0]).collect()).unwrap_or(f64::NAN);
            let name = match learner.strip_prefix("beta-vmbpo") {
                Some(variant) => format!("β-VMBPO{variant}"),
                None => learner.replace("vmbpo", "VMBPO"),
            };
            out.push(format!("| {} | {name} | {lo:.3}–{hi:.3} | {kl:.2} | {ratio:.2e} |", title(task)));
        }
    }
    out.join("\n")
}

/// Read the three experiments and draw the figures that have done runs into `out`: their names,
/// and the tables of last evaluations and of β, as markdown.
fn draw(files: &[PathBuf; 3], out: &Path) -> Result<(Vec<&'static str>, String), Error> {
    let fig5 = read(&files[0])?;
    let fig7 = read(&files[1])?;
    let fig8 = read(&files[2])?;
    let budget = |logs: &Logs| {
        let steps = logs.curves.values().flatten().filter_map(|r| r.last()).map(|&(s, _)| s).max().unwrap_or(0);
        format!("{steps} steps, mean ± std over seeds")
    };
    let mut table = vec![
        "| task | learner | seeds | step | last evaluation, mean ± std | last half of the run | its mean per seed, mean ± std |"
            .to_string(),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    let figures = [
        (
            "fig5_gym",
            format!("Fig. 5: gym benchmarks ({})", budget(&fig5)),
            learner_panels(&fig5, &["hopper", "walker2d", "half-cheetah"], &mut table)?,
        ),
        ("fig7_ant", format!("Fig. 7: Ant ({})", budget(&fig7)), learner_panels(&fig7, &["ant"], &mut table)?),
        (
            "fig8_hopper",
            format!("Fig. 8: robustness to β₀ and η ({})", budget(&fig8)),
            ablation_panels(&fig8, &fig5, &mut table)?,
        ),
    ];
    if figures.iter().all(|(_, _, panels)| panels.is_empty()) {
        return Err(format!(
            "no run of {} is done: run the grids and gather them first (`riskmdp grid local FILE --jobs N`, then \
             `riskmdp grid gather FILE`), or pass --load for the committed runs",
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        )
        .into());
    }
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    for (name, title, panels) in figures {
        if panels.is_empty() {
            eprintln!("note: {name}: no run done, no figure");
            continue;
        }
        for ext in ["png", "svg"] {
            save(&panels, &title, &out.join(format!("{name}.{ext}")))?;
        }
        written.push(name);
    }
    Ok((written, format!("{}\n\n{}", table.join("\n"), dual_table(&[&fig5, &fig7, &fig8]))))
}

fn main() -> Result<(), Error> {
    let mut files = PAPER.map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--load" => {
                files = CPU.map(PathBuf::from);
                continue;
            }
            "--fig5" => 0,
            "--fig7" => 1,
            "--fig8" => 2,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; known: --load, --fig5 FILE, --fig7 FILE, --fig8 FILE"
                )
                .into());
            }
        };
        files[slot] =
            args.next().ok_or_else(|| format!("{arg}: needs a manifest (`riskmdp grid gather` writes one)"))?.into();
    }
    let (written, tables) = draw(&files, Path::new(FIGURES))?;
    println!("{tables}");
    println!("\nSAC asymptotes (published, not drawn):");
    for (task, value, source) in SAC_ASYMPTOTES {
        println!("  {}: {value} ({source})", title(task));
    }
    println!("wrote {} (.png, .svg) to {FIGURES}/", written.join(", "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed runs give the committed figures' bytes on every draw.
    #[test]
    fn the_committed_logs_draw_the_same_bytes_twice() {
        let root = std::env::temp_dir().join(format!("riskmdp-gym-benchmarks-{}", std::process::id()));
        let files = CPU.map(PathBuf::from);
        let (first, second) = (root.join("1"), root.join("2"));
        let (written, tables) = draw(&files, &first).expect("draws from the committed logs");
        assert!(tables.contains("| Hopper-v4 | β-VMBPO | 3 |"), "{tables}");
        assert!(written.contains(&"fig5_gym"), "{written:?}");
        assert_eq!(draw(&files, &second).expect("draws again").0, written);
        for name in written {
            for ext in ["png", "svg"] {
                let file = format!("{name}.{ext}");
                let a = std::fs::read(first.join(&file)).expect("written");
                let b = std::fs::read(second.join(&file)).expect("written");
                assert!(a.len() > 1000 && a == b, "{file} differs between two draws");
                let committed = std::fs::read(Path::new(FIGURES).join(&file)).expect("committed figure");
                assert!(a == committed, "{file}: the committed figure is not what the committed logs draw");
            }
        }
        std::fs::remove_dir_all(&root).ok();
    }
}
