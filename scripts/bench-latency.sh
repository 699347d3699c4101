#!/usr/bin/env bash
# Concurrency-1 latency of the server against the engine's own generation time (prompt to PNG, in process).
# This VM's speed drifts by 25% and more from one minute to the next, so the two are measured in alternating
# rounds and each side's latencies are pooled over all rounds before taking percentiles.
#   usage: scripts/bench-latency.sh [ROUNDS (default 6)] [REQUESTS PER ROUND (default 50)]
# Extra server settings come from the environment as usual (Glance__Model__Threads=1, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
per_round=${2:-50}
port=${GLANCE_BENCH_PORT:-8089}
prompt="a large blue square at the top left on a black background"

dotnet build src/Glance.Api -c Release -v quiet -nologo >/dev/null
dotnet build src/Glance.Cli -c Release -v quiet -nologo >/dev/null
dotnet build tools/loadbench -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d)
Glance__RateLimit__Enabled=false Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" \
  dotnet src/Glance.Api/bin/Release/net10.0/Glance.Api.dll >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready; its log:"; cat "$work/server.log"; exit 1; }

for round in $(seq 1 "$rounds"); do
  dotnet tools/loadbench/bin/Release/net10.0/glance-loadbench.dll --url "http://127.0.0.1:$port" --prompt "$prompt" \
    --concurrency 1 --requests "$per_round" --warmup 10 --latencies "$work/server.txt" | tail -1
  dotnet src/Glance.Cli/bin/Release/net10.0/glance.dll bench generate --prompt "$prompt" \
    --count "$per_round" --warmup 10 --latencies "$work/engine.txt" | tail -2 | head -1
  echo "round $round of $rounds done"
done

# Nearest-rank percentiles of the pooled latencies.
percentile() { sort -g "$1" | awk -v q="$2" '{ v[NR] = $1 } END { i = int(q * NR + 0.999999); print v[i < 1 ? 1 : i] }'; }
summarise() {
  printf "%-32s n %d  mean %.1f  p50 %.1f  p95 %.1f  p99 %.1f ms\n" "$2" "$(wc -l <"$1")" \
    "$(awk '{ s += $1 } END { print s / NR }' "$1")" "$(percentile "$1" 0.50)" "$(percentile "$1" 0.95)" "$(percentile "$1" 0.99)"
}
summarise "$work/engine.txt" "engine (glance bench generate)"
summarise "$work/server.txt" "server, concurrency 1 (client)"
awk -v s="$(percentile "$work/server.txt" 0.95)" -v e="$(percentile "$work/engine.txt" 0.95)" \
  'BEGIN { printf "server p95 / engine p95 = %.3f (%+.1f%%)\n", s / e, 100 * (s / e - 1) }'
