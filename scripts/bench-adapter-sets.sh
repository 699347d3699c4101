#!/usr/bin/env bash
# Adapter sets under load (issue 15's benchmark), on one glance-mini server whose registry holds 16 sets (copies of
# the shipped Slow/Fast pair under different names: the engine treats each as its own adapter, which is what costs):
#   1. images/s at one concurrency with requests spread over 1, 4 and 16 sets, in rounds that rotate the order (this
#      VM's speed drifts from minute to minute), relative to all requests on one set;
#   2. generation p50/p95 with one adapter training job running (POST /v1/adapters/.../train) vs none, alternating.
#   usage: scripts/bench-adapter-sets.sh [ROUNDS (default 3)] [CONCURRENCY (default 16)] [REQUESTS (default 96)] [PARTS (default sets,training)]
# Extra server settings come from the environment as usual (Glance__Training__MaxShare=0.25, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
concurrency=${2:-16}
requests=${3:-96}
parts=${4:-sets,training}
port=${GLANCE_BENCH_PORT:-8091}
prompt="a large blue square at the top left on a black background"
admin=bench-admin-key-0123456789

dotnet build src/Glance.Api -c Release -v quiet -nologo >/dev/null
dotnet build tools/loadbench -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d)
server=
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=; fi; }
trap 'stop_server; rm -rf "$work"' EXIT

mkdir -p "$work/registry"
for i in $(seq 0 15); do
  mkdir -p "$work/registry/set-$i"
  cp models/glance-mini/adapters/slow.safetensors models/glance-mini/adapters/fast.safetensors "$work/registry/set-$i/"
done

env Glance__RateLimit__Enabled=false Glance__Queue__Capacity=$((concurrency * 4)) Glance__Adapters__Path="$work/registry" \
  Glance__Auth__ApiKeys__0=$admin Glance__Auth__AdminKeys__0=$admin \
  Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" \
  dotnet src/Glance.Api/bin/Release/net10.0/Glance.Api.dll >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "server not ready; its log:"; cat "$work/server.log"; exit 1; }
for _ in $(seq 1 60); do
  [ "$(curl -sf -H "X-Api-Key: $admin" "http://127.0.0.1:$port/v1/adapters" | grep -o '"name":"set-' | wc -l)" -ge 16 ] && break; sleep 1
done

# level LABEL CONCURRENCY [loadbench options ...]: one measured level; prints and keeps its row.
level() {
  local label=$1 c=$2
  shift 2
  dotnet tools/loadbench/bin/Release/net10.0/glance-loadbench.dll --url "http://127.0.0.1:$port" --api-key "$admin" --prompt "$prompt" \
    --concurrency "$c" --requests "$requests" --warmup "$c" "$@" >"$work/bench-$label.txt" 2>>"$work/bench-stderr.txt"
  row=$(grep -E "^\| $c \|" "$work/bench-$label.txt" | tail -1)
  [ -n "$row" ] || { echo "no result row; loadbench said:"; cat "$work/bench-$label.txt" "$work/bench-stderr.txt"; exit 1; }
  echo "$label: $row"
  # images/s, p50, p95, errors
  echo "$row" | awk -F'|' '{ gsub(/ /, ""); print $5, $6, $7, $4 }' >>"$work/rows-$label.txt"
}

sets() { local n=$1; for i in $(seq 0 $((n - 1))); do printf 'set-%d ' "$i"; done; }
if [[ ,$parts, == *,sets,* ]]; then
echo "== images/s at concurrency $concurrency, requests spread over 1, 4 and 16 sets =="
orders=("1 4 16" "16 1 4" "4 16 1")
for round in $(seq 1 "$rounds"); do
  for n in ${orders[$(((round - 1) % 3))]}; do
    # shellcheck disable=SC2046
    level "sets-$n" "$concurrency" --adapters $(sets "$n")
  done
done
for n in 4 16; do
  paste "$work/rows-sets-1.txt" "$work/rows-sets-$n.txt" | awk -v n="$n" '{ one += $1; many += $5 } END {
    printf "%d sets: mean %.2f images/s vs %.2f on one set = %.1f%%\n", n, many / NR, one / NR, 100 * many / one }'
done
fi

if [[ ,$parts, == *,training,* ]]; then
echo "== generation latency at concurrency 4 with one training job running vs none =="
for round in $(seq 1 "$rounds"); do
  level idle 4 --adapters set-0
  level training 4 --adapters set-0 --train-image models/glance-mini/lora-pair/train_000000.png --admin-key "$admin"
done
for label in idle training; do
  awk -v l="$label" '{ s += $1; p50 += $2; p95 += $3 } END { printf "%s: mean %.2f images/s, mean p50 %.0f ms, mean p95 %.0f ms\n", l, s / NR, p50 / NR, p95 / NR }' "$work/rows-$label.txt"
done
grep -h "training job" "$work/bench-stderr.txt" || true
fi
echo "request errors: $(cat "$work"/rows-*.txt | awk '{ s += $4 } END { print s + 0 }')"
