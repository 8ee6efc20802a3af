#!/usr/bin/env bash
# Feature `mujoco`: put MuJoCo 3.17.0's shared library and gymnasium's MuJoCo models inside the
# project, from package registries only (the crate mujoco-rs binds MuJoCo 3.17.0; its own
# downloader needs github.com).
#
#   vendor/mujoco/lib/libmujoco.so.3.17.0   from the PyPI wheel mujoco==3.17.0 (needs only glibc)
#   vendor/mujoco/lib/libmujoco.so          -> libmujoco.so.3.17.0 (the name the linker looks for)
#   vendor/mujoco/assets/*.xml              gymnasium's hopper.xml, walker2d.xml, half_cheetah.xml,
#                                           ant.xml, … from the PyPI wheel gymnasium==$GYMNASIUM
#
# The wheels are fetched by name with `pip download --no-deps` (pip picks the wheel for this
# platform) into a temporary folder and deleted afterwards. A second run finds the stamp file and
# does nothing. Prints the one line to export; `.cargo/config.toml` sets the same variable for
# cargo run from this checkout, so the export is only needed for builds started elsewhere.
# The build (build.rs) writes the library folder into the binaries as an rpath, so they run
# without LD_LIBRARY_PATH; the models are looked up at run time (see
# src/continuous/env/mujoco/mod.rs: $RISKMDP_MUJOCO_ASSETS, else vendor/mujoco/assets).
set -euo pipefail
cd "$(dirname "$0")/.."

MUJOCO=3.17.0
GYMNASIUM=1.4.0 # its v4 tasks (gymnasium/envs/mujoco/*_v4.py) are what the Rust code follows
DIR="$PWD/vendor/mujoco"
STAMP="$DIR/.complete-mujoco-$MUJOCO-gymnasium-$GYMNASIUM"

if [[ ! -f $STAMP ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$tmp" \
    "mujoco==$MUJOCO" "gymnasium==$GYMNASIUM" >&2
  rm -rf "$DIR"
  mkdir -p "$DIR/lib" "$DIR/assets"
  python3 - "$tmp" "$DIR" "$MUJOCO" << 'EOF'
import pathlib, sys, zipfile

tmp, out, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
[mujoco] = tmp.glob(f"mujoco-{version}-*.whl")
[gymnasium] = tmp.glob("gymnasium-*.whl")
with zipfile.ZipFile(mujoco) as wheel:
    (out / "lib" / f"libmujoco.so.{version}").write_bytes(wheel.read(f"mujoco/libmujoco.so.{version}"))
prefix = "gymnasium/envs/mujoco/assets/"
with zipfile.ZipFile(gymnasium) as wheel:
    for name in wheel.namelist():
        if name.startswith(prefix) and name.endswith(".xml"):
            (out / "assets" / name[len(prefix):]).write_bytes(wheel.read(name))
EOF
  ln -s "libmujoco.so.$MUJOCO" "$DIR/lib/libmujoco.so"
  for xml in hopper walker2d half_cheetah ant; do
    [[ -f $DIR/assets/$xml.xml ]] || { echo "setup-mujoco.sh: gymnasium's wheel holds no $xml.xml" >&2; exit 1; }
  done
  touch "$STAMP"
fi
echo "export MUJOCO_DYNAMIC_LINK_DIR=$DIR/lib"
