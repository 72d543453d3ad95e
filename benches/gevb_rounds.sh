#!/usr/bin/env bash
# Interleaved rounds of `cargo xtask bench gevb` and benches/gevb_pytorch.py (docs/performance.md,
# "GEVB"): per round and rule (GEVB, then vectorized backprop), neurogen then PyTorch, with the
# same shapes, batch, threads and timing. Each measurement is one JSON line in OUT/results.jsonl.
#
#   XTASK=target/release/xtask PY=path/to/python-with-torch OUT=/tmp/gevb benches/gevb_rounds.sh
#
# Environment: XTASK (required), PY (default python3), OUT (default /tmp/gevb-DATE), ROUNDS
# (default 3), THREADS (default 2), ARGS (shape and timing flags both sides take; default the
# paper's MNIST FC-Vec+ at batch 128, 5 windows of 2 s after 5 warm-up steps).
set -eu
cd "$(dirname "$0")/.."
: "${XTASK:?set XTASK to the xtask binary to measure}"
PY=${PY:-python3}
OUT=${OUT:-/tmp/gevb-$(date +%m%d-%H%M)}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
ARGS=${ARGS:---input-dim 784 --hidden 1024,512 --batch-size 128 --windows 5 --window-secs 2 --warmup-steps 5}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for rule in gevb bp; do
    # shellcheck disable=SC2086
    RAYON_NUM_THREADS=$THREADS "$XTASK" bench gevb --json --rule "$rule" $ARGS \
      | sed "s/^{/{\"round\":$round,/" >>"$OUT/results.jsonl"
    # shellcheck disable=SC2086
    "$PY" benches/gevb_pytorch.py --json --threads "$THREADS" --rule "$rule" $ARGS \
      | sed "s/^{/{\"round\":$round,/" >>"$OUT/results.jsonl"
    echo "round $round $rule done" >&2
  done
done
"$PY" - "$OUT/results.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for rule in ("GEVB", "BP"):
    for impl in ("neurogen", "pytorch"):
        v = sorted(r["train"]["images_per_second"] for r in rows
                   if r["rule"] == rule and r["implementation"] == impl)
        if v:
            print(f"{rule:4} {impl:8}: {v[0]:.0f}–{v[-1]:.0f} images/s over {len(v)} rounds")
    ratios = []
    for r in sorted({r["round"] for r in rows}):
        by = {x["implementation"]: x["train"]["images_per_second"] for x in rows
              if x["rule"] == rule and x["round"] == r}
        if len(by) == 2:
            ratios.append(by["neurogen"] / by["pytorch"])
    if ratios:
        print(f"{rule:4} neurogen / pytorch per round: {', '.join(f'{x:.2f}' for x in ratios)}")
PYEOF
