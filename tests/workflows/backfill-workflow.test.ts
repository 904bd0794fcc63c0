import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { expect, inject, test, vi } from 'vitest';
import { followBackfill } from '../../cli/backfill.js';
import { explainRunFailure } from '../../cli/failures.js';
import { loadConfig } from '../../lib/config.js';
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
import { useTimeSkippingWorkflows, withRunActivities } from '../support/temporal.js';

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
    activities: withRunActivities(taskQueue, acts),
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

test('a failing chunk fails the backfill (ChunksFailed, naming the chunk and the cause) after the other chunks, with one alert; egx backfill reports it', async () => {
  const chunks = chunkDates('2016-01-01', '2019-12-31', 365);
  const bad = chunks[2]!;
  const acts = activities(async (i) => {
    if (i.from === bad.from)
      throw ApplicationFailure.nonRetryable('object store unreachable: connect ECONNREFUSED', 'StoreDown');
    return { bars: 10, symbols: 2 };
  });
  const workflowId = `backfill-fails-${randomUUID()}`;
  const failure = await withWorker(acts, (taskQueue) =>
    ctx.env.client.workflow
      .execute<typeof backfillWorkflow>('backfillWorkflow', {
        taskQueue,
        workflowId,
        args: [{ ...input, from: '2016-01-01', to: '2019-12-31' }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      ),
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('ChunksFailed');
  expect(cause.message).toContain(
    `1 of ${chunks.length} chunk(s) failed: ${bad.from}..${bad.to}: object store unreachable`,
  );
  // The other chunks ran; the models were not rebuilt over a partial load.
  expect(acts.backfillBars).toHaveBeenCalledTimes(chunks.length);
  expect(acts.buildTransformModel).not.toHaveBeenCalled();
  expect(acts.sendAlert).toHaveBeenCalledTimes(1);
  expect(acts.sendAlert).toHaveBeenCalledWith(
    expect.objectContaining({ key: 'backfill:failed:ChunksFailed', workflowId }),
  );

  // What `egx backfill` prints before exiting non-zero: the chain and the run's link.
  const config = loadConfig({ TEMPORAL_ADDRESS: inject('testServerAddress') });
  const printed = await followBackfill(config, workflowId, new PassThrough() as unknown as NodeJS.WriteStream)
    .then(() => 'no error')
    .catch((e: unknown) => {
      try {
        explainRunFailure(`backfill ${workflowId}`, `http://ui/${workflowId}`, e);
      } catch (explained) {
        return (explained as Error).message;
      }
    });
  expect(printed).toContain(`backfill ${workflowId} failed:`);
  expect(printed).toContain(
    `ChunksFailed: backfill: 1 of ${chunks.length} chunk(s) failed: ${bad.from}..${bad.to}`,
  );
  expect(printed).toContain(`run: http://ui/${workflowId}`);
});

test('bad input fails at once with BadInput, and alerts', async () => {
  const acts = activities(async () => ({ bars: 1, symbols: 1 }));
  const failure = await withWorker(acts, (taskQueue) =>
    ctx.env.client.workflow
      .execute<typeof backfillWorkflow>('backfillWorkflow', {
        taskQueue,
        workflowId: `backfill-bad-${randomUUID()}`,
        args: [{ ...input, from: '2020-05-01', to: '2020-01-01' }],
      })
      .catch((e: unknown) => e),
  );
  expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('BadInput');
  expect(acts.backfillBars).not.toHaveBeenCalled();
  expect(acts.sendAlert).toHaveBeenCalledTimes(1);
});
