#!/usr/bin/env bash
# Installs everything the tests need (npm packages, Temporal CLI + test server, Kafka, S3 server,
# hadolint, promtool, amtool and a Compose CLI, cached under .devstack/; Debian's Chromium for the
# dashboard's browser tests) and runs type-check, lint and all tests.
# The tests start and stop the servers themselves, on the test ports (17233, 17235, 19092, 17070,
# 18085 fakesnow, 18086 InfluxDB).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source scripts/node-deps.sh
echo "==> installing local servers (cached in .devstack/)"
node --import tsx scripts/stack.ts --profile test install
echo "==> installing the deployment checkers (hadolint, promtool, amtool, Compose) and Chromium"
node --import tsx scripts/deploy-tools.ts install
echo "==> type-check"
npm run --silent typecheck
echo "==> lint"
npm run --silent lint
echo "==> tests"
# A test file whose worker process dies under it (a native crash in a server client, say) is named
# by the lost-files reporter; when that is the only trouble, those files run once more, alone.
outcome=$(mktemp)
trap 'rm -f "$outcome"' EXIT
if ! EGX_LOST_FILES="$outcome" npx vitest run "$@"; then
  mapfile -t lost < <(node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (o.failed.length === 0 && o.otherErrors === 0) for (const f of o.lost) console.log(f);
  ' "$outcome" 2>/dev/null || true)
  if [ "${#lost[@]}" -eq 0 ]; then exit 1; fi
  echo "==> no test failed, but the worker running ${lost[*]} died; running them again"
  npx vitest run "${lost[@]}"
fi
echo "==> all green in $((SECONDS - started)) s"
