#!/usr/bin/env bash
# Run HERE (the build machine, no GPU): builds xtask and the GPU tests of neurogen-model
# (tests/cuda.rs) with `--features cuda` (CUDA 13.0, sm_90), strips and gzips them into .carry/
# next to the CIFAR-10 archive, ready for scripts/gpu-check.sh
# on the device machine. See docs/cuda.md.
#
#   scripts/gpu-prepare.sh     # then, device tool with carry [".carry"], two calls:
#                              # "scripts/gpu-check.sh bench", "scripts/gpu-check.sh train"
# Environment: CARGO_TARGET_DIR (default target/), DATA (default ../shared/data/cifar10-jpeg.tar.gz),
# CUDA_ENV (default ../shared/tools/cuda-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
data=${DATA:-$root/../shared/data/cifar10-jpeg.tar.gz}
cuda_env=${CUDA_ENV:-$root/../shared/tools/cuda-env.sh}
target=${CARGO_TARGET_DIR:-$root/target}
[ -f "$data" ] || { echo "no dataset at $data (set DATA=...)" >&2; exit 1; }
[ -f "$cuda_env" ] || { echo "no $cuda_env (set CUDA_ENV=...)" >&2; exit 1; }

cargo fetch                      # cuda-env.sh reads cudarc's sources from ~/.cargo/registry
# shellcheck disable=SC1090
source "$cuda_env"
start=$(date +%s)
cargo build --release --features cuda -p xtask
# The GPU tests of neurogen-model (tests/cuda.rs) as one binary.
tests=$(cargo test --release --features cuda -p neurogen-model --test cuda --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "cuda":
        print(m["executable"])')
echo "build: $(($(date +%s) - start)) s"

mkdir -p .carry
strip -o .carry/xtask "$target/release/xtask"
gzip -9 -f .carry/xtask              # -> .carry/xtask.gz
strip -o .carry/cuda-tests "$tests"
gzip -9 -f .carry/cuda-tests         # -> .carry/cuda-tests.gz
install -m 0644 "$data" .carry/cifar10-jpeg.tar.gz
ls -l .carry
total=$(du -cb .carry/* | tail -n 1 | cut -f1)
echo "carry: $((total / 1024 / 1024)) MiB (+ the working tree; the device tool's limit is 64 MiB)"
if ! git check-ignore -q .carry/xtask.gz; then
  echo "WARNING: .carry/ is not git-ignored: add it to .git/info/exclude (echo .carry/ >> .git/info/exclude)" >&2
fi
echo 'next (device tool, carry [".carry"]): "scripts/gpu-check.sh bench", then "scripts/gpu-check.sh train" (results under $OUT)'
