//! `riskmdp learn`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::table::{num, table};
use riskmdp::envs::{Gridworld, risky_arm};
use riskmdp::learn::{Algorithm, LearnConfig, LearnReport, learn_with_progress};
use riskmdp::{Error, Result, TabularMdp};

/// The learner.
#[derive(Clone, Copy, ValueEnum)]
pub enum AlgoArg {
    /// β-VMBPO: β by dual descent (Eq. 9).
    BetaVmbpo,
    /// VMBPO: β = 1.
    Vmbpo,
    /// ε-greedy Q-learning.
    QLearning,
    /// MnM: β = 1 on (1 − γ)·log r (positive rewards only).
    Mnm,
}

/// Run a tabular learner and report the exact return of its greedy policy over episodes.
#[derive(Args)]
pub struct LearnArgs {
    /// Environment: `risky-arm`, `cliff`, `mnm` (each from its figure's settings), or an MDP file
    /// (JSON).
    ///
    /// The cliff starts from Fig. 3's settings, mnm from Fig. 6a's, printed in the report; the
    /// risky arm and a file from the defaults.
    #[arg(long)]
    env: String,
    /// The learner.
    #[arg(long, value_enum)]
    algo: AlgoArg,
    /// Episodes (default: the preset's, 3000 for cliff and mnm, else 1000).
    #[arg(long)]
    episodes: Option<usize>,
    /// Seed of the random generator (ChaCha8): same seed, same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Initial β (β-VMBPO).
    #[arg(long, allow_negative_numbers = true)]
    beta0: Option<f64>,
    /// KL bound ε of the dual (β-VMBPO).
    #[arg(long, allow_negative_numbers = true)]
    epsilon: Option<f64>,
    /// Step size of the dual (β-VMBPO; 0 keeps β fixed).
    #[arg(long, allow_negative_numbers = true)]
    beta_lr: Option<f64>,
    /// Config file (JSON, any subset of `LearnConfig`'s fields), applied over the
    /// environment's preset (as `train --config`); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The named environments.
const ENVIRONMENTS: [&str; 3] = ["risky-arm", "cliff", "mnm"];

fn environment(name: &str) -> Result<TabularMdp> {
    match name {
        "risky-arm" => Ok(risky_arm()),
        "cliff" => Gridworld::cliff().build(),
        "mnm" => Gridworld::mnm().build(),
        file if std::path::Path::new(file).exists() => TabularMdp::load(file),
        other => Err(Error::InvalidParameter {
            name: "--env".into(),
            message: format!("`{other}` is neither an environment ({}) nor an MDP file", ENVIRONMENTS.join(", ")),
        }),
    }
}

/// The settings of the environment's figure, and their name for the report.
fn preset(env: &str, algo: AlgoArg) -> (&'static str, LearnConfig) {
    match env {
        "cliff" => ("Fig. 3 (LearnConfig::cliff_figure_3)", LearnConfig::cliff_figure_3()),
        "mnm" => ("Fig. 6a (LearnConfig::mnm_figure_6)", LearnConfig::mnm_figure_6(matches!(algo, AlgoArg::Mnm))),
        _ => ("the defaults (LearnConfig::default)", LearnConfig::default()),
    }
}

/// `--beta0`, `--epsilon` and `--beta-lr` set the dual of β-VMBPO; the other learners have no
/// β to move (VMBPO and MnM keep β = 1, Q-learning has none), so the flags are refused there.
fn check_dual_flags(args: &LearnArgs) -> Result<()> {
    if matches!(args.algo, AlgoArg::BetaVmbpo) {
        return Ok(());
    }
    let given = [("--beta0", args.beta0), ("--epsilon", args.epsilon), ("--beta-lr", args.beta_lr)];
    match given.iter().find(|(_, value)| value.is_some()) {
        Some((flag, _)) => Err(Error::InvalidParameter {
            name: (*flag).into(),
            message: format!("only `beta-vmbpo` moves β; `{}` would ignore it", args.algo.name()),
        }),
        None => Ok(()),
    }
}

impl AlgoArg {
    fn name(self) -> &'static str {
        match self {
            AlgoArg::BetaVmbpo => "beta-vmbpo",
            AlgoArg::Vmbpo => "vmbpo",
            AlgoArg::QLearning => "q-learning",
            AlgoArg::Mnm => "mnm",
        }
    }
}

/// Parse → call → print.
pub fn run(args: LearnArgs) -> Result<String> {
    check_dual_flags(&args)?;
    let mdp = environment(&args.env)?;
    let (preset_name, preset) = preset(&args.env, args.algo);
    let (settings, mut config) = match &args.config {
        Some(path) => (format!("preset: {preset_name}, config {}", path.display()), preset.overlay_file(path)?),
        None => (format!("preset: {preset_name}"), preset),
    };
    config.episodes = args.episodes.unwrap_or(config.episodes);
    config.dual.beta0 = args.beta0.unwrap_or(config.dual.beta0);
    config.dual.epsilon = args.epsilon.unwrap_or(config.dual.epsilon);
    config.dual.beta_lr = args.beta_lr.unwrap_or(config.dual.beta_lr);
    config.validate()?;
    let algorithm = match args.algo {
        AlgoArg::BetaVmbpo => Algorithm::BetaVmbpo,
        AlgoArg::Vmbpo => Algorithm::Vmbpo,
        AlgoArg::QLearning => Algorithm::QLearning,
        AlgoArg::Mnm => Algorithm::Mnm,
    };
    // A progress bar only where a person watches: never in pipes, files or tests.
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(config.episodes as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} episodes, {per_sec}, eta {eta}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let report = learn_with_progress(&mdp, algorithm, &config, &mut rng, |done| bar.set_position(done as u64));
    bar.finish_and_clear();
    let report = report?;
    if args.json {
        return super::json(&report);
    }
    Ok(text(&report, args.seed, &settings))
}

/// Most rows of the text table; `--json` has every measurement.
const MAX_ROWS: usize = 21;

fn text(r: &LearnReport, seed: u64, settings: &str) -> String {
    let algo = serde_json::to_value(r.algorithm).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let mut out = format!(
        "{}: {algo}, {} episodes ({} environment steps), seed {seed}, {settings}\n\
         final return {} (risk-neutral optimum {}), greedy action at the start `{}`",
        r.env,
        r.episodes.last().copied().unwrap_or(0),
        r.env_steps,
        num(r.final_return),
        num(r.v_star),
        r.final_greedy
    );
    if let (Some(beta), Some(kl)) = (r.final_beta, r.final_kl) {
        out.push_str(&format!(", β = {}, KL = {}", num(beta), num(kl)));
    }
    out.push('\n');
    let n = r.episodes.len();
    let stride = n.div_ceil(MAX_ROWS).max(1);
    let mut rows_at: Vec<usize> = (0..n).step_by(stride).collect();
    if rows_at.last() != Some(&(n - 1)) && n > 0 {
        rows_at.push(n - 1);
    }
    let has_beta = !r.betas.is_empty();
    let mut header: Vec<String> = ["episode", "return"].map(String::from).to_vec();
    if has_beta {
        header.extend(["β", "KL"].map(String::from));
    }
    header.push("greedy at start".into());
    let rows = rows_at
        .into_iter()
        .map(|i| {
            let mut row = vec![r.episodes[i].to_string(), num(r.returns[i])];
            if has_beta {
                row.extend([num(r.betas[i]), num(r.kls[i])]);
            }
            row.push(r.greedy[i].clone());
            row
        })
        .collect();
    out.push_str(&table(header, rows));
    if stride > 1 {
        out.push_str(&format!("\n(one measurement in {stride} shown; --json for all {n})"));
    }
    out
}
