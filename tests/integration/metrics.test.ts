import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { PIPELINE_METRICS } from '../../activities/metrics.js';
import { runDailyBatch } from '../../cli/run.js';
import { startMarketSession } from '../../cli/stream.js';
import { createKafka } from '../../lib/bus/kafka.js';
import { cairoClock, cairoMidnight, egxCalendar } from '../../lib/market/calendar.js';
import { sessionToShow } from '../../lib/market/session.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { withClient } from '../../temporal-config/connection.js';
import type { MarketSessionStatus } from '../../workflows/market-session.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARDS = join(ROOT, 'monitoring', 'grafana', 'dashboards');
const pipelineQueue = `metrics-it-${randomUUID()}`;
const streamQueue = `metrics-it-stream-${randomUUID()}`;
const topic = `metrics_it_${randomUUID().slice(0, 8)}`;
let config: AppConfig;
let env: Record<string, string>;
let child: ChildProcess;
let logs = '';
let metricsUrl: string;

// Dates relative to today, since the worker's freshness probe reads its own clock: the last
// session before today, and the day after it as the batch's business date.
const day = (date: string, plus: number) => cairoMidnight(date, plus).toISOString().slice(0, 10);
const lastSession = sessionToShow(cairoMidnight(cairoClock(new Date()).date), egxCalendar()).date;
const batchDate = day(lastSession, 1);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Prometheus text → samples: `name{labels}` → value. */
async function scrape(): Promise<{ name: string; labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]),
      );
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

const sum = (samples: Awaited<ReturnType<typeof scrape>>, name: string, where: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-metrics-it-'));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  env = {
    ...inject('stackEnv'),
    OBJECT_STORE: 'local',
    LAKE_DIR: join(dir, 'lake'),
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    DOCS_DIR: join(dir, 'docs'),
    ARTIFACTS_DIR: join(dir, 'artifacts'),
    KAFKA_TOPIC: topic,
    EGX_SYMBOLS: 'COMI,ETEL',
    METRICS_BIND: `127.0.0.1:${port}`,
    LOG_FORMAT: 'json',
    // Run IDs of this run's own: the server keeps the days earlier test runs completed.
    TEMPORAL_ID_PREFIX: `metrics-it-${randomUUID().slice(0, 8)}-`,
  };
  config = loadConfig(env);
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tests/support/metrics-worker.ts', pipelineQueue, streamQueue],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
  // Ready when both workers poll: the endpoint answers and reports pollers.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await scrape().catch(() => []);
    if (up.some((s) => s.name === 'temporal_num_pollers' && s.labels.task_queue === streamQueue)) break;
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${logs}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  await exited;
  clearTimeout(timer);
  if (child.signalCode === 'SIGKILL') console.log(logs.split('\n').slice(-15).join('\n'));
}, 60_000);

test('the worker serves the SDK metrics and the pipeline metrics with the values of a run, the dashboards query only metrics it serves, and its logs are JSON with run identifiers and no secrets', async () => {
  // A daily batch: two clean price files, one with a bad row, a company list and an index file.
  const store = new LocalObjectStore(env.LAKE_DIR!);
  await seedSyntheticHistory({
    source: new SimulatorSource(),
    store,
    symbols: ['COMI', 'ETEL'],
    from: day(lastSession, -49),
    to: lastSession,
  });
  await store.put(
    'batch/prices/SWDY.csv',
    `Date,Open,High,Low,Close,Volume\n${day(lastSession, -1)},10,11,9,10.5,100\n${lastSession},10,9,11,10.5,100\n`,
  );
  const batch = await runDailyBatch(config, { date: batchDate, taskQueue: pipelineQueue });
  expect(batch.files.rowsQuarantined).toBe(1);

  // The stream: a compressed market session through Kafka into the sinks, plus one poison message.
  await withClient(config, async (client) => {
    const consumer = await client.workflow.start('streamConsumerWorkflow', {
      taskQueue: pipelineQueue,
      workflowId: `metrics-it-consumer-${randomUUID()}`,
      args: [{ groupId: `metrics-it-${randomUUID()}`, roundSeconds: 5, activityTaskQueue: streamQueue }],
    });
    const session = await startMarketSession(config, {
      date: lastSession,
      taskQueue: pipelineQueue,
      demoSpeed: 3000,
    });
    const status = (await client.workflow.getHandle(session.workflowId).result()) as MarketSessionStatus;
    expect(status.bars).toBe(2 * 54);
    const producer = createKafka(config.kafka, { clientId: 'metrics-it' }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'COMI', value: 'not json' }] });
    await producer.disconnect();
    const deadline = Date.now() + 30_000;
    while (sum(await scrape(), PIPELINE_METRICS.messagesConsumed) < 2 * 54 + 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    // Sets the lag and dead-letter gauges. Its workers check looks at the deployment's queues
    // (egx-pipeline, egx-stream), which this test's worker does not poll: the run may fail.
    await client.workflow
      .execute('healthCheckWorkflow', {
        taskQueue: pipelineQueue,
        workflowId: `metrics-it-health-${randomUUID()}`,
        args: [{ operations: true }],
      })
      .catch((e: unknown) => {
        if (!(e instanceof WorkflowFailedError)) throw e;
      });
    await consumer.cancel();
    // A run that fails (no price within 5 days of the date): its alert is logged with the run's identifiers.
    await runDailyBatch(config, { date: day(lastSession, 70), taskQueue: pipelineQueue }).catch(
      () => undefined,
    );
  });

  const samples = await scrape();
  const M = PIPELINE_METRICS;
  expect(sum(samples, M.rowsLoaded, { kind: 'prices' })).toBe(batch.files.rowsLoaded - 2 - 2); // minus company and index rows
  expect(sum(samples, M.rowsLoaded)).toBe(batch.files.rowsLoaded);
  expect(sum(samples, M.rowsQuarantined, { kind: 'prices' })).toBe(1);
  expect(sum(samples, M.filesLoaded, { outcome: 'loaded' })).toBe(batch.files.loaded);
  expect(sum(samples, M.messagesConsumed)).toBe(2 * 54 + 1);
  expect(sum(samples, M.deadLettered)).toBe(1);
  expect(sum(samples, M.dlqMessages)).toBe(1);
  expect(sum(samples, M.barsPublished)).toBe(2 * 54);
  expect(sum(samples, M.polls, { symbol: 'COMI', result: 'failed' })).toBe(0);
  expect(sum(samples, M.polls, { symbol: 'COMI', result: 'ok' })).toBeGreaterThan(0);
  expect(
    sum(samples, `${M.modelSeconds}_count`, { model: 'gold_fct_stock_daily_prices' }),
  ).toBeGreaterThanOrEqual(1);
  expect(sum(samples, M.testFailures)).toBe(0);
  expect(sum(samples, 'temporal_workflow_completed_total', { task_queue: pipelineQueue })).toBeGreaterThan(0);

  // Every metric a dashboard asks for is served.
  const served = new Set(samples.map((s) => s.name));
  const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(2);
  for (const f of files) {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        const names = [...t.expr.matchAll(/\b((?:egx|temporal)_[a-z0-9_]+)/g)].map((m) => m[1]!);
        expect(names.length, `${f}: "${panel.title}" queries no metric`).toBeGreaterThan(0);
        for (const n of names) expect(served, `${f}: "${panel.title}" asks for ${n}`).toContain(n);
      }
    }
  }

  // So is every metric an alert rule asks for, but the workflow-task failure counter: only a
  // broken workflow creates it.
  const rules = readFileSync(join(ROOT, 'monitoring', 'prometheus', 'alerts.yml'), 'utf8');
  const ruleMetrics = new Set([...rules.matchAll(/\b((?:egx|temporal)_[a-z0-9_]+)/g)].map((m) => m[1]!));
  ruleMetrics.delete('temporal_workflow_task_execution_failed_total');
  expect(ruleMetrics.size).toBeGreaterThanOrEqual(5);
  for (const n of ruleMetrics) expect(served, `alerts.yml asks for ${n}`).toContain(n);

  // Logs: one JSON object a line; the alert's line names its workflow and activity; no secret.
  // Lines reach this process a moment after they happen (the runtime orders them, then the pipe).
  for (const until = Date.now() + 10_000; !logs.includes('"msg":"alert') && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 200));
  const lines = logs.split('\n').filter((l) => l.startsWith('{'));
  expect(lines.length).toBeGreaterThan(5);
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const alert = entries.find((e) => String(e.msg).startsWith('alert'));
  expect(alert).toMatchObject({
    level: 'warn',
    activityType: 'sendAlert',
    workflowType: 'dailyBatchWorkflow',
  });
  expect(alert!.workflowId).toBeTruthy();
  expect(alert!.activityId).toBeTruthy();
  expect(logs).not.toContain(env.AWS_SECRET_ACCESS_KEY);
});
