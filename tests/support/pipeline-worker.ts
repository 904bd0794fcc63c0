import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import {
  connectWorker,
  createPipelineWorker,
  openWorkerDeps,
  type WorkerDeps,
} from '../../workers/pipeline-worker.js';

export interface PipelineWorkerContext {
  config: AppConfig;
  deps: WorkerDeps;
  taskQueue: string;
  /** A client on the test stack's namespace. */
  client: Client;
}

/**
 * A pipeline worker in this test process, on a task queue of its own, with a fresh lake folder,
 * DuckDB file and docs folder, against the test stack; started before the file's tests and
 * stopped after them. `env` adds to or overrides the stack's settings.
 */
export function usePipelineWorker(name: string, env: Record<string, string> = {}): PipelineWorkerContext {
  const ctx = { taskQueue: `${name}-${randomUUID()}` } as PipelineWorkerContext;
  let native: NativeConnection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), `egx-${name}-`));
    ctx.config = loadConfig({
      ...inject('stackEnv'),
      LAKE_DIR: join(dir, 'lake'),
      DUCKDB_PATH: join(dir, 'egx.duckdb'),
      DOCS_DIR: join(dir, 'docs'),
      // Business-key run IDs of this file's own, so reruns against the same server never meet old runs.
      TEMPORAL_ID_PREFIX: `${name}-${randomUUID().slice(0, 8)}-`,
      ...env,
    });
    ctx.client = new Client({
      connection: await Connection.connect({ address: ctx.config.temporal.address }),
      namespace: ctx.config.temporal.namespace,
    });
    ctx.deps = await openWorkerDeps(ctx.config);
    native = await connectWorker(ctx.config);
    worker = await createPipelineWorker(ctx.config, native, { taskQueue: ctx.taskQueue }, ctx.deps);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await ctx.deps?.close();
    await native?.close();
    await ctx.client?.connection.close();
  });
  return ctx;
}
