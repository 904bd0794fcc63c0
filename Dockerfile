# The pipeline worker. Debian (glibc) base: the Temporal core bridge and DuckDB ship no musl builds.
# Build: docker build -t egx-pipeline-worker:0.1.0 .

FROM node:20.19.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx runs the TypeScript sources; the SDK bundles the workflows at start).
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
COPY --chown=1000:1000 package.json tsconfig.json ./
COPY --chown=1000:1000 activities ./activities
COPY --chown=1000:1000 cli ./cli
COPY --chown=1000:1000 lib ./lib
COPY --chown=1000:1000 temporal-config ./temporal-config
COPY --chown=1000:1000 transforms ./transforms
COPY --chown=1000:1000 workers ./workers
COPY --chown=1000:1000 workflows ./workflows
RUN mkdir -p /data && chown 1000:1000 /data
# The image's unprivileged "node" user.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "workers/main.ts"]
