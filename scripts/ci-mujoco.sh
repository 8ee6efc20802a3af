#!/usr/bin/env bash
# CI for feature `mujoco` (gymnasium's Hopper, Walker2d, HalfCheetah and Ant on MuJoCo 3.17.0):
# fetch the library and the models from PyPI (scripts/setup-mujoco.sh: python3 and pip, about
# 5 s; nothing on a second run), then the feature's lints, docs and tests. The feature
# implies `candle`, so these builds reuse most of the candle pass's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/setup-mujoco.sh)"
cargo clippy --features mujoco --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features mujoco
# Every test with the MuJoCo tasks in the build (the replays, `train --env hopper`, the grid with
# MuJoCo tasks valid, the figure example), not only the replays.
cargo test --release --features mujoco
