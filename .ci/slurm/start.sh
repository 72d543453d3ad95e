#!/usr/bin/env bash
# Starts a one-node Slurm on this machine for the integration tests (xtask/tests/slurm.rs):
# munged, slurmctld and slurmd, from slurm.conf.in beside this script (all of this machine's
# cores, no cgroups, as root). Needs Debian's slurm-wlm and munge (.ci/run installs them) and
# root. Idempotent: a cluster this script already started is stopped and started afresh.
#
#   .ci/slurm/start.sh [STATE_DIR]     (default /tmp/neurogen-slurm)
#
# On success prints `export SLURM_CONF=STATE_DIR/slurm.conf` (the tests' sbatch, squeue, scancel
# and sinfo find the cluster through it) and exits 0 once `sinfo` shows the node idle; on any
# failure prints why (with the daemons' logs) and exits 1. .ci/slurm/stop.sh stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${1:-/tmp/neurogen-slurm}"

fail() { echo "slurm/start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "must run as root (SlurmUser=root, munged's key)"
for b in munged slurmctld slurmd sinfo sbatch; do
  command -v "$b" >/dev/null || fail "$b is not installed (apt-get install slurm-wlm munge)"
done

"$here/stop.sh" "$state" >/dev/null 2>&1 || true
mkdir -p "$state/ctld" "$state/d" /run/munge /var/log/munge /var/lib/munge
host="$(hostname -s)"
cpus="$(nproc --all)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
# Ports of our own, so that a Slurm already on the machine (6817/6818) is not disturbed.
sed -e "s|@HOST@|$host|g" -e "s|@CPUS@|$cpus|g" -e "s|@MEM@|$mem_mb|g" \
    -e "s|@STATE@|$state|g" -e "s|@CTLD_PORT@|${NEUROGEN_SLURMCTLD_PORT:-16817}|g" \
    -e "s|@SLURMD_PORT@|${NEUROGEN_SLURMD_PORT:-16818}|g" \
    "$here/slurm.conf.in" > "$state/slurm.conf"
export SLURM_CONF="$state/slurm.conf"

logs() {
  for f in "$state/munged.log" "$state/slurmctld.log" "$state/slurmd.log"; do
    [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$f" >&2; }
  done
  return 0
}

# MUNGE: Debian's package creates /etc/munge/munge.key; make one if it is missing.
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then mungekey --create --force >/dev/null
  else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
chown root:root /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
# A munged already running (e.g. started by the package) with the same key is used as it is.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  munged --force --pid-file="$state/munged.pid" --log-file="$state/munged.log" \
    || { logs; fail "munged did not start"; }
fi
munge -n | unmunge >/dev/null || { logs; fail "munge cannot encode and decode a credential"; }

slurmctld -f "$SLURM_CONF" || { logs; fail "slurmctld did not start"; }
slurmd -f "$SLURM_CONF" || { logs; fail "slurmd did not start"; }

for _ in $(seq 1 60); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; then
    echo "slurm/start.sh: one node ($host, $cpus CPUs) idle; state in $state" >&2
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
sinfo -N >&2 || true
logs
fail "the node did not become idle within 60 s"
