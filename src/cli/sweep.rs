//! `riskmdp sweep`.

use std::path::PathBuf;

use clap::Args;

use super::table::{num, table};
use riskmdp::report::{self, SweepReport};
use riskmdp::{Result, SolveOptions, TabularMdp};

/// The most posterior columns the table shows (all of them are in --json).
const MAX_POSTERIOR_COLUMNS: usize = 8;

/// Sweep β on a log grid at one state: certainty equivalents, greedy action, posterior
/// dynamics, and the exact β of every greedy switch.
#[derive(Args)]
pub struct SweepArgs {
    /// MDP file (JSON).
    file: PathBuf,
    /// Smallest β.
    #[arg(long, default_value = "1e-2", allow_negative_numbers = true)]
    beta_min: f64,
    /// Largest β.
    #[arg(long, default_value = "1e3", allow_negative_numbers = true)]
    pub(super) beta_max: f64,
    /// Grid points.
    #[arg(long, default_value_t = 41)]
    points: usize,
    /// State (name or index); default: the initial state.
    #[arg(long)]
    state: Option<String>,
    /// Relative solver tolerance.
    #[arg(long, default_value = "1e-12", allow_negative_numbers = true)]
    pub(super) tol: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also draw the certainty equivalents and posterior dynamics against β (Fig. 1 style) to
    /// this .png or .svg file.
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// Parse → call → print.
pub fn run(args: SweepArgs) -> Result<String> {
    let mdp = TabularMdp::load(&args.file)?;
    let options = SolveOptions::default().tol(args.tol);
    let r = report::sweep(&mdp, args.state.as_deref(), (args.beta_min, args.beta_max, args.points), options)?;
    if let Some(path) = &args.plot {
        riskmdp::plot::beta_sweep::save(&mdp, &r.sweep, path)?;
    }
    if args.json {
        return super::json(&r);
    }
    Ok(text(&r))
}

fn text(r: &SweepReport) -> String {
    let show_posterior = r.support.len() <= MAX_POSTERIOR_COLUMNS;
    let mut header = vec!["β".to_string()];
    header.extend(r.actions.iter().map(|a| format!("β·Q({a})")));
    header.push("greedy".into());
    if show_posterior {
        header.extend(r.support.iter().map(|&[a, j]| format!("q({}|{})", r.states[j], r.actions[a])));
    }
    let rows = r
        .sweep
        .points
        .iter()
        .map(|p| {
            let mut row = vec![num(p.beta)];
            row.extend(p.certainty_equivalent.iter().map(|&x| num(x)));
            row.push(r.actions[p.greedy].clone());
            if show_posterior {
                row.extend(r.support.iter().map(|&[a, j]| num(p.posterior_dynamics[a][j])));
            }
            row
        })
        .collect();
    let mut out = format!("{}: β sweep at state `{}`\n{}\n", r.name, r.state_name, table(header, rows));
    if r.sweep.switches.is_empty() {
        out.push_str("no switch of the greedy action in this range\n");
    }
    for sw in &r.sweep.switches {
        out.push_str(&format!(
            "greedy switches from `{}` to `{}` at β = {:.12}\n",
            r.actions[sw.from], r.actions[sw.to], sw.beta
        ));
    }
    for u in &r.sweep.unresolved {
        out.push_str(&format!(
            "cannot exclude a hidden switch from `{}` to `{}` and back in β ∈ [{:.12}, {:.12}]\n",
            r.actions[u.greedy], r.actions[u.rival], u.lo, u.hi
        ));
    }
    out.trim_end().to_string()
}
