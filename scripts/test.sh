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
npx vitest run "$@"
echo "==> all green in $((SECONDS - started)) s"
