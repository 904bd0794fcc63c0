import type { AppConfig } from '../lib/config.js';
import type { FileLoadResult } from '../lib/ingest/load-file.js';
import { withClient } from '../temporal-config/connection.js';
import { startOrAttach, type StartOutcome } from '../temporal-config/runs.js';
import { workflowIds } from '../temporal-config/workflow-ids.js';
import { explainRunFailure } from './failures.js';
import { parseBusinessDate } from '../lib/util/dates.js';
import { SA } from '../temporal-config/search-attributes.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { cairoDate } from '../workflows/business-date.js';
import type { DailyBatchInput, DailyBatchOutput } from '../workflows/daily-batch.js';
import { readBatchRun, watchRun, type BatchRunView } from './run-progress.js';

export interface DailyBatchRun extends DailyBatchOutput {
  outcome: StartOutcome;
  workflowId: string;
  url: string;
  /** Each file the run loaded, with its counts and, for an unreadable one, why (from the run's history). */
  fileResults: FileLoadResult[];
}

/**
 * Runs the daily batch of a business date (default: today in Cairo) under its business-key ID
 * `daily-batch-<date>` and waits for it, calling `onProgress` with what it has done while it runs.
 * A run of that day already under way (scheduled or manual) is followed instead of starting
 * another; a day that already completed is not run again unless `rerun`: its result is returned,
 * with `outcome` saying so. A failed run throws RunFailedError with the cause chain and the link.
 */
export async function runDailyBatch(
  config: AppConfig,
  opts: {
    date?: string;
    force?: boolean;
    rerun?: boolean;
    taskQueue?: string;
    onStarted?: (workflowId: string, url: string, outcome: StartOutcome) => void;
    onProgress?: (view: BatchRunView) => void;
  },
): Promise<DailyBatchRun> {
  const businessDate = opts.date ?? cairoDate(new Date());
  parseBusinessDate(businessDate, 'egx run --date');
  return withClient(config, async (client) => {
    const workflowId = config.temporal.idPrefix + workflowIds.dailyBatch(businessDate);
    const url = runUrl(config, workflowId);
    const { handle, outcome } = await startOrAttach(
      client,
      {
        workflowType: 'dailyBatchWorkflow',
        workflowId,
        taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
        args: [{ businessDate, force: opts.force } satisfies DailyBatchInput],
        searchAttributes: [
          { key: SA.pipeline, value: 'daily-batch' },
          { key: SA.businessDate, value: businessDate },
        ],
        summary: `daily batch ${businessDate} (manual)`,
      },
      { rerun: opts.rerun },
    );
    opts.onStarted?.(workflowId, url, outcome);
    const result = handle.result() as Promise<DailyBatchOutput>;
    if (opts.onProgress) await watchRun(result, () => readBatchRun(client, workflowId), opts.onProgress);
    let output: DailyBatchOutput;
    try {
      output = await result;
    } catch (e) {
      return explainRunFailure(`daily-batch ${businessDate}`, url, e);
    }
    const view = await readBatchRun(client, workflowId).catch(() => undefined);
    return { ...output, outcome, workflowId, url, fileResults: view?.results ?? [] };
  });
}

/** The run's page in the Temporal Web UI. */
export const runUrl = (config: AppConfig, workflowId: string) =>
  `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;

/**
 * The files a daily batch could not read, with the reason: from its output when the workflow
 * reports them (`files.unreadableFiles`), else from the per-file results in its history.
 */
export function unreadableFiles(
  o: DailyBatchOutput & { fileResults?: FileLoadResult[] },
): { key: string; error: string }[] {
  const reported = (o.files as { unreadableFiles?: { key: string; error: string }[] }).unreadableFiles;
  const listed =
    reported ?? (o.fileResults ?? []).flatMap((r) => (r.error ? [{ key: r.key, error: r.error }] : []));
  // Some reasons start with the key themselves.
  return listed.map((f) => ({
    ...f,
    error: f.error.startsWith(`${f.key}: `) ? f.error.slice(f.key.length + 2) : f.error,
  }));
}

export function formatDailyBatch(o: DailyBatchOutput & { fileResults?: FileLoadResult[] }): string {
  const unreadable = unreadableFiles(o);
  return [
    `daily batch ${o.businessDate} (${o.runId})`,
    `streaming: ${o.streaming.ok ? 'healthy' : `NOT healthy: ${o.streaming.detail}`}`,
    `files: ${o.files.loaded} loaded, ${o.files.unchanged} unchanged, ${o.files.unreadable} unreadable; rows ${o.files.rowsLoaded} loaded, ${o.files.rowsQuarantined} quarantined`,
    ...unreadable.map((f) => `  unreadable ${f.key}: ${f.error}`),
    ...o.quality.map((q) => `quality ${q.passed ? 'PASS' : 'FAIL'} ${q.name}: ${q.detail}`),
    o.transforms
      ? `transforms: ${o.transforms.built.length} models built; tests ${o.transforms.tests.passed} passed, ${o.transforms.tests.warned} warned; docs ${o.transforms.docs.keys.join(', ')}`
      : 'transforms: skipped',
    ...(o.transforms?.warnings ?? []).map((w) => `  warning ${w}`),
    ...(o.anomalies ? [o.anomalies.summary] : []),
    `cleanup: ${o.cleanup.deleted} old files deleted`,
  ].join('\n');
}
