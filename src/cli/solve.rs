//! `riskmdp solve`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::table::{num, table};
use riskmdp::report::{self, Objective, SolveReport};
use riskmdp::{Beta, Method, Policy, Result, SolveOptions, TabularMdp};

/// Algorithm for the optimum without a horizon.
#[derive(Clone, Copy, ValueEnum)]
pub enum MethodArg {
    /// Value iteration (Lemma 4.1).
    ValueIteration,
    /// Policy iteration (Theorem 4.3).
    PolicyIteration,
}

/// Solve for Q* (or Q_π with --policy) at one β.
#[derive(Args)]
pub struct SolveArgs {
    /// MDP file (JSON).
    file: PathBuf,
    /// Risk parameter β > 0.
    #[arg(long, allow_negative_numbers = true)]
    beta: f64,
    /// Evaluate this policy (JSON S×A, or T×S×A with a horizon) instead of optimising.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Algorithm for the optimum without a horizon.
    #[arg(long, value_enum, default_value = "value-iteration")]
    method: MethodArg,
    /// Relative tolerance on the certified error bound.
    #[arg(long, default_value = "1e-12", allow_negative_numbers = true)]
    pub(super) tol: f64,
    /// Most operator sweeps.
    #[arg(long, default_value_t = 1_000_000)]
    max_iter: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also draw the greedy policy, its posterior dynamics and the greedy path to this .png or
    /// .svg file (models with a `grid` only).
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// Parse → call → print.
pub fn run(args: SolveArgs) -> Result<String> {
    let mdp = TabularMdp::load(&args.file)?;
    let policy = args.policy.map(|path| Policy::load(&mdp, path)).transpose()?;
    let method = match args.method {
        MethodArg::ValueIteration => Method::ValueIteration,
        MethodArg::PolicyIteration => Method::PolicyIteration,
    };
    let options = SolveOptions::default().tol(args.tol).max_iterations(args.max_iter);
    let solved = report::solve(&mdp, Beta::new(args.beta)?, policy.as_ref(), method, options)?;
    if let Some(path) = &args.plot {
        riskmdp::plot::gridworld::save_solution(&mdp, &solved.solution, path)?;
    }
    if args.json {
        return super::json(&solved.report);
    }
    Ok(text(&solved.report))
}

fn text(r: &SolveReport) -> String {
    let what = match r.objective {
        Objective::Optimal => "optimal Q*",
        Objective::Policy => "Q_π of the given policy",
    };
    let horizon = r.horizon.map_or("none".to_string(), |t| t.to_string());
    let mut out = format!(
        "{}: {what} at β = {}, γ = {}, horizon {horizon}\n{} after {} sweep(s); residual {}, error bound {}\n",
        r.name,
        r.beta,
        r.gamma,
        r.termination,
        r.iterations,
        num(r.residual),
        num(r.error_bound)
    );
    if r.horizon.is_some() {
        out.push_str("values at t = 0 (--json for every t)\n");
    }
    let (v, ce, ce_q, greedy) =
        (r.v.first(), r.certainty_equivalent.first(), r.certainty_equivalent_q.first(), r.greedy.first());
    let mut header: Vec<String> = ["state", "V (nats)", "β·V", "E[return]", "greedy"].map(String::from).to_vec();
    header.extend(r.actions.iter().map(|a| format!("β·Q({a})")));
    let rows = (0..r.states.len())
        .map(|s| {
            let mut row = vec![r.states[s].clone()];
            if r.terminal[s] {
                row.extend(["0", "0", "0", "(terminal)"].map(String::from));
                row.extend(std::iter::repeat_n(String::new(), r.actions.len()));
            } else {
                row.extend([num(v[s]), num(ce[s]), num(r.expected_return[s]), r.actions[greedy[s]].clone()]);
                row.extend(ce_q[s].iter().map(|&x| num(x)));
            }
            row
        })
        .collect();
    out.push_str(&table(header, rows));
    out
}
