#!/usr/bin/env bash
# CI for the course page (web/): on a fresh machine, install what its browser test needs (the
# wasm target, Debian's chromium and a font, puppeteer-core from web/package-lock.json — it
# downloads no browser), lint and test the export layer, build the page, check that the
# committed web/dist/riskmdp-course.html is that build byte for byte, and run the page in
# headless Chromium against `riskmdp solve --json` (web/test/course-page.test.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

rustup target add wasm32-unknown-unknown
missing=()
command -v chromium > /dev/null || missing+=(chromium)
dpkg -s fonts-dejavu-core > /dev/null 2>&1 || missing+=(fonts-dejavu-core)
command -v npm > /dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
npm ci --prefix web --no-audit --no-fund --loglevel=error

# The export layer: formatting, lints and docs for the wasm target, its unit tests on the host.
# (It shares the root workspace's Cargo.lock.)
cargo fmt --check --manifest-path web/Cargo.toml
cargo clippy --quiet --manifest-path web/Cargo.toml --target wasm32-unknown-unknown --target-dir target/web -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --manifest-path web/Cargo.toml --target wasm32-unknown-unknown \
  --target-dir target/web
cargo test --quiet --manifest-path web/Cargo.toml --target-dir target/web

# The page, fresh, and the committed one.
scripts/build-web.sh target/web/riskmdp-course.html
committed=web/dist/riskmdp-course.html
if ! cmp -s target/web/riskmdp-course.html "$committed"; then
  generator() { grep -o '<meta name="generator" content="[^"]*"' "$1"; }
  if [[ $(generator target/web/riskmdp-course.html) == "$(generator "$committed")" ]]; then
    echo "error: $committed is not the page the code builds; run scripts/build-web.sh and commit it" >&2
    exit 1
  fi
  echo "note: $committed was built by another toolchain ($(generator "$committed")); testing the fresh build" >&2
fi

# The command line the page is compared with (the default build), then the browser test.
cargo build --quiet --locked --release
node web/test/course-page.test.mjs --page target/web/riskmdp-course.html
