//! The seed table of a grid of continuous runs, recounted from the runs' own logs.
//!
//! A run folder written by `riskmdp train --out DIR` holds `config.json`, the evaluations
//! `log.jsonl` (one line per evaluation) and, for β-VMBPO and VMBPO, the model fits
//! `fits.jsonl` (one line per fit). [`summarise`] reads the runs of one learner
//! (`DIR/seed-<k>/`), [`markdown`] renders the table README and `docs/continuous.md` quote, and a
//! test recounts it from the committed logs, so the table cannot drift from the runs. Only
//! `serde_json` is needed: the default build reads what the `candle` build wrote.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// The Mountain Car grid of `scripts/mountain-car-seeds.sh`: folder under
/// `results/mountain_car/`, row name, and whether the learner steps β.
pub const MOUNTAIN_CAR: [(&str, &str, bool); 4] = [
    ("beta-vmbpo-eps10", "β-VMBPO", true),
    ("beta-vmbpo-eps1", "β-VMBPO", true),
    ("beta-vmbpo-eps0.1", "β-VMBPO", true),
    ("vmbpo", "VMBPO (β = 1)", false),
];

/// What one run's logs say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedRun {
    /// The training seed (from the folder name `seed-<k>`).
    pub seed: u64,
    /// Steps of the last evaluation.
    pub steps: usize,
    /// Mean return of the last evaluation.
    pub final_return: f64,
    /// Whether every episode of the last evaluation ended at the goal (terminated).
    pub final_at_goal: bool,
    /// The first evaluation step at which every episode ended at the goal, if any.
    pub first_at_goal: Option<usize>,
    /// β at the last evaluation (`None` for learners without one).
    pub final_beta: Option<f64>,
    /// Model fits logged (`fits.jsonl`; 0 when there is none).
    pub fits: usize,
    /// Fits after whose dual step β is strictly inside `(beta_min, beta_max)`.
    pub fits_inside: usize,
    /// Median over the fits of the KL the dual saw.
    pub median_kl: Option<f64>,
}

/// The runs of one learner, by seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnerRuns {
    /// The row's name (the folder's name unless given).
    pub name: String,
    /// Whether the learner steps β by dual descent.
    pub dual: bool,
    /// ε of the dual, from the runs' `config.json` (`None` without a dual, or if they disagree).
    pub epsilon: Option<f64>,
    /// Every run, by increasing seed.
    pub runs: Vec<SeedRun>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })
}

fn json_error(path: &Path, line: usize, message: impl std::fmt::Display) -> Error {
    Error::Json { path: path.display().to_string(), message: format!("line {line}: {message}") }
}

/// The JSON object on each non-empty line of a JSON-lines file.
fn lines(path: &Path) -> Result<Vec<serde_json::Map<String, Value>>> {
    read(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| match serde_json::from_str(l) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(json_error(path, i + 1, "not a JSON object")),
            Err(e) => Err(json_error(path, i + 1, e)),
        })
        .collect()
}

fn number(map: &serde_json::Map<String, Value>, field: &str, path: &Path, line: usize) -> Result<f64> {
    map.get(field)
        .and_then(Value::as_f64)
        .ok_or_else(|| json_error(path, line, format!("`{field}` is missing or not a number")))
}

/// The evaluations of one run folder's `log.jsonl`: `(step, eval_return)` per line, in order.
///
/// # Errors
/// [`Error::Io`] for a missing log, [`Error::Json`] naming the file and line of a malformed
/// record, or a log without an evaluation.
pub fn read_returns(dir: &Path) -> Result<Vec<(usize, f64)>> {
    let path = dir.join("log.jsonl");
    let records = lines(&path)?;
    if records.is_empty() {
        return Err(json_error(&path, 1, "no evaluation in the log"));
    }
    records
        .iter()
        .enumerate()
        .map(|(i, r)| Ok((number(r, "step", &path, i + 1)? as usize, number(r, "eval_return", &path, i + 1)?)))
        .collect()
}

/// The median of `xs` (the mean of the middle two for an even count), `None` when empty.
#[must_use]
pub fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { 0.5 * (xs[n / 2 - 1] + xs[n / 2]) })
}

/// One line of a run's `fits.jsonl`: the numbers the dual figure draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitPoint {
    /// Environment steps at the fit.
    pub step: f64,
    /// β after the fit's dual step.
    pub beta: f64,
    /// The KL the dual saw.
    pub kl: f64,
    /// The Monte-Carlo KL of the elite mixtures.
    pub kl_monte_carlo: f64,
    /// Share of Eq. 11's log-weights at the clamp.
    pub saturated: f64,
    /// The policy's entropy, nats.
    pub entropy: f64,
    /// `‖∇_ω‖` of the actor loss's prior term, entropy term and value term.
    pub grads: [f64; 3],
    /// The signal shares of the prior term's and the value term's gradients.
    pub signal: [f64; 2],
}

/// Every fit of one run folder, in order (empty when it has no `fits.jsonl`).
///
/// # Errors
/// [`Error::Io`], or [`Error::Json`] naming the line of a malformed record.
pub fn read_fits(dir: &Path) -> Result<Vec<FitPoint>> {
    let path = dir.join("fits.jsonl");
    if !path.exists() {
        return Ok(Vec::new());
    }
    lines(&path)?
        .iter()
        .enumerate()
        .map(|(i, fit)| {
            let get = |field: &str| number(fit, field, &path, i + 1);
            let actor =
                fit.get("actor").and_then(Value::as_object).ok_or_else(|| json_error(&path, i + 1, "no `actor`"))?;
            let term = |field: &str| number(actor, field, &path, i + 1);
            Ok(FitPoint {
                step: get("step")?,
                beta: get("beta_next")?,
                kl: get("kl")?,
                kl_monte_carlo: get("kl_monte_carlo")?,
                saturated: get("saturated")?,
                entropy: term("entropy")?,
                grads: [term("prior_grad")?, term("entropy_grad")?, term("value_grad")?],
                signal: [term("prior_grad_signal")?, term("value_grad_signal")?],
            })
        })
        .collect()
}

/// One run folder (`config.json`, `log.jsonl`, optional `fits.jsonl`).
///
/// # Errors
/// [`Error::Io`] for a missing file, [`Error::Json`] naming the file and line of a malformed
/// record, or a log without an evaluation.
pub fn read_run(dir: &Path, seed: u64) -> Result<(SeedRun, Option<f64>)> {
    let config_path = dir.join("config.json");
    let config: Value = serde_json::from_str(&read(&config_path)?).map_err(|e| json_error(&config_path, 1, e))?;
    let field = |name: &str| config.get(name).and_then(Value::as_f64);
    let episodes = field("eval_episodes").ok_or_else(|| json_error(&config_path, 1, "no `eval_episodes`"))?;
    let (beta_min, beta_max) = (field("beta_min").unwrap_or(0.0), field("beta_max").unwrap_or(f64::INFINITY));

    let log_path = dir.join("log.jsonl");
    let evaluations = lines(&log_path)?;
    let mut first_at_goal = None;
    let mut last = None;
    for (i, record) in evaluations.iter().enumerate() {
        let step = number(record, "step", &log_path, i + 1)? as usize;
        let at_goal = number(record, "eval_terminated", &log_path, i + 1)? >= episodes;
        if at_goal && first_at_goal.is_none() {
            first_at_goal = Some(step);
        }
        let beta = record.get("beta").and_then(Value::as_f64);
        last = Some((step, number(record, "eval_return", &log_path, i + 1)?, at_goal, beta));
    }
    let (steps, final_return, final_at_goal, final_beta) =
        last.ok_or_else(|| json_error(&log_path, 1, "no evaluation in the log"))?;

    let fits_path = dir.join("fits.jsonl");
    let fits = if fits_path.exists() { lines(&fits_path)? } else { Vec::new() };
    let mut kls = Vec::with_capacity(fits.len());
    let mut fits_inside = 0;
    for (i, fit) in fits.iter().enumerate() {
        kls.push(number(fit, "kl", &fits_path, i + 1)?);
        let beta = number(fit, "beta_next", &fits_path, i + 1)?;
        fits_inside += usize::from(beta > beta_min && beta < beta_max);
    }
    let run = SeedRun {
        seed,
        steps,
        final_return,
        final_at_goal,
        first_at_goal,
        final_beta,
        fits: fits.len(),
        fits_inside,
        median_kl: median(kls),
    };
    Ok((run, field("epsilon")))
}

/// Every `seed-<k>` folder under `dir`, by increasing seed; `name` labels the row. `dual`:
/// whether the learner steps β (β-VMBPO) rather than fixing it (VMBPO), so that ε and the
/// fits with β inside its bounds mean something.
///
/// # Errors
/// Those of [`read_run`], or a folder without runs.
pub fn summarise(dir: &Path, name: &str, dual: bool) -> Result<LearnerRuns> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.display().to_string(), source })?;
    let mut seeds: Vec<u64> =
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("seed-")?.parse().ok()).collect();
    seeds.sort_unstable();
    if seeds.is_empty() {
        return Err(Error::InvalidParameter {
            name: "runs".into(),
            message: format!("no seed-<k> folder in {}", dir.display()),
        });
    }
    let mut runs = Vec::with_capacity(seeds.len());
    let mut epsilons = Vec::new();
    for seed in seeds {
        let (run, epsilon) = read_run(&dir.join(format!("seed-{seed}")), seed)?;
        runs.push(run);
        epsilons.push(epsilon);
    }
    let epsilon = if dual && epsilons.windows(2).all(|w| w[0] == w[1]) { epsilons[0] } else { None };
    Ok(LearnerRuns { name: name.to_owned(), dual, epsilon, runs })
}

/// A short number for a markdown cell: up to 3 significant digits, scientific outside
/// [1e-2, 1e5).
fn short(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if (1e-2..1e5).contains(&a) {
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        let text = format!("{x:.digits$}");
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
    } else {
        format!("{x:.0e}")
    }
}

fn seed_list(runs: &[&SeedRun]) -> String {
    if runs.is_empty() {
        return "none".into();
    }
    runs.iter().map(|r| r.seed.to_string()).collect::<Vec<_>>().join(", ")
}

/// The seed table as markdown: per learner, the seeds whose last evaluation has every episode at the goal,
/// those that had it at some evaluation, when they first had it, the median final return, β at
/// the end, the share of fits after which β was strictly inside its bounds, and the median KL.
#[must_use]
pub fn markdown(learners: &[LearnerRuns]) -> String {
    let header = [
        "learner",
        "ε",
        "every episode at the goal, last evaluation",
        "… at some evaluation",
        "first step",
        "final return (median)",
        "β at the end",
        "fits with β inside its bounds",
        "KL per fit (median)",
    ];
    let rows = learners
        .iter()
        .map(|l| {
            let n = l.runs.len();
            let at_end: Vec<&SeedRun> = l.runs.iter().filter(|r| r.final_at_goal).collect();
            let ever: Vec<&SeedRun> = l.runs.iter().filter(|r| r.first_at_goal.is_some()).collect();
            let first: Vec<usize> = ever.iter().filter_map(|r| r.first_at_goal).collect();
            let first = match (first.iter().min(), first.iter().max()) {
                (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
                (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
                _ => "never".into(),
            };
            let betas: Vec<f64> = l.runs.iter().filter_map(|r| r.final_beta).collect();
            let beta = match (betas.iter().copied().reduce(f64::min), betas.iter().copied().reduce(f64::max)) {
                (Some(lo), Some(hi)) if lo.to_bits() == hi.to_bits() => short(lo),
                (Some(lo), Some(hi)) => format!("{}–{}", short(lo), short(hi)),
                _ => "—".into(),
            };
            let fits: usize = l.runs.iter().map(|r| r.fits).sum();
            let inside: usize = l.runs.iter().map(|r| r.fits_inside).sum();
            let kl = median(l.runs.iter().filter_map(|r| r.median_kl).collect());
            vec![
                l.name.clone(),
                l.epsilon.map_or("—".into(), short),
                format!("{} of {n} ({})", at_end.len(), seed_list(&at_end)),
                format!("{} of {n} ({})", ever.len(), seed_list(&ever)),
                first,
                median(l.runs.iter().map(|r| r.final_return).collect()).map_or("—".into(), |m| format!("{m:.1}")),
                beta,
                if fits == 0 || !l.dual { "—".into() } else { format!("{inside} of {fits}") },
                kl.map_or("—".into(), |k| format!("{k:.2}")),
            ]
        })
        .collect::<Vec<Vec<String>>>();
    let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let mut out = vec![line(&header.map(str::to_owned)), format!("|{}", "---|".repeat(header.len()))];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_are_read_in_order_and_a_bad_line_is_located() {
        let dir = std::env::temp_dir().join(format!("riskmdp-read-returns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("log.jsonl");
        std::fs::write(&log, "{\"step\":1000,\"eval_return\":-2.5}\n\n{\"step\":2000,\"eval_return\":7}\n")
            .expect("log");
        assert_eq!(read_returns(&dir).expect("reads"), vec![(1000, -2.5), (2000, 7.0)]);
        std::fs::write(&log, "{\"step\":1000,\"eval_return\":1}\n{\"step\":2000}\n").expect("log");
        let message = read_returns(&dir).expect_err("a record without a return").to_string();
        assert!(message.contains("line 2") && message.contains("eval_return"), "{message}");
        std::fs::write(&log, "").expect("log");
        assert!(read_returns(&dir).is_err(), "an empty log");
        std::fs::remove_dir_all(&dir).ok();
    }
}
