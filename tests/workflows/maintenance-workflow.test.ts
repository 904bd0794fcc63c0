import type { AlertActivities } from '../../activities/alerts.js';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expect, test, vi } from 'vitest';
import type { MaintenanceActivities } from '../../activities/maintenance.js';
import type { TransformActivities } from '../../activities/transforms.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { weeklyMaintenanceWorkflow } from '../../workflows/maintenance.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

function activities(events: string[], archiveFails = false) {
  const transforms: TransformActivities & AlertActivities = {
    planTransforms: vi.fn(async () => [{ name: 'stg_a', layer: 'staging' as const, refs: [] }]),
    buildTransformModel: vi.fn(async ({ model, fullRefresh }: { model: string; fullRefresh?: boolean }) => {
      events.push(`build ${model}${fullRefresh ? ' (full refresh)' : ''}`);
      return { model, materialized: 'incremental' as const, rows: 5, seconds: 0 };
    }),
    testTransformModel: vi.fn(async () => []),
    checkStreamedDataFreshness: vi.fn(async () => ({ status: 'market_closed' as const, detail: '' })),
    sendAlert: vi.fn(async () => ({ sent: ['webhook'], grouped: false })),
    generateTransformDocs: vi.fn(async () => ({ models: 1, keys: [] })),
  };
  const maintenance: MaintenanceActivities = {
    archiveOldStreamedBars: vi.fn(async (input: { asOf: string; retentionDays: number; runId: string }) => {
      events.push(`archive ${input.retentionDays}d`);
      if (archiveFails)
        throw ApplicationFailure.nonRetryable(
          'archive did not read back; nothing was deleted',
          'ArchiveFailed',
        );
      return { cutoff: input.asOf, months: [], archived: 12, deleted: 12 };
    }),
    optimiseWarehouse: vi.fn(async () => {
      events.push('optimise');
      return 'done';
    }),
  };
  return { ...transforms, ...maintenance };
}

test('maintenance: full refresh of the models, then archive-and-delete, then optimise, in that order', async () => {
  const events: string[] = [];
  const out = await runWorkflow<typeof weeklyMaintenanceWorkflow>(
    ctx,
    'weeklyMaintenanceWorkflow',
    [{ businessDate: '2026-11-28' }],
    activities(events),
  );
  expect(events).toEqual(['build stg_a (full refresh)', 'archive 360d', 'optimise']);
  expect(out).toMatchObject({
    businessDate: '2026-11-28',
    archive: { archived: 12, deleted: 12 },
    optimise: 'done',
  });
});

test('a failed archive fails the run, naming why, and nothing after it runs', async () => {
  const events: string[] = [];
  const run = runWorkflow<typeof weeklyMaintenanceWorkflow>(
    ctx,
    'weeklyMaintenanceWorkflow',
    [{ businessDate: '2026-11-28' }],
    activities(events, true),
  );
  const err = await run.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  // The workflow failure's cause is the activity's failure, whose cause says why.
  const activity = (err as WorkflowFailedError).cause;
  expect(activity?.cause).toBeInstanceOf(ApplicationFailure);
  expect((activity?.cause as ApplicationFailure).message).toMatch(/archive did not read back/);
  expect(events).toEqual(['build stg_a (full refresh)', 'archive 360d']);
});
