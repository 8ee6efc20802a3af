//! `riskmdp verify`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::table::table_aligned;
use riskmdp::verify::{VerifyOptions, VerifyReport, operators};
use riskmdp::{Error, Result};

/// Check the paper's claims (Theorems 4.1–4.4, Lemma 4.1, Eqs. 2–9, β limits, Figs. 1–2) on
/// random MDPs. Exits 1 only if a theorem fails; probes are reported, never fatal.
#[derive(Args)]
pub struct VerifyArgs {
    /// Only this claim (e.g. theorem-4.2-discounted); default: all.
    #[arg(long)]
    claim: Option<String>,
    /// Random cases per claim.
    #[arg(long, default_value_t = 200)]
    cases: usize,
    /// Seed of the run (the same seed prints the same bytes).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Save failing cases here as MDP files (`<claim>-<case>.json`) with a sidecar.
    #[arg(long)]
    save_counterexamples: Option<PathBuf>,
    /// Check these operators instead of the paper's: a planted bug, to see which claim and
    /// which sub-check catch it; `list` prints them all.
    #[arg(long, default_value = "exact")]
    operators: String,
    /// Switch off the comparison with the crate's own solvers (sub-check `equals-solver`), so
    /// that what fails is the property itself.
    #[arg(long)]
    property_only: bool,
}

/// Parse → call → print; the flag says whether every theorem held.
pub fn run(args: VerifyArgs) -> Result<(String, bool)> {
    if args.operators == "list" {
        return Ok((list(args.json)?, true));
    }
    let ops = operators::by_name(&args.operators).ok_or_else(|| Error::InvalidParameter {
        name: "--operators".into(),
        message: format!("unknown operators `{}`; `--operators list` names them", args.operators),
    })?;
    let options = VerifyOptions {
        claim: args.claim,
        cases: args.cases,
        seed: args.seed,
        save_dir: args.save_counterexamples,
        property_only: args.property_only,
    };
    // A progress bar on a terminal only: never in a pipe, a file or --json.
    let bar = if args.json || !std::io::stderr().is_terminal() { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = riskmdp::verify::run_with_progress(&options, ops, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = report?;
    let hold = report.theorems_hold;
    if args.json {
        return Ok((super::json(&report)?, hold));
    }
    Ok((text(&report), hold))
}

/// One entry of `verify --list --json`: an operator and what it breaks.
#[derive(serde::Serialize)]
struct OperatorEntry<'a> {
    name: &'a str,
    breaks: &'a str,
}

fn list(as_json: bool) -> Result<String> {
    let catalog = operators::catalog();
    if as_json {
        let entries: Vec<OperatorEntry<'_>> =
            catalog.iter().map(|&(name, breaks)| OperatorEntry { name, breaks }).collect();
        return super::json(&entries);
    }
    let rows = catalog.iter().map(|(name, what)| vec![name.to_string(), what.to_string()]).collect();
    Ok(table_aligned(vec!["operators".into(), "what it breaks".into()], rows, &[0, 1]))
}

fn text(r: &VerifyReport) -> String {
    let header = ["claim", "kind", "cases", "passed", "worst violation", "tolerance", "failed sub-checks"]
        .map(String::from)
        .to_vec();
    let rows = r
        .claims
        .iter()
        .map(|c| {
            vec![
                c.claim.to_string(),
                format!("{:?}", c.kind).to_lowercase(),
                c.cases.to_string(),
                c.passed.to_string(),
                format!("{:.3e}", c.worst.amount),
                format!("{:.0e}", c.tolerance),
                if c.failed_checks.is_empty() { "-".into() } else { c.failed_checks.join(", ") },
            ]
        })
        .collect();
    let scope = if r.property_only { ", solver comparison off" } else { "" };
    let mut out = format!("operators `{}`, seed {}, {} cases per claim{scope}\n", r.operators, r.seed, r.cases);
    out.push_str(&table_aligned(header, rows, &[6]));
    for c in r.claims.iter().filter(|c| !c.holds()) {
        out.push_str(&format!(
            "\n\n{} ({:?}): {} of {} cases fail; worst (case {}, {}): {}",
            c.claim,
            c.kind,
            c.cases - c.passed,
            c.cases,
            c.worst_case,
            c.worst.check,
            c.worst.detail
        ));
        for x in &c.counterexamples {
            let saved = x.saved.as_deref().map(|p| format!(" saved to {p}")).unwrap_or_default();
            out.push_str(&format!(
                "\n  case {}: β = {:.6e}, γ = {}, violation {:.3e}{saved}",
                x.case, x.beta, x.gamma, x.violation.amount
            ));
        }
    }
    out
}
