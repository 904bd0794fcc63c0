import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export interface PipelineWorkerProcess {
  config: AppConfig;
  taskQueue: string;
  /** A client on the test stack's namespace. */
  client: Client;
  /** The worker process's ID (it holds the DuckDB file). */
  pid: () => number | undefined;
  /** Stops the worker process (the DuckDB file is free afterwards); also done after the file's tests. */
  stop: () => Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A pipeline worker in a process of its own, as a running stack has one: it holds its DuckDB file,
 * so this process cannot open it (DuckDB allows one process per file). Fresh lake bucket, DuckDB
 * file and docs folder, on a task queue of its own, against the test stack; `env` adds to or
 * overrides the stack's settings. Started before the file's tests, stopped after them.
 */
export function usePipelineWorkerProcess(
  name: string,
  env: Record<string, string> = {},
): PipelineWorkerProcess {
  let child: ChildProcess | undefined;
  let output = '';
  const ctx = {
    taskQueue: `${name}-${randomUUID()}`,
    pid: () => child?.pid,
    stop: async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  } as PipelineWorkerProcess;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), `egx-${name}-`));
    const vars = {
      ...inject('stackEnv'),
      S3_BUCKET: `egx-${name}-${randomUUID().slice(0, 8)}`.toLowerCase(),
      DUCKDB_PATH: join(dir, 'egx.duckdb'),
      DOCS_DIR: join(dir, 'docs'),
      ARTIFACTS_DIR: join(dir, 'artifacts'),
      TEMPORAL_ID_PREFIX: `${name}-${randomUUID().slice(0, 8)}-`,
      ...env,
    };
    ctx.config = loadConfig(vars);
    ctx.client = new Client({
      connection: await Connection.connect({ address: ctx.config.temporal.address }),
      namespace: ctx.config.temporal.namespace,
    });
    child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts', ctx.taskQueue], {
      cwd: ROOT,
      env: { ...process.env, ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        if (output.includes('ready')) resolve();
      });
      child!.once('exit', (code) =>
        reject(new Error(`worker process exited (${code}) before it was ready:\n${output}`)),
      );
    });
  });
  afterAll(async () => {
    await ctx.stop();
    await ctx.client?.connection.close();
  });
  return ctx;
}
