#!/usr/bin/env bash
# Mutation check: plants each deliberate bug of the table below, one at a time, in a scratch copy of this
# repository, builds it, runs the test projects named for it and reports whether the tests noticed.
#
#   scripts/mutation-check.sh                  every mutant
#   scripts/mutation-check.sh euler-sign ...   only the named mutants
#   scripts/mutation-check.sh --list           the mutants, with file and description
#   scripts/mutation-check.sh --check          only verify that every snippet still matches the sources (no build)
#
# Options (before or between names):
#   --all-tests      run both test projects for every mutant, whatever its "tests" column says
#   --filter EXPR    pass --filter EXPR to every `dotnet test` (baseline too), for quick runs while writing tests
#   --no-baseline    skip the unmutated run; then any failing test counts against a mutant
#   --keep           keep the scratch copy (its path is printed) instead of deleting it
#
# Output (stdout): one line per mutant, then the summary, e.g.
#   CAUGHT euler-sign (2 failed) [Glance.Engine.Tests only]
#   SURVIVED guidance-off [Glance.Engine.Tests only]
#   INVALID some-mutant (does not build)
#   13 of 15 mutants caught
# Progress, the tests that caught each mutant and build errors go to stderr.
# Exit status: 0 every mutant caught; 1 a mutant survived or did not build; 2 the table is stale (a snippet no
# longer matches the source exactly once), the baseline does not build, or the command line is wrong.
#
# The copy is taken from this working tree (tracked files and untracked files git does not ignore), so tests not yet
# committed take part. It becomes a git repository of its own; between mutants it is reset to that first commit
# (`git reset --hard` + `git clean -fd`, keeping ignored bin/ and obj/ so builds stay incremental) and checked clean.
# A baseline run of the unmutated copy comes first: tests that already fail there are not counted against mutants.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------------------
# The mutants. One block each:
#   <name> | <tests: engine, api or both> | <file>
#     why: one-line description of the planted bug
#     old: exact source text (one line, no escapes; it must occur exactly once in the file)
#     new: its replacement
# "tests" restricts the run to the project where the bug lives (api: Glance.Engine.Tests cannot reach Glance.Api;
# engine: model maths that only the engine tests look at closely); both: the API's real-engine tests may see it
# (rope-off: the shipped model then draws colours but not positions, which only Glance.Api.Tests notices).
# --all-tests runs both projects for every mutant, for the thorough answer.
# ---------------------------------------------------------------------------------------------------------------
read -r -d '' MUTANT_TABLE <<'TABLE' || true
guidance-off | engine | src/Glance.Engine/Sampling/Guidance.cs
  why: classifier-free guidance returns the conditional prediction unchanged
  old: var combined = u.Plus(c.sub(u).mul(scale.to(ScalarType.Float32).reshape(broadcast)));
  new: var combined = c.clone();

guidance-no-rescale | engine | src/Glance.Engine/Sampling/Guidance.cs
  why: the norm rescale of Guidance.Combine is skipped even when requested
  old: combined = combined.mul(condNorm.div(combNorm));
  new: _ = condNorm.div(combNorm);

double-block-shift-scale-swap | engine | src/Glance.Engine/Models/Flux/FluxBlocks.cs
  why: DoubleStreamBlock modulates its attention input with shift and scale swapped
  old: var modulated = FluxOps.Modulate(x, mod[0], mod[1]);
  new: var modulated = FluxOps.Modulate(x, mod[1], mod[0]);

single-block-gate-scale-swap | engine | src/Glance.Engine/Models/Flux/FluxBlocks.cs
  why: SingleStreamBlock uses its gate chunk as the modulation scale and the scale chunk as the residual gate
  old: var mod = modulation.Forward(vec);
  new: var mod = modulation.Forward(vec); (mod[1], mod[2]) = (mod[2], mod[1]);

last-layer-shift-scale-swap | engine | src/Glance.Engine/Models/Flux/FluxBlocks.cs
  why: LastLayer modulates with (scale, shift) instead of (shift, scale)
  old: FluxOps.Modulate(x, shiftScale[0], shiftScale[1])
  new: FluxOps.Modulate(x, shiftScale[1], shiftScale[0])

euler-sign | engine | src/Glance.Engine/Sampling/EulerStep.cs
  why: the flow-matching Euler step moves by (sigma - nextSigma) instead of (nextSigma - sigma)
  old: var dt = nextSigma.to(ScalarType.Float32).sub(sigma.to(ScalarType.Float32))
  new: var dt = sigma.to(ScalarType.Float32).sub(nextSigma.to(ScalarType.Float32))

negative-prompt-ignored | both | src/Glance.Engine/Pipeline/TorchGlanceEngine.cs
  why: the engine encodes "" instead of the request's negative prompt for true CFG
  old: .Select(r => r.Spec.NegativePrompt ?? "")
  new: .Select(r => "")

seed-always-zero | api | src/Glance.Api/Validation/GenerationRules.cs
  why: a request without a seed always gets seed 0 instead of a random one
  old: if (seed is null) return Random.Shared.NextInt64(highest + 1);
  new: if (seed is null) return 0;

modulate-no-one-plus | engine | src/Glance.Engine/Models/Flux/FluxLayers.cs
  why: FluxOps.Modulate multiplies by scale instead of (1 + scale)
  old: using var onePlusScale = scale.Plus(1.0);
  new: using var onePlusScale = scale.Plus(0.0);

rope-off | both | src/Glance.Engine/Models/Flux/FluxLayers.cs
  why: FluxOps.Attention attends with the unrotated query and key (rotary position embedding not applied)
  old: var attended = nn.functional.scaled_dot_product_attention(q, k, value);
  new: var attended = nn.functional.scaled_dot_product_attention(query, key, value);

timestep-not-scaled | engine | src/Glance.Engine/Models/Flux/FluxPositional.cs
  why: the timestep (and guidance) sinusoid embeds sigma instead of 1000 * sigma
  old: const double TimeFactor = 1000.0;
  new: const double TimeFactor = 1.0;

bf16-conv-fallback-off | engine | src/Glance.Engine/Models/ConvolutionPrecision.cs
  why: ConvolutionPrecision.NeedsFloat32 always returns false (bfloat16 CPU convolutions never fall back to float32)
  old: return reducedPrecision && input.device_type == DeviceType.CPU && spatialKernel && convolution.out_channels % ChannelBlock != 0;
  new: return false;

cfg-uncond-rows-unadapted | both | src/Glance.Engine/Pipeline/TorchGlanceEngine.cs
  why: in a step batch the negative-prompt (unconditional) rows run without their sample's Slow/Fast adapter
  old: Route(rowStates.Select(s => s.NextStep!.Adapter).ToArray(), Model.Device)
  new: Route(rowStates.Select((s, row) => row < states.Count ? s.NextStep!.Adapter : null).ToArray(), Model.Device)

cached-runs-one-weight | engine | src/Glance.Engine/Lora/LoraLinear.cs
  why: with cached merged weights, every run of a mixed Slow/Fast batch uses the first run's weight
  old: addmm_(flat.narrow(0, start, length), runWeight.t(), beta: 0, alpha: 1)
  new: addmm_(flat.narrow(0, start, length), runs[0].Weight.t(), beta: 0, alpha: 1)

schedule-shift-no-exp | engine | src/Glance.Engine/Sampling/FlowMatchSchedule.cs
  why: the dynamic sigma shift uses mu where the formula has e^mu
  old: Math.Exp(mu) / (Math.Exp(mu) + (1.0 / sigma - 1.0))
  new: mu / (mu + (1.0 / sigma - 1.0))
TABLE

ENGINE_TESTS=tests/Glance.Engine.Tests
API_TESTS=tests/Glance.Api.Tests

# ---------------------------------------------------------------------------------------------------------------
# Table parsing, snippet checks, substitution and .trx reading, in Python (exact text, no regex or shell quoting).
# ---------------------------------------------------------------------------------------------------------------
read -r -d '' PY <<'PYTHON' || true
import os, sys, xml.etree.ElementTree as ET

def die(msg):
    print(f"mutation-check: {msg}", file=sys.stderr)
    sys.exit(2)

def table():
    mutants, cur = [], None
    for n, line in enumerate(os.environ["MUTANT_TABLE"].splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith(" "):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or parts[1] not in ("engine", "api", "both"):
                die(f"table line {n}: expected '<name> | engine|api|both | <file>', got: {line}")
            cur = {"name": parts[0], "tests": parts[1], "file": parts[2]}
            mutants.append(cur)
            continue
        key, sep, value = line.strip().partition(": ")
        if cur is None or not sep or key not in ("why", "old", "new") or key in cur:
            die(f"table line {n}: expected '  why: ...', '  old: ...' or '  new: ...' once per mutant, got: {line}")
        cur[key] = value
    for m in mutants:
        missing = [k for k in ("why", "old", "new") if k not in m]
        if missing:
            die(f"mutant {m['name']}: missing {', '.join(missing)}")
        if m["old"] == m["new"]:
            die(f"mutant {m['name']}: old and new text are the same")
    names = [m["name"] for m in mutants]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        die(f"duplicate mutant names: {', '.join(dupes)}")
    return mutants

def find(name):
    for m in table():
        if m["name"] == name:
            return m
    die(f"unknown mutant '{name}'; see --list")

def problem(root, m):
    path = os.path.join(root, m["file"])
    if not os.path.isfile(path):
        return f"{m['file']} does not exist"
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    count = text.count(m["old"])
    if count != 1:
        return f"its old text occurs {count} times in {m['file']} (expected exactly once): {m['old']}"
    return None

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "names":
    print("\n".join(m["name"] for m in table()))
elif cmd == "field":
    print(find(args[0])[args[1]])
elif cmd == "list":
    for m in table():
        print(f"{m['name']:<30} {m['tests']:<6} {m['file']}\n{'':<37} {m['why']}")
elif cmd == "check":
    root, bad = args[0], 0
    for m in table():
        p = problem(root, m)
        if p:
            bad += 1
            print(f"mutation-check: STALE mutant {m['name']}: {p}", file=sys.stderr)
    if bad:
        die(f"{bad} mutant(s) no longer match the sources; update the table in scripts/mutation-check.sh")
elif cmd == "apply":
    root, m = args[0], find(args[1])
    p = problem(root, m)
    if p:
        die(f"STALE mutant {m['name']}: {p}")
    path = os.path.join(root, m["file"])
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text.replace(m["old"], m["new"], 1))
elif cmd == "trx":
    # Prints "executed <n>" and then one "failed <test name>" line per failed test of the given .trx files.
    executed, failed = 0, []
    for path in args:
        root = ET.parse(path).getroot()
        for el in root.iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "Counters":
                executed += int(el.get("executed", "0"))
            elif tag == "UnitTestResult" and el.get("outcome") == "Failed":
                failed.append(el.get("testName"))
    print(f"executed {executed}")
    for name in failed:
        print(f"failed {name}")
else:
    die(f"unknown helper command {cmd}")
PYTHON
export MUTANT_TABLE
helper() { python3 -c "$PY" "$@"; }

log() { echo "$*" >&2; }
die() { log "mutation-check: $*"; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)

# --- command line -----------------------------------------------------------------------------------------------
selected=() all_tests=false filter="" baseline=true keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --list) helper list; exit 0 ;;
    --check) helper check "$root"; log "all $(helper names | wc -l) mutants match the sources"; exit 0 ;;
    --all-tests) all_tests=true ;;
    --filter) [ $# -ge 2 ] || die "--filter needs an expression"; filter=$2; shift ;;
    --no-baseline) baseline=false ;;
    --keep) keep=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) helper field "$1" name >/dev/null || exit 2; selected+=("$1") ;;
  esac
  shift
done
[ ${#selected[@]} -gt 0 ] || mapfile -t selected < <(helper names)

# Every snippet is checked before anything is built, so a stale table fails at once and loudly.
helper check "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- scratch copy -----------------------------------------------------------------------------------------------
scratch=$(mktemp -d "${TMPDIR:-/tmp}/glance-mutation.XXXXXX")
cleanup() {
  if $keep; then log "scratch copy kept: $scratch/repo"; else rm -rf -- "$scratch"; fi
}
trap cleanup EXIT
repo=$scratch/repo results=$scratch/results
mkdir -p "$repo" "$results"
started=$(date +%s)
log "copying $root ($(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ', with uncommitted changes')) to $repo"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  python3 -c 'import os,sys; sys.stdout.write("".join(p + "\0" for p in sys.stdin.read().split("\0") if p and os.path.lexists(p)))' |
  tar --null -T - -cf -) | tar -xf - -C "$repo"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=mutation-check -c user.email=mutation-check@localhost commit -q -m baseline
helper check "$repo"

reset_copy() {
  git -C "$repo" reset -q --hard HEAD
  git -C "$repo" clean -q -fd
  [ -z "$(git -C "$repo" status --porcelain)" ] || die "the scratch copy did not reset cleanly: $(git -C "$repo" status --porcelain | head -5)"
}

projects_for() { # <tests column> -> test project directories
  if $all_tests || [ "$1" = both ]; then echo "$ENGINE_TESTS $API_TESTS"
  elif [ "$1" = engine ]; then echo "$ENGINE_TESTS"
  else echo "$API_TESTS"; fi
}

build() { # <label> <project>... ; the build log is kept under $results
  local label=$1 project; shift
  for project in "$@"; do
    if ! (cd "$repo" && dotnet build "$project" -c Release -nodeReuse:false -v q) >"$results/$label.build.log" 2>&1; then
      { grep -E ' error [A-Z]+[0-9]+' "$results/$label.build.log" || tail -5 "$results/$label.build.log"; } |
        sed -E 's/^ +//' | sort -u | head -5 | sed 's/^/    /' >&2
      return 1
    fi
  done
}

test_timeout=3600
declare -A baseline_failed=()
# run_tests <label> <project>... : sets tests_failed (new failures, one per line), tests_aborted (a reason or "")
run_tests() {
  local label=$1 project name rc out executed line; shift
  tests_failed="" tests_aborted=""
  for project in "$@"; do
    name=$(basename "$project")
    out=$results/$label/$name
    mkdir -p "$out"
    local args=(test "$project" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$out")
    [ -n "$filter" ] && args+=(--filter "$filter")
    rc=0
    (cd "$repo" && timeout "$test_timeout" dotnet "${args[@]}") >"$out/test.log" 2>&1 || rc=$?
    if [ "$rc" -eq 124 ]; then tests_aborted="$name timed out after ${test_timeout}s"; continue; fi
    if [ ! -f "$out/$name.trx" ]; then tests_aborted="$name wrote no results (exit $rc)"; continue; fi
    executed=0
    while IFS= read -r line; do
      case "$line" in
        "executed "*) executed=${line#executed } ;;
        "failed "*) [ -n "${baseline_failed["$name|${line#failed }"]+x}" ] || tests_failed+="${line#failed }"$'\n' ;;
      esac
    done < <(helper trx "$out/$name.trx")
    if grep -qiE 'test run aborted|active test run was aborted|test host process crashed' "$out/test.log"; then
      tests_aborted="$name test run aborted (exit $rc)"
    elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      tests_aborted="$name exited $rc"
    fi
    [ -n "${baseline_executed[$name]:-}" ] && [ "$executed" -lt "${baseline_executed[$name]}" ] && [ -z "$tests_aborted" ] &&
      tests_aborted="$name ran $executed of ${baseline_executed[$name]} tests"
  done
  tests_failed=${tests_failed%$'\n'}
  return 0
}

# --- baseline ---------------------------------------------------------------------------------------------------
declare -A baseline_executed=()
longest=0
log "building the unmutated copy"
build baseline "$ENGINE_TESTS" "$API_TESTS" || die "the unmutated copy does not build (log: $results/baseline.build.log; use --keep to inspect)"
if $baseline; then
  for project in "$ENGINE_TESTS" "$API_TESTS"; do
    name=$(basename "$project")
    t0=$(date +%s)
    run_tests baseline "$project"
    [ -z "$tests_aborted" ] || die "baseline run of $name failed: $tests_aborted (log: $results/baseline/$name/test.log)"
    while IFS= read -r line; do
      case "$line" in
        "executed "*) baseline_executed[$name]=${line#executed } ;;
        "failed "*) baseline_failed["$name|${line#failed }"]=1; log "  baseline failure, not counted against mutants: $name: ${line#failed }" ;;
      esac
    done < <(helper trx "$results/baseline/$name/$name.trx")
    t=$(( $(date +%s) - t0 ))
    [ "$t" -le "$longest" ] || longest=$t
    log "baseline $name: ${baseline_executed[$name]} tests in ${t}s"
  done
  test_timeout=$(( longest * 3 + 600 )) # a mutant that makes the tests hang counts as caught after this
fi

# --- mutants ----------------------------------------------------------------------------------------------------
caught=0 total=0 survivors=() invalid=()
for mutant in "${selected[@]}"; do
  total=$((total + 1))
  file=$(helper field "$mutant" file)
  read -r -a projects <<<"$(projects_for "$(helper field "$mutant" tests)")"
  scope=""
  [ ${#projects[@]} -eq 1 ] && scope=" [$(basename "${projects[0]}") only]"
  t0=$(date +%s)
  log "[$total/${#selected[@]}] $mutant: $(helper field "$mutant" why) ($file)"
  reset_copy
  helper apply "$repo" "$mutant"
  [ -n "$(git -C "$repo" status --porcelain)" ] || die "mutant $mutant changed nothing"
  if ! build "$mutant" "${projects[@]}"; then
    echo "INVALID $mutant (does not build)"
    invalid+=("$mutant")
    reset_copy
    continue
  fi
  run_tests "$mutant" "${projects[@]}"
  reset_copy
  n=0
  [ -z "$tests_failed" ] || n=$(printf '%s\n' "$tests_failed" | wc -l)
  if [ "$n" -gt 0 ]; then
    echo "CAUGHT $mutant ($n failed)$scope"
  elif [ -n "$tests_aborted" ]; then
    echo "CAUGHT $mutant ($tests_aborted)$scope"
  else
    echo "SURVIVED $mutant$scope"
    survivors+=("$mutant")
  fi
  if [ "$n" -gt 0 ] || [ -n "$tests_aborted" ]; then
    caught=$((caught + 1))
    [ -z "$tests_failed" ] || printf '%s\n' "$tests_failed" | head -8 | sed 's/^/    caught by /' >&2
    [ "$n" -le 8 ] || log "    ... and $((n - 8)) more"
  fi
  log "    ($(( $(date +%s) - t0 ))s)"
done

echo "$caught of $total mutants caught"
[ ${#survivors[@]} -eq 0 ] || echo "survived: ${survivors[*]}"
[ ${#invalid[@]} -eq 0 ] || echo "invalid (did not build): ${invalid[*]}"
log "total time $(( $(date +%s) - started ))s"
if [ ${#survivors[@]} -eq 0 ] && [ ${#invalid[@]} -eq 0 ]; then exit 0; else exit 1; fi
