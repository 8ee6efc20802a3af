#!/usr/bin/env bash
# The Mountain Car seed table (README, "Continuous control"; docs/continuous.md): seeds 1–10 of
# β-VMBPO with ε = 10 (the preset, App. C.4), ε = 0.1 (Table 1) and ε = 1 (inside the band the
# measured KL moves in), and VMBPO (β = 1), each
# `riskmdp train --env mountain-car --preset mountain-car-cpu --steps 25000 --seed k`, one after
# another on one thread (about 75 s each on this machine; 50 min in all). Writes
# results/mountain_car/<learner>/seed-<k>/{config.json,log.jsonl,fits.jsonl}; the checkpoints are
# left out of git. A run whose log is complete is skipped.
# Usage: scripts/mountain-car-seeds.sh [SEEDS...]   (default 1 … 10)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --features candle
# A copy of the binary, so that a rebuild while the grid runs does not change its later runs.
bin=$(mktemp -d)/riskmdp
cp target/release/riskmdp "$bin"
seeds=("$@")
((${#seeds[@]})) || seeds=(1 2 3 4 5 6 7 8 9 10)
out=results/mountain_car
steps=25000
for seed in "${seeds[@]}"; do
  for learner in beta-vmbpo-eps10 vmbpo beta-vmbpo-eps0.1 beta-vmbpo-eps1; do
    dir=$out/$learner/seed-$seed
    if [[ -f $dir/log.jsonl ]] && grep -q "\"step\":$steps," "$dir/log.jsonl"; then
      continue
    fi
    args=(--env mountain-car --preset mountain-car-cpu --steps "$steps" --seed "$seed" --out "$dir" --force)
    case $learner in
      beta-vmbpo-eps10) args+=(--algo beta-vmbpo) ;;
      beta-vmbpo-eps0.1) args+=(--algo beta-vmbpo --config "$out/epsilon-0.1.json") ;;
      beta-vmbpo-eps1) args+=(--algo beta-vmbpo --config "$out/epsilon-1.json") ;;
      vmbpo) args+=(--algo vmbpo) ;;
    esac
    echo "$learner seed $seed"
    "$bin" train "${args[@]}" > /dev/null
    rm -f "$dir/checkpoint.safetensors"
  done
done
