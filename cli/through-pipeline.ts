/**
 * `egx load` and `egx transforms` against a running stack. A running worker keeps the DuckDB file
 * open, and DuckDB takes one process per file; so when the file is held, these commands hand the
 * work to that worker through Temporal: `egx load` uploads the files to the object store's batch
 * prefixes and runs the daily batch, `egx transforms` runs the transforms workflow.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type AppConfig } from '../lib/config.js';
import { emptyResult, type FileLoadResult } from '../lib/ingest/load-file.js';
import { summarize, type LoadSummary } from '../lib/ingest/load-summary.js';
import { taskQueuePollers } from '../temporal-config/cluster.js';
import { connectClient } from '../temporal-config/connection.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { WarehouseHeldError } from './load.js';
import { runDailyBatch, type DailyBatchRun } from './run.js';
import type { BatchRunView } from './run-progress.js';
import { formatUpload, uploadBatchFiles, type UploadResult } from './upload.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The settings file `bash scripts/run.sh` writes for its local stack (`.devstack/dev/stack.env`), if there is one. */
export function localStackEnvFile(): string | undefined {
  const dir = process.env.EGX_DEVSTACK_DIR ?? join(PROJECT_ROOT, '.devstack');
  const file = join(dir, 'dev', 'stack.env');
  return existsSync(file) ? file : undefined;
}

/** Why the pipeline cannot take work now (Temporal unreachable, no worker on the queue), or undefined when it can. */
export async function pipelineProblem(config: AppConfig, taskQueue: string): Promise<string | undefined> {
  const { address, namespace } = config.temporal;
  let connection;
  try {
    connection = await connectClient(config, 3000);
  } catch (e) {
    return `Temporal at ${address} does not answer (${(e as Error).message})`;
  }
  try {
    const [wf, act] = await taskQueuePollers(connection, namespace, [
      { name: taskQueue, kinds: ['workflow', 'activity'] },
    ]);
    if (!wf?.pollers || !act?.pollers)
      return `no worker polls task queue "${taskQueue}" on Temporal at ${address} (namespace ${namespace})`;
    return undefined;
  } catch (e) {
    return `Temporal at ${address} does not answer (${(e as Error).message})`;
  } finally {
    await connection.close();
  }
}

/** Thrown when the warehouse is held and the running pipeline cannot take the work either: says what to do. */
export class NoWayToRunError extends Error {
  constructor(command: string, held: WarehouseHeldError, problem: string) {
    const pid = held.holder.pid;
    super(
      [
        `${command}: ${held.message}, and the running pipeline cannot take the work instead: ${problem}.`,
        `  → If a stack runs from another folder or shell, point egx at it: npm run egx -- --env-file <its stack.env or .env> ${command.replace(/^egx /, '')} …`,
        `  → If a worker should be running, start one (npm run worker, or bash scripts/run.sh) and run this again.`,
        `  → Otherwise stop the process holding the file${pid ? ` (kill ${pid})` : ''} and run this again, or use another file: DUCKDB_PATH=<path> npm run egx -- ${command.replace(/^egx /, '')} …`,
      ].join('\n'),
      { cause: held },
    );
    this.name = 'NoWayToRunError';
  }
}

/**
 * Runs `direct`; when the warehouse is held by another process, runs `viaPipeline` instead on a
 * running worker. With no settings of its own (no --env-file, no .env) and a local stack's
 * settings file present, it takes those settings for that (the worker holding the file is the
 * stack's). When neither way works, throws NoWayToRunError saying what to do.
 */
export async function directOrThroughPipeline<T>(opts: {
  command: string;
  config: AppConfig;
  /** True when the settings came from --env-file or ./.env. */
  settingsGiven: boolean;
  taskQueue?: string;
  log: (line: string) => void;
  direct: (config: AppConfig) => Promise<T>;
  viaPipeline: (config: AppConfig) => Promise<T>;
}): Promise<T> {
  try {
    return await opts.direct(opts.config);
  } catch (e) {
    if (!(e instanceof WarehouseHeldError)) throw e;
    let config = opts.config;
    const stackEnv = opts.settingsGiven ? undefined : localStackEnvFile();
    if (stackEnv) {
      process.loadEnvFile(stackEnv);
      config = loadConfig();
      const shown = relative(process.cwd(), stackEnv);
      opts.log(
        `${opts.command}: using the local stack's settings from ${shown.startsWith('..') ? stackEnv : shown}`,
      );
    }
    const problem = await pipelineProblem(config, opts.taskQueue ?? TASK_QUEUES.pipeline);
    if (problem) throw new NoWayToRunError(opts.command, e, problem);
    opts.log(`${opts.command}: ${e.message}; handing the work to the running pipeline`);
    return opts.viaPipeline(config);
  }
}

export interface PipelineLoad {
  upload: UploadResult;
  run: DailyBatchRun;
  /** The uploaded files as the daily batch loaded them (unchanged ones as skipped), summed up as `egx load` does. */
  summary: LoadSummary;
  seconds: number;
}

/**
 * Uploads files to the object store's batch prefixes and runs the daily batch of `date` (default
 * today) through Temporal, following it with `onProgress`. A run of that day already under way is
 * followed, then the day is run again, since it may have listed its files before these arrived.
 */
export async function loadThroughPipeline(
  config: AppConfig,
  target: string,
  opts: {
    kind?: string;
    force?: boolean;
    date?: string;
    taskQueue?: string;
    log: (line: string) => void;
    onProgress?: (view: BatchRunView) => void;
  },
): Promise<PipelineLoad> {
  const started = performance.now();
  const upload = await uploadBatchFiles(config, target, { kind: opts.kind, command: 'egx load' });
  opts.log(formatUpload(upload));
  const run = (rerun: boolean) =>
    runDailyBatch(config, {
      date: opts.date,
      force: opts.force,
      rerun,
      taskQueue: opts.taskQueue,
      onProgress: opts.onProgress,
      onStarted: (id, url, outcome) =>
        opts.log(
          outcome === 'attached'
            ? `${id} is already running; following it, then running the day again for these files: ${url}`
            : `daily batch ${id}: ${url}`,
        ),
    });
  let out = await run(true);
  if (out.outcome === 'attached') out = await run(true);
  const byKey = new Map(out.fileResults.map((r) => [r.key, r]));
  const results = upload.files.map(
    (f): FileLoadResult =>
      byKey.get(f.key) ?? { ...emptyResult(f.key, f.key.split('/')[1] ?? '', ''), skipped: true },
  );
  return { upload, run: out, summary: summarize(results), seconds: (performance.now() - started) / 1000 };
}
