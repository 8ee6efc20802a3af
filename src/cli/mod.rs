//! The command line: parse → call one library function → print its report.
//!
//! Each subcommand lives in its own file with its flags (`clap::Args`), one call into
//! [`riskmdp::report`] (or [`riskmdp::verify`]) and the text rendering of the report; `--json`
//! prints the report itself. Bad input prints one line `error: …` on stderr and exits with
//! status 2; `verify` exits 1 when a theorem fails.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use riskmdp::report::table;

mod bench;
mod dual;
#[cfg(feature = "candle")]
mod grid;
mod learn;
mod solve;
mod sweep;
#[cfg(feature = "candle")]
mod train;
mod verify;

#[derive(Parser)]
#[command(name = "riskmdp", version, about = "Exact risk-sensitive RL-as-inference (β-VMBPO) on tabular MDPs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Solve(solve::SolveArgs),
    Sweep(sweep::SweepArgs),
    Dual(dual::DualArgs),
    Bench(bench::BenchArgs),
    Verify(verify::VerifyArgs),
    Learn(learn::LearnArgs),
    #[cfg(feature = "candle")]
    Train(train::TrainArgs),
    #[cfg(feature = "candle")]
    Evaluate(train::EvaluateArgs),
    #[cfg(feature = "candle")]
    Grid(grid::GridArgs),
}

/// Pretty JSON of a report.
fn json<T: serde::Serialize>(report: &T) -> riskmdp::Result<String> {
    serde_json::to_string_pretty(report)
        .map_err(|e| riskmdp::Error::Json { path: "<report>".into(), message: e.to_string() })
}

/// clap's message on one line: the text before its usage block, lines joined.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let message = text.split("\n\nUsage:").next().unwrap_or_default();
    let joined = message.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined).to_string();
    if joined.is_empty() { "no command given; try `riskmdp --help`".into() } else { joined }
}

/// Run the command line; the process exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("error: no command given; try `riskmdp --help`");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let message = |e: riskmdp::Error| e.to_string();
    let result = match cli.command {
        Command::Solve(args) => solve::run(args).map(|text| (text, true)).map_err(message),
        Command::Sweep(args) => sweep::run(args).map(|text| (text, true)).map_err(message),
        Command::Dual(args) => dual::run(args).map(|text| (text, true)).map_err(message),
        Command::Bench(args) => bench::run(args).map(|text| (text, true)).map_err(message),
        Command::Verify(args) => verify::run(args).map_err(message),
        Command::Learn(args) => learn::run(args).map(|text| (text, true)).map_err(message),
        #[cfg(feature = "candle")]
        Command::Train(args) => train::run_train(args).map(|text| (text, true)),
        #[cfg(feature = "candle")]
        Command::Evaluate(args) => train::run_evaluate(args).map(|text| (text, true)),
        #[cfg(feature = "candle")]
        Command::Grid(args) => grid::run(args),
    };
    match result {
        Ok((text, success)) => {
            // Not println!, which panics when the reader has gone (`riskmdp … | head`).
            let mut stdout = std::io::stdout().lock();
            match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write the output: {e}");
                    ExitCode::from(2)
                }
                _ if success => ExitCode::SUCCESS,
                _ => ExitCode::from(1),
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_written_as_text_equal_the_library_constants() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).expect("valid arguments");
        match parse(&["riskmdp", "solve", "m.json", "--beta", "1"]).command {
            Command::Solve(a) => assert_eq!(a.tol.to_bits(), riskmdp::tolerance::SOLVE.to_bits()),
            _ => unreachable!("parsed as solve"),
        }
        match parse(&["riskmdp", "sweep", "m.json"]).command {
            Command::Sweep(a) => assert_eq!(a.tol.to_bits(), riskmdp::tolerance::SOLVE.to_bits()),
            _ => unreachable!("parsed as sweep"),
        }
        match parse(&["riskmdp", "dual", "m.json", "--epsilon", "0.1"]).command {
            Command::Dual(a) => assert_eq!(a.beta_max.to_bits(), riskmdp::dual::BETA_MAX.to_bits()),
            _ => unreachable!("parsed as dual"),
        }
    }
}
