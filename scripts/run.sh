#!/usr/bin/env bash
# The main job on the embedded defaults: installs what is missing, starts Temporal (Web UI on
# http://127.0.0.1:8233), Kafka and the S3 server, runs the worker and the health workflow, and
# keeps running until Ctrl-C, which stops the worker and every server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-deps.sh
exec node --import tsx scripts/dev.ts "$@"
