#!/usr/bin/env bash
# GPU kit rehearsal on a machine without a GPU: runs `run-on-device.sh --cpu-build` inside a Debian chroot whose
# python3 imports a libtorch that is not the NuGet package's (Debian's own CPU build, a newer release), so that the
# device run's build stage runs for real before a device is lent: the patch sets chosen from the headers, CMake
# against torch's CMake files (or the direct-compile fallback), the link, and our apps on a foreign libtorch through
# LD_LIBRARY_PATH. Figures from it are not performance figures (Debian's reference BLAS, a chroot).
#
#   usage: sudo bash scripts/gpu/rehearse-in-debian.sh [--suite SUITE] [--root DIR] [--direct] [--tests]
#   --suite   Debian suite whose libtorch-dev and python3-torch are used (default sid)
#   --root    the chroot folder, kept between runs (default /tmp/glance-debian-rehearsal; about 1.5 GB)
#   --direct  the build skips CMake and compiles the sources directly (run-on-device.sh --direct-build), the path the
#             device run falls back to when CMake cannot configure against the wheel
#   --tests   then runs the engine and glance-mini test suites (as built here by `dotnet build -c Release`) in the
#             chroot on that LibTorchSharp and Debian's libtorch, through this machine's .NET SDK (mounted read-only)
# Needs root, debootstrap, Debian's mirror and .gpukit/ (scripts/gpu/prepare.sh). Takes about 10 minutes to set the
# chroot up the first time and 8 minutes per run on two cores. Results: DIR/tmp/rehearsal-out (figures.md and logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
suite=sid
root=/tmp/glance-debian-rehearsal
direct=false
tests=false
while [ $# -gt 0 ]; do
  case $1 in
    --suite) suite=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --direct) direct=true; shift ;;
    --tests) tests=true; shift ;;
    *) echo "rehearse-in-debian: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "rehearse-in-debian: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
[ -f .gpukit/MANIFEST ] || { echo "rehearse-in-debian: no .gpukit/: run scripts/gpu/prepare.sh first" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null

# The mirror may serve a suite whose Release file has passed its Valid-Until date; the packages are still signed.
apt_opts=(-o Acquire::Check-Valid-Until=false -q)
if [ ! -f "$root/etc/debian_version" ]; then
  debootstrap --variant=minbase "$suite" "$root" http://deb.debian.org/debian
fi
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
sdk=$(dirname "$(readlink -f "$(command -v dotnet)")")
trap 'umount "$root$sdk" "$root/dev" "$root/proc" 2>/dev/null || true' EXIT
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$@"; }
if ! in_root python3 -c 'import torch' 2>/dev/null; then
  in_root apt-get "${apt_opts[@]}" update
  in_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y --no-install-recommends \
    libtorch-dev python3-torch cmake ninja-build g++ xz-utils patch curl ca-certificates git libicu-dev binutils
fi

# Shape Debian's torch like a wheel: the device run looks for torch's CMake files at <torch>/share/cmake/Torch.
# Debian's TorchConfig.cmake finds its prefix four folders above its own, which through that link is
# dist-packages, hence the include link there.
torch_info=$(in_root python3 -c 'import os, torch; print(os.path.dirname(torch.__file__), torch.__version__)')
read -r torch torch_version <<<"$torch_info"
arch=$(in_root dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
mkdir -p "$root$torch/share/cmake"
ln -sfn "/usr/lib/$arch/cmake/Torch" "$root$torch/share/cmake/Torch"
ln -sfn /usr/include "$root$(dirname "$torch")/include"

rm -rf "$root/work/main" "$root/tmp/rehearsal-out"
mkdir -p "$root/work"
git clone -q "$repo" "$root/work/main"
cp -r .gpukit "$root/work/main/"
echo "rehearsal at $(git rev-parse --short HEAD) (committed state) in $root, torch $torch_version"
status=0
build_args=--cpu-build
$direct && build_args+=" --direct-build"
in_root env OUT=/tmp/rehearsal-out bash -c "cd /work/main && bash scripts/gpu/run-on-device.sh $build_args --budget 3600" || status=$?
echo "results: $root/tmp/rehearsal-out; images: $root/tmp/glance-gpukit-run/img"

if $tests && [ $status -eq 0 ]; then
  # The suites as built here, minus the NuGet package's natives, so that TorchSharp can only find the libraries
  # LD_LIBRARY_PATH names: the LibTorchSharp the run just built and Debian's libtorch.
  mkdir -p "$root$sdk"
  mountpoint -q "$root$sdk" || mount --bind -o ro "$sdk" "$root$sdk"
  for suite_name in Glance.Engine.Tests Glance.Mini.Tests; do
    bin=tests/$suite_name/bin/Release/net10.0
    [ -f "$bin/$suite_name.dll" ] || dotnet build -c Release "tests/$suite_name"
    mkdir -p "$root/work/main/$bin"
    cp -r "$bin/." "$root/work/main/$bin/"
    rm -rf "$root/work/main/$bin/runtimes/linux-x64/native"
    echo "--- $suite_name on LibTorchSharp built here and libtorch $torch_version"
    in_root env DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
      LD_LIBRARY_PATH="/tmp/glance-gpukit-run/lib:$torch/lib" \
      "$sdk/dotnet" test "/work/main/$bin/$suite_name.dll" 2>&1 | tee "$root/tmp/rehearsal-out/$suite_name.log" | tail -n 1
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  done
fi
exit $status
