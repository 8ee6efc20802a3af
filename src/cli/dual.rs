//! `riskmdp dual`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::table::{num, table};
use riskmdp::dual::DualDescent;
use riskmdp::report::{self, DualReport};
use riskmdp::utility::KlWeights;
use riskmdp::{Result, SolveOptions, TabularMdp};

/// Rows of the KL curve shown in the table (all of them are in --json).
const CURVE_ROWS: usize = 12;

/// How per-pair KLs are averaged.
#[derive(Clone, Copy, ValueEnum)]
pub enum WeightsArg {
    /// By the occupancy of the greedy policy from ρ (Eq. 8).
    Occupancy,
    /// Uniformly over non-terminal pairs.
    Uniform,
}

/// The β dual: every root of KL_β = ε, and optionally a dual-descent trajectory.
#[derive(Args)]
pub struct DualArgs {
    /// MDP file (JSON).
    file: PathBuf,
    /// KL budget ε > 0 (nats).
    #[arg(long, allow_negative_numbers = true)]
    epsilon: f64,
    /// How per-pair KLs are averaged.
    #[arg(long, value_enum, default_value = "occupancy")]
    weights: WeightsArg,
    /// Smallest β of the root grid (and the lower clamp of dual descent).
    #[arg(long, default_value = "1e-3", allow_negative_numbers = true)]
    beta_min: f64,
    /// Largest β of the root grid.
    #[arg(long, default_value = "1e7", allow_negative_numbers = true)]
    pub(super) beta_max: f64,
    /// Grid points for the root search.
    #[arg(long, default_value_t = 121)]
    points: usize,
    /// Start dual descent at this β.
    #[arg(long, allow_negative_numbers = true)]
    beta0: Option<f64>,
    /// Dual-descent step size η.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    lr: f64,
    /// Dual-descent steps.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Relative solver tolerance.
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub(super) tol: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Parse → call → print.
pub fn run(args: DualArgs) -> Result<String> {
    let mdp = TabularMdp::load(&args.file)?;
    let weights = match args.weights {
        WeightsArg::Occupancy => KlWeights::Occupancy,
        WeightsArg::Uniform => KlWeights::Uniform,
    };
    let descent = args.beta0.map(|beta0| DualDescent {
        epsilon: args.epsilon,
        beta0,
        lr: args.lr,
        steps: args.steps,
        beta_min: args.beta_min,
        weights,
    });
    let grid = (args.beta_min, args.beta_max, args.points);
    let r = report::dual(&mdp, args.epsilon, weights, grid, descent, SolveOptions::default().tol(args.tol))?;
    if args.json {
        return super::json(&r);
    }
    Ok(text(&r))
}

fn text(r: &DualReport) -> String {
    let list = |xs: &[f64]| {
        if xs.is_empty() { "none".to_string() } else { xs.iter().map(|&x| num(x)).collect::<Vec<_>>().join(", ") }
    };
    let mut out = format!(
        "{}: KL_β = ε = {} on {} points of β in [{}, {}]\nroots:        {}\nstable roots: {}\n",
        r.name,
        r.scan.epsilon,
        r.points,
        num(r.beta_range[0]),
        num(r.beta_range[1]),
        list(&r.scan.roots),
        list(&r.scan.stable_roots)
    );
    for j in &r.scan.jumps {
        out.push_str(&format!(
            "KL_β jumps across ε at β = {} (greedy policy switch; {})\n",
            num(j.beta),
            if j.stable { "attracting" } else { "repelling" }
        ));
    }
    let stride = (r.scan.kl_curve.len() / CURVE_ROWS).max(1);
    let rows = r.scan.kl_curve.iter().step_by(stride).map(|[b, k]| vec![num(*b), num(*k)]).collect();
    out.push_str(&table(vec!["β".into(), "KL_β".into()], rows));
    if let Some(traj) = &r.trajectory
        && let (Some(first), Some(last)) = (traj.first(), traj.last())
    {
        out.push_str(&format!(
            "\ndual descent: {} steps from β = {} → β = {}, KL_β = {}",
            traj.len() - 1,
            num(first[0]),
            num(last[0]),
            num(last[1])
        ));
    }
    out
}
