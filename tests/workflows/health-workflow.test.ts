import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, test, vi } from 'vitest';
import type { HealthActivities } from '../../activities/health.js';
import type { CheckResult } from '../../lib/health/report.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { healthCheckWorkflow } from '../../workflows/health.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

const up = (component: CheckResult['component']): CheckResult => ({
  component,
  ok: true,
  latencyMs: 5,
  detail: 'fine',
});

function activities(overrides: Partial<HealthActivities> = {}): HealthActivities {
  return {
    checkTemporal: vi.fn(async () => up('temporal')),
    checkKafka: vi.fn(async () => up('kafka')),
    checkObjectStore: vi.fn(async () => up('s3')),
    checkWarehouse: vi.fn(async () => up('duckdb')),
    checkOperations: vi.fn(async () => [up('consumer-lag'), up('dlq'), up('freshness'), up('disk')]),
    ...overrides,
  };
}

async function run(acts: HealthActivities) {
  return runWorkflow<typeof healthCheckWorkflow>(ctx, 'healthCheckWorkflow', [{}], acts);
}

describe('healthCheckWorkflow', () => {
  test('returns one result per component when all are up', async () => {
    const out = await run(activities());
    expect(out.results.map((r) => [r.component, r.ok])).toEqual([
      ['temporal', true],
      ['kafka', true],
      ['s3', true],
      ['duckdb', true],
    ]);
  });

  test('fails naming the component that is down, with the full report attached', async () => {
    const down: CheckResult = {
      component: 'kafka',
      ok: false,
      latencyMs: 12,
      detail: 'connect ECONNREFUSED 127.0.0.1:9092',
    };
    const checkKafka = vi.fn(async () => {
      throw ApplicationFailure.create({ type: 'ComponentDown', message: 'kafka is down', details: [down] });
    });
    const err = await run(activities({ checkKafka })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('HealthCheckFailed');
    expect(cause?.message).toContain('kafka (connect ECONNREFUSED 127.0.0.1:9092)');
    const report = (cause as ApplicationFailure).details?.[0] as { results: CheckResult[] };
    expect(report.results.filter((r) => !r.ok)).toEqual([down]);
    expect(report.results.filter((r) => r.ok)).toHaveLength(3);
    // It was retried once before counting as down.
    expect(checkKafka).toHaveBeenCalledTimes(2);
  });

  test('a component that recovers on retry counts as up', async () => {
    let calls = 0;
    const checkObjectStore = vi.fn(async () => {
      if (++calls === 1) throw new Error('connection reset');
      return up('s3');
    });
    const out = await run(activities({ checkObjectStore }));
    expect(out.results.every((r) => r.ok)).toBe(true);
    expect(calls).toBe(2);
  });

  test('with operations, lag, dead letters, freshness and disk are reported too', async () => {
    const acts = activities();
    const out = await runWorkflow<typeof healthCheckWorkflow>(
      ctx,
      'healthCheckWorkflow',
      [{ operations: true }],
      acts,
    );
    expect(out.results.map((r) => r.component)).toEqual([
      'temporal',
      'kafka',
      's3',
      'duckdb',
      'consumer-lag',
      'dlq',
      'freshness',
      'disk',
    ]);
  });

  test('the scheduled run (alert: true) alerts naming what is down; a manual run does not', async () => {
    const sendAlert = vi.fn(async () => ({ sent: ['webhook'], grouped: false }));
    const acts = {
      ...activities({ checkKafka: vi.fn(async () => Promise.reject(new Error('ECONNREFUSED'))) }),
      sendAlert,
    };
    await runWorkflow<typeof healthCheckWorkflow>(ctx, 'healthCheckWorkflow', [{}], acts).catch(
      () => undefined,
    );
    expect(sendAlert).not.toHaveBeenCalled();
    await runWorkflow<typeof healthCheckWorkflow>(ctx, 'healthCheckWorkflow', [{ alert: true }], acts).catch(
      () => undefined,
    );
    expect(sendAlert).toHaveBeenCalledWith(
      expect.objectContaining({
        title: 'health failed',
        error: expect.stringMatching(/^down: kafka \(.*ECONNREFUSED/),
        key: 'health:failed:HealthCheckFailed',
      }),
    );
  });
});
