import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../lib/config.js';
import { composeCommand, hadolintPath } from '../../scripts/deploy-tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  restart?: string;
  command?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
/** .env.example as a map (the values a fresh copy gives). */
const example = Object.fromEntries(
  read('.env.example')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
/** Compose interpolation: ${VAR}, ${VAR:-default}; $$ is a literal $. */
const interpolate = (v: string | number) =>
  String(v)
    .replace(/\$\$/g, '\u0000')
    .replace(
      /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g,
      (_, name: string, def?: string) => example[name] || def || '',
    )
    .replace(/\u0000/g, '$');
const envOf = (s: Service) =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));

describe('docker-compose.yml', () => {
  test('has every service the pipeline needs, with pinned images, health checks and named volumes', () => {
    const s = compose.services;
    for (const name of [
      'postgresql',
      'temporal',
      'temporal-ui',
      'kafka',
      'minio',
      'minio-init',
      'worker',
      'worker-snowflake',
      'schedules',
      'prometheus',
      'grafana',
    ])
      expect(s, name).toHaveProperty(name);
    for (const [name, svc] of Object.entries(s)) {
      const image = interpolate(svc.image ?? '');
      expect(image, `${name}: image`).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
      expect(image, `${name}: pinned`).not.toMatch(/:latest$/);
      const oneShot = svc.restart === 'no';
      if (!oneShot) expect(svc.healthcheck?.test, `${name}: health check`).toBeTruthy();
      for (const p of svc.ports ?? [])
        expect(p, `${name}: published on 127.0.0.1 only`).toMatch(/^127\.0\.0\.1:/);
      for (const v of svc.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('./'))
          expect(compose.volumes, `${name}: named volume ${source}`).toHaveProperty(source);
        else expect(existsSync(join(ROOT, source)), `${name}: ${source} exists`).toBe(true);
      }
    }
    expect(s.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(s.kafka!.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller' });
    expect(s['minio-init']!.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(s.schedules!.command).toEqual(['node', 'dist/cli/egx.js', 'schedules', 'apply']);
    expect(s.worker!.profiles).toEqual(['duckdb']);
    expect(s['worker-snowflake']!.profiles).toEqual(['snowflake']);
  });

  test("each worker's environment is a valid configuration that points at the compose services", () => {
    const known = new Set(Object.keys(envSchema.shape));
    // Snowflake needs its account filled in (.env.example leaves it empty, and then it must not start).
    const account = {
      SNOWFLAKE_ACCOUNT: 'acme',
      SNOWFLAKE_USER: 'egx',
      SNOWFLAKE_DATABASE: 'EGX',
      SNOWFLAKE_PRIVATE_KEY_PATH: '/run/secrets/snowflake.p8',
    };
    for (const name of ['worker', 'worker-snowflake', 'schedules']) {
      const env = envOf(compose.services[name]!);
      for (const k of Object.keys(env))
        expect(known, `${name}: ${k} is not a setting of the pipeline`).toContain(k);
      expect(
        () => loadConfig({ ...env, ...(name === 'worker-snowflake' ? account : {}) }),
        name,
      ).not.toThrow();
    }
    expect(() => loadConfig(envOf(compose.services['worker-snowflake']!))).toThrow(/SNOWFLAKE_ACCOUNT/);
    const duck = loadConfig(envOf(compose.services.worker!));
    expect(duck.temporal.address).toBe('temporal:7233');
    expect(duck.kafka.brokers).toEqual(['kafka:9092']);
    expect(duck.bus).toBe('kafka');
    expect(duck.objectStore.kind).toBe('s3');
    expect(duck.s3).toMatchObject({ endpoint: 'http://minio:9000', bucket: example.S3_BUCKET });
    expect(duck.s3.credentials).toEqual({
      accessKeyId: example.MINIO_ROOT_USER,
      secretAccessKey: example.MINIO_ROOT_PASSWORD,
    });
    expect(duck.warehouse.kind).toBe('duckdb');
    expect(duck.warehouse.duckdbPath.startsWith('/data/')).toBe(true);
    expect(compose.services.worker!.volumes).toContain('worker-data:/data');
    expect(duck.observability).toMatchObject({ metricsBind: '0.0.0.0:9464', logFormat: 'json' });

    const snow = loadConfig({ ...envOf(compose.services['worker-snowflake']!), ...account });
    expect(snow.warehouse.kind).toBe('snowflake');

    // Prometheus scrapes the workers' metrics port.
    const prom = parse(read('monitoring/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((t) => t.targets));
    expect(targets).toEqual(expect.arrayContaining(['worker:9464', 'worker-snowflake:9464']));
  });

  test('every variable the compose file uses is documented in .env.example', () => {
    const used = new Set(
      [...read('docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!),
    );
    for (const v of used) expect(Object.keys(example), `${v} missing from .env.example`).toContain(v);
    expect(example.COMPOSE_PROFILES).toBe('duckdb');
  });

  test('the Compose CLI accepts it, with either profile', () => {
    const cmd = composeCommand();
    expect(cmd, 'no Compose CLI: run scripts/test.sh, which installs one').toBeDefined();
    for (const profile of ['duckdb', 'snowflake']) {
      const r = spawnSync(cmd![0]!, [...cmd!.slice(1), '--env-file', '.env.example', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, COMPOSE_PROFILES: profile },
      });
      expect(r.status, `${cmd!.join(' ')} config (${profile}): ${r.stderr}`).toBe(0);
    }
  });
});

test('the Dockerfile: multi-stage, glibc base, production dependencies, non-root, health check; hadolint finds nothing', () => {
  const text = read('Dockerfile');
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  expect(froms.length).toBeGreaterThanOrEqual(2);
  for (const f of froms) expect(f).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
  expect(text).toMatch(/npm ci --omit=dev/);
  expect(text).toMatch(/^USER (?!root|0\b)\S+/m);
  expect(text).toMatch(/^HEALTHCHECK /m);
  expect(existsSync(hadolintPath()), 'hadolint missing: run scripts/test.sh, which installs it').toBe(true);
  const r = spawnSync(hadolintPath(), ['--no-color', 'Dockerfile'], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
