#!/usr/bin/env bash
# Publish smoke check: publishes the API with deploy/Dockerfile's command into a temporary folder, starts the
# published app as an unprivileged user (when run as root) from a neutral directory, waits for /readyz with the
# default model (glance-mini, shipped beside the app), POSTs /generate for a PNG, checks /metrics, then stops the
# app with SIGTERM and expects a clean exit. Exit 0: passed; 1: failed (the reason and the app's log are printed).
set -uo pipefail
cd "$(dirname "$0")/.."

ready_timeout=${GLANCE_SMOKE_READY_TIMEOUT:-300}
work=$(mktemp -d /tmp/glance-smoke.XXXXXX)
pid=""

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "publish-smoke: $*" >&2
  if [ -f "$work/app.log" ]; then
    echo "--- last lines of the app's log ---" >&2
    tail -n 30 "$work/app.log" >&2
  fi
  echo "publish-smoke: FAILED"
  exit 1
}

[ -f models/glance-mini/config.json ] ||
  fail "models/glance-mini is missing: the published app and the image serve it by default, so it must be in the repository"

echo "publish-smoke: dotnet publish src/Glance.Api -c Release -o $work/app"
dotnet publish src/Glance.Api -c Release -o "$work/app" >"$work/publish.log" 2>&1 ||
  { tail -n 30 "$work/publish.log" >&2; fail "dotnet publish failed"; }
[ -f "$work/app/models/glance-mini/config.json" ] || fail "the publish output has no models/glance-mini beside the app"

# An unprivileged user that can read the app and write nothing but its own temporary folder, as in the image.
mkdir -p "$work/tmp" "$work/run"
chmod -R a+rX "$work"
runner=()
if [ "$(id -u)" -eq 0 ]; then
  if command -v setpriv >/dev/null; then
    chmod 1777 "$work/tmp"
    runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    echo "publish-smoke: running the app as uid 65534 (nobody)"
  else
    echo "publish-smoke: setpriv not found; running the app as root"
  fi
else
  echo "publish-smoke: running the app as $(id -un)"
fi

# Port 0: Kestrel picks a free loopback port and logs it, so nothing can take it between choice and bind.
(cd "$work/run" && exec env HOME="$work/tmp" TMPDIR="$work/tmp" Glance__RateLimit__Enabled=false \
  "${runner[@]}" dotnet "$work/app/Glance.Api.dll" --urls http://127.0.0.1:0) >"$work/app.log" 2>&1 &
pid=$!

base=""
for _ in $(seq 1 120); do
  kill -0 "$pid" 2>/dev/null || fail "the app exited during startup"
  base=$(grep -oE 'Now listening on: http://127\.0\.0\.1:[0-9]+' "$work/app.log" | head -n 1 | sed 's/^Now listening on: //')
  [ -n "$base" ] && break
  sleep 0.5
done
[ -n "$base" ] || fail "the app did not report its address within 60 s"
echo "publish-smoke: app listening on $base"

ready=""
for _ in $(seq 1 "$ready_timeout"); do
  kill -0 "$pid" 2>/dev/null || fail "the app exited before becoming ready"
  if ready=$(curl -fsS --max-time 5 "$base/readyz" 2>/dev/null); then break; fi
  ready=""
  sleep 1
done
[ -n "$ready" ] || fail "/readyz did not answer 200 within $ready_timeout s"
echo "publish-smoke: /readyz $ready"
echo "$ready" | grep -q '"model":"glance-mini"' || fail "the ready app does not serve glance-mini: $ready"

status=$(curl -sS --max-time 300 -o "$work/image.png" -w '%{http_code} %{content_type}' \
  -H 'Content-Type: application/json' -H 'Accept: image/png' \
  -d '{"prompt":"a red circle on a gray background","seed":1}' "$base/generate") || fail "POST /generate failed: $status"
[ "${status%% *}" = "200" ] || fail "POST /generate answered $status: $(head -c 400 "$work/image.png")"
case "${status#* }" in image/png*) ;; *) fail "POST /generate answered $status, not image/png" ;; esac
[ "$(head -c 8 "$work/image.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "POST /generate did not return a PNG"
echo "publish-smoke: POST /generate returned a $(stat -c %s "$work/image.png")-byte PNG"

# Read the whole page first: with pipefail, `curl | grep -q` fails whenever grep exits before curl has written
# everything (curl then dies of SIGPIPE), which made this check flaky.
metrics=$(curl -fsS --max-time 10 "$base/metrics") || fail "GET /metrics failed"
grep -q '^glance_queue_depth' <<<"$metrics" ||
  fail "/metrics has no glance_queue_depth (the gpu overlay's HPA scales on it)"
echo "publish-smoke: /metrics exports glance_queue_depth"

kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$pid" 2>/dev/null && fail "the app did not stop within 30 s of SIGTERM"
wait "$pid"
code=$?
pid=""
[ "$code" -eq 0 ] || fail "the app exited with code $code after SIGTERM"
echo "publish-smoke: the app stopped cleanly on SIGTERM"
echo "publish-smoke: PASSED"
