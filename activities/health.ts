import { Context } from '@temporalio/activity';
import type { ConnectionLike } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../lib/config.js';
import { operationalProbes } from '../lib/health/operations.js';
import { healthProbes } from '../lib/health/probes.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { timed, type CheckResult, type HealthComponent } from '../lib/health/report.js';
import { describeCluster, taskQueuePollers } from '../temporal-config/cluster.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { activityMetrics } from './metrics.js';

/** A failed check fails its activity (red in the Web UI, with the reason), carrying the result for the report. */
async function check(component: HealthComponent, probe: () => Promise<string>): Promise<CheckResult> {
  const result = await timed(component, probe);
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: 'ComponentDown',
      message: `${component} is down: ${result.detail}`,
      details: [result],
    });
  }
  return result;
}

/** The operational observations as results: consumer lag, dead letters, price freshness, live view, disk. */
export function runOperationalChecks(
  config: AppConfig,
  warehouse: () => Promise<Warehouse>,
  onReading?: (name: 'consumerLag' | 'dlqMessages', value: number) => void,
): Promise<CheckResult[]> {
  const ops = operationalProbes(config, { warehouse, onReading });
  return Promise.all([
    timed('consumer-lag', ops.consumerLag),
    timed('dlq', ops.dlq),
    timed('freshness', ops.freshness),
    timed('live-view', ops.liveView),
    timed('disk', ops.disk),
  ]);
}

/**
 * Pollers on the pipeline's task queues: without them nothing runs, and a queue nobody polls is
 * down. Waits up to `waitMs` for them (a worker that has just started registers its pollers one
 * queue at a time).
 */
export function workersCheck(
  config: AppConfig,
  connection: ConnectionLike,
  waitMs = 0,
): Promise<CheckResult> {
  const queues = [
    { name: TASK_QUEUES.pipeline, kinds: ['workflow', 'activity'] as ('workflow' | 'activity')[] },
    ...(config.bus === 'kafka' ? [{ name: TASK_QUEUES.stream, kinds: ['activity'] as 'activity'[] }] : []),
  ];
  return timed('workers', async () => {
    const deadline = Date.now() + waitMs;
    let pollers = await taskQueuePollers(connection, config.temporal.namespace, queues);
    while (pollers.some((p) => p.pollers === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      pollers = await taskQueuePollers(connection, config.temporal.namespace, queues);
    }
    const text = pollers.map((p) => `${p.queue} ${p.kind}: ${p.pollers}`).join(', ');
    if (pollers.some((p) => p.pollers === 0))
      throw new Error(
        `no poller on ${pollers
          .filter((p) => p.pollers === 0)
          .map((p) => `${p.queue} (${p.kind})`)
          .join(', ')}; pollers: ${text} (start one with: npm run worker)`,
      );
    return `pollers: ${text}`;
  });
}

export function createHealthActivities(config: AppConfig, deps: { warehouse?: Warehouse } = {}) {
  const probes = healthProbes(config);
  return {
    /**
     * Never fails: each observation is a result, up or down. The last one is the pollers on each
     * task queue, so the scheduled health run alerts when a queue (egx-stream, say) has no worker.
     */
    checkOperations: async () => {
      const ctx = Context.current();
      const metrics = activityMetrics(() => ctx);
      const [ops, workers] = await Promise.all([
        runOperationalChecks(
          config,
          async () => {
            if (!deps.warehouse) throw new Error('this worker has no warehouse');
            return deps.warehouse;
          },
          (name, value) => metrics[name].set(value),
        ),
        workersCheck(config, ctx.client.connection),
      ]);
      return [...ops, workers];
    },
    checkTemporal: () =>
      check('temporal', () =>
        describeCluster(Context.current().client.connection, config.temporal.namespace),
      ),
    checkKafka: () => check('kafka', probes.kafka),
    checkObjectStore: () => check('s3', probes.s3),
    checkWarehouse: () => check('duckdb', probes.duckdb),
  };
}

export type HealthActivities = ReturnType<typeof createHealthActivities>;
