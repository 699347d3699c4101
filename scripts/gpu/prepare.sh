#!/usr/bin/env bash
# GPU kit, step 1 (runs HERE, on the CPU machine): fills the ignored folder .gpukit/ that one device call carries.
#   .gpukit/apps.tar.xz              self-contained linux-x64 publishes of `glance` (src/Glance.Cli), the server
#                                     (src/Glance.Api) and `glance-loadbench` (tools/loadbench), WITHOUT the CPU
#                                     libtorch natives and without libLibTorchSharp.so; files the three share are
#                                     hard links, so the archive holds each once; no models/ (the tree carries them)
#   .gpukit/libtorchsharp-src.tar.xz  TorchSharp's native layer (src/Native: LibTorchSharp and its CMake files, plus
#                                     TorchSharp's LICENSE.txt) at the release the project references
#   .gpukit/MANIFEST                  what was packed: versions, commits, sizes, sha256
# Then scripts/gpu/run-on-device.sh builds LibTorchSharp there against the Python wheel's CUDA libtorch and runs the
# checks (docs/gpu.md). Check the result here with `bash scripts/gpu/run-on-device.sh --dry-run`.
#
#   usage: scripts/gpu/prepare.sh [--torchsharp-git GITDIR] [--torchsharp-rev REV] [--skip-publish]
#   GITDIR: a git directory of github:dotnet/TorchSharp (the `fetch` tool's mirror; env TORCHSHARP_GIT; default
#           /work/.mirror/dotnet+TorchSharp/repo). REV: default the tag vX.Y.Z of the referenced TorchSharp version, or
#           when the mirror has no tags, the newest commit whose build/BranchInfo.props carries that version.
#   --skip-publish: keep an existing apps.tar.xz and only (re)export the sources and the manifest.
#   GPUKIT_WORK (default /tmp/glance-gpukit): publish folders and build intermediates, outside the repository so that
#   the normal build's bin/ and obj/ are never touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
kit=$repo/.gpukit
work=${GPUKIT_WORK:-/tmp/glance-gpukit}
ts_git=${TORCHSHARP_GIT:-/work/.mirror/dotnet+TorchSharp/repo}
ts_rev=""
skip_publish=false
while [ $# -gt 0 ]; do
  case $1 in
    --torchsharp-git) ts_git=$2; shift 2 ;;
    --torchsharp-rev) ts_rev=$2; shift 2 ;;
    --skip-publish) skip_publish=true; shift ;;
    *) echo "prepare: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

say() { echo "prepare: $*"; }
die() { echo "prepare: $*" >&2; exit 1; }

# The TorchSharp version the engine references (central package management).
ts_version=$(sed -nE 's/.*PackageVersion Include="TorchSharp-cpu" Version="([^"]+)".*/\1/p' Directory.Packages.props)
[ -n "$ts_version" ] || die "no TorchSharp-cpu version in Directory.Packages.props"
say "TorchSharp version referenced: $ts_version"

# --- LibTorchSharp sources at that release -------------------------------------------------------------------------
git -C "$ts_git" rev-parse --git-dir >/dev/null 2>&1 ||
  die "no TorchSharp git directory at '$ts_git': bring one with the fetch tool (source github:dotnet/TorchSharp) and pass --torchsharp-git"
if [ -z "$ts_rev" ]; then
  if git -C "$ts_git" rev-parse -q --verify "refs/tags/v$ts_version^{commit}" >/dev/null; then
    ts_rev=$(git -C "$ts_git" rev-parse "refs/tags/v$ts_version^{commit}")
    how="tag v$ts_version"
  else
    IFS=. read -r major minor patch <<<"${ts_version%%-*}"
    for c in $(git -C "$ts_git" log --format=%H -- build/BranchInfo.props); do
      props=$(git -C "$ts_git" show "$c:build/BranchInfo.props")
      if grep -q "<MajorVersion>$major<" <<<"$props" && grep -q "<MinorVersion>$minor<" <<<"$props" &&
        grep -q "<PatchVersion>$patch<" <<<"$props"; then
        # Newest commit that still carries the version in BranchInfo.props: every later commit of the branch has it
        # too, so take the newest commit of the branch before the next bump.
        next=$(git -C "$ts_git" rev-list --ancestry-path "$c..HEAD" -- build/BranchInfo.props | tail -n 1)
        if [ -n "$next" ]; then ts_rev=$(git -C "$ts_git" rev-parse "$next^"); else ts_rev=$(git -C "$ts_git" rev-parse HEAD); fi
        how="no tag in the mirror; newest commit whose build/BranchInfo.props says $ts_version"
        break
      fi
    done
  fi
fi
[ -n "$ts_rev" ] || die "no commit of $ts_git carries TorchSharp $ts_version; pass --torchsharp-rev"
ts_rev=$(git -C "$ts_git" rev-parse "$ts_rev^{commit}")
say "LibTorchSharp sources: $ts_rev (${how:-given}) $(git -C "$ts_git" log -1 --format='%ad %s' --date=short "$ts_rev")"

mkdir -p "$kit"
git -C "$ts_git" archive --format=tar --prefix=libtorchsharp/ "$ts_rev" src/Native LICENSE.txt | xz -9 >"$kit/libtorchsharp-src.tar.xz.tmp"
mv "$kit/libtorchsharp-src.tar.xz.tmp" "$kit/libtorchsharp-src.tar.xz"

# The sources must be the ones the NuGet binary was built from: every THS* function the packaged libLibTorchSharp.so
# exports must be declared with EXPORT_API in these sources, and the other way round.
nuget_lib=${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/$ts_version/runtimes/linux-x64/native/libLibTorchSharp.so
export_check="not checked (no $nuget_lib)"
if [ -f "$nuget_lib" ] && command -v nm >/dev/null; then
  exports=$(mktemp -d)
  nm -D --defined-only "$nuget_lib" | awk '$2 == "T" {print $3}' | grep -E '^THS' | sort -u >"$exports/binary"
  git -C "$ts_git" archive --format=tar "$ts_rev" src/Native/LibTorchSharp | tar -xO --wildcards '*.h' |
    grep -oE 'EXPORT_API\([^)]*\)+ *THS[A-Za-z0-9_]+' | grep -oE 'THS[A-Za-z0-9_]+$' | sort -u >"$exports/source"
  only_binary=$(comm -23 "$exports/binary" "$exports/source" | wc -l)
  only_source=$(comm -13 "$exports/binary" "$exports/source" | wc -l)
  export_check="$(wc -l <"$exports/binary") THS* exports in the NuGet binary; $only_binary of them not declared in the sources, $only_source declared but not exported"
  say "export check: $export_check"
  if [ "$only_binary" -ne 0 ]; then
    comm -23 "$exports/binary" "$exports/source" | head -n 20 >&2
    die "the sources at $ts_rev do not match the packaged libLibTorchSharp.so of TorchSharp $ts_version"
  fi
  rm -rf "$exports"
fi

# --- Self-contained publish of the three apps ------------------------------------------------------------------------
apps=(glance:src/Glance.Cli/Glance.Cli.csproj api:src/Glance.Api/Glance.Api.csproj loadbench:tools/loadbench/LoadBench.csproj)
if ! $skip_publish || [ ! -f "$kit/apps.tar.xz" ]; then
  rm -rf "$work/apps"
  mkdir -p "$work/apps" "$work/logs"
  for entry in "${apps[@]}"; do
    name=${entry%%:*}
    project=${entry#*:}
    say "dotnet publish $project (self-contained linux-x64) -> $work/apps/$name"
    # CustomAfterMicrosoftCommonTargets: scripts/gpu/DropLibTorchNatives.targets leaves libtorch and LibTorchSharp out.
    # GlanceForceTorchSharpPatch=false: there is no libLibTorchSharp.so in the output to retarget.
    if ! dotnet publish "$project" -c Release -r linux-x64 --self-contained true -o "$work/apps/$name" \
      --artifacts-path "$work/artifacts" -nologo \
      -p:CustomAfterMicrosoftCommonTargets="$repo/scripts/gpu/DropLibTorchNatives.targets" \
      -p:GlanceForceTorchSharpPatch=false >"$work/logs/publish-$name.log" 2>&1; then
      tail -n 40 "$work/logs/publish-$name.log" >&2
      die "dotnet publish $project failed (log: $work/logs/publish-$name.log)"
    fi
    grep -h 'GPU kit:' "$work/logs/publish-$name.log" | sort -u | sed 's/^ */prepare:   /' | head -n 3 || true
  done

  # Nothing of libtorch may remain, or two copies would load on the device.
  leftovers=$(find "$work/apps" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libLibTorchSharp.so' -o -name 'libgomp*.so*' \) | head -n 5)
  [ -z "$leftovers" ] || die "libtorch natives are still in the publish output: $leftovers"
  # models/ travels in the working tree; run-on-device.sh links each app's models/ to the repository's.
  rm -rf "$work/apps"/*/models
  # Debugger and tracing support of the runtime (crash-dump writer, debugger access libraries, LTTng provider): the
  # runtime loads none of them to run, and they would cost 1.5 MiB of the 64.
  for name in glance api loadbench; do
    rm -f "$work/apps/$name"/{createdump,libmscordaccore.so,libmscordbi.so,libcoreclrtraceptprovider.so}
  done

  # Files the three apps share (the .NET runtime, TorchSharp.dll, our own assemblies) become hard links, which tar
  # stores once.
  linked=0
  for name in api loadbench; do
    while IFS= read -r -d '' file; do
      rel=${file#"$work/apps/$name/"}
      twin=$work/apps/glance/$rel
      if [ -f "$twin" ] && cmp -s "$file" "$twin"; then
        ln -f "$twin" "$file"
        linked=$((linked + 1))
      fi
    done < <(find "$work/apps/$name" -type f -print0)
  done
  say "$linked files shared between the apps are hard links"

  say "packing $(du -sb "$work/apps" | cut -f1) bytes ($(find "$work/apps" -type f | wc -l) files, hard links counted once by du) with xz -9e"
  tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name -cf - apps | xz -9e -T0 >"$kit/apps.tar.xz.tmp"
  mv "$kit/apps.tar.xz.tmp" "$kit/apps.tar.xz"
fi

# --- Manifest and sizes ----------------------------------------------------------------------------------------------
tree_bytes=$(git ls-files -z | xargs -0 du -cb | tail -n 1 | cut -f1)
untracked_bytes=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -n 1 | cut -f1)
kit_bytes=$(du -cb "$kit"/*.tar.xz | tail -n 1 | cut -f1)
total=$((tree_bytes + ${untracked_bytes:-0} + kit_bytes))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
{
  echo "kit for Glance Server at $(git rev-parse HEAD) ($(git log -1 --format=%ad --date=iso))"
  echo "prepared $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), dotnet $(dotnet --version)"
  echo "torchsharp_version $ts_version"
  echo "torchsharp_commit $ts_rev"
  echo "export_check $export_check"
  echo "apps glance (src/Glance.Cli), api (src/Glance.Api), loadbench (tools/loadbench): self-contained linux-x64, no libtorch"
  for f in apps.tar.xz libtorchsharp-src.tar.xz; do
    echo "file $f $(stat -c %s "$kit/$f") $(sha256sum "$kit/$f" | cut -d' ' -f1)"
  done
  echo "size kit archives $kit_bytes bytes ($(mib "$kit_bytes"))"
  echo "size tracked tree $tree_bytes bytes ($(mib "$tree_bytes")), untracked not ignored ${untracked_bytes:-0} bytes"
  echo "size carried in all $total bytes ($(mib "$total")) of the device's 64 MiB"
} >"$kit/MANIFEST"
sed 's/^/prepare: /' "$kit/MANIFEST"
[ "$total" -lt $((60 * 1048576)) ] || die "the carried total $(mib "$total") leaves too little room under the device's 64 MiB"
say "done: .gpukit/ is ready; check it with: bash scripts/gpu/run-on-device.sh --dry-run"
