import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { HealthActivities } from '../activities/health.js';
import type { CheckResult, HealthComponent } from '../lib/health/report.js';
import { alertOnFailure, failTyped } from './alerting.js';
import { tagRun } from './business-date.js';

export interface HealthCheckInput {
  /** Attempts per component before it counts as down (default 2). */
  attempts?: number;
  /** Also report consumer lag, dead letters, price freshness and disk space. */
  operations?: boolean;
  /** Alert when something is down (the scheduled health run does; `egx health` only prints). */
  alert?: boolean;
}

export interface HealthCheckOutput {
  results: CheckResult[];
}

/**
 * Checks every component the pipeline depends on, in parallel. Succeeds when all are up; otherwise
 * fails with type HealthCheckFailed, a message naming what is down, and the full report as details.
 */
export async function healthCheckWorkflow(input: HealthCheckInput = {}): Promise<HealthCheckOutput> {
  return input.alert
    ? alertOnFailure('health', undefined, () => checkHealth(input))
    : failTyped(() => checkHealth(input));
}

async function checkHealth(input: HealthCheckInput): Promise<HealthCheckOutput> {
  tagRun('health');
  const act = proxyActivities<HealthActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: input.attempts ?? 2, initialInterval: '1 second' },
  });
  const checks: [HealthComponent, () => Promise<CheckResult>][] = [
    ['temporal', act.checkTemporal],
    ['kafka', act.checkKafka],
    ['s3', act.checkObjectStore],
    ['duckdb', act.checkWarehouse],
  ];
  const results = await Promise.all(
    checks.map(([component, run]) => run().catch((e) => asResult(component, e))),
  );
  // Consumer lag, dead letters, price freshness, disk: read by the worker, which holds the warehouse.
  if (input.operations) results.push(...(await act.checkOperations()));
  const down = results.filter((r) => !r.ok);
  if (down.length > 0) {
    throw ApplicationFailure.create({
      type: 'HealthCheckFailed',
      nonRetryable: true,
      message: `down: ${down.map((r) => `${r.component} (${r.detail})`).join('; ')}`,
      details: [{ results } satisfies HealthCheckOutput],
    });
  }
  return { results };
}

/** The result a failed check activity carried, or one built from the failure itself. */
function asResult(component: HealthComponent, e: unknown): CheckResult {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  const carried =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as CheckResult | undefined) : undefined;
  if (carried) return carried;
  return {
    component,
    ok: false,
    latencyMs: 0,
    detail: cause instanceof Error ? cause.message : String(cause),
  };
}
