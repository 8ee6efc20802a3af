//! `riskmdp`: the command-line front end (see [`cli`]).

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
