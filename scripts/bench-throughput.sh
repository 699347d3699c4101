#!/usr/bin/env bash
# Throughput of the batching server (as shipped: MaxBatchSize 16, MaxRunning 16) against the same server with
# Glance:Batching:MaxBatchSize=1 (UNBATCHED_MAX_RUNNING sets its MaxRunning, otherwise as shipped; 1 runs one
# request at a time), at one concurrency. This VM's speed drifts by 25% and more from one minute to the next, so
# the two run in alternating pairs (batched, then unbatched) and the ratio is given per pair and over all pairs.
#   usage: scripts/bench-throughput.sh [PAIRS (default 4)] [CONCURRENCY (default 16)] [REQUESTS (default 128)]
# Extra server settings come from the environment as usual (Glance__Model__DType=float32, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-4}
concurrency=${2:-16}
requests=${3:-128}
port=${GLANCE_BENCH_PORT:-8089}
prompt="a large blue square at the top left on a black background"

dotnet build src/Glance.Api -c Release -v quiet -nologo >/dev/null
dotnet build tools/loadbench -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d)
server=
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=; fi; }
trap 'stop_server; rm -rf "$work"' EXIT

# run LABEL [SETTING=VALUE ...]: one server start with those batching settings over the shipped ones, one loadbench
# level; prints the result row and keeps images/s.
run() {
  local label=$1
  shift
  env "$@" Glance__RateLimit__Enabled=false Glance__Queue__Capacity=$((concurrency * 4)) \
    Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" \
    dotnet src/Glance.Api/bin/Release/net10.0/Glance.Api.dll >"$work/server-$label.log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready; its log:"; cat "$work/server-$label.log"; exit 1; }
  dotnet tools/loadbench/bin/Release/net10.0/glance-loadbench.dll --url "http://127.0.0.1:$port" --prompt "$prompt" \
    --concurrency "$concurrency" --requests "$requests" --warmup $((concurrency * 2)) >"$work/bench-$label.txt"
  stop_server
  # The result row: | concurrency | requests | errors | images/s | ...
  row=$(grep -E "^\| $concurrency \|" "$work/bench-$label.txt" | tail -1)
  [ -n "$row" ] || { echo "no result row; loadbench said:"; cat "$work/bench-$label.txt"; exit 1; }
  echo "$label (${*:-shipped batching settings}): $row"
  echo "$row" | awk -F'|' '{ gsub(/ /, "", $5); gsub(/ /, "", $4); print $5, $4 }' >>"$work/images-$label.txt"
}

for pair in $(seq 1 "$pairs"); do
  run batched
  unbatched_settings=(Glance__Batching__MaxBatchSize=1)
  [ -z "${UNBATCHED_MAX_RUNNING:-}" ] || unbatched_settings+=(Glance__Batching__MaxRunning="$UNBATCHED_MAX_RUNNING")
  run unbatched "${unbatched_settings[@]}"
  batched=$(tail -1 "$work/images-batched.txt" | cut -d' ' -f1)
  unbatched=$(tail -1 "$work/images-unbatched.txt" | cut -d' ' -f1)
  awk -v b="$batched" -v u="$unbatched" -v p="$pair" 'BEGIN { printf "pair %d: %.2f / %.2f images/s = %.2fx\n", p, b, u, b / u }' \
    | tee -a "$work/ratios.txt"
done

errors=$(cat "$work"/images-*.txt | awk '{ s += $2 } END { print s + 0 }')
awk '{ r = $NF; sub(/x$/, "", r); s += r; if (r < lo || NR == 1) lo = r } END {
  printf "%d pairs at concurrency '"$concurrency"': mean ratio %.2fx, lowest %.2fx\n", NR, s / NR, lo }' "$work/ratios.txt"
paste "$work/images-batched.txt" "$work/images-unbatched.txt" | awk '{ b += $1; u += $3 } END {
  printf "mean images/s: batched %.2f, unbatched %.2f (%.2fx)\n", b / NR, u / NR, b / u }'
echo "request errors: $errors"
