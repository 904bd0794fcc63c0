import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createTransformActivities } from '../../activities/transforms.js';
import { loadConfig } from '../../lib/config.js';
import {
  connectWorker,
  createPipelineWorker,
  openWorkerDeps,
  type WorkerDeps,
} from '../../workers/pipeline-worker.js';
import type { buildModelWorkflow } from '../support/build-model-workflow.js';

const taskQueue = `cancel-build-${randomUUID()}`;
let deps: WorkerDeps;
let native: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

/** A model whose build takes DuckDB minutes: a sum over twenty billion rows. */
function slowProject(dir: string): string {
  const root = join(dir, 'transforms');
  mkdirSync(join(root, 'staging'), { recursive: true });
  writeFileSync(
    join(root, 'staging', 'slow_model.sql'),
    'SELECT SUM(a.range * b.range) AS s FROM range(200000) a, range(100000) b',
  );
  writeFileSync(join(root, 'staging', 'slow_model.yml'), 'description: slow\nmaterialized: table\n');
  return root;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-cancel-build-'));
  const config = loadConfig({
    ...inject('stackEnv'),
    LAKE_DIR: join(dir, 'lake'),
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
  });
  deps = await openWorkerDeps(config);
  native = await connectWorker(config);
  // The pipeline worker's options (heartbeat throttling, shutdown grace), with a slow model to build.
  worker = await createPipelineWorker(
    config,
    native,
    {
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/build-model-workflow.ts', import.meta.url)),
      activities: createTransformActivities({
        warehouse: deps.warehouse,
        store: deps.store,
        projectDir: slowProject(dir),
        docsDir: join(dir, 'docs'),
      }),
    },
    deps,
  );
  running = worker.run();
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }) });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await deps?.close();
  await native?.close();
  await client?.connection.close();
});

test('cancelling a run stops its model build within seconds: the statement is interrupted and the warehouse is free', async () => {
  const handle = await client.workflow.start<typeof buildModelWorkflow>('buildModelWorkflow', {
    taskQueue,
    workflowId: `cancel-build-${randomUUID()}`,
    args: ['slow_model'],
  });
  // The build is running and has heartbeated (the Web UI shows the model as its details).
  let details: unknown;
  for (let i = 0; i < 100 && details === undefined; i++) {
    const [pending] = (await handle.describe()).raw.pendingActivities ?? [];
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    if (payload) details = defaultPayloadConverter.fromPayload(payload);
    else await new Promise((r) => setTimeout(r, 200));
  }
  expect(details).toEqual({ model: 'slow_model' });
  await new Promise((r) => setTimeout(r, 2000)); // well into the statement

  const cancelledAt = Date.now();
  await handle.cancel();
  const err = await handle.result().catch((e: unknown) => e);
  const stoppedAfter = Date.now() - cancelledAt;
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  // The activity learns of the cancellation from its next heartbeat (at most 10 s away), then stops.
  expect(stoppedAfter).toBeLessThan(20_000);

  // The write connection is free again: a write does not wait minutes behind the build.
  const t0 = Date.now();
  await deps.warehouse.execute('CREATE TABLE MAIN.AFTER_CANCEL AS SELECT 1 AS V');
  expect(Date.now() - t0).toBeLessThan(2000);
  const left = await deps.warehouse.query(
    "SELECT table_name FROM information_schema.tables WHERE UPPER(table_name) LIKE 'SLOW_MODEL%'",
  );
  expect(left).toEqual([]);
});
