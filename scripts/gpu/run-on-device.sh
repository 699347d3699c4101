#!/usr/bin/env bash
# GPU kit, step 2: runs ON THE DEVICE MACHINE from the repository root, in one call, writing figures and logs to $OUT.
#   1. unpacks .gpukit/ (made here by scripts/gpu/prepare.sh) and checks its layout;
#   2. (d) PyTorch eager reference: the card's matmul rate and FLUX.1-dev-shaped blocks (scripts/gpu/torch_reference.py);
#   3. builds LibTorchSharp (TorchSharp's native layer, the referenced release) with CMake + ninja against the Python
#      wheel's libtorch (torch/include, torch/lib, CUDA), after scripts/gpu/patches/*.patch; if CMake cannot configure
#      or some source files fail, links what compiled (the exports of a failed file are then missing, and only the
#      calls that need them fail) and says which;
#   4. points our self-contained apps at that build and at the wheel's libtorch (LD_LIBRARY_PATH), then
#      (a) `glance generate` on glance-mini: cpu float32, cuda float32, cuda bfloat16; mean pixel differences;
#      (b) `glance bench blocks` at FLUX.1-dev width, 1024x1024, batch 1, 2, 4, 8, bfloat16, against (d)'s matmul rate;
#      (c) the server on glance-mini under glance-loadbench at concurrency 1, 4, 16: batching as shipped, then
#          Glance:Batching:MaxBatchSize=1;
#      (e) `glance bench load` of a synthetic 6.4 GB FLUX.1-dev-shaped snapshot onto the GPU and onto the CPU: seconds,
#          GB/s against the disk, and the host's peak resident memory while loading to the GPU (issue 13).
# Every step has a time limit inside one overall budget (default 420 s: the device call gets timeout_s 480, and a
# session's 15 device minutes then leave room for a machine start and one shorter rerun), and a
# failed step does not stop the ones that do not need it. $OUT gets at most 8 files: figures.md, run.log, build.log,
# generate.log, bench.log, server.log, loadbench.log and extras.tar.gz (images, CMake logs, JSON).
#
#   usage: bash scripts/gpu/run-on-device.sh [--dry-run | --cpu-build] [--direct-build] [--budget SECONDS] [--checks a,b,c,d,e]
#                                            [--no-smoke]
#   --dry-run  HERE, without a GPU: unpacks and checks the carried layout, the patches against the sources and the
#              Python scripts, prints the CMake command; then, when a CPU libtorch and a LibTorchSharp this host can
#              load are found (env GPUKIT_CPU_LIBTORCH, GPUKIT_CPU_LIBTORCHSHARP; defaults: the NuGet cache and this
#              repository's build output), runs (a), (b) and (c) small and on the CPU through the same LD_LIBRARY_PATH
#              mechanism as on the device (--no-smoke skips that). Exits 0 when every check passed.
#   --cpu-build  a rehearsal of the device run on a machine without a GPU: builds LibTorchSharp exactly as the device
#              run does, against whatever torch python3 imports (a CPU build), and runs the dry run's small CPU checks
#              through that build and that libtorch; (d) is skipped. docs/gpu.md says how it was run here.
#   --direct-build  skips CMake and compiles the sources directly (the fallback the build takes when CMake cannot
#              configure against the wheel), for a rerun where CMake was the trouble.
#   --checks   which of a, b, c, d, e to run (default all); the build runs whenever a, b, c or e is asked for.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD

dry=false
cpu_build=false
direct_build=false
smoke=true
budget=${GPUKIT_BUDGET:-420}
checks=a,b,c,d,e
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=true; shift ;;
    --cpu-build) cpu_build=true; shift ;;
    --direct-build) direct_build=true; shift ;;
    --no-smoke) smoke=false; shift ;;
    --budget) budget=$2; shift 2 ;;
    --checks) checks=$2; shift 2 ;;
    *) echo "run-on-device: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$checks," == *",$1,"* ]]; }
# small: the checks run small and on the CPU (the dry run, and the CPU rehearsal of the build).
small=false
if $dry || $cpu_build; then small=true; fi
$dry && $cpu_build && { echo "run-on-device: --dry-run and --cpu-build exclude each other" >&2; exit 2; }

kit=$repo/.gpukit
work=${GPUKIT_RUN:-/tmp/glance-gpukit-run}
rm -rf "$work"
mkdir -p "$work/img" "$work/extras"
if [ -z "${OUT:-}" ]; then
  OUT=$work/out
fi
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1

started=$SECONDS
failures=0
left() { echo $((budget - (SECONDS - started))); }
# limit WANT: seconds a step may take, WANT at most, leaving 20 s of the budget for the final packing.
limit() {
  local l=$(($(left) - 20))
  [ "$l" -lt "$1" ] || l=$1
  [ "$l" -gt 5 ] || l=5
  echo "$l"
}
step() { echo; echo "=== $* ($(left) s of the budget left)"; }
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failures=$((failures + 1)); }
# http_get URL: the body of a 2xx answer (curl, or Python where the image has no curl).
http_get() {
  if command -v curl >/dev/null; then curl -fsS --max-time 5 "$1" 2>/dev/null
  else python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null; fi
}
figures=$OUT/figures.md
figure() { printf '%s\n' "$@" >>"$figures"; }
# show CMD...: the command as one line to paste, arguments with spaces quoted, the run folder shortened.
show() {
  local out="" a
  for a in "$@"; do
    a=${a//"$work/"/}
    if [[ $a == *[[:space:]]* ]]; then out+=" \"$a\""; else out+=" $a"; fi
  done
  echo "${out# }"
}
# run_logged LOG SECONDS CMD...: runs CMD with a time limit, its output appended to LOG and shown; returns its status.
run_logged() {
  local log=$1 seconds=$2
  shift 2
  echo "\$ $(show "$@")" | tee -a "$log"
  timeout --kill-after=10 "$seconds" "$@" 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  [ "$status" -ne 124 ] || echo "(stopped after its limit of $seconds s)" | tee -a "$log"
  return "$status"
}

if $dry; then mode="dry run on $(uname -n) (no GPU)"
elif $cpu_build; then mode="CPU rehearsal of the build on $(uname -n) (no GPU)"
else mode="device run on $(uname -n)"; fi
figure "# GPU kit figures: $mode, $(date -u +%Y-%m-%dT%H:%M:%SZ)" ""
figure "Repository commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); kit: $(head -n 1 "$kit/MANIFEST" 2>/dev/null || echo 'no MANIFEST')" ""

# --- Environment --------------------------------------------------------------------------------------------------
step "environment"
python=python3
torch_dir=""
torch_info=$($python - <<'EOF' 2>/dev/null
import os, torch
print(os.path.dirname(torch.__file__))
print(torch.__version__, "cuda", torch.version.cuda, "abi", int(getattr(torch._C, "_GLIBCXX_USE_CXX11_ABI", True)))
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(p.name, "capability %d.%d" % torch.cuda.get_device_capability(0), p.multi_processor_count, "SMs")
else:
    print("no CUDA device visible to torch")
EOF
)
if [ -n "$torch_info" ]; then
  torch_dir=$(sed -n 1p <<<"$torch_info")
  echo "python torch: $(sed -n 2p <<<"$torch_info") at $torch_dir; $(sed -n 3p <<<"$torch_info")"
  figure "- PyTorch: $(sed -n 2p <<<"$torch_info"); $(sed -n 3p <<<"$torch_info")"
else
  echo "python torch: not importable here"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader
for tool in nvcc cmake ninja c++ xz; do
  if command -v $tool >/dev/null; then
    echo "$tool: $($tool --version 2>&1 | grep -m1 -iE 'release|version|[0-9]+\.[0-9]+' )"
  else
    echo "$tool: not found"
  fi
done
echo "cores $(nproc); memory $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); libicu: $(ldconfig -p 2>/dev/null | grep -c libicuuc) entries"
# .NET needs ICU for culture data unless told to run invariant; the device image may have none.
if ! ldconfig -p 2>/dev/null | grep -q libicuuc; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
  echo "no libicu: DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1"
fi
if ! $dry; then
  [ -n "$torch_dir" ] || { bad "python3 cannot import torch: nothing to build against"; }
  $cpu_build || [[ "$(sed -n 3p <<<"$torch_info")" != no* ]] || bad "torch sees no CUDA device"
fi

# --- Unpack and check the carried layout ----------------------------------------------------------------------------
step "unpack .gpukit"
unpack_ok=true
for f in apps.tar.xz libtorchsharp-src.tar.xz MANIFEST; do
  [ -f "$kit/$f" ] || { bad "missing .gpukit/$f: run scripts/gpu/prepare.sh here first and carry .gpukit"; unpack_ok=false; }
done
if $unpack_ok; then
  while read -r _ name size sum; do
    actual=$(sha256sum "$kit/$name" | cut -d' ' -f1)
    if [ "$actual" = "$sum" ] && [ "$(stat -c %s "$kit/$name")" = "$size" ]; then ok "$name: $size bytes, sha256 as in MANIFEST"
    else bad "$name: sha256 or size differs from MANIFEST"; unpack_ok=false; fi
  done < <(grep '^file ' "$kit/MANIFEST")
fi
extract() { # extract ARCHIVE DEST (xz, or Python's lzma where xz is missing)
  if command -v xz >/dev/null; then tar -C "$2" -xJf "$1"
  else $python -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}
apps=$work/apps
src=$work/libtorchsharp
if $unpack_ok; then
  extract "$kit/apps.tar.xz" "$work" && extract "$kit/libtorchsharp-src.tar.xz" "$work" || { bad "unpacking failed"; unpack_ok=false; }
fi
if $unpack_ok; then
  for exe in glance/glance api/Glance.Api loadbench/glance-loadbench; do
    [ -x "$apps/$exe" ] && ok "apps/$exe" || { bad "apps/$exe missing or not executable"; unpack_ok=false; }
  done
  for dll in glance/TorchSharp.dll api/TorchSharp.dll; do [ -f "$apps/$dll" ] || { bad "apps/$dll missing"; unpack_ok=false; }; done
  stray=$(find "$apps" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libLibTorchSharp.so' \) | head -n 3)
  [ -z "$stray" ] && ok "no libtorch native in the apps" || { bad "libtorch natives in the apps (two copies would load): $stray"; unpack_ok=false; }
  [ "$(stat -c %h "$apps/glance/System.Private.CoreLib.dll")" -ge 2 ] && ok "shared runtime files are hard links" ||
    echo "note: shared files came out as copies (more disk, same behaviour)"
  [ -f "$repo/models/glance-mini/config.json" ] || { bad "models/glance-mini is not in the working tree"; unpack_ok=false; }
  for app in glance api; do ln -sfn "$repo/models" "$apps/$app/models"; done
  [ -f "$src/src/Native/LibTorchSharp/CMakeLists.txt" ] && ok "LibTorchSharp sources ($(ls "$src/src/Native/LibTorchSharp" | grep -cE '\.(cpp|c)$') source files)" ||
    { bad "no src/Native/LibTorchSharp in libtorchsharp-src.tar.xz"; unpack_ok=false; }
fi
patches=("$repo"/scripts/gpu/patches/*.patch)
[ -e "${patches[0]}" ] || patches=()
# Patch sets for libtorch releases newer than the one TorchSharp's release was built for, each applied only when the
# wheel's headers show the change it answers (the dry run checks that every set applies to the sources):
#   cxx20             PyTorch 2.13 and later refuse C++17 (#error); LibTorchSharp moves to C++20
#   intrusive-node    autograd nodes held by c10::intrusive_ptr (after 2.11)
#   no-named-tensors  named tensors removed (2.13)
# and one that adds what TorchSharp lacks, applied wherever the headers have the calls it makes:
#   accelerator-memory  empty the caching allocator, read its counters (PyTorch 2.9 and later)
inc=${torch_dir:+$torch_dir/include}
needs_set() {
  [ -n "$inc" ] || return 1
  case $1 in
    cxx20) grep -qs 'C++20 or later' "$inc/ATen/ATen.h" "$inc/torch/csrc/api/include/torch/all.h" "$inc/c10/util/C++17.h" ;;
    intrusive-node) grep -qs 'Node : c10::intrusive_ptr_target' "$inc/torch/csrc/autograd/node.h" "$inc/torch/csrc/autograd/function.h" ;;
    no-named-tensors) [ -d "$inc/ATen/core" ] && [ ! -e "$inc/ATen/core/Dimname.h" ] ;;
    accelerator-memory) grep -qs 'getDeviceStats' "$inc/ATen/DeviceAccelerator.h" ;;
    *) return 1 ;;
  esac
}
cxx_std=17
needs_set cxx20 && cxx_std=20
for set in cxx20 intrusive-node no-named-tensors accelerator-memory; do
  if $dry || needs_set $set; then
    for p in "$repo"/scripts/gpu/patches/$set/*.patch; do [ -e "$p" ] && patches+=("$p"); done
  fi
done
echo "C++ standard for LibTorchSharp: C++$cxx_std"
# apply_patch FILE [--dry-run]: patch(1), or git apply where the image has no patch.
apply_patch() {
  if command -v patch >/dev/null; then patch -p1 -d "$src" --forward --batch ${2:+--dry-run} <"$1" >/dev/null
  elif command -v git >/dev/null; then (cd "$src" && git apply -p1 ${2:+--check} "$1")
  else echo "neither patch nor git is installed"; return 1; fi
}
if $unpack_ok; then
  for p in "${patches[@]}"; do
    if $dry; then
      apply_patch "$p" --dry-run && ok "patch ${p#"$repo"/scripts/gpu/patches/} applies" || bad "patch ${p#"$repo"/scripts/gpu/patches/} does not apply"
    else
      apply_patch "$p" && ok "applied ${p#"$repo"/scripts/gpu/patches/}" || bad "patch ${p#"$repo"/scripts/gpu/patches/} does not apply"
      figure "- LibTorchSharp source patch applied: scripts/gpu/patches/${p#"$repo"/scripts/gpu/patches/}"
    fi
  done
  [ ${#patches[@]} -gt 0 ] || echo "no patches to apply: the sources build as released"
fi
for script in torch_reference.py png_diff.py blocks_figures.py; do
  $python -m py_compile "$repo/scripts/gpu/$script" && ok "$script compiles" || bad "$script does not compile"
done
rm -rf "$repo/scripts/gpu/__pycache__"

# --- (d) PyTorch eager reference and the card's matmul rate -----------------------------------------------------------
torch_json=$work/extras/torch-reference.json
if wants d && ! $small; then
  step "(d) PyTorch eager FLUX.1-dev blocks and the card's matmul rate"
  cmd=(env PYTHONUNBUFFERED=1 $python scripts/gpu/torch_reference.py --sizes 1024 --batch 1,2,4,8 --dtype bfloat16
    --double-blocks 2 --single-blocks 2 --warmup 3 --iterations 10 --json "$torch_json")
  if run_logged "$OUT/bench.log" "$(limit 120)" "${cmd[@]}"; then ok "torch reference"; else bad "torch reference"; fi
  figure "## (d) PyTorch eager reference" "" "\`$(show "${cmd[@]:2}")\`" "" '```'
  grep -E '^(torch reference|matmul|\|)' "$OUT/bench.log" >>"$figures"
  figure '```' ""
fi

# --- LibTorchSharp against the wheel's libtorch -------------------------------------------------------------------
lib_dir=$work/lib
mkdir -p "$lib_dir"
# 16 cores build LibTorchSharp in about two minutes; the CPU rehearsal on a small machine needs far longer.
build_seconds=240
$cpu_build && build_seconds=2400
built=false
build_log=$OUT/build.log
cuda_home=${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")")}
abi=1
torch_version=""
if [ -n "$torch_info" ]; then
  abi=$(sed -n 2p <<<"$torch_info" | sed -E 's/.* abi ([01]).*/\1/')
  torch_version=$(sed -n 2p <<<"$torch_info" | cut -d' ' -f1)
fi
cmake_cmd=(cmake -S "$src/src/Native" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  "-DTorch_DIR=${torch_dir:-TORCH}/share/cmake/Torch" "-DLIBTORCH_PATH=${torch_dir:-TORCH}"
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DCMAKE_CUDA_ARCHITECTURES=90 "-DCUDAToolkit_ROOT=$cuda_home"
  "-DCMAKE_CUDA_COMPILER=$cuda_home/bin/nvcc" -DCMAKE_C_FLAGS=-w -DCMAKE_CXX_FLAGS=-w)
# -w: the release's CMakeLists turns every warning into an error (-Werror); a newer libtorch's headers warn
# (deprecations) where they did not before, and those warnings must not stop the build.

# compile_direct OBJDIR: compiles every source file without CMake, in parallel; prints the ones that failed.
compile_direct() {
  local objdir=$1
  mkdir -p "$objdir"
  local flags="-O2 -DNDEBUG -fPIC -fvisibility=hidden -w -D_GLIBCXX_USE_CXX11_ABI=$abi -D__LINUX__ -D_NO_ASYNCRTIMP -D_NO_PPLXIMP"
  local includes="-I$torch_dir/include -I$torch_dir/include/torch/csrc/api/include -I$src/src/Native -I$src/src/Native/LibTorchSharp"
  export flags includes objdir cxx_std
  ls "$src/src/Native/LibTorchSharp"/*.cpp "$src/src/Native/LibTorchSharp"/*.c |
    xargs -P "$(nproc)" -I{} sh -c 'f={}; o=$objdir/$(basename "$f").o
      case $f in *.c) cc $flags $includes -c "$f" -o "$o" ;; *) c++ -std=c++$cxx_std $flags $includes -c "$f" -o "$o" ;; esac \
        >"$o.log" 2>&1 || { echo "$(basename "$f")"; cat "$o.log" | head -n 30 >&2; }'
}
# link_objects OBJ...: links whatever compiled into libLibTorchSharp.so, torch_cuda kept as a dependency where the
# wheel has it (a CPU torch, in the rehearsal, has not).
link_objects() {
  local cuda_libs=()
  [ -e "$torch_dir/lib/libtorch_cuda.so" ] && cuda_libs=(-ltorch_cuda -lc10_cuda)
  c++ -shared -o "$lib_dir/libLibTorchSharp.so" "$@" -Wl,-soname,libLibTorchSharp.so -Wl,-Bsymbolic -Wl,-Bsymbolic-functions \
    -L"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 "${cuda_libs[@]}" -Wl,--as-needed \
    -Wl,-rpath,"$torch_dir/lib"
}

if wants a || wants b || wants c || wants e; then
  step "build LibTorchSharp against the wheel's libtorch"
  if ! $direct_build; then
    echo "\$ ${cmake_cmd[*]}"
    echo "\$ cmake --build $work/build -- -k 0 -j $(nproc)"
  fi
  if $dry; then
    ok "dry run: the commands above are what the device runs (Torch_DIR from python3's torch there)"
  elif ! $unpack_ok || [ -z "$torch_dir" ]; then
    bad "nothing to build: the layout or torch is missing"
  elif [ -f "$kit/prebuilt/libLibTorchSharp.so" ] && [ "$(cat "$kit/prebuilt/torch-version" 2>/dev/null)" = "$torch_version" ]; then
    # A rerun carries the library an earlier call built (extras.tar.gz: extras/prebuilt/) and skips the build.
    cp "$kit/prebuilt/libLibTorchSharp.so" "$lib_dir/" && built=true
    ok "LibTorchSharp from .gpukit/prebuilt (built earlier against torch $torch_version); no build"
    figure "- LibTorchSharp: carried from an earlier call's build against torch $torch_version (.gpukit/prebuilt)"
  else
    build_started=$SECONDS
    export TORCH_CUDA_ARCH_LIST=9.0 CUDACXX=$cuda_home/bin/nvcc
    if ! $direct_build && run_logged "$build_log" "$(limit 90)" "${cmake_cmd[@]}"; then
      run_logged "$build_log" "$(limit "$build_seconds")" cmake --build "$work/build" -- -k 0 -j "$(nproc)"
      lib=$(find "$work/build" -name libLibTorchSharp.so | head -n 1)
      if [ -n "$lib" ]; then
        cp "$lib" "$lib_dir/" && built=true && ok "CMake build: $lib"
      else
        objs=$(find "$work/build" -path '*LibTorchSharp.dir*' -name '*.o')
        missing=$(comm -23 <(ls "$src/src/Native/LibTorchSharp" | grep -E '\.(cpp|c)$' | sort) \
          <(for o in $objs; do basename "$o" .o; done | sort))
        echo "CMake build incomplete; source files that did not compile: ${missing:-none}" | tee -a "$build_log"
        # shellcheck disable=SC2086
        [ -n "$objs" ] && link_objects $objs >>"$build_log" 2>&1 && built=true && echo "linked the rest" | tee -a "$build_log"
        figure "- LibTorchSharp: CMake build incomplete; not compiled: $(echo $missing)"
      fi
    else
      if $direct_build; then why="--direct-build"; else why="CMake could not configure against the wheel"; fi
      echo "$why: compiling the sources directly" | tee -a "$build_log"
      failed=$(compile_direct "$work/objs" 2>>"$build_log")
      echo "source files that did not compile: ${failed:-none}" | tee -a "$build_log"
      # shellcheck disable=SC2046
      link_objects $(ls "$work/objs"/*.o 2>/dev/null) >>"$build_log" 2>&1 && built=true && echo "linked" | tee -a "$build_log"
      figure "- LibTorchSharp: direct build ($why); not compiled: $(echo ${failed:-none})"
    fi
    if $built; then
      exports=$(nm -D --defined-only "$lib_dir/libLibTorchSharp.so" | awk '$2 == "T" && $3 ~ /^THS/' | wc -l)
      echo "libLibTorchSharp.so: $exports THS* exports (MANIFEST: $(sed -nE 's/^export_check ([0-9]+) .*/\1/p' "$kit/MANIFEST") in the NuGet build)"
      accelerator_exports=$(nm -D --defined-only "$lib_dir/libLibTorchSharp.so" | awk '$2 == "T" && $3 ~ /^GlanceAccelerator_/' | wc -l)
      echo "libLibTorchSharp.so: $accelerator_exports GlanceAccelerator_* exports (patch set accelerator-memory: 3 when applied)"
      ldd "$lib_dir/libLibTorchSharp.so" | grep -E 'torch|c10|cuda' | tee -a "$build_log"
      mkdir -p "$work/extras/prebuilt"
      cp "$lib_dir/libLibTorchSharp.so" "$work/extras/prebuilt/" && echo "$torch_version" >"$work/extras/prebuilt/torch-version"
      ok "LibTorchSharp built in $((SECONDS - build_started)) s"
      figure "- LibTorchSharp built against the wheel's libtorch in $((SECONDS - build_started)) s, $exports THS* exports and $accelerator_exports GlanceAccelerator_* exports"
    else
      bad "LibTorchSharp did not build (build.log)"
    fi
  fi
fi

# --- Point the apps at a LibTorchSharp and a libtorch ---------------------------------------------------------------
device=cuda
$cpu_build && device=cpu
if $dry; then
  device=cpu
  cpu_torch=${GPUKIT_CPU_LIBTORCH:-$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/libtorch-cpu-linux-x64/*/runtimes/linux-x64/native 2>/dev/null | tail -n 1)}
  cpu_lts=${GPUKIT_CPU_LIBTORCHSHARP:-$(find "$repo/src" "$repo/tools" "$repo/tests" -path '*/bin/Release/*' -name libLibTorchSharp.so 2>/dev/null | head -n 1)}
  if $smoke && $unpack_ok && [ -n "$cpu_torch" ] && [ -f "$cpu_torch/libtorch_cpu.so" ] && [ -n "$cpu_lts" ]; then
    ln -sf "$cpu_lts" "$lib_dir/libLibTorchSharp.so"
    torch_lib=$cpu_torch
    built=true
    echo "CPU smoke: LibTorchSharp $cpu_lts, libtorch $cpu_torch"
  else
    echo "CPU smoke skipped (--no-smoke, or no CPU libtorch / loadable LibTorchSharp: set GPUKIT_CPU_LIBTORCH and GPUKIT_CPU_LIBTORCHSHARP, or build once with dotnet build -c Release)"
    built=false
  fi
else
  # torch/lib first, then the folder of every other library a CUDA-initialised Python torch maps (the wheel's
  # nvidia/*/lib: cudart, cuBLAS, cuDNN, NCCL...), so that our process loads exactly the libraries Python's torch does
  # and never a second copy from the CUDA toolkit that CMake may have linked against.
  torch_lib=$torch_dir/lib
  mapped=$($python - <<'EOF' 2>/dev/null
import os, torch
torch.zeros(1, device="cuda")
dirs = []
for line in open("/proc/self/maps"):
    path = line.split()[-1]
    if ".so" in path and path.startswith("/") and os.path.dirname(path) not in dirs:
        dirs.append(os.path.dirname(path))
print(":".join(d for d in dirs if "nvidia" in d or "cuda" in d))
EOF
)
  [ -z "$mapped" ] || torch_lib=$torch_lib:$mapped
  echo "libraries as Python's torch maps them: $torch_lib"
fi
export LD_LIBRARY_PATH=$lib_dir:${torch_lib:-}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
glance=$apps/glance/glance
if $built; then
  step "load check: glance --help through LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  if run_logged "$OUT/generate.log" "$(limit 60)" "$glance" --help >/dev/null; then ok "the apps load TorchSharp's natives from the kit's folders"
  else bad "glance --help (see generate.log for TorchSharp's load trace)"; built=false; fi
fi

# --- (a) glance-mini images: CPU against CUDA -------------------------------------------------------------------------
if wants a && $built; then
  step "(a) glance generate on glance-mini"
  if $small; then configs=("cpu float32" "cpu bfloat16"); else configs=("cpu float32" "cuda float32" "cuda bfloat16"); fi
  prompts=("a large red circle at the top left on a gray background:1" "a small blue cross at the right on a black background:3")
  $small && prompts=("${prompts[0]}")
  figure "## (a) glance-mini: $device images against the CPU image of the same seed" ""
  for entry in "${prompts[@]}"; do
    prompt=${entry%:*} seed=${entry##*:}
    images=()
    for config in "${configs[@]}"; do
      read -r dev dtype <<<"$config"
      out=$work/img/seed$seed-$dev-$dtype.png
      cmd=("$glance" generate --model glance-mini --device "$dev" --dtype "$dtype" --seed "$seed" --prompt "$prompt" --out "$out")
      if run_logged "$OUT/generate.log" "$(limit 60)" "${cmd[@]}"; then
        images+=("$out")
        figure "- \`$(show glance "${cmd[@]:1}")\`: $(grep -A20 "seed$seed-$dev-$dtype.png" "$OUT/generate.log" | grep -m1 -E '^ +total' | tr -s ' ' | sed 's/^ //')"
      else bad "generate $dev $dtype seed $seed"; fi
    done
    if [ ${#images[@]} -ge 2 ]; then
      figure "" "\`python3 scripts/gpu/png_diff.py $(for i in "${images[@]}"; do printf '%s ' "$(basename "$i")"; done)\`" ""
      $python scripts/gpu/png_diff.py "${images[@]}" | tee -a "$OUT/generate.log" >>"$figures" && ok "png_diff seed $seed" || bad "png_diff seed $seed"
      if [ ${#images[@]} -ge 3 ]; then
        $python scripts/gpu/png_diff.py "${images[1]}" "${images[2]}" | tail -n 1 | tee -a "$OUT/generate.log" >>"$figures"
      fi
      figure ""
    fi
  done
  cp "$work"/img/*.png "$work/extras/" 2>/dev/null
  if ! $dry; then
    run_logged "$OUT/generate.log" "$(limit 45)" "$glance" check-precision --device "$device" --dtype bfloat16 && ok "check-precision" || bad "check-precision"
    figure "\`glance check-precision --device $device --dtype bfloat16\` (generate.log):" '```'
    sed -n '/^\$ .* check-precision /,$p' "$OUT/generate.log" | tail -n +2 | head -n 30 >>"$figures"
    figure '```' ""
  fi
fi

# --- (b) FLUX.1-dev-width blocks ------------------------------------------------------------------------------------
if wants b && $built; then
  step "(b) glance bench blocks at FLUX.1-dev width"
  if $small; then
    cmd=("$glance" bench blocks --shape tiny --double-blocks 1 --single-blocks 1 --sizes 64 --batch 1,2 --dtype float32
      --device cpu --warmup 0 --iterations 1)
  else
    cmd=("$glance" bench blocks --shape flux1-dev --double-blocks 2 --single-blocks 2 --sizes 1024 --batch 1,2,4,8
      --dtype bfloat16 --device cuda --warmup 3 --iterations 10)
  fi
  blocks_out=$work/extras/bench-blocks.txt
  if run_logged "$OUT/bench.log" "$(limit 120)" "${cmd[@]}" >"$blocks_out"; then ok "bench blocks"; else bad "bench blocks"; fi
  figure "## (b) FLUX.1 blocks through TorchSharp" "" "\`$(show glance "${cmd[@]:1}")\`" "" '```'
  cat "$blocks_out" >>"$figures"
  figure '```' ""
  tables=("$blocks_out")
  [ -f "$torch_json" ] && tables+=("$torch_json")
  figure "\`python3 scripts/gpu/blocks_figures.py bench-blocks.txt$([ -f "$torch_json" ] && echo ' torch-reference.json')\`" ""
  if $python scripts/gpu/blocks_figures.py "${tables[@]}" >"$work/blocks-figures.md" 2>>"$OUT/bench.log"; then
    cat "$work/blocks-figures.md" | tee -a "$OUT/bench.log" >>"$figures"
    ok "blocks figures"
  else
    bad "blocks_figures.py could not read the bench output"
  fi
  figure ""
fi

# --- (c) the server under load --------------------------------------------------------------------------------------
if wants c && $built; then
  step "(c) the server on glance-mini under glance-loadbench"
  port=${GPUKIT_PORT:-18080}
  if $small; then levels=(1 2); requests=4; warm=2; else levels=(1 4 16); requests=64; warm=32; fi
  figure "## (c) the server on glance-mini, device $device" ""
  for label in shipped maxbatch1; do
    settings=()
    [ "$label" = shipped ] || settings=(Glance__Batching__MaxBatchSize=1)
    echo "--- server ($label: ${settings[*]:-batching as shipped})" | tee -a "$OUT/server.log"
    env "${settings[@]}" Glance__Model__Device=$device Glance__RateLimit__Enabled=false Glance__Queue__Capacity=64 \
      Serilog__MinimumLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$port" \
      "$apps/api/Glance.Api" >>"$OUT/server.log" 2>&1 &
    server=$!
    ready=""
    deadline=$((SECONDS + $(limit 90)))
    while [ $SECONDS -lt $deadline ] && kill -0 $server 2>/dev/null; do
      ready=$(http_get "http://127.0.0.1:$port/readyz") && break
      ready=""
      sleep 1
    done
    if [ -z "$ready" ]; then
      bad "server ($label) not ready"
    else
      echo "readyz: $ready" | tee -a "$OUT/server.log"
      cmd=("$apps/loadbench/glance-loadbench" --url "http://127.0.0.1:$port" --concurrency "${levels[@]}" --requests $requests
        --warmup $warm --prompt "a large blue square at the top left on a black background")
      if run_logged "$OUT/loadbench.log" "$(limit 90)" "${cmd[@]}" >"$work/loadbench-$label.txt"; then ok "loadbench ($label)"
      else bad "loadbench ($label)"; fi
      figure "### ${settings[*]:-batching as shipped (MaxBatchSize 16, MaxRunning 16)}" "" \
        "\`${settings[*]:+${settings[*]} }Glance__Model__Device=$device Glance__RateLimit__Enabled=false Glance__Queue__Capacity=64 apps/api/Glance.Api\`, then \`$(show glance-loadbench "${cmd[@]:1}")\`" "" \
        "readyz: \`$ready\`" ""
      grep -E '^\|' "$work/loadbench-$label.txt" >>"$figures"
      # What the batches served took on the device (absent on the CPU, and where the allocator exports are missing),
      # and whether any ran out of it (then run again in halves).
      device_memory=$(http_get "http://127.0.0.1:$port/metrics" | grep -E '^glance_(device_memory|engine_out_of_memory)' || true)
      figure "" "device memory after the run (/metrics):" '```' "${device_memory:-no glance_device_memory series, no out-of-memory retry}" '```' ""
    fi
    kill -TERM $server 2>/dev/null
    for _ in $(seq 1 30); do kill -0 $server 2>/dev/null || break; sleep 1; done
    kill -KILL $server 2>/dev/null
    wait $server 2>/dev/null
  done
fi

# --- (e) loading a multi-GB snapshot to the device ------------------------------------------------------------------
if wants e && $built; then
  step "(e) glance bench load: a synthetic FLUX.1-dev-shaped snapshot onto $device$([ "$device" = cpu ] || echo ' and onto the CPU')"
  figure "## (e) loading a synthetic snapshot (issue 13: host memory while loading to the GPU, load rate)" ""
  snapshot=$work/load-snapshot
  if $small; then shape=(--double-blocks 1 --single-blocks 1 --t5-layers 1); else shape=(--double-blocks 4 --single-blocks 8 --t5-layers 1); fi
  if run_logged "$OUT/bench.log" "$(limit 90)" "$glance" bench write-snapshot --out "$snapshot" "${shape[@]}" >/dev/null; then
    ok "write-snapshot"
    # The start-up memory check's figures per device; on the GPU its free memory comes from the CUDA driver (CudaMemory).
    cmd=("$glance" inspect "$snapshot" --device "$device" --dtype bfloat16)
    if run_logged "$OUT/bench.log" "$(limit 30)" "${cmd[@]}" >"$work/extras/inspect-load-snapshot.txt"; then ok "inspect"; else bad "inspect"; fi
    figure "\`$(show glance "${cmd[@]:1}")\` (memory lines):" "" '```'
    grep -iE 'needs|available|fits|not checked' "$work/extras/inspect-load-snapshot.txt" >>"$figures"
    figure '```' ""
    targets=("$device")
    [ "$device" = cpu ] || targets+=(cpu)
    for target in "${targets[@]}"; do
      cmd=("$glance" bench load --model "$snapshot" --device "$target" --dtype bfloat16 --cycles 1 --digest)
      load_out=$work/extras/bench-load-$target.txt
      if run_logged "$OUT/bench.log" "$(limit 120)" "${cmd[@]}" >"$load_out"; then ok "bench load ($target)"; else bad "bench load ($target)"; fi
      figure "\`glance bench write-snapshot --out load-snapshot ${shape[*]}\`, then \`$(show glance "${cmd[@]:1}")\`" "" '```'
      cat "$load_out" >>"$figures"
      figure '```' ""
    done
    # The same snapshot in the same dtype: every parameter must hold the same bytes on the GPU as on the CPU.
    if [ ${#targets[@]} -eq 2 ]; then
      digest_of() { sed -nE 's/^weights sha256 ([0-9a-f]+).*/\1/p' "$work/extras/bench-load-$1.txt" 2>/dev/null; }
      on_device=$(digest_of "$device") on_cpu=$(digest_of cpu)
      if [ -n "$on_device" ] && [ "$on_device" = "$on_cpu" ]; then
        ok "the $device load holds the CPU load's bytes"; figure "- weights loaded onto $device and onto the CPU: the same SHA-256 ($on_device)" ""
      else
        bad "weights loaded onto $device differ from the CPU load's, or a digest is missing"
        figure "- weights loaded onto $device and onto the CPU: **not the same**: ${on_device:-no digest} on $device, ${on_cpu:-no digest} on the CPU" ""
      fi
    fi
  else
    bad "write-snapshot"
  fi
  rm -rf "$snapshot"
fi

# --- Pack what comes back ---------------------------------------------------------------------------------------------
step "results"
[ -d "$work/build" ] && find "$work/build" -name 'CMake*.log' -exec cp {} "$work/extras/" \; 2>/dev/null
tar -C "$work" -czf "$OUT/extras.tar.gz" extras 2>/dev/null
figure "" "Run took $((SECONDS - started)) s of a $budget s budget; $failures check(s) failed."
for f in "$OUT"/*; do [ -f "$f" ] && echo "out: $(basename "$f") $(stat -c %s "$f") bytes"; done
echo
cat "$figures"
echo
if [ "$failures" -eq 0 ]; then echo "run-on-device: all checks passed ($mode)"; exit 0; fi
echo "run-on-device: $failures check(s) failed ($mode)"
exit 1
