#!/usr/bin/env bash
# `npm run dev`: set-up (idempotent), then the platform locally (see tools/dev.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec node tools/run-ts.cjs tools/dev.ts "$@"
