import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../lib/config.js';
import { operationalProbes } from '../lib/health/operations.js';
import { healthProbes } from '../lib/health/probes.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { timed, type CheckResult, type HealthComponent } from '../lib/health/report.js';
import { describeCluster } from '../temporal-config/cluster.js';
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

export function createHealthActivities(config: AppConfig, deps: { warehouse?: Warehouse } = {}) {
  const probes = healthProbes(config);
  return {
    /** Never fails: each observation is a result, up or down. */
    checkOperations: () => {
      const metrics = activityMetrics(() => Context.current());
      return runOperationalChecks(
        config,
        async () => {
          if (!deps.warehouse) throw new Error('this worker has no warehouse');
          return deps.warehouse;
        },
        (name, value) => metrics[name].set(value),
      );
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
