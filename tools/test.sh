#!/usr/bin/env bash
# The one test command (`npm test`): set-up, static checks, then every jest project — unit tests and
# integration tests against a real local control plane, PostgreSQL and Redis started by libs/testing.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true

bash tools/setup.sh

echo "== typecheck" >&2
npx tsc -p tsconfig.base.json --noEmit

echo "== lint" >&2
npx nx show projects >/dev/null # computes the project graph the module-boundary rule needs
npx eslint --max-warnings=0 .

echo "== format" >&2
npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "run: npm run format" >&2; exit 1; }

# The multi-cluster integration tests run Open Cluster Management's work agent and placement controller:
# built once here (about 15 min cold on 2 cores, instant when cached) rather than inside a test's timeout.
echo "== Open Cluster Management binaries (tools/ocm/build.sh)" >&2
bash tools/ocm/build.sh >/dev/null

echo "== jest" >&2
mkdir -p .cache
status=0
rm -f .cache/jest-results.json
npx jest -c jest.config.js --json --outputFile=.cache/jest-results.json "$@" || status=$?
[ -f .cache/jest-results.json ] && node -e '
  const r = require("./.cache/jest-results.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
exit $status
