# Sourced by run.sh and test.sh: checks Node and installs the npm dependencies from the lockfile when needed.
need_node_major=20
need_node_minor=19
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "error: 'node' and 'npm' are needed; install Node.js ${need_node_major}.${need_node_minor}+ (https://nodejs.org or your package manager)." >&2
  exit 1
fi
if ! node -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(a>${need_node_major}||(a===${need_node_major}&&b>=${need_node_minor})?0:1)"; then
  echo "error: Node.js ${need_node_major}.${need_node_minor}+ is needed, found $(node --version)." >&2
  exit 1
fi
# npm ci only when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  if ! npm ci --no-audit --no-fund; then
    echo "error: npm ci failed: check that the npm registry is reachable (npm config get registry)." >&2
    exit 1
  fi
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
