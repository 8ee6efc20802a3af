#!/usr/bin/env bash
# One run, same machine: riskmdp's exact sweep against scipy, numpy and pymdptoolbox.
# Usage: bench/compare.sh [S ...]    (default: 500 2000 4000); needs numpy scipy pymdptoolbox.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
sizes=("${@:-500 2000 4000}")
echo "| S | A | riskmdp exact sweep (ms) | one read of P (ms) | numpy exp-matvec (ms) | scipy logsumexp (ms) | pymdptoolbox β=∞ sweep (ms) | riskmdp / numpy | scipy / riskmdp |"
echo "|---|---|---|---|---|---|---|---|---|"
for s in ${sizes[@]}; do
  ours=$(target/release/riskmdp bench --states "$s" --actions 4 --json)
  theirs=$(python3 bench/reference.py --states "$s" --actions 4)
  python3 - "$ours" "$theirs" <<'PY'
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
mdp = t["mdptoolbox_sweep_ms"]
print(f"| {o['states']} | {o['actions']} | {o['sweep_ms']:.2f} | {o['floor_ms']:.2f} | {t['numpy_exp_matvec_ms']:.2f} | "
      f"{t['scipy_logsumexp_ms']:.1f} | {mdp:.2f} | {o['sweep_ms'] / t['numpy_exp_matvec_ms']:.2f}× | "
      f"{t['scipy_logsumexp_ms'] / o['sweep_ms']:.0f}× |")
PY
done
