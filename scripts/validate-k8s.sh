#!/usr/bin/env bash
# Renders the Kustomize overlays in deploy/k8s (cpu, gpu) with `kubectl kustomize` and validates every object
# against the Kubernetes JSON schemas (npm package kubernetes-models, installed from deploy/k8s/validate's lock
# file; the schemas ship inside it) and the deployment's rules; then checks that objects broken on purpose fail.
# Needs kubectl with Kustomize v4 or newer (kubectl 1.21+), node and npm. Exit 0: all valid; 1: anything wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
k8s=deploy/k8s
validator=$k8s/validate

die() { echo "validate-k8s: $*" >&2; echo "validate-k8s: FAILED"; exit 1; }

command -v kubectl >/dev/null || die "kubectl not found. Install kubectl 1.21 or newer (Kustomize v4+); Debian's kubernetes-client (1.20) is too old for these overlays."
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (Debian packages nodejs and npm)."

npm ci --prefix "$validator" --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci in $validator failed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Render a copy with a throwaway secrets.env: the real one is never committed.
cp -r "$k8s/base" "$k8s/overlays" "$work/"
cp "$k8s/base/secrets.env.example" "$work/base/secrets.env"

rendered=()
for overlay in cpu gpu; do
  kubectl kustomize "$work/overlays/$overlay" > "$work/$overlay.yaml" || die "kubectl kustomize failed for the $overlay overlay"
  echo "rendered $k8s/overlays/$overlay: $(grep -c '^kind:' "$work/$overlay.yaml") objects"
  rendered+=("$overlay=$work/$overlay.yaml")
done

node "$validator/validate.mjs" --metrics-source src/Glance.Api/Telemetry/ServerMetrics.cs "${rendered[@]}" || die "rendered manifests are invalid"
node "$validator/validate.mjs" --expect-invalid "$validator/fixtures/broken-objects.yaml" || die "the validator accepted an object that is broken on purpose"
echo "validate-k8s: PASSED"
