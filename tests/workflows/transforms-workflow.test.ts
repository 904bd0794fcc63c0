import type { AlertActivities } from '../../activities/alerts.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, test, vi } from 'vitest';
import type { PlannedModel, TransformActivities } from '../../activities/transforms.js';
import type { TestResult } from '../../lib/transforms/build.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { transformsWorkflow } from '../../workflows/transforms.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

// stg_a and stg_b are independent; gold_c reads both.
const plan: PlannedModel[] = [
  { name: 'stg_a', layer: 'staging', refs: [] },
  { name: 'stg_b', layer: 'staging', refs: [] },
  { name: 'gold_c', layer: 'marts', refs: ['stg_a', 'stg_b'] },
];
const pass = (model: string, test = 'not_null(x)'): TestResult => ({
  model,
  test,
  severity: 'error',
  status: 'pass',
  failingRows: 0,
  sample: '',
});

function activities(
  overrides: Partial<TransformActivities & AlertActivities> = {},
): TransformActivities & AlertActivities {
  return {
    planTransforms: vi.fn(async () => plan),
    buildTransformModel: vi.fn(async ({ model }: { model: string }) => ({
      model,
      materialized: 'table' as const,
      rows: 1,
      seconds: 0,
    })),
    testTransformModel: vi.fn(async ({ model }: { model: string }) => [pass(model)]),
    checkStreamedDataFreshness: vi.fn(async () => ({
      status: 'stale' as const,
      detail: 'no streamed bar arrived',
    })),
    sendAlert: vi.fn(async () => ({ sent: ['webhook'], grouped: false })),
    generateTransformDocs: vi.fn(async () => ({
      models: 3,
      keys: ['docs/index.html', 'docs/manifest.json'],
    })),
    ...overrides,
  };
}

async function run(acts: TransformActivities, maxParallel = 3, asOf?: string) {
  return runWorkflow<typeof transformsWorkflow>(
    ctx,
    'transformsWorkflow',
    [{ businessDate: '2026-01-14', maxParallel, asOf }],
    acts,
  );
}

describe('transformsWorkflow', () => {
  test('independent models build in parallel, a dependent one after both, then every model is tested', async () => {
    const events: string[] = [];
    const acts = activities({
      buildTransformModel: vi.fn(async ({ model }: { model: string }) => {
        events.push(`start ${model}`);
        await sleep(100);
        events.push(`end ${model}`);
        return { model, materialized: 'table' as const, rows: 1, seconds: 0 };
      }),
    });
    const out = await run(acts);
    expect(events.slice(0, 2).sort()).toEqual(['start stg_a', 'start stg_b']);
    expect(events.indexOf('start gold_c')).toBeGreaterThan(
      Math.max(events.indexOf('end stg_a'), events.indexOf('end stg_b')),
    );
    expect(out.built.map((b) => b.model).sort()).toEqual(['gold_c', 'stg_a', 'stg_b']);
    expect(out.tests).toEqual({ passed: 3, warned: 0, failed: 0 });
    expect(out.docs.keys).toEqual(['docs/index.html', 'docs/manifest.json']);
    // Started by hand without asOf: the streaming check is skipped, and says so.
    expect(out.streaming.status).toBe('not_checked');
    expect(acts.checkStreamedDataFreshness).not.toHaveBeenCalled();
  });

  test('a model that fails once is retried alone; the others are built once', async () => {
    const calls = new Map<string, number>();
    const acts = activities({
      buildTransformModel: vi.fn(async ({ model }: { model: string }) => {
        calls.set(model, (calls.get(model) ?? 0) + 1);
        if (model === 'stg_b' && calls.get(model) === 1) throw new Error('warehouse connection reset');
        return { model, materialized: 'table' as const, rows: 1, seconds: 0 };
      }),
    });
    await run(acts);
    expect(Object.fromEntries(calls)).toEqual({ stg_a: 1, stg_b: 2, gold_c: 1 });
  });

  test('a failed error-severity test fails the run naming the model and the test; warnings are reported', async () => {
    const acts = activities({
      testTransformModel: vi.fn(async ({ model }: { model: string }) =>
        model === 'gold_c'
          ? [
              {
                model,
                test: 'unique(symbol,trade_date)',
                severity: 'error' as const,
                status: 'fail' as const,
                failingRows: 2,
                sample: '[]',
              },
            ]
          : [
              {
                model,
                test: 'freshness(trade_date,7d)',
                severity: 'warn' as const,
                status: 'warn' as const,
                failingRows: 1,
                sample: '[]',
              },
            ],
      ),
    });
    const err = await run(acts).catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('DataTestsFailed');
    expect(cause.message).toBe('data tests failed: gold_c: unique(symbol,trade_date) (2 failing rows)');
    // The docs still show this run's results.
    expect(acts.generateTransformDocs).toHaveBeenCalledTimes(1);
  });

  test('a model whose audit fails stops the run before the models that read it', async () => {
    const acts = activities({
      buildTransformModel: vi.fn(async ({ model }: { model: string }) => {
        if (model === 'stg_a')
          throw ApplicationFailure.nonRetryable(
            'model stg_a not published: audit failed: close_positive',
            'ModelAuditFailed',
          );
        await sleep(50);
        return { model, materialized: 'table' as const, rows: 1, seconds: 0 };
      }),
    });
    // One model at a time, so no activity is still running when the run fails: the time-skipping
    // server keeps its clock locked for an activity of a closed workflow, stalling later tests.
    const err = await run(acts, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const inner = (err as WorkflowFailedError).cause?.cause;
    expect(inner instanceof Error ? inner.message : '').toContain('model stg_a not published');
    expect(acts.buildTransformModel).not.toHaveBeenCalledWith(expect.objectContaining({ model: 'gold_c' }));
  });

  test('stale streamed data (market open in the 6 hours before asOf) is reported as a warning, not a failure', async () => {
    const acts = activities();
    const out = await run(acts, 3, '2026-01-14T12:00:00.000Z');
    expect(acts.checkStreamedDataFreshness).toHaveBeenCalledWith({
      asOf: '2026-01-14T12:00:00.000Z',
      hours: 6,
    });
    expect(out.streaming.status).toBe('stale');
    expect(out.warnings).toEqual(['streaming: no streamed bar arrived']);
  });
});

describe('transformsWorkflow actions', () => {
  test('test tests the published models without building them; docs only writes the docs', async () => {
    const tested = activities();
    const out = await runWorkflow<typeof transformsWorkflow>(
      ctx,
      'transformsWorkflow',
      [{ businessDate: '2026-01-14', action: 'test' }],
      tested,
    );
    expect(tested.buildTransformModel).not.toHaveBeenCalled();
    expect(tested.testTransformModel).toHaveBeenCalledTimes(plan.length);
    expect(out).toMatchObject({ built: [], tests: { passed: plan.length } });

    const docs = activities();
    const written = await runWorkflow<typeof transformsWorkflow>(
      ctx,
      'transformsWorkflow',
      [{ businessDate: '2026-01-14', action: 'docs' }],
      docs,
    );
    expect(docs.buildTransformModel).not.toHaveBeenCalled();
    expect(docs.testTransformModel).not.toHaveBeenCalled();
    expect(docs.generateTransformDocs).toHaveBeenCalledTimes(1);
    expect(written.docs.keys).toContain('docs/index.html');
  });
});
