import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { PIPELINE_METRICS } from '../../activities/metrics.js';
import { envSchema, loadConfig } from '../../lib/config.js';
import { barLine, INFLUX_MEASUREMENT } from '../../lib/stream/influx.js';
import { amtoolPath, composeCommand, hadolintPath, promtoolPath } from '../../scripts/deploy-tools.js';

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
  tmpfs?: string[];
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
      'stream-consumer',
      'prometheus',
      'alertmanager',
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
    for (const name of ['worker', 'worker-snowflake', 'schedules', 'stream-consumer']) {
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

  test('the deploy starts the stream consumer: a one-shot after the schedules runs the idempotent egx stream start', () => {
    const s = compose.services;
    const starter = s['stream-consumer']!;
    // The compiled CLI's `stream start`, which finds a running consumer instead of starting a second one.
    expect(starter.command).toEqual(['node', 'dist/cli/egx.js', 'stream', 'start']);
    expect(starter.image).toBe(s.worker!.image);
    expect(starter.restart).toBe('no');
    // Once Temporal answers and the schedules (with the search attributes the consumer sets) are applied.
    expect(starter.depends_on).toEqual({
      temporal: { condition: 'service_healthy' },
      schedules: { condition: 'service_completed_successfully' },
    });
    const env = loadConfig(envOf(starter));
    expect(env.temporal).toMatchObject({ address: 'temporal:7233', uiUrl: 'http://127.0.0.1:8080' });
    expect(env.bus).toBe('kafka');
    // Every worker runs the consumer's activities: the polled bars go through Kafka to the sinks.
    for (const name of ['worker', 'worker-snowflake']) expect(envOf(s[name]!).BUS, name).toBe('kafka');
  });

  test('under the live profile Grafana reads InfluxDB, with a market dashboard of the tracked stocks on what the sinks write', () => {
    const s = compose.services;
    expect(s.influxdb!.profiles).toEqual(['live']);
    expect(s.influxdb!.environment?.INFLUXDB_DB).toBe('${INFLUX_DATABASE:-egx}');
    // .env.example tells how to send the bars there, and that address is the influxdb service.
    expect(read('.env.example')).toContain('INFLUX_URL=http://influxdb:8086');
    const live = loadConfig({ ...envOf(s.worker!), INFLUX_URL: 'http://influxdb:8086' }).live!;
    expect(live).toEqual({ influxUrl: 'http://influxdb:8086', database: 'egx' });

    const grafana = s.grafana!;
    expect(grafana.environment?.INFLUX_DATABASE).toBe('${INFLUX_DATABASE:-egx}');
    expect(grafana.volumes).toContain(
      './monitoring/grafana/dashboards-live:/var/lib/grafana/dashboards-live:ro',
    );
    const sources = parse(read('monitoring/grafana/provisioning/datasources/influxdb.yml')) as {
      datasources: { uid: string; type: string; url: string; jsonData: { dbName: string } }[];
    };
    expect(sources.datasources).toEqual([
      expect.objectContaining({
        uid: 'influxdb-live',
        type: 'influxdb',
        url: live.influxUrl,
        // Grafana fills it in from its environment, as INFLUX_DATABASE in .env.
        jsonData: expect.objectContaining({ dbName: '${INFLUX_DATABASE}' }),
      }),
    ]);
    const providers = parse(read('monitoring/grafana/provisioning/dashboards/egx.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(providers.providers.map((p) => p.options.path)).toContain('/var/lib/grafana/dashboards-live');

    // The dashboard asks only for what the sinks write: the measurement, its tags and its fields.
    const line = barLine({
      schema: 1,
      symbol: 'COMI',
      exchange: 'EGX',
      interval: '5m',
      ts: '2026-11-19T08:00:00Z',
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 10,
      source: 'simulator',
      ingested_at: '2026-11-19T08:05:00Z',
    });
    const [series, fieldText] = line.split(' ') as [string, string];
    const tags = new Set(
      series
        .split(',')
        .slice(1)
        .map((t) => t.split('=')[0]!),
    );
    const fields = new Set(fieldText.split(',').map((f) => f.split('=')[0]!));
    expect([...tags].sort()).toEqual(['interval', 'symbol']);
    const market = JSON.parse(read('monitoring/grafana/dashboards-live/market.json')) as {
      uid: string;
      templating: { list: { name: string; query: string; datasource: { uid: string } }[] };
      panels: {
        id: number;
        type: string;
        title: string;
        repeat?: string;
        datasource?: { uid: string };
        targets?: { query: string; datasource: { uid: string } }[];
      }[];
    };
    expect(new Set(market.panels.map((p) => p.id)).size).toBe(market.panels.length);
    const queries = market.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, ...t })));
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const q of queries) {
      const where = `${q.panel.title}: ${q.query}`;
      expect(q.datasource.uid, where).toBe('influxdb-live');
      expect(q.panel.datasource?.uid, where).toBe('influxdb-live');
      expect(q.query, where).toContain(`FROM "${INFLUX_MEASUREMENT}"`);
      for (const [, field] of q.query.matchAll(/(?:first|last|max|min|sum|mean)\("([^"]+)"\)/g))
        expect(fields, `${where} reads field ${field}`).toContain(field);
      for (const [, tag] of q.query.matchAll(/(?:WHERE|AND|,)\s*"([^"]+)"\s*(?:=|=~)/g))
        expect(tags, `${where} filters on ${tag}`).toContain(tag);
      for (const [, tag] of q.query.matchAll(/GROUP BY [^"]*"([^"]+)"/g)) expect(tags, where).toContain(tag);
    }
    // One candlestick chart per tracked symbol, picked from the symbols InfluxDB holds.
    const vars = Object.fromEntries(market.templating.list.map((v) => [v.name, v]));
    expect(vars.symbol!.query).toBe(`SHOW TAG VALUES FROM "${INFLUX_MEASUREMENT}" WITH KEY = "symbol"`);
    expect(vars.symbol!.datasource.uid).toBe('influxdb-live');
    expect(market.panels.find((p) => p.type === 'candlestick')).toMatchObject({ repeat: 'symbol' });
  });

  test('every variable the compose file uses is documented in .env.example', () => {
    const used = new Set(
      [...read('docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!),
    );
    for (const v of used) expect(Object.keys(example), `${v} missing from .env.example`).toContain(v);
    expect(example.COMPOSE_PROFILES).toBe('duckdb');
  });

  test('the Compose CLI accepts it, with each profile (and the live view)', () => {
    const cmd = composeCommand();
    expect(cmd, 'no Compose CLI: run scripts/test.sh, which installs one').toBeDefined();
    for (const profile of ['duckdb', 'snowflake', 'duckdb,live']) {
      const r = spawnSync(cmd![0]!, [...cmd!.slice(1), '--env-file', '.env.example', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, COMPOSE_PROFILES: profile },
      });
      expect(r.status, `${cmd!.join(' ')} config (${profile}): ${r.stderr}`).toBe(0);
    }
  });
});

describe('alerting outside the worker: Prometheus rules and Alertmanager', () => {
  const run = (exe: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    expect(existsSync(exe), `${exe} missing: run scripts/test.sh, which installs it`).toBe(true);
    const r = spawnSync(exe, args, { cwd: ROOT, encoding: 'utf8', env });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  };
  const rules = parse(read('monitoring/prometheus/alerts.yml')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const alerts = rules.groups.flatMap((g) => g.rules);

  test('compose: Prometheus mounts the rules and sends to Alertmanager, which gets the alert settings from .env', () => {
    const s = compose.services;
    expect(s.prometheus!.volumes).toContain(
      './monitoring/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
    );
    const prom = parse(read('monitoring/prometheus/prometheus.yml')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    // Relative to prometheus.yml, which is mounted at /etc/prometheus/prometheus.yml.
    expect(prom.rule_files).toEqual(['alerts.yml']);
    expect(prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual([
      'alertmanager:9093',
    ]);
    const am = s.alertmanager!;
    expect(am.image).toMatch(/^prom\/alertmanager:v\d+\.\d+\.\d+$/);
    expect(am.ports).toEqual(['127.0.0.1:9093:9093']);
    expect(am.volumes).toEqual([
      './monitoring/alertmanager:/etc/alertmanager:ro',
      'alertmanager-data:/alertmanager',
    ]);
    expect(am.tmpfs).toEqual(['/tmp']);
    // The same channels as the worker's alerts, from .env; no secret in any file.
    expect(Object.keys(am.environment ?? {}).sort()).toEqual([
      'ALERT_EMAIL_FROM',
      'ALERT_EMAIL_TO',
      'ALERT_WEBHOOK_URL',
      'SMTP_HOST',
      'SMTP_PASSWORD',
      'SMTP_PORT',
      'SMTP_USER',
    ]);
    for (const [k, v] of Object.entries(am.environment ?? {}))
      expect(String(v), k).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
    expect(read('monitoring/alertmanager/alertmanager.yml')).not.toMatch(/api_url|password|smarthost/);
  });

  test('the rules cover a missing worker, failed and stuck runs, slow task pick-up, consumer lag and dead letters, on metrics the worker serves', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'EgxActivityScheduleToStartSlow',
      'EgxConsumerLagging',
      'EgxDeadLettersGrowing',
      'EgxTemporalServerDown',
      'EgxWorkerAbsent',
      'EgxWorkflowFailed',
      'EgxWorkflowTaskFailing',
      'EgxWorkflowTaskScheduleToStartSlow',
    ]);
    const pipeline = new Set<string>(Object.values(PIPELINE_METRICS));
    for (const a of alerts)
      for (const [name] of a.expr.matchAll(/\begx_[a-z0-9_]+/g))
        expect(pipeline, `${a.alert} asks for ${name}`).toContain(name);
  });

  test('promtool accepts the Prometheus configuration and rules, and every alert fires and stays quiet as its unit tests expect', () => {
    const check = run(promtoolPath(), ['check', 'config', 'monitoring/prometheus/prometheus.yml']);
    expect(check.out).toMatch(/SUCCESS: 8 rules found/);
    expect(check.ok, check.out).toBe(true);
    const unit = run(promtoolPath(), ['test', 'rules', 'monitoring/prometheus/alerts.test.yml']);
    expect(unit.ok, unit.out).toBe(true);
    // Each alert is tested both ways.
    const tests = parse(read('monitoring/prometheus/alerts.test.yml')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alerts) {
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
        `${alert} quiet`,
      ).toBe(true);
    }
  });

  test('Alertmanager: amtool accepts the configuration as rendered from the environment, with each value kept verbatim', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egx-am-'));
    const render = (env: Record<string, string>) => {
      const out = join(dir, `am-${Object.keys(env).length}.yml`);
      const r = spawnSync(
        'sh',
        ['monitoring/alertmanager/render-config.sh', 'monitoring/alertmanager/alertmanager.yml', out],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, ...env },
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const checked = run(amtoolPath(), ['check-config', out]);
      expect(checked.ok, checked.out).toBe(true);
      return parse(readFileSync(out, 'utf8')) as {
        route: { receiver: string };
        receivers: {
          name: string;
          slack_configs?: { api_url: string }[];
          email_configs?: Record<string, string>[];
        }[];
      };
    };
    // Nothing configured: one receiver with no channel (alerts show in Alertmanager's UI).
    expect(render({}).receivers).toEqual([{ name: 'oncall' }]);
    const password = `p'a"ss$word\\ #x`;
    const both = render({
      ALERT_WEBHOOK_URL: 'https://hooks.example.test/services/T0/B0/abc',
      ALERT_EMAIL_TO: 'oncall@example.test, lead@example.test',
      ALERT_EMAIL_FROM: 'egx@example.test',
      SMTP_HOST: 'smtp.example.test',
      SMTP_PORT: '465',
      SMTP_USER: 'egx',
      SMTP_PASSWORD: password,
    });
    expect(both.route.receiver).toBe('oncall');
    expect(both.receivers).toEqual([
      {
        name: 'oncall',
        slack_configs: [{ api_url: 'https://hooks.example.test/services/T0/B0/abc', send_resolved: true }],
        email_configs: [
          {
            to: 'oncall@example.test, lead@example.test',
            from: 'egx@example.test',
            smarthost: 'smtp.example.test:465',
            send_resolved: true,
            auth_username: 'egx',
            auth_password: password,
          },
        ],
      },
    ]);
    // E-mail without a server is refused when the container starts, naming what is missing.
    const r = spawnSync(
      'sh',
      [
        'monitoring/alertmanager/render-config.sh',
        'monitoring/alertmanager/alertmanager.yml',
        join(dir, 'x.yml'),
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, ALERT_EMAIL_TO: 'oncall@example.test' },
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ALERT_EMAIL_TO is set but SMTP_HOST is not');
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
