//! Writes the gridworlds as MDP files: `examples/mdps/mnm_gridworld.json` (Eysenbach et al.
//! 2022, no cliff) and `examples/mdps/cliff_gridworld.json` (Fig. 2), from the builders in
//! `riskmdp::envs::cliff_gridworld`. The crate's tests check that the shipped files match.
//!
//! Run: `cargo run --release --example gridworld_files`.

use std::path::Path;

use riskmdp::envs::{Gridworld, save_compact};

/// The files written.
const MNM: &str = "examples/mdps/mnm_gridworld.json";
const CLIFF: &str = "examples/mdps/cliff_gridworld.json";

fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    for (world, file) in [(Gridworld::mnm(), MNM), (Gridworld::cliff(), CLIFF)] {
        let path = dir.join(file);
        save_compact(&world.build()?, &path).map_err(|e| format!("saving {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_files_that_load_back() {
        let dir = std::env::temp_dir().join(format!("riskmdp-grid-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("examples/mdps")).expect("temp dir");
        run(&dir).expect("the example runs");
        for file in [MNM, CLIFF] {
            assert!(riskmdp::TabularMdp::load(dir.join(file)).is_ok());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
