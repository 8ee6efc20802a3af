#!/usr/bin/env bash
# Build the course page: one self-contained HTML file, web/dist/riskmdp-course.html.
#
# The engine (web/, a cdylib over the riskmdp library without its CLI and plots) is compiled to
# wasm32-unknown-unknown and inlined as base64 next to the page's script, style and the example
# models, so the file opens from a course website or straight from disk (file://).
#
# Reproducible byte for byte with the same Rust toolchain: paths are remapped out of the wasm,
# and the page records the rustc version it was built with (meta "generator").
#
# Needs: the Rust toolchain with `rustup target add wasm32-unknown-unknown`, bash, coreutils.
# Usage: scripts/build-web.sh [OUT.html]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-web/dist/riskmdp-course.html}

# No absolute path of this machine may end up in the module.
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
export RUSTFLAGS="--remap-path-prefix=$root=/riskmdp --remap-path-prefix=$registry=/cargo-registry"
cargo build --quiet --manifest-path web/Cargo.toml --lib --profile wasm \
  --target wasm32-unknown-unknown --target-dir target/web
wasm=target/web/wasm32-unknown-unknown/wasm/riskmdp_web.wasm

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
generator="riskmdp $version; $(rustc --version | cut -d' ' -f1-2)"

# Expand the template: `@include FILE` (relative to web/page/), `@wasm-base64`, `@generator`.
mkdir -p "$(dirname "$out")"
tmp="$out.tmp"
while IFS= read -r line || [[ -n $line ]]; do
  case $line in
    "@include "*) cat "web/page/${line#@include }" ;;
    "@wasm-base64") base64 -w 0 "$wasm"; printf '\n' ;;
    *"@generator"*) printf '%s\n' "${line//@generator/$generator}" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < web/page/index.html > "$tmp"
mv "$tmp" "$out"
echo "$out: $(wc -c < "$out") bytes (wasm $(wc -c < "$wasm") bytes)"
