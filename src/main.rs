//! `riskmdp`: the command-line front end (see [`cli`]).

use std::process::ExitCode;

mod cli;

/// With the `candle` feature the binary allocates through mimalloc: candle's training loops
/// allocate a tensor per operation, and mimalloc was measured fastest for them on two cores
/// (REFERENCES.md). The library leaves the allocator to its users.
#[cfg(feature = "candle")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    #[cfg(feature = "fault-injection")]
    riskmdp::fault::plant(riskmdp::fault::from_env());
    cli::main()
}
