//! Feature `mujoco` only: write MuJoCo's library folder into every binary as an rpath, so that
//! `riskmdp`, the tests and the examples run without `LD_LIBRARY_PATH`. The folder is
//! `$MUJOCO_DYNAMIC_LINK_DIR` (set by `.cargo/config.toml` to `vendor/mujoco/lib`, where
//! `scripts/setup-mujoco.sh` puts it), the same one mujoco-rs links against. Without the
//! library the build stops with one line naming the setup script. Nothing happens in a build
//! without the feature. (`tests/mujoco_envs.rs` includes this file to test [`rpath`].)

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MUJOCO_DYNAMIC_LINK_DIR");
    if env::var_os("CARGO_FEATURE_MUJOCO").is_none() {
        return;
    }
    let dir = env::var_os("MUJOCO_DYNAMIC_LINK_DIR").map(PathBuf::from);
    if let Some(dir) = &dir {
        // Re-run once the library appears (a missing path always counts as changed).
        println!("cargo::rerun-if-changed={}", dir.join("libmujoco.so").display());
    }
    match rpath(dir.as_deref()) {
        Ok(arg) => println!("cargo::rustc-link-arg={arg}"),
        Err(message) => println!("cargo::error={message}"),
    }
}

/// The linker argument that writes `dir` into the binaries as an rpath, or the one-line error
/// to stop the build with when `dir` holds no `libmujoco.so`.
pub(crate) fn rpath(dir: Option<&Path>) -> Result<String, String> {
    const SETUP: &str = "run scripts/setup-mujoco.sh (it fetches MuJoCo 3.17.0 from PyPI)";
    let Some(dir) = dir else {
        return Err(format!("feature `mujoco`: MUJOCO_DYNAMIC_LINK_DIR is not set; {SETUP}"));
    };
    let library = dir.join("libmujoco.so");
    if !library.is_file() {
        return Err(format!("feature `mujoco`: no MuJoCo library at {}; {SETUP}", library.display()));
    }
    Ok(format!("-Wl,-rpath,{}", dir.display()))
}
