#!/usr/bin/env bash
# Interleaved CPU rounds of two neurogen binaries and PyTorch (docs/performance.md, "quiet-machine
# rounds"): per round, batch 4 and batch 128 with NEW, PyTorch and OLD, then 32 replicas at batch
# 4 with NEW and OLD; then `reproduce fig2 --scale quick --epochs 1 --repeats 4` with OLD and NEW
# (end to end, timed by /usr/bin/time). Summarise with `python3 benches/ab_summary.py OUT`.
#
#   OLD=path/to/xtask-before NEW=target/release/xtask OUT=/tmp/ab benches/ab_rounds.sh
#
# Environment: NEW (required), OLD (without it, only NEW and PyTorch are measured), OUT (default
# /tmp/ab-DATE), DATA (default the shared CIFAR-10 archive), PY (a Python with torch, default
# python3), ROUNDS (default 3), FIG2=0 skips the end-to-end slice, PAUSE (a pgrep -f pattern:
# those processes are stopped with SIGSTOP for the measurement and continued at the end,
# whatever happens).
set -u
cd "$(dirname "$0")/.."
: "${NEW:?set NEW to the xtask binary to measure}"
OLD=${OLD:-}
olds=old
[ -z "$OLD" ] && olds=
OUT=${OUT:-/tmp/ab-$(date +%m%d-%H%M)}
DATA=${DATA:-../shared/data/cifar10-jpeg.tar.gz}
PY=${PY:-python3}
mkdir -p "$OUT"
pids=""
if [ -n "${PAUSE:-}" ]; then
  pids=$(pgrep -f "$PAUSE" | grep -vx "$$" | tr '\n' ' ')
  echo "pausing: $pids" | tee -a "$OUT/log"
  [ -n "$pids" ] && kill -STOP $pids
fi
trap '[ -n "$pids" ] && kill -CONT $pids && echo "resumed: $pids" >>"$OUT/log"' EXIT
w=(--windows 5 --window-secs 2)
note() { echo "$(date +%T) $* load $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/log"; }
bench() { # WHO FILE ARGS...
  local who=$1 file=$2
  shift 2
  case $who in
    new) "$NEW" bench throughput --data "$DATA" "${w[@]}" --json "$@" ;;
    old) "$OLD" bench throughput --data "$DATA" "${w[@]}" --json "$@" ;;
    torch) "$PY" benches/pytorch_baseline.py --threads 2 "${w[@]}" --json "$@" ;;
  esac >"$OUT/$file" 2>>"$OUT/err"
}
sleep 5
for round in $(seq 1 "${ROUNDS:-3}"); do
  for b in 4 128; do
    for who in new torch $olds; do
      note "round $round b$b $who"
      bench "$who" "$who-b$b-r$round.json" --batch-size "$b"
    done
  done
  for who in new $olds; do
    note "round $round k32 $who"
    bench "$who" "$who-k32-r$round.json" --batch-size 4 --replicas 32
  done
done
if [ "${FIG2:-1}" != 0 ]; then
  for who in $olds new; do
    bin=$NEW
    [ "$who" = old ] && bin=$OLD
    note "fig2 $who"
    /usr/bin/time -v "$bin" reproduce fig2 --scale quick --epochs 1 --repeats 4 --data "$DATA" \
      --out "$OUT/fig2-$who" --quiet >"$OUT/fig2-$who.log" 2>&1
  done
fi
note done
