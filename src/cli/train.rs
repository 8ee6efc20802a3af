//! `riskmdp train` and `riskmdp evaluate` (feature `candle`): continuous β-VMBPO, VMBPO, MBPO
//! and SAC on Mountain Car, Pendulum and (feature `mujoco`) Hopper, Walker2d, HalfCheetah and Ant.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::table::{num, table};
use riskmdp::continuous::config::TrainConfig;
use riskmdp::continuous::train::{
    Algo, CHECKPOINT_META, CHECKPOINT_TENSORS, EnvKind, EvalRecord, Evaluation, LOG_FILE, TrainReport, evaluate, train,
};

/// The starting configuration.
#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    /// The environment's CPU preset (`mountain-car-cpu`, `pendulum-cpu`, or `gym-cpu` for the
    /// MuJoCo tasks): minutes per run.
    Cpu,
    /// Table 1 (App. C.2) as published: about 1 s of one core per step after the warm-up.
    Paper,
    /// `TrainConfig::mountain_car_cpu`.
    MountainCarCpu,
    /// `TrainConfig::pendulum_cpu`.
    PendulumCpu,
    /// `TrainConfig::gym_cpu`: Table 1's dual on small networks and schedule, for the MuJoCo
    /// tasks.
    GymCpu,
}

/// Train a continuous learner (Algorithm 1 with networks); evaluate it in the real environment.
#[derive(Args)]
pub struct TrainArgs {
    /// The environment.
    #[arg(long, value_enum)]
    env: EnvKind,
    /// The learner.
    #[arg(long, value_enum)]
    algo: Algo,
    /// Environment steps.
    #[arg(long)]
    steps: usize,
    /// Seed of every weight, noise and minibatch draw: same seed, same log.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Starting configuration.
    #[arg(long, value_enum, default_value_t = PresetArg::Cpu)]
    preset: PresetArg,
    /// Config file (JSON, any subset of the fields of `TrainConfig`), applied over the preset's
    /// defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Folder for `config.json`, the JSON-lines log `log.jsonl` and the checkpoint; one that
    /// already holds a run is refused unless `--force`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the run already in `--out`.
    #[arg(long)]
    force: bool,
    /// Threads for the tensor work (1 was measured fastest on two cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Roll a checkpoint's deterministic actor out in the real environment.
#[derive(Args)]
pub struct EvaluateArgs {
    /// The checkpoint: a `riskmdp train --out` folder or its `.safetensors` file.
    checkpoint: PathBuf,
    /// Episodes.
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// Episode j starts from the environment's reset with seed `seed + j`.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The preset's name (`cpu` resolved for the environment).
fn preset_name(args: &TrainArgs) -> &'static str {
    match (args.preset, args.env) {
        (PresetArg::Paper, _) => "paper",
        (PresetArg::MountainCarCpu, _) | (PresetArg::Cpu, EnvKind::MountainCar) => "mountain-car-cpu",
        (PresetArg::PendulumCpu, _) | (PresetArg::Cpu, EnvKind::Pendulum) => "pendulum-cpu",
        #[cfg(feature = "mujoco")]
        (PresetArg::Cpu, EnvKind::Hopper | EnvKind::Walker2d | EnvKind::HalfCheetah | EnvKind::Ant) => "gym-cpu",
        (PresetArg::GymCpu, _) => "gym-cpu",
    }
}

/// Seconds of one core per environment step after the warm-up at Table 1's schedule (20
/// actor-critic updates per step, a fit of the 7 × 4×200 ensembles and 100 000 rollouts every
/// 250 steps), measured on this project's 2-core machine: `riskmdp train --env mountain-car
/// --algo beta-vmbpo --preset paper --steps 5250` took 242 s, nearly all of it in its 250 steps
/// after the warm-up.
const PAPER_SECONDS_PER_STEP: f64 = 0.96;

/// The starting configuration: the preset, with the file's fields over it.
fn config(args: &TrainArgs) -> riskmdp::Result<TrainConfig> {
    let preset = TrainConfig::preset(preset_name(args))?;
    match &args.config {
        Some(path) => preset.overlay_file(path),
        None => Ok(preset),
    }
}

pub fn run_train(args: TrainArgs) -> Result<String, String> {
    let (env, algo) = (args.env, args.algo);
    let config = config(&args).map_err(|e| e.to_string())?;
    if args.threads == 0 {
        return Err("--threads: must be at least 1".into());
    }
    // A run that ends inside the warm-up of random actions trains nothing and logs returns of
    // random play.
    if args.steps <= config.warmup_steps {
        return Err(format!(
            "--steps: {} is not more than the warm-up of {} random steps (warmup_steps): nothing would be trained",
            args.steps, config.warmup_steps
        ));
    }
    if matches!(args.preset, PresetArg::Paper) {
        let hours = (args.steps - config.warmup_steps) as f64 * PAPER_SECONDS_PER_STEP / 3600.0;
        eprintln!(
            "note: preset `paper` is Table 1's schedule: about {PAPER_SECONDS_PER_STEP} s of one core per step after the \
             warm-up (measured here), so these {} steps take about {hours:.1} h; `--preset cpu` runs in minutes",
            args.steps
        );
    }
    if let Some(out) = args.out.as_ref().filter(|_| !args.force) {
        let holds_run = [CHECKPOINT_META, CHECKPOINT_TENSORS, LOG_FILE].iter().any(|f| out.join(f).exists());
        if holds_run {
            return Err(format!("--out: {} already holds a run; pass --force to replace it", out.display()));
        }
    }
    // candle's matmul takes its thread count from RAYON_NUM_THREADS on every call; its other
    // work runs on the rayon pool installed below.
    // SAFETY: no other thread exists yet (parsing and loading the config are single-threaded
    // and no rayon pool has been built), so nothing can read the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string()) };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads).build().map_err(|e| e.to_string())?;
    let bar = if std::io::stderr().is_terminal() && !args.json {
        let bar = ProgressBar::with_draw_target(Some(args.steps as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  [{elapsed_precise}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = |r: &EvalRecord| {
        bar.set_position(r.step as u64);
        let beta = r.beta.map_or(String::new(), |b| format!("  β {b:.4}"));
        bar.set_message(format!("return {:.2}{beta}", r.eval_return));
    };
    let report = pool
        .install(|| train(env, algo, &config, args.steps, args.seed, args.out.as_deref(), progress))
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if args.json {
        return super::json(&report).map_err(|e| e.to_string());
    }
    Ok(train_text(&report, &args))
}

/// What an episode that ends in a terminal state did on `env`: Mountain Car's car reached the
/// goal; Hopper, Walker2d and Ant fell (left the healthy range); Pendulum and HalfCheetah never
/// terminate.
fn terminal_meaning(env: EnvKind) -> &'static str {
    match env {
        EnvKind::MountainCar => "at goal",
        _ => "fell",
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), num)
}

fn train_text(report: &TrainReport, args: &TrainArgs) -> String {
    let mut out = format!(
        "{}: {}, {} steps, seed {}, preset {}\n",
        args.env.name(),
        args.algo.name(),
        args.steps,
        args.seed,
        preset_name(args)
    );
    if let Some(path) = &report.checkpoint {
        out.push_str(&format!("checkpoint {}\n", path.display()));
    }
    let header =
        ["step", "eval return", terminal_meaning(args.env), "β", "KL", "critic loss"].map(String::from).to_vec();
    let rows = report
        .records
        .iter()
        .map(|r| {
            vec![
                r.step.to_string(),
                num(r.eval_return),
                r.eval_terminated.to_string(),
                opt(r.beta),
                opt(r.kl),
                opt(r.critic_loss),
            ]
        })
        .collect();
    out.push_str(&table(header, rows));
    out
}

pub fn run_evaluate(args: EvaluateArgs) -> Result<String, String> {
    if args.episodes == 0 {
        return Err("--episodes: must be at least 1".into());
    }
    if !args.checkpoint.exists() {
        return Err(format!("{}: no such checkpoint file or folder", args.checkpoint.display()));
    }
    let evaluation = evaluate(&args.checkpoint, args.episodes, args.seed).map_err(|e| e.to_string())?;
    if args.json {
        return super::json(&evaluation).map_err(|e| e.to_string());
    }
    Ok(evaluate_text(&evaluation))
}

fn evaluate_text(e: &Evaluation) -> String {
    let ended = e.terminated.iter().filter(|&&t| t).count();
    let mut out = format!(
        "{} trained {} steps: mean return {} over {} episodes, {ended} ended in a terminal state ({})\n",
        e.algo.name(),
        e.step,
        num(e.mean_return),
        e.returns.len(),
        terminal_meaning(e.env)
    );
    let rows = e
        .returns
        .iter()
        .zip(&e.terminated)
        .enumerate()
        .map(|(j, (r, t))| vec![j.to_string(), num(*r), t.to_string()])
        .collect();
    out.push_str(&table(["episode", "return", "terminated"].map(String::from).to_vec(), rows));
    out
}
