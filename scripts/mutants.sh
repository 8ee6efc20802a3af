#!/usr/bin/env bash
# Mutation testing of the math core with cargo-mutants (docs/mutation-testing.md).
#
#   scripts/mutants.sh                     every math-core file (.cargo/mutants.toml), hours
#   scripts/mutants.sh src/logsumexp.rs    one file (or a folder: src/solve/)
#   scripts/mutants.sh --list src/dual.rs  only list the mutants, build nothing
#
# Runs one mutant at a time (cargo builds on two cores, tests on two threads), niced, in the
# fast `mutants` profile of Cargo.toml, with the test targets chosen in .cargo/mutants.toml.
# The outcome goes to mutants.out/<scope>/mutants.out/ (git-ignored, <scope> = `all`,
# `logsumexp`, `solve`, …): outcomes.json, caught.txt, missed.txt, unviable.txt, timeout.txt,
# and a log and a diff per mutant. Extra arguments after the path go to cargo-mutants as they
# are, e.g. `--iterate --baseline=skip --timeout 120` to re-test only what the last run missed.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 2
fi

list=()
if [[ "${1:-}" == "--list" ]]; then
    list=(--list)
    shift
fi

# Scope to one file or folder with a copy of the config whose `examine_globs` is that path:
# `--file` would be added to the config's globs, not replace them, and a `--re` filter lets
# cargo-mutants' "delete field" mutants of every file through.
config=()
slug=all
if [[ $# -gt 0 && "$1" != -* ]]; then
    path="${1#./}"
    path="${path%/}"
    shift
    if [[ ! -e "$path" ]]; then
        echo "no such file or folder: $path" >&2
        exit 2
    fi
    slug=$(printf '%s' "$path" | sed 's#^src/##; s#\.rs$##; s#/#-#g')
    glob="$path"
    [[ -d "$path" ]] && glob="$path/**/*.rs"
    mkdir -p "mutants.out/$slug"
    awk -v glob="$glob" '
        /^examine_globs = \[/ { skip = 1; print "examine_globs = [\"" glob "\"]"; next }
        skip && /^\]/         { skip = 0; next }
        !skip                  { print }
    ' .cargo/mutants.toml > "mutants.out/$slug/mutants.toml"
    config=(--config "mutants.out/$slug/mutants.toml")
fi

# A target folder of its own, outside the copied tree: the dependencies are built once and
# reused by every mutant and every later run, and `cargo build`/`cargo test` in the work tree
# never wait for its lock.
export CARGO_TARGET_DIR="${MUTANTS_TARGET_DIR:-$PWD/target/mutants-build}"
export CARGO_BUILD_JOBS="${MUTANTS_BUILD_JOBS:-2}"
export RUST_TEST_THREADS="${MUTANTS_TEST_THREADS:-2}"

# One folder per scope, so that runs of different files do not overwrite each other:
# mutants.out/<scope>/mutants.out/{outcomes.json,caught.txt,missed.txt,…}.
mkdir -p "mutants.out/$slug"
exec nice -n "${MUTANTS_NICE:-10}" cargo mutants "${list[@]}" "${config[@]}" --jobs 1 \
    --output "mutants.out/$slug" "$@"
