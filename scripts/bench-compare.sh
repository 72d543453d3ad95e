#!/usr/bin/env bash
# Interleaved training-throughput rounds of two xtask release binaries (e.g. main before and
# after a change), same session, same data: `scripts/bench-compare.sh OLD_BIN NEW_BIN [ROUNDS]`.
# Prints one line per (round, configuration, binary) with the median images/s and the load.
set -euo pipefail
old=$1; new=$2; rounds=${3:-3}
data=${DATA:-../shared/data/cifar10-jpeg.tar.gz}
for round in $(seq 1 "$rounds"); do
  for cfg in "--batch-size 4" "--batch-size 128" "--batch-size 4 --replicas 4"; do
    for bin in "$old" "$new"; do
      # shellcheck disable=SC2086
      r=$("$bin" bench throughput $cfg --data "$data" --windows 5 --window-secs 2 --json \
        | python3 -c "import json,sys; print('%.0f' % json.load(sys.stdin)['train']['images_per_second'])")
      echo "round $round | $cfg | $bin | $r | load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
