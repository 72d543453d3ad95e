#!/usr/bin/env bash
# Stops the one-node Slurm that .ci/slurm/start.sh started (its daemons, by the pid files in
# STATE_DIR, default /tmp/neurogen-slurm) and deletes its job state.
set -uo pipefail
state="${1:-/tmp/neurogen-slurm}"
for d in slurmd slurmctld munged; do
  f="$state/$d.pid"
  if [ -s "$f" ]; then
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  fi
done
rm -rf "$state/ctld" "$state/d"
