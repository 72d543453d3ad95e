#!/usr/bin/env bash
# Run ON the GPU machine (device tool), after scripts/gpu-prepare.sh here. It unpacks the cuda
# build of xtask (and of the GPU tests) from .carry/ and writes everything under $OUT:
#   cuda-tests.json                            output of tests/cuda.rs (GPU kernels vs the CPU)
#   bench-cuda-b4.json, bench-cuda-b128.json   `xtask bench throughput --device cuda --json`
#   torch-cuda-b4.json, torch-cuda-b128.json   benches/pytorch_baseline.py --device cuda --json
#   bench-cuda-b4-k20.json                     20 replicas at batch 4 each (issue #6's target:
#                                              >= 10x PyTorch's single-run batch-4 images/s)
#   bench-cuda-b4-rb1.json, ...-k20-rb1.json   the same with the loss read back every step
#                                              (--loss-readback 1) against the GPU default (50)
#   train-cuda/, train-cpu/ (+ .json)          one epoch, same settings and seed, cuda vs cpu
#   fig2-groups-runs.csv, fig2-mixed-runs.csv  `figure` only: fig2 at paper scale for one epoch,
#                                              20 replicas a batch (one group each) against
#                                              `--mix-groups --replicas 80` (the figure in one
#                                              batch); the summary extrapolates to 15 epochs
#   summary.txt                                images/s and accuracies side by side
# Each step's stderr is in <step>.err; a failed step is reported and the others still run; the
# script exits 1 if any failed. See docs/cuda.md.
#
#   scripts/gpu-check.sh [all|tests|bench|train|train-cuda|train-cpu|figure]
#                          (default all; split across calls if the 10-minute command limit is
#                          tight; train-cpu can run beside the others under taskset; figure,
#                          ~2 x 2-4 min, is not part of all)
# Environment: CARRY (default .carry), TRAIN_ARGS (default "--epochs 1 --batch-size 4 --seed 0"),
# REPLICAS replica counts to bench at batch 4 (default "20"), TORCH=0 skips the PyTorch runs,
# STEP_TIMEOUT seconds per step (default 280).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?run through the device tool, which sets OUT}"
what=${1:-all}
carry=${CARRY:-.carry}
read -r -a train_args <<<"${TRAIN_ARGS:---epochs 1 --batch-size 4 --seed 0}"
step_timeout=${STEP_TIMEOUT:-280}
replicas=${REPLICAS:-20}
data=$carry/cifar10-jpeg.tar.gz
[ -f "$carry/xtask.gz" ] && [ -f "$data" ] || {
  echo "need $carry/xtask.gz and $data (run scripts/gpu-prepare.sh, carry .carry)" >&2
  exit 1
}

export LD_LIBRARY_PATH=/usr/local/cuda-13.0/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export NEUROGEN_CACHE_DIR=/tmp/neurogen-cache # decode CIFAR-10 once for all steps
bin=/tmp/xtask
gunzip -c "$carry/xtask.gz" >"$bin"
chmod +x "$bin"
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true

failed=()
# step NAME COMMAND...: stdout to $OUT/NAME.json, stderr to $OUT/NAME.err.
step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  echo "== $name: $*"
  timeout "$step_timeout" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "   ok, $((SECONDS - t0)) s"
  else
    echo "   FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'))"
    tail -n 5 "$OUT/$name.err" | sed 's/^/   | /'
    failed+=("$name")
  fi
}

if [ "$what" = all ] || [ "$what" = tests ]; then
  if [ -f "$carry/cuda-tests.gz" ]; then
    gunzip -c "$carry/cuda-tests.gz" >/tmp/cuda-tests
    chmod +x /tmp/cuda-tests
    step "cuda-tests" /tmp/cuda-tests --test-threads 1 --nocapture
  else
    echo "no $carry/cuda-tests.gz: skipping the GPU tests"
  fi
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  for b in 4 128; do
    step "bench-cuda-b$b" "$bin" bench throughput --device cuda --batch-size "$b" --data "$data" --json
    if [ "${TORCH:-1}" != 0 ]; then
      step "torch-cuda-b$b" python3 benches/pytorch_baseline.py --device cuda --batch-size "$b" --json
    fi
  done
  step "bench-cuda-b4-rb1" "$bin" bench throughput --device cuda --batch-size 4 --loss-readback 1 --data "$data" --json
  for k in $replicas; do
    step "bench-cuda-b4-k$k" "$bin" bench throughput --device cuda --batch-size 4 --replicas "$k" --data "$data" --json
    step "bench-cuda-b4-k$k-rb1" "$bin" bench throughput --device cuda --batch-size 4 --replicas "$k" --loss-readback 1 --data "$data" --json
  done
fi
for d in cuda cpu; do
  if [ "$what" = all ] || [ "$what" = train ] || [ "$what" = "train-$d" ]; then
    step "train-$d" "$bin" train --device "$d" --data "$data" "${train_args[@]}" --out "$OUT/train-$d" --json
  fi
done

if [ "$what" = figure ]; then
  # Checkpoints stay on the device machine (80 x 1.8 MB); runs.csv comes back.
  for mode in groups mixed; do
    flags=(--replicas 20)
    [ "$mode" = mixed ] && flags=(--replicas 80 --mix-groups)
    step "fig2-$mode" "$bin" reproduce fig2 --scale paper --epochs 1 --device cuda --quiet \
      --data "$data" --out "/tmp/fig2-$mode" "${flags[@]}"
    cp "/tmp/fig2-$mode/fig2/runs.csv" "$OUT/fig2-$mode-runs.csv" 2>/dev/null || true
  done
fi

python3 - "$OUT" >"$OUT/summary.txt" <<'PY' || true
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
def num(v):
    return f"{v:9.1f}" if isinstance(v, (int, float)) else f"{'-':>9}"
for b in (4, 128):
    ours, torch = load(f"bench-cuda-b{b}"), load(f"torch-cuda-b{b}")
    if not (ours or torch):
        continue
    for part in ("train", "eval"):
        o = ours[part]["images_per_second"] if ours else None
        t = torch[part]["images_per_second"] if torch else None
        bs = (ours or torch or {}).get(part, {}).get("batch_size", b if part == "train" else "?")
        ratio = f"{o / t:.2f}" if o and t else "-"
        print(f"{part:5} batch {bs:>4}: candle cuda {num(o)} img/s, pytorch cuda {num(t)} img/s, "
              f"candle/pytorch {ratio}")
t4 = load("torch-cuda-b4")
for name in sorted(n[:-5] for n in os.listdir(out) if n.startswith("bench-cuda-b4-k") and n.endswith(".json")):
    kr = load(name)
    if not kr:
        continue
    o = kr["train"]["images_per_second"]
    t = t4["train"]["images_per_second"] if t4 else None
    ratio = f"{o / t:.2f}" if t else "-"
    print(f"train {kr['replicas']} replicas x batch 4 (loss read every {kr.get('loss_readback', 1)} "
          f"steps): candle cuda {num(o)} img/s in aggregate, "
          f"pytorch single run batch 4 {num(t)} img/s, ratio {ratio} (target >= 10)")
one, rb1 = load("bench-cuda-b4"), load("bench-cuda-b4-rb1")
if one and rb1:
    o, r = one["train"]["images_per_second"], rb1["train"]["images_per_second"]
    print(f"train batch 4, one network: loss read every {one.get('loss_readback', 1)} steps "
          f"{num(o)} img/s, every step {num(r)} img/s, ratio {o / r:.2f}")
import csv
walls = {}
for mode in ("groups", "mixed"):
    try:
        with open(os.path.join(out, f"fig2-{mode}-runs.csv")) as f:
            rows = list(csv.DictReader(f))
    except OSError:
        continue
    # wall_seconds is the whole batch's: one value per batch.
    batches = {(r["wall_seconds"], r["replicas"]) for r in rows}
    walls[mode] = (sum(float(w) for w, _ in batches), len(batches), rows)
for mode, (wall, nb, rows) in walls.items():
    print(f"fig2 --scale paper, 1 epoch, {mode}: {len(rows)} runs in {nb} batches, {wall:.0f} s "
          f"of training; x 15 epochs ~ {wall * 15 / 60:.0f} min (target <= 15 min)")
if len(walls) == 2:
    a = {(r["group"], r["repeat"]): float(r["test_accuracy"] or "nan") for r in walls["groups"][2]}
    b = {(r["group"], r["repeat"]): float(r["test_accuracy"] or "nan") for r in walls["mixed"][2]}
    diff = max(abs(a[k] - b[k]) for k in a if k in b)
    print(f"fig2 groups vs mixed: largest test-accuracy difference {diff:.3f} points "
          f"(GPU batched products may round differently with K)")
for d in ("cuda", "cpu"):
    m = load(f"train-{d}")
    if m:
        print(f"train --device {d}: {m['eval_split']} accuracy {m['final_eval_accuracy']}, "
              f"train accuracy {m['final_train_accuracy']}, "
              f"{m['metrics']['images_per_second']:.0f} img/s, {m['metrics']['wall_seconds']:.0f} s")
PY
cat "$OUT/summary.txt"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed steps: ${failed[*]}" >&2
  exit 1
fi
