# The pipeline worker. Debian (glibc) base: the Temporal core bridge and DuckDB ship no musl builds.
# Build: docker build -t egx-pipeline-worker:0.1.0 .
# The image runs compiled JavaScript and a prebuilt workflow bundle (npm run build): no TypeScript
# at run time, no bundling at start.

FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY activities ./activities
COPY cli ./cli
COPY lib ./lib
COPY temporal-config ./temporal-config
COPY transforms ./transforms
COPY workers ./workers
COPY workflows ./workflows
RUN npm run build

FROM node:20.19.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20.19.5-bookworm-slim
ENV NODE_ENV=production \
    METRICS_BIND=0.0.0.0:9464 \
    LOG_FORMAT=json \
    DUCKDB_PATH=/data/egx.duckdb \
    LAKE_DIR=/data/lake \
    ARTIFACTS_DIR=/data/artifacts \
    DOCS_DIR=/data/docs
WORKDIR /app
COPY --from=deps --chown=1000:1000 /app/node_modules ./node_modules
COPY --chown=1000:1000 package.json ./
# dist/: the compiled code, the transforms' SQL and YAML, and workflow-bundle.js.
COPY --from=build --chown=1000:1000 /app/dist ./dist
RUN mkdir -p /data && chown 1000:1000 /data
# The image's unprivileged "node" user.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/workers/main.js"]
