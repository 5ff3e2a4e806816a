#!/usr/bin/env bash
# Idempotent set-up shared by `npm test` and `npm run dev`: checks Node and installs npm dependencies
# when package-lock.json changed, and generates the Prisma client when the schema changed. The control plane binaries, PostgreSQL and Redis are built/installed
# on first use by the test harness (libs/testing), so they are cached per machine.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) { console.error(`Node ${process.versions.node} is too old: need >= 20.19`); process.exit(1); }
'

stamp=node_modules/.capp-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies (npm ci)" >&2
  # `npm ci` only: it installs exactly the lock and fails when package.json and the lock disagree,
  # so a stale lock fails the build instead of being rewritten by a silent `npm install`.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The Prisma client (prisma/generated, git-ignored) is generated from the schema: the API type-checks
# and runs against it. Offline: `engineType = "client"` needs no engine download (ADR 0003).
client_stamp=prisma/generated/.schema-hash
want_client=$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$client_stamp" ] || [ "$(cat "$client_stamp")" != "$want_client" ]; then
  echo "setup: generating the Prisma client" >&2
  PRISMA_HIDE_UPDATE_MESSAGE=1 npx --no-install prisma generate >/dev/null
  echo "$want_client" > "$client_stamp"
fi
