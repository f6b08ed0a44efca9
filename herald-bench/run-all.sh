#!/usr/bin/env bash
# Reproduces the whole performance comparison (docs/performance.md) in one command:
# builds the benchmark jar (which contains Herald, the raw Netty floor server and the load
# generator), installs the Socket.IO peer from npm on first use, then runs every scenario with the
# servers interleaved and writes target/bench/results.md and results.json.
#
#   herald-bench/run-all.sh                      # everything, about 18 minutes on 2 cores
#   herald-bench/run-all.sh --scenarios fanout   # any option of: java -jar herald-bench.jar --help
#
# Loopback only; every process it starts stops by itself (servers and load workers are children
# of the run and are stopped by their PID).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = "--out" ]; then out=${args[i + 1]}; fi
done

./mvnw -B -ntp -q -pl herald-bench -am package -DskipTests

peer=herald-bench/peers/socketio
if [ ! -d "$peer/node_modules/socket.io" ]; then
  if command -v npm >/dev/null; then
    echo "installing the Socket.IO peer (npm ci in $peer)"
    (cd "$peer" && npm ci --no-audit --no-fund --silent)
  else
    echo "npm not found: the Socket.IO peer is skipped" >&2
  fi
fi

mkdir -p "$out"
# Run from a copy, so that a rebuild during the run cannot swap classes under it.
cp herald-bench/target/herald-bench.jar "$out/herald-bench.jar"
start=$(date +%s)
if [ "$out" = target/bench ]; then set -- --out "$out" "$@"; fi
java -jar "$out/herald-bench.jar" "$@"
echo "run-all: $(( $(date +%s) - start )) s; results in $out/results.md"
