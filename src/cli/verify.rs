//! `riskmdp verify`.

use std::path::PathBuf;

use clap::Args;

use super::table::table;
use riskmdp::Result;
use riskmdp::verify::{ClaimReport, VerifyOptions};

/// Check the paper's claims (Theorems 4.1–4.4, Eqs. 6–7, β limits, Fig. 1) on random MDPs.
/// Exits 1 only if a theorem fails; probes are reported, never fatal.
#[derive(Args)]
pub struct VerifyArgs {
    /// Only this claim (e.g. theorem-4.2-discounted); default: all.
    #[arg(long)]
    claim: Option<String>,
    /// Random cases per claim.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// Seed of the run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Save failing cases here as MDP files (`<claim>-<case>.json`) with a sidecar.
    #[arg(long)]
    save_counterexamples: Option<PathBuf>,
    /// Check a planted-bug operator instead of the exact one (for demonstrating the checks).
    #[arg(long, hide = true, default_value = "exact")]
    operators: String,
}

/// Parse → call → print; the flag says whether every theorem held.
pub fn run(args: VerifyArgs) -> Result<(String, bool)> {
    let Some(ops) = riskmdp::verify::operators::by_name(&args.operators) else {
        return Err(riskmdp::Error::InvalidParameter {
            name: "--operators".into(),
            message: format!("unknown operators `{}`", args.operators),
        });
    };
    let options =
        VerifyOptions { claim: args.claim, cases: args.cases, seed: args.seed, save_dir: args.save_counterexamples };
    let reports = riskmdp::verify::run(&options, ops)?;
    let hold = riskmdp::verify::theorems_hold(&reports);
    if args.json {
        return Ok((super::json(&reports)?, hold));
    }
    Ok((text(&reports), hold))
}

fn text(reports: &[ClaimReport]) -> String {
    let header = ["claim", "kind", "cases", "passed", "worst violation", "tolerance"].map(String::from).to_vec();
    let rows = reports
        .iter()
        .map(|r| {
            vec![
                r.claim.to_string(),
                format!("{:?}", r.kind).to_lowercase(),
                r.cases.to_string(),
                r.passed.to_string(),
                format!("{:.3e}", r.worst.amount),
                format!("{:.0e}", r.tolerance),
            ]
        })
        .collect();
    let mut out = table(header, rows);
    for r in reports.iter().filter(|r| !r.holds()) {
        out.push_str(&format!(
            "\n\n{} ({:?}): {} of {} cases fail; worst (case {}): {}",
            r.claim,
            r.kind,
            r.cases - r.passed,
            r.cases,
            r.worst_case,
            r.worst.detail
        ));
        for c in &r.counterexamples {
            let saved = c.saved.as_deref().map(|p| format!(" saved to {p}")).unwrap_or_default();
            out.push_str(&format!(
                "\n  case {}: β = {:.6e}, γ = {}, violation {:.3e}{saved}",
                c.case, c.beta, c.gamma, c.violation.amount
            ));
        }
    }
    out
}
