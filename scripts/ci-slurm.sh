#!/usr/bin/env bash
# CI for `riskmdp grid` on a real Slurm (issue 19): install Debian's Slurm and munge if absent,
# start a one-node cluster in a temporary folder (shared/RECIPES.md, "A one-node Slurm cluster
# for tests"), write the sbatch script of a tiny 4-run grid with `riskmdp grid sbatch`, submit
# it, and check that every array task COMPLETED, that `grid list` says done and `grid gather`
# finds the 4 runs, and that their files are byte for byte those of the same grid run locally
# (`grid local --jobs 2`). Then a 2-run grid whose run 1 has a bad override: its task FAILED,
# `grid list` says failed and `grid gather` names run 1. The daemons are shut down and the folder
# removed whatever happens (a trap). Needs root (or sudo) for the daemons.
# Usage: scripts/ci-slurm.sh      (measured: see README, "The grid on a cluster")
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s%N)
# Seconds since $1 (default: the start), one decimal.
elapsed() { local ms=$((($(date +%s%N) - ${1:-$t0}) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
fail() { echo "ci-slurm: FAILED: $*" >&2; exit 1; }

missing=()
for cmd in slurmctld slurmd sbatch munged; do
  command -v "$cmd" > /dev/null || PATH=$PATH:/usr/sbin command -v "$cmd" > /dev/null || missing+=("$cmd")
done
if ((${#missing[@]})); then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge > /dev/null
fi
export PATH=$PATH:/usr/sbin
echo "ci-slurm: packages ready at $(elapsed) s"

# The binary the candle tests build (`.ci/run` has just built it): `cargo build` would unify
# features without the dev-dependencies and rebuild part of the tree.
cargo test --quiet --release --features candle --no-run --test grid_cli
bin=$PWD/target/release/riskmdp

W=$(mktemp -d /tmp/riskmdp-slurm.XXXXXX)
ctld='' slurmd_pid='' munged_pid=''
cleanup() {
  local status=$?
  set +e
  if [[ -n $ctld ]]; then
    as_root env SLURM_CONF="$W/slurm.conf" scontrol shutdown > /dev/null 2>&1
    for _ in $(seq 40); do
      kill -0 "$ctld" 2> /dev/null || kill -0 "$slurmd_pid" 2> /dev/null || break
      sleep 0.25
    done
    as_root kill -9 "$ctld" "$slurmd_pid" 2> /dev/null
    wait "$ctld" "$slurmd_pid" 2> /dev/null
  fi
  [[ -n $munged_pid ]] && as_root kill "$munged_pid" 2> /dev/null
  if ((status)); then
    for f in "$W"/log/*.log; do [[ -f $f ]] && { echo "--- $f"; tail -n 20 "$f"; }; done >&2
  fi
  as_root rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/state" "$W/spool" "$W/log"
cat > "$W/slurm.conf" << EOF
ClusterName=test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$W/slurm.conf

if ! munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
  as_root install -d -o munge -g munge -m 0755 /run/munge
  as_root runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 40); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.05; done
  munged_pid=$(cat /run/munge/munged.pid)
fi
as_root env SLURM_CONF="$SLURM_CONF" slurmctld -D > "$W/log/slurmctld.out" 2>&1 &
ctld=$!
as_root env SLURM_CONF="$SLURM_CONF" slurmd -D -N localhost > "$W/log/slurmd.out" 2>&1 &
slurmd_pid=$!
for _ in $(seq 120); do
  [[ $(sinfo -h -o %T 2> /dev/null) == idle ]] && break
  sleep 0.25
done
[[ $(sinfo -h -o %T 2> /dev/null) == idle ]] || fail "the node never became idle"
echo "ci-slurm: cluster up at $(elapsed) s"

# Tiny networks and schedule (as tests/grid_cli.rs): 300 steps in about a second.
tiny='{ "warmup_steps": 60, "eval_every": 100, "eval_episodes": 1, "model_every": 50, "rollouts": 64,
  "updates_per_step": 1, "ensemble_size": 3, "elites": 2, "dynamics_hidden": [8], "actor_hidden": [8],
  "critic_hidden": [8], "batch_size": 16, "dynamics_batch_size": 16, "dynamics_max_batches": 4,
  "beta0": 10, "beta_lr": 0.05 }'
experiment() { # name out learners seeds variants
  cat > "$W/$1.json" << EOF
{ "name": "$1", "out": "$2", "tasks": ["mountain-car"], "learners": $3, "seeds": $4,
  "preset": "mountain-car-cpu", "steps": 300, "config": $tiny, "variants": $5 }
EOF
}
experiment good "$W/cluster" '["beta-vmbpo", "sac"]' '[1, 2]' '[]'
experiment failing "$W/failing" '[{ "algo": "sac", "variants": ["ok", "bad"] }]' '[1]' \
  '[{ "name": "ok", "config": {} }, { "name": "bad", "config": { "elites": 99 } }]'
# The same 4 runs as `good`, written elsewhere, run locally.
sed "s#\"$W/cluster\"#\"$W/local\"#" "$W/good.json" > "$W/local.json"

"$bin" grid sbatch "$W/good.json" --time 0:10:00 --cpus 1 > /dev/null
"$bin" grid sbatch "$W/failing.json" > /dev/null 2> "$W/failing-sbatch.err"
grep -q 'warning: variants\[1\] (`bad`)' "$W/failing-sbatch.err" || fail "no warning about the bad override"
grep -q '^#SBATCH --array=0-3$' "$W/cluster/slurm/good.sbatch" || fail "array line of good.sbatch"
good=$(sbatch --parsable "$W/cluster/slurm/good.sbatch")
failing=$(sbatch --parsable "$W/failing/slurm/failing.sbatch")
t_submit=$(date +%s%N)
"$bin" grid local "$W/local.json" --jobs 2 > /dev/null 2>&1 &
local_pid=$!
for _ in $(seq 480); do
  squeue -h -j "$good,$failing" 2> /dev/null | grep -q . || break
  sleep 0.25
done
squeue -h -j "$good,$failing" 2> /dev/null | grep -q . && fail "the arrays did not finish in 120 s"
echo "ci-slurm: both arrays done $(elapsed "$t_submit") s after submission"
wait "$local_pid" || fail "grid local of the same runs failed"

states=$(squeue -h -t all -j "$good" -o '%i %T' | sort)
expected=$(printf '%s_%s COMPLETED\n' "$good" 0 "$good" 1 "$good" 2 "$good" 3)
if [[ $states != "$expected" ]]; then
  cat "$W"/cluster/slurm/*.out >&2 || true
  fail "array $good: expected every task COMPLETED, got: $states"
fi
list=$("$bin" grid list "$W/good.json")
grep -q '^4 done, 0 failed, 0 running, 0 missing$' <<< "$list" || fail "grid list: $list"
gather=$("$bin" grid gather "$W/good.json") || fail "grid gather: $gather"
grep -q '4 runs, 4 done' <<< "$gather" || fail "grid gather: $gather"
for run in beta-vmbpo/seed-1 sac/seed-1 beta-vmbpo/seed-2 sac/seed-2; do
  for f in config.json log.jsonl checkpoint.json checkpoint.safetensors; do
    cmp -s "$W/cluster/mountain-car/$run/$f" "$W/local/mountain-car/$run/$f" || fail "$run/$f: Slurm's differs from local"
  done
done
cmp -s "$W/cluster/mountain-car/beta-vmbpo/seed-2/fits.jsonl" "$W/local/mountain-car/beta-vmbpo/seed-2/fits.jsonl" \
  || fail "fits.jsonl: Slurm's differs from local"

states=$(squeue -h -t all -j "$failing" -o '%i %T' | sort)
expected=$(printf '%s_0 COMPLETED\n%s_1 FAILED' "$failing" "$failing")
[[ $states == "$expected" ]] || fail "array $failing: expected task 0 COMPLETED and task 1 FAILED, got: $states"
grep -q "error: run 1 (mountain-car sac-bad seed 1) failed: .*elites" "$W"/failing/slurm/failing-*_1.out \
  || fail "task 1's output does not name run 1 and the field"
list=$("$bin" grid list "$W/failing.json")
grep -q '^1 done, 1 failed, 0 running, 0 missing$' <<< "$list" || fail "grid list: $list"
if gather=$("$bin" grid gather "$W/failing.json"); then fail "grid gather exited 0 with a failed run"; fi
grep -q '^failed: 1$' <<< "$gather" || fail "grid gather: $gather"
echo "ci-slurm: ok in $(elapsed) s (4 tasks COMPLETED, same bytes as local; run 1 of the failing grid FAILED)"
