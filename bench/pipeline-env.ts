/**
 * For benchmarks that run workflows: the bench profile's Temporal dev server (started if needed,
 * stopped after unless it was already running), a fresh local object store and DuckDB file, and a
 * pipeline worker on its own task queue in this process, all on the embedded defaults.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, type AppConfig } from '../lib/config.js';
import { PROFILES, stackEnv } from '../scripts/devstack/profile.js';
import { down, install, status, up } from '../scripts/devstack/stack.js';
import {
  connectWorker,
  createPipelineWorker,
  openWorkerDeps,
  type WorkerDeps,
} from '../workers/pipeline-worker.js';

export interface BenchPipeline {
  config: AppConfig;
  deps: WorkerDeps;
  taskQueue: string;
  dir: string;
  close(): Promise<void>;
}

export async function startBenchPipeline(
  name: string,
  env: Record<string, string> = {},
): Promise<BenchPipeline> {
  const profile = PROFILES.bench;
  const log = (l: string) => console.log(`[stack] ${l}`);
  const wasRunning = status(profile, ['temporal'])[0]?.running;
  await install(profile, log, ['temporal']);
  await up(profile, log, ['temporal']);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), `egx-bench-${name}-`));
  const config = loadConfig({
    ...stackEnv(profile),
    OBJECT_STORE: 'local',
    LAKE_DIR: join(dir, 'lake'),
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    DOCS_DIR: join(dir, 'docs'),
    ARTIFACTS_DIR: join(dir, 'artifacts'),
    BUS: 'direct',
    ...env,
  });
  const deps = await openWorkerDeps(config);
  const native = await connectWorker(config);
  const taskQueue = `bench-${name}-${randomUUID()}`;
  const worker = await createPipelineWorker(config, native, { taskQueue }, deps);
  const running = worker.run();
  return {
    config,
    deps,
    taskQueue,
    dir,
    async close() {
      worker.shutdown();
      await running;
      await deps.close();
      await native.close();
      rmSync(dir, { recursive: true, force: true });
      if (!wasRunning) await down(profile, log, ['temporal']);
    },
  };
}
