#!/usr/bin/env bash
# Builds knative-admission (tools/knative/admission: Knative Serving's own SetDefaults/Validate as an
# admission webhook and a batch checker) against knative.dev/serving from the Go module proxy, into a
# cache directory keyed by the sources, so an edit rebuilds and an unchanged tree does not.
#
#   tools/knative/build.sh
#
# Progress goes to stderr; the last (and only) stdout line is the binary:
#   ${CAPP_CACHE_DIR:-$HOME/.cache/capp-platform}/knative-admission/<serving version>-<source hash>/knative-admission
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="${SCRIPT_DIR}/admission"
SERVING_VERSION="$(tr -d '[:space:]' < "${SCRIPT_DIR}/version.txt")"
# Bump when the build recipe changes so existing caches get rebuilt.
RECIPE_REV=1

SRC_HASH="$(cat "${SRC_DIR}/go.mod" "${SRC_DIR}/go.sum" "${SRC_DIR}"/*.go <(echo "recipe=${RECIPE_REV}") \
  | sha256sum | cut -c1-12)"
CACHE_ROOT="${CAPP_CACHE_DIR:-${HOME}/.cache/capp-platform}"
OUT_DIR="${CACHE_ROOT}/knative-admission/${SERVING_VERSION}-${SRC_HASH}"
BIN="${OUT_DIR}/knative-admission"

exec 3>&1 1>&2
log() { printf '[knative-admission-build] %s\n' "$*" >&2; }
done_path() { printf '%s\n' "${BIN}" >&3; exit 0; }

[[ -x "${BIN}" ]] && done_path
grep -q "knative.dev/serving ${SERVING_VERSION}\$" "${SRC_DIR}/go.mod" \
  || { log "tools/knative/admission/go.mod does not require knative.dev/serving ${SERVING_VERSION}"; exit 1; }
command -v go >/dev/null || { log "go is not installed (needed to build knative-admission)"; exit 1; }

mkdir -p "${OUT_DIR}"
if command -v flock >/dev/null; then
  exec 9>"${OUT_DIR}/.lock"
  flock 9
  [[ -x "${BIN}" ]] && done_path
fi

# -mod=readonly: go.sum in the repository pins every module; nothing is resolved anew.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
START=${SECONDS}
log "building knative-admission against knative.dev/serving ${SERVING_VERSION} (about 2 min on first run)"
TMP="$(mktemp "${OUT_DIR}/.knative-admission.XXXXXX")"
trap 'rm -f "${TMP}"' EXIT
(cd "${SRC_DIR}" && go build -p 2 -trimpath -ldflags="-s -w" -o "${TMP}" .)
chmod 755 "${TMP}"
mv -f "${TMP}" "${BIN}"
log "done in $((SECONDS - START))s"
done_path
