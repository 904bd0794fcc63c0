import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { runHealth } from '../../cli/health.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { PROFILES } from '../../scripts/devstack/profile.js';
import { down, up } from '../../scripts/devstack/stack.js';
import { SA } from '../../temporal-config/search-attributes.js';
import type { HealthCheckOutput } from '../../workflows/health.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
} from '../../workers/pipeline-worker.js';

const env = () => ({
  ...inject('stackEnv'),
  INFLUX_URL: inject('influxUrl'),
  DUCKDB_PATH: join(mkdtempSync(join(tmpdir(), 'egx-health-')), 'egx.duckdb'),
});
let config: AppConfig;
let nativeConnection: NativeConnection;
let worker: Worker;
let streamWorker: Worker;
let running: Promise<void>;
let client: Client;

beforeAll(async () => {
  config = loadConfig(env());
  nativeConnection = await connectWorker(config);
  const deps = await openWorkerDeps(config);
  worker = await createPipelineWorker(config, nativeConnection, {}, deps);
  streamWorker = await createStreamWorker(config, nativeConnection, {}, deps);
  running = Promise.all([worker.run(), streamWorker.run()]).then(() => undefined);
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }) });
});

afterAll(async () => {
  worker?.shutdown();
  streamWorker?.shutdown();
  await running;
  await nativeConnection?.close();
  await client?.connection.close();
});

/** Runs `egx health` as a user would. Asynchronous: the worker in this process must keep running meanwhile. */
function egxHealth(extraEnv: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/egx.ts', 'health'],
      { env: { ...process.env, ...env(), ...extraEnv }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? -1) : 0, out: stdout }),
    );
  });
}

describe('health check against the real servers', () => {
  test('runs as a workflow and finds every component up', async () => {
    const run = await runHealth(config, { waitForWorkerMs: 15_000 });
    expect(run.via).toBe('workflow');
    expect(run.results.map((r) => [r.component, r.ok])).toEqual([
      ['temporal', true],
      ['kafka', true],
      ['s3', true],
      ['duckdb', true],
      ['consumer-lag', true],
      ['dlq', true],
      ['freshness', true],
      ['live-view', true],
      ['disk', true],
      ['workers', true],
    ]);
    expect(run.results.find((r) => r.component === 'kafka')?.detail).toMatch(
      /produce→consume on egx_health_scratch/,
    );
    expect(run.results.find((r) => r.component === 'live-view')?.detail).toMatch(
      /^InfluxDB 1\.6\.\S+ answered http:\/\/127\.0\.0\.1:\d+\/ping$/,
    );

    const description = await client.workflow.getHandle(run.workflowId!).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(SA.pipeline)).toBe('health');
    // The workflow reports the pollers itself, so the scheduled run alerts on a queue nobody polls.
    const own = (await client.workflow.getHandle(run.workflowId!).result()) as HealthCheckOutput;
    expect(own.results.map((r) => r.component).at(-1)).toBe('workers');
    expect(own.results.find((r) => r.component === 'workers')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(
        /^pollers: egx-pipeline workflow: [1-9]\d*, egx-pipeline activity: [1-9]\d*, egx-stream activity: [1-9]/,
      ) as unknown,
    });
  });

  test('egx health prints one line per component and exits 0', async () => {
    const { code, out } = await egxHealth();
    expect(code).toBe(0);
    for (const c of [
      'temporal',
      'kafka',
      's3',
      'duckdb',
      'consumer-lag',
      'dlq',
      'freshness',
      'live-view',
      'disk',
      'workers',
    ])
      expect(out).toMatch(new RegExp(`^${c}\\s+UP\\s+\\d+ ms`, 'm'));
    expect(out).toMatch(
      /^workers\s+UP\s+\d+ ms\s+pollers: egx-pipeline workflow: [1-9]\d*, egx-pipeline activity: [1-9]\d*, egx-stream activity: [1-9]/m,
    );
    expect(out).toMatch(/^freshness\s+UP.*no prices loaded yet/m);
  });

  test('with the broker stopped, the report names Kafka as down and the CLI exits non-zero', async () => {
    const profile = PROFILES.test;
    const quiet = () => {};
    await down(profile, quiet, ['kafka']);
    try {
      const run = await runHealth(config);
      expect(run.via).toBe('workflow');
      const kafka = run.results.find((r) => r.component === 'kafka');
      expect(kafka?.ok).toBe(false);
      expect(kafka?.detail).toContain(`ECONNREFUSED 127.0.0.1:${profile.ports.kafka}`);
      expect(run.results.filter((r) => r.ok).map((r) => r.component)).toEqual([
        'temporal',
        's3',
        'duckdb',
        'freshness',
        'live-view',
        'disk',
        'workers',
      ]);
      expect(run.results.filter((r) => !r.ok).map((r) => r.component)).toEqual([
        'kafka',
        'consumer-lag',
        'dlq',
      ]);

      const description = await client.workflow.getHandle(run.workflowId!).describe();
      expect(description.status.name).toBe('FAILED');

      const { code, out } = await egxHealth();
      expect(code).toBe(1);
      expect(out).toMatch(/^kafka\s+DOWN\s+\d+ ms\s+.*ECONNREFUSED/m);
    } finally {
      await up(profile, quiet, ['kafka']);
    }
  });

  test('with Temporal unreachable, the other checks still run directly', async () => {
    const run = await runHealth(loadConfig({ ...env(), TEMPORAL_ADDRESS: '127.0.0.1:1' }));
    expect(run.via).toBe('direct');
    expect(run.note).toContain('unreachable');
    expect(run.results.map((r) => [r.component, r.ok])).toEqual([
      ['temporal', false],
      ['kafka', true],
      ['s3', true],
      ['duckdb', true],
      ['consumer-lag', true],
      ['dlq', true],
      ['freshness', true],
      ['live-view', true],
      ['disk', true],
    ]);
  });
});
