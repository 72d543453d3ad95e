#!/bin/bash
# Record of the script that made this directory (2026-12-02): paths are that machine's
# (/work/bin holds release builds of main before and after the change; /work/runs/cache the
# decoded CIFAR-10). benches/ab_rounds.sh is the maintained version of this measurement.
# quick_ab.sh OUTDIR CFG... : interleaved rounds of head vs new, background paused.
OUT=$1; shift; mkdir -p $OUT
P=$(pgrep -f "xtask-8b431a5 reproduce" | head -1)
[ -n "$P" ] && kill -STOP $P
trap '[ -n "$P" ] && kill -CONT $P' EXIT
for round in $(seq 1 ${ROUNDS:-2}); do
 for cfg in "$@"; do
  for bin in ${BINS:-xtask-head xtask-opt1}; do
   NEUROGEN_CACHE_DIR=/work/runs/cache /work/bin/$bin bench throughput $(echo $cfg | tr '_' ' ') --data ../shared/data/cifar10-jpeg.tar.gz --windows ${WINDOWS:-5} --window-secs 2 --json > $OUT/$bin-$cfg-r$round.json 2>/dev/null
   python3 -c "import json,sys;d=json.load(open(sys.argv[1]));print(sys.argv[2],sys.argv[3],sys.argv[4],round(d['train']['images_per_second'],1),round(d['eval']['images_per_second'],1))" $OUT/$bin-$cfg-r$round.json $round $cfg $bin
  done
 done
done
