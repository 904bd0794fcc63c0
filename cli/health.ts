import { Client, Connection, WorkflowFailedError, type ConnectionLike } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { AppConfig } from '../lib/config.js';
import { healthProbes } from '../lib/health/probes.js';
import { timed, type CheckResult } from '../lib/health/report.js';
import { describeCluster } from '../temporal-config/cluster.js';
import { runOperationalChecks, workersCheck } from '../activities/health.js';
import { openWarehouse } from '../lib/adapters.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { connectClient } from '../temporal-config/connection.js';
import { SA } from '../temporal-config/search-attributes.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import type { HealthCheckOutput, healthCheckWorkflow } from '../workflows/health.js';
import { failureChain, RunFailedError } from './failures.js';

export interface HealthRun {
  via: 'workflow' | 'direct';
  results: CheckResult[];
  /** Why the checks ran directly, or where to see the workflow. */
  note: string;
  workflowId?: string;
}

async function direct(config: AppConfig, temporal: CheckResult, note: string): Promise<HealthRun> {
  const probes = healthProbes(config);
  const others = await Promise.all([
    timed('kafka', probes.kafka),
    timed('s3', probes.s3),
    timed('duckdb', probes.duckdb),
  ]);
  let wh: Warehouse | undefined;
  try {
    const ops = await runOperationalChecks(config, async () => (wh = await openWarehouse(config)));
    return { via: 'direct', results: [temporal, ...others, ...ops], note };
  } finally {
    await wh?.close();
  }
}

/** True when some worker polls the pipeline's workflow task queue. */
export async function hasWorker(connection: ConnectionLike, namespace: string): Promise<boolean> {
  const res = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: TASK_QUEUES.pipeline },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? []).length > 0;
}

async function waitForWorker(connection: ConnectionLike, namespace: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await hasWorker(connection, namespace)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs the health check as the `healthCheckWorkflow` when Temporal is up and a worker polls the
 * pipeline's task queue; otherwise runs the same checks in this process and says why.
 */
export async function runHealth(
  config: AppConfig,
  opts: {
    direct?: boolean;
    /** How long to wait for a worker to appear before checking directly. */ waitForWorkerMs?: number;
  } = {},
): Promise<HealthRun> {
  const { address, namespace, uiUrl } = config.temporal;
  let connection: Connection | undefined;
  const temporal = await timed('temporal', async () => {
    connection = await connectClient(config, 3000);
    return describeCluster(connection, namespace);
  });
  try {
    if (!connection || !temporal.ok)
      return await direct(config, temporal, `Temporal at ${address} unreachable; checked the rest directly`);
    const waitMs = opts.direct ? 0 : (opts.waitForWorkerMs ?? 0);
    const workerUp = await waitForWorker(connection, namespace, waitMs);
    const workers = await workersCheck(config, connection, workerUp ? waitMs : 0);
    // The workflow reports pollers too; this process's check (which waited for them) replaces it.
    const withWorkers = (run: HealthRun): HealthRun => ({
      ...run,
      results: [...run.results.filter((r) => r.component !== 'workers'), workers],
    });
    if (opts.direct) return withWorkers(await direct(config, temporal, 'checked directly (--direct)'));
    if (!workerUp) {
      return withWorkers(
        await direct(
          config,
          temporal,
          `no worker polls task queue "${TASK_QUEUES.pipeline}"; checked directly (start one with: npm run worker)`,
        ),
      );
    }
    const client = new Client({ connection, namespace });
    const workflowId = `health-${new Date().toISOString()}`;
    const url = `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
    const note = `workflow ${workflowId}: ${url}`;
    try {
      const out = await client.workflow.execute<typeof healthCheckWorkflow>('healthCheckWorkflow', {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId,
        args: [{ operations: true }],
        workflowExecutionTimeout: '2 minutes',
        typedSearchAttributes: [{ key: SA.pipeline, value: 'health' }],
      });
      return withWorkers({ via: 'workflow', results: out.results, note, workflowId });
    } catch (e) {
      const cause = e instanceof WorkflowFailedError ? e.cause : undefined;
      const report =
        cause instanceof ApplicationFailure
          ? (cause.details?.[0] as HealthCheckOutput | undefined)
          : undefined;
      if (report?.results) return withWorkers({ via: 'workflow', results: report.results, note, workflowId });
      if (e instanceof WorkflowFailedError)
        throw new RunFailedError(
          `health workflow ${workflowId}`,
          failureChain(e),
          note.replace(/^[^:]*: /, ''),
          {
            cause: e,
          },
        );
      throw new Error(
        `health workflow ${workflowId} did not report (${e instanceof Error ? e.message : String(e)}); ` +
          `is a worker polling "${TASK_QUEUES.pipeline}"? See ${note}`,
        { cause: e },
      );
    }
  } finally {
    await connection?.close();
  }
}
