#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy (`go install`, no release-page download, no git clone)
# into a per-version cache directory.
#
#   tools/helm/build.sh                  # version from tools/helm/version.txt
#   HELM_VERSION=v3.22.0 tools/helm/build.sh
#
# Progress goes to stderr; the last (and only) stdout line is the helm binary:
#   ${CAPP_CACHE_DIR:-$HOME/.cache/capp-platform}/helm/<version>/bin/helm
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Pinned helm version (single source of truth: version.txt, env override).
HELM_VERSION="${HELM_VERSION:-$(tr -d '[:space:]' < "${SCRIPT_DIR}/version.txt")}"
# Bump when the build recipe changes so existing caches get rebuilt.
RECIPE_REV=1

CACHE_ROOT="${CAPP_CACHE_DIR:-${HOME}/.cache/capp-platform}"
HELM_DIR="${CACHE_ROOT}/helm/${HELM_VERSION}"
BIN_DIR="${HELM_DIR}/bin"
HELM_BIN="${BIN_DIR}/helm"
STAMP="${BIN_DIR}/.complete"
STAMP_KEY="helm=${HELM_VERSION} recipe=${RECIPE_REV}"

# Keep stdout clean for the caller: everything else goes to stderr.
exec 3>&1 1>&2
log() { printf '[helm-build] %s\n' "$*" >&2; }
done_path() { printf '%s\n' "${HELM_BIN}" >&3; exit 0; }

# Fast path: binary present and the stamp matches (no go/network calls).
is_complete() {
  local line=""
  [[ -x "${HELM_BIN}" ]] || return 1
  [[ -f "${STAMP}" ]] && IFS= read -r line < "${STAMP}" || true
  [[ "${line}" == "${STAMP_KEY}" ]]
}
is_complete && done_path

if [[ ! "${HELM_VERSION}" =~ ^v3\.[0-9]+\.[0-9]+$ ]]; then
  log "HELM_VERSION must look like v3.N.P, got '${HELM_VERSION}'"; exit 1
fi
command -v go >/dev/null || { log "go is not installed (needed to build helm from the Go module proxy)"; exit 1; }

mkdir -p "${HELM_DIR}"
# Serialize concurrent builds of the same version; re-check once we hold the lock.
if command -v flock >/dev/null; then
  exec 9>"${HELM_DIR}/.lock"
  log "acquiring build lock ${HELM_DIR}/.lock"
  flock 9
  is_complete && done_path
fi

# GOFLAGS=-mod=mod: `go install pkg@version` ignores any go.work/go.mod around us anyway.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
START=${SECONDS}
log "building helm ${HELM_VERSION} with $(go env GOVERSION) into ${BIN_DIR} (slow on first run)"

# The stamp is written last; drop any old one so a half-finished run is never trusted.
mkdir -p "${BIN_DIR}"
rm -f "${STAMP}"
TMP_BIN="$(mktemp -d "${HELM_DIR}/.bin-tmp.XXXXXX")"
trap 'rm -rf "${TMP_BIN}"' EXIT

# Same stamping as helm's Makefile: the version (`helm version`), and the Kubernetes version of the
# client-go it is built with (default `.Capabilities.KubeVersion` of `helm template`/`helm lint`,
# which would otherwise be v1.20.0 and fail charts with a `kubeVersion` constraint).
log "downloading helm.sh/helm/v3@${HELM_VERSION}"
HELM_GOMOD="$(cd "${TMP_BIN}" && go mod download -json "helm.sh/helm/v3@${HELM_VERSION}" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "${HELM_GOMOD}" ]] || { log "could not download go.mod of helm.sh/helm/v3@${HELM_VERSION}"; exit 1; }
CLIENT_GO="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "${HELM_GOMOD}")"
[[ "${CLIENT_GO}" =~ ^v0\.([0-9]+)\.[0-9]+ ]] || { log "no k8s.io/client-go v0.N.P in ${HELM_GOMOD}"; exit 1; }
K8S_MAJOR=1 K8S_MINOR="${BASH_REMATCH[1]}"
LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  LDFLAGS+=" -X ${pkg}.k8sVersionMajor=${K8S_MAJOR} -X ${pkg}.k8sVersionMinor=${K8S_MINOR}"
done
# Not in a module directory: run from the temp dir so no surrounding go.mod is picked up.
(cd "${TMP_BIN}" && GOBIN="${TMP_BIN}" go install -p 2 -trimpath -ldflags="${LDFLAGS}" \
  "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}")

# --- Sanity-check the fresh binary before publishing it.
got="$("${TMP_BIN}/helm" version --template '{{ .Version }}')"
[[ "${got}" == "${HELM_VERSION}" ]] || { log "unexpected helm version: ${got}"; exit 1; }
# The default KubeVersion, through a one-template chart.
PROBE="${TMP_BIN}/probe"
mkdir -p "${PROBE}/templates"
printf 'apiVersion: v2\nname: probe\nversion: 0.0.1\n' > "${PROBE}/Chart.yaml"
printf '# {{ .Capabilities.KubeVersion.Version }}\n' > "${PROBE}/templates/probe.yaml"
got="$(HELM_CACHE_HOME="${PROBE}/.h" HELM_CONFIG_HOME="${PROBE}/.h" HELM_DATA_HOME="${PROBE}/.h" \
  "${TMP_BIN}/helm" template "${PROBE}" | sed -n 's/^# \(v[0-9.]*\)$/\1/p')"
[[ "${got}" == "v1.${K8S_MINOR}.0" ]] || { log "unexpected default KubeVersion: ${got}"; exit 1; }

# Publish: atomic rename (same filesystem), stamp last.
mv -f "${TMP_BIN}/helm" "${HELM_BIN}"
printf '%s\ngo=%s\nbuilt=%s\n' "${STAMP_KEY}" "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  > "${TMP_BIN}/.complete"
mv -f "${TMP_BIN}/.complete" "${STAMP}"

log "done in $((SECONDS - START))s: helm ${HELM_VERSION}"
done_path
