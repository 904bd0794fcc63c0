import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { expect, test, vi } from 'vitest';
import type { AlertActivities } from '../../activities/alerts.js';
import type { BackfillActivities, BackfillBarsInput, BackfillBarsResult } from '../../activities/backfill.js';
import type { TransformActivities } from '../../activities/transforms.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import {
  backfillProgressQuery,
  cancelBackfillSignal,
  chunkDates,
  pauseBackfillSignal,
  resumeBackfillSignal,
  type backfillWorkflow,
  type BackfillProgress,
} from '../../workflows/backfill.js';
import { useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

function activities(
  backfillBars: (i: BackfillBarsInput) => Promise<Omit<BackfillBarsResult, 'quarantined'>>,
) {
  const acts: BackfillActivities & TransformActivities & AlertActivities = {
    backfillBars: vi.fn(async (i: BackfillBarsInput) => ({ quarantined: 0, ...(await backfillBars(i)) })),
    planTransforms: vi.fn(async () => [{ name: 'stg_a', layer: 'staging' as const, refs: [] }]),
    buildTransformModel: vi.fn(async ({ model }: { model: string }) => ({
      model,
      materialized: 'table' as const,
      rows: 1,
      seconds: 0,
    })),
    testTransformModel: vi.fn(async () => []),
    checkStreamedDataFreshness: vi.fn(async () => ({ status: 'market_closed' as const, detail: '' })),
    generateTransformDocs: vi.fn(async () => ({ models: 1, keys: [] })),
    sendAlert: vi.fn(async () => ({ sent: [], grouped: false })),
  };
  return acts;
}

async function withWorker<T>(acts: object, work: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `backfill-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    taskQueue,
    workflowBundle: ctx.bundle,
    activities: acts,
  });
  return worker.runUntil(work(taskQueue));
}

const input = {
  from: '2016-01-01',
  to: '2025-12-31',
  symbols: ['COMI', 'ETEL'],
  chunkDays: 365,
  parallel: 3,
};

test('chunks cover the range exactly, inclusive', () => {
  expect(chunkDates('2024-01-01', '2024-01-10', 4)).toEqual([
    { from: '2024-01-01', to: '2024-01-04' },
    { from: '2024-01-05', to: '2024-01-08' },
    { from: '2024-01-09', to: '2024-01-10' },
  ]);
});

test('ten years in chunks, at most `parallel` at once, then one full rebuild; a rerun skips every finished chunk', async () => {
  let running = 0;
  let peak = 0;
  const acts = activities(async (i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return { bars: i.symbols.length * 250, symbols: i.symbols.length };
  });
  const workflowId = `backfill-${randomUUID()}`;
  const first = await withWorker(acts, (taskQueue) =>
    ctx.env.client.workflow.execute<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
    }),
  );
  const n = chunkDates(input.from, input.to, 365).length; // 11: the leap days add up
  expect(first).toMatchObject({
    chunks: n,
    done: n,
    skipped: 0,
    bars: n * 500,
    failed: [],
    transforms: 'done',
  });
  expect(peak).toBeLessThanOrEqual(3);
  expect(peak).toBeGreaterThan(1);
  const ranges = (acts.backfillBars as ReturnType<typeof vi.fn>).mock.calls.map(
    ([i]) => `${(i as BackfillBarsInput).from}..${(i as BackfillBarsInput).to}`,
  );
  expect(ranges.sort()[0]).toBe('2016-01-01..2016-12-30');
  expect(acts.buildTransformModel).toHaveBeenCalledWith(expect.objectContaining({ fullRefresh: true }));

  // The same backfill again (same workflow ID): every chunk was finished, none runs twice.
  const again = await withWorker(acts, (taskQueue) =>
    ctx.env.client.workflow.execute<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
    }),
  );
  expect(again).toMatchObject({ chunks: n, done: 0, skipped: n });
  expect(acts.backfillBars).toHaveBeenCalledTimes(n);
});

test('pause holds new chunks, resume continues, cancel stops starting more and skips the rebuild', async () => {
  const gates: (() => void)[] = [];
  const acts = activities(
    (i) => new Promise((resolve) => gates.push(() => resolve({ bars: 1, symbols: i.symbols.length }))),
  );
  const waitFor = async (what: () => boolean) => {
    while (!what()) await new Promise((r) => setTimeout(r, 10));
  };
  const out = await withWorker(acts, async (taskQueue) => {
    const h = await ctx.env.client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue,
      workflowId: `backfill-${randomUUID()}`,
      args: [{ ...input, parallel: 2 }],
    });
    await waitFor(() => gates.length === 2);
    expect(await h.query(backfillProgressQuery)).toMatchObject<Partial<BackfillProgress>>({
      chunks: 11,
      running: 2,
      done: 0,
    });
    await h.signal(pauseBackfillSignal);
    expect((await h.query(backfillProgressQuery)).paused).toBe(true);
    gates.shift()!();
    gates.shift()!();
    // Paused: the two chunks land, and nothing new starts.
    await new Promise((r) => setTimeout(r, 300));
    expect(gates).toHaveLength(0);
    expect(await h.query(backfillProgressQuery)).toMatchObject({ done: 2, running: 0 });
    await h.signal(resumeBackfillSignal);
    await waitFor(() => gates.length === 2);
    await h.signal(cancelBackfillSignal);
    gates.shift()!();
    gates.shift()!();
    return h.result();
  });
  expect(out).toMatchObject({ chunks: 11, done: 4, cancelled: true, transforms: 'not run' });
  expect(acts.backfillBars).toHaveBeenCalledTimes(4);
  expect(acts.buildTransformModel).not.toHaveBeenCalled();
});
