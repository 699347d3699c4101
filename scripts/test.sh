#!/usr/bin/env bash
# Builds the solution and runs every test project, then the deployment checks (scripts/validate-k8s.sh and
# scripts/publish-smoke.sh, one test each); ends with one line "N passed, N failed".
# Installs the Debian packages that some tests need when they are missing and this is a root apt host.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh chromium redis-server || { echo "installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test Glance.Server.sln --configuration Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed < <(grep -E '(Passed|Failed)! +- Failed: ' "$log" |
  sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+).*/\2 \1/' |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
assemblies=$(grep -cE '(Passed|Failed)! +- Failed: ' "$log")
rm -f "$log"

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before reporting: count it, never hide it.
  echo "dotnet test exited with $status after $assemblies test assemblies reported"
  failed=1
fi
# Each deployment check counts as one test.
for check in scripts/validate-k8s.sh scripts/publish-smoke.sh; do
  echo "== $check"
  if bash "$check"; then
    passed=$((passed + 1))
  else
    echo "$check failed"
    failed=$((failed + 1))
    [ "$status" -eq 0 ] && status=1
  fi
done

echo "$passed passed, $failed failed"
exit "$status"
