//! `riskmdp bench`.

use clap::Args;

use riskmdp::Result;
use riskmdp::bench::BenchReport;
use riskmdp::report::{self, BenchModel};

/// Time one exact sweep of T* against the memory-bandwidth floor, on a dense random model
/// (--states, --actions) or a sparse n×n cliff gridworld (--grid n).
#[derive(Args)]
pub struct BenchArgs {
    /// States of the random dense model.
    #[arg(long, default_value_t = 2000)]
    states: usize,
    /// Benchmark the n×n cliff gridworld (sparse) instead.
    #[arg(long, conflicts_with_all = ["states", "actions"])]
    grid: Option<usize>,
    /// Actions of the random dense model.
    #[arg(long, default_value_t = 4)]
    actions: usize,
    /// Risk parameter β of the sweeps.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    beta: f64,
    /// Timed repetitions per median.
    #[arg(long, default_value_t = 15)]
    reps: usize,
    /// Seed of the random model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Tolerance of the timed value iteration.
    #[arg(long, default_value = "1e-8", allow_negative_numbers = true)]
    tol: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Parse → call → print.
pub fn run(args: BenchArgs) -> Result<String> {
    let model = match args.grid {
        Some(n) => BenchModel::Grid(n),
        None => BenchModel::Dense { states: args.states, actions: args.actions, seed: args.seed },
    };
    let r = report::bench(model, args.beta, args.reps, args.tol)?;
    if args.json {
        return super::json(&r);
    }
    Ok(text(&r))
}

fn text(r: &BenchReport) -> String {
    format!(
        "{} ({} states, {} nonzeros): β = {}, {} thread(s), P = {:.1} MB read per sweep\n\
         exact sweep of T*   {:>10.3} ms (median of {})\n\
         one read of P       {:>10.3} ms ({:.1} GB/s): the sweep runs at {:.0}% of the floor\n\
         plain per-row kernel{:>10.3} ms\n\
         value iteration     {:>10.3} ms, {} sweeps to tol {:e}",
        r.model,
        r.states,
        r.nonzeros,
        r.beta,
        r.threads,
        r.bytes_per_sweep as f64 / 1e6,
        r.sweep_ms,
        r.reps,
        r.floor_ms,
        r.bandwidth_gb_s,
        100.0 * r.floor_fraction,
        r.plain_sweep_ms,
        r.solve_ms,
        r.iterations,
        r.tol
    )
}
