import { Client, WorkflowFailedError } from '@temporalio/client';
import { connectClient } from '../temporal-config/connection.js';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../lib/config.js';
import { parseBusinessDate } from '../lib/util/dates.js';
import { SA } from '../temporal-config/search-attributes.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { cairoDate } from '../workflows/business-date.js';
import type { DailyBatchOutput, dailyBatchWorkflow } from '../workflows/daily-batch.js';

/** Starts `dailyBatchWorkflow` for a business date (default: today in Cairo), waits, and returns its output. */
export async function runDailyBatch(
  config: AppConfig,
  opts: {
    date?: string;
    force?: boolean;
    taskQueue?: string;
    onStarted?: (workflowId: string, url: string) => void;
  },
): Promise<DailyBatchOutput> {
  const businessDate = opts.date ?? cairoDate(new Date());
  parseBusinessDate(businessDate, 'egx run --date');
  const connection = await connectClient(config);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = `daily-batch-${businessDate}`;
    const handle = await client.workflow.start<typeof dailyBatchWorkflow>('dailyBatchWorkflow', {
      taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
      workflowId,
      args: [{ businessDate, force: opts.force }],
      // A run of the same day already in progress is joined, not duplicated.
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: SA.pipeline, value: 'daily-batch' },
        { key: SA.businessDate, value: businessDate },
      ],
    });
    opts.onStarted?.(
      workflowId,
      `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${workflowId}`,
    );
    try {
      return await handle.result();
    } catch (e) {
      if (e instanceof WorkflowFailedError && e.cause instanceof ApplicationFailure) {
        throw new Error(
          `egx run: daily-batch ${businessDate} failed (${e.cause.type ?? 'error'}): ${e.cause.message}`,
          { cause: e },
        );
      }
      throw e;
    }
  } finally {
    await connection.close();
  }
}

export function formatDailyBatch(o: DailyBatchOutput): string {
  return [
    `daily batch ${o.businessDate} (${o.runId})`,
    `streaming: ${o.streaming.ok ? 'healthy' : `NOT healthy: ${o.streaming.detail}`}`,
    `files: ${o.files.loaded} loaded, ${o.files.unchanged} unchanged, ${o.files.unreadable} unreadable; rows ${o.files.rowsLoaded} loaded, ${o.files.rowsQuarantined} quarantined`,
    ...o.quality.map((q) => `quality ${q.passed ? 'PASS' : 'FAIL'} ${q.name}: ${q.detail}`),
    o.transforms
      ? `transforms: ${o.transforms.built.length} models built; tests ${o.transforms.tests.passed} passed, ${o.transforms.tests.warned} warned; docs ${o.transforms.docs.keys.join(', ')}`
      : 'transforms: skipped',
    ...(o.transforms?.warnings ?? []).map((w) => `  warning ${w}`),
    `cleanup: ${o.cleanup.deleted} old files deleted`,
  ].join('\n');
}
