import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../lib/config.js';
import { healthProbes } from '../lib/health/probes.js';
import { timed, type CheckResult, type HealthComponent } from '../lib/health/report.js';
import { describeCluster } from '../temporal-config/cluster.js';

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

export function createHealthActivities(config: AppConfig) {
  const probes = healthProbes(config);
  return {
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
