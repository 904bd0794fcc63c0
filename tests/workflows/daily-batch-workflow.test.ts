import type { AlertActivities } from '../../activities/alerts.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { describe, expect, test, vi } from 'vitest';
import type { BatchActivities } from '../../activities/batch.js';
import type { HealthActivities } from '../../activities/health.js';
import type { TransformActivities } from '../../activities/transforms.js';
import type { FileLoadResult } from '../../lib/ingest/load-file.js';
import type { QualityCheckResult } from '../../lib/quality/gate.js';
import { formatDailyBatch } from '../../cli/run.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { dailyBatchWorkflow, DailyBatchInput } from '../../workflows/daily-batch.js';
import { runWorkflow, useTimeSkippingWorkflows, withRunActivities } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

const loaded = (key: string): FileLoadResult => ({
  key,
  kind: 'prices',
  etag: 'e',
  skipped: false,
  rowsLoaded: 10,
  rowsInserted: 10,
  rowsUpdated: 0,
  rowsQuarantined: 1,
  quarantineReasons: { 'close: must be > 0': 1 },
});
const check = (name: string, passed = true): QualityCheckResult => ({
  name,
  passed,
  failingRows: passed ? 0 : 3,
  checkedRows: 100,
  detail: passed ? 'ok' : 'bad things',
});

type Acts = BatchActivities & Pick<HealthActivities, 'checkKafka'> & TransformActivities & AlertActivities;
function activities(keys: string[], overrides: Partial<Acts> = {}): Acts {
  return {
    listNewBatchFiles: vi.fn(async () => ({ keys, unchanged: 2 })),
    loadBatchFile: vi.fn(async ({ key }: { key: string }) => loaded(key)),
    runQualityGate: vi.fn(async () => [check('no_duplicate_companies'), check('valid_price_ranges')]),
    findDayAnomalies: vi.fn(async () => ({
      tradeDate: '2026-01-13',
      anomalies: [],
      summary: 'no anomalies among tracked symbols on 2026-01-13',
    })),
    cleanupArtifacts: vi.fn(async () => ({ deleted: 1, bytes: 10 })),
    recordRun: vi.fn(async () => {}),
    checkKafka: vi.fn(async () => ({ component: 'kafka' as const, ok: true, latencyMs: 1, detail: 'fine' })),
    planTransforms: vi.fn(async () => [{ name: 'stg_x', layer: 'staging' as const, refs: [] }]),
    buildTransformModel: vi.fn(async ({ model }: { model: string }) => ({
      model,
      materialized: 'table' as const,
      rows: 1,
      seconds: 0,
    })),
    testTransformModel: vi.fn(async () => []),
    checkStreamedDataFreshness: vi.fn(async () => ({
      status: 'stale' as const,
      detail: 'no streamed bar arrived',
    })),
    sendAlert: vi.fn(async () => ({ sent: ['webhook'], grouped: false })),
    generateTransformDocs: vi.fn(async () => ({ models: 1, keys: ['docs/index.html'] })),
    ...overrides,
  };
}

async function run(acts: Acts, input: DailyBatchInput = { businessDate: '2026-01-14' }) {
  return runWorkflow<typeof dailyBatchWorkflow>(ctx, 'dailyBatchWorkflow', [input], acts);
}

describe('dailyBatchWorkflow', () => {
  test('checks streaming while listing files, loads each new file, passes the gate, cleans up', async () => {
    let kafkaStarted!: () => void;
    const started = new Promise<void>((r) => (kafkaStarted = r));
    let listedWhileCheckRunning = false;
    const acts = activities(['batch/prices/A.csv', 'batch/prices/B.csv'], {
      checkKafka: vi.fn(async () => {
        kafkaStarted();
        await sleep(300);
        return { component: 'kafka' as const, ok: true, latencyMs: 1, detail: 'fine' };
      }),
      listNewBatchFiles: vi.fn(async () => {
        listedWhileCheckRunning = await Promise.race([
          started.then(() => true),
          sleep(5000).then(() => false),
        ]);
        return { keys: ['batch/prices/A.csv', 'batch/prices/B.csv'], unchanged: 2 };
      }),
    });
    const out = await run(acts);
    expect(listedWhileCheckRunning).toBe(true);
    expect(out).toMatchObject({
      businessDate: '2026-01-14',
      streaming: { ok: true },
      files: { loaded: 2, unchanged: 2, unreadable: 0, rowsLoaded: 20, rowsQuarantined: 2 },
      cleanup: { deleted: 1 },
    });
    expect(acts.runQualityGate).toHaveBeenCalledWith(
      expect.objectContaining({ businessDate: '2026-01-14', freshnessDays: 5 }),
    );
    expect(acts.cleanupArtifacts).toHaveBeenCalledWith({ businessDate: '2026-01-14', retentionDays: 30 });
    expect(acts.recordRun).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'succeeded' }));
    // The transforms ran as a child after the gate.
    expect(out.transforms?.built.map((b) => b.model)).toEqual(['stg_x']);
  });

  test("after the transforms, the day's anomalies among tracked symbols are in the summary and one alert names them; a day without any sends none", async () => {
    const comi = {
      symbol: 'COMI',
      kinds: ['return' as const],
      returnPct: 12,
      returnZscore: 8.1,
      volumeRatio: 1.1,
      summary: 'COMI: return +12.00% (z 8.1 against 60 days)',
    };
    const etel = {
      ...comi,
      symbol: 'ETEL',
      kinds: ['volume' as const],
      summary: 'ETEL: volume 4.8x its 20-day median',
    };
    const acts = activities([], {
      findDayAnomalies: vi.fn(async () => ({
        tradeDate: '2026-01-13',
        anomalies: [comi, etel],
        summary: `anomalies on 2026-01-13: ${comi.summary}, ${etel.summary}`,
      })),
    });
    const out = await run(acts);
    expect(acts.findDayAnomalies).toHaveBeenCalledWith({ businessDate: '2026-01-14' });
    expect(out.anomalies?.anomalies.map((a) => a.symbol)).toEqual(['COMI', 'ETEL']);
    expect(formatDailyBatch(out)).toContain(
      'anomalies on 2026-01-13: COMI: return +12.00% (z 8.1 against 60 days), ETEL: volume 4.8x its 20-day median',
    );
    expect(acts.sendAlert).toHaveBeenCalledTimes(1);
    expect(acts.sendAlert).toHaveBeenCalledWith(
      expect.objectContaining({
        title: 'daily-batch 2026-01-14: 2 anomalies among tracked symbols on 2026-01-13',
        error: `${comi.summary}\n${etel.summary}`,
        key: 'daily-batch:anomalies:2026-01-13',
      }),
    );

    const quiet = activities([]);
    const calm = await run(quiet, { businessDate: '2026-01-15' });
    expect(formatDailyBatch(calm)).toContain('no anomalies among tracked symbols on 2026-01-13');
    expect(quiet.sendAlert).not.toHaveBeenCalled();
    // Without transforms the mart is not rebuilt: no anomaly step.
    const skipped = activities([]);
    expect((await run(skipped, { businessDate: '2026-01-16', transforms: false })).anomalies).toBeUndefined();
    expect(skipped.findDayAnomalies).not.toHaveBeenCalled();
  });

  test('loads at most maxParallelFiles files at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const keys = Array.from({ length: 9 }, (_, i) => `batch/prices/S${i}.csv`);
    const acts = activities(keys, {
      loadBatchFile: vi.fn(async ({ key }: { key: string }) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(60);
        inFlight--;
        return loaded(key);
      }),
    });
    const out = await run(acts, { businessDate: '2026-01-14', maxParallelFiles: 3 });
    expect(out.files.loaded).toBe(9);
    expect(peak).toBe(3);
  });

  test('a file load that fails twice is retried and the run still succeeds', async () => {
    const attempts = new Map<string, number>();
    const acts = activities(['batch/prices/A.csv', 'batch/prices/FLAKY.csv'], {
      loadBatchFile: vi.fn(async ({ key }: { key: string }) => {
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (key.includes('FLAKY') && n <= 2) throw new Error('connection reset by warehouse');
        return loaded(key);
      }),
    });
    const out = await run(acts);
    expect(attempts.get('batch/prices/FLAKY.csv')).toBe(3);
    expect(out.files.loaded).toBe(2);
  });

  test('a failed quality gate fails the run naming the check and its counts, and records the failure', async () => {
    const acts = activities(['batch/prices/A.csv'], {
      runQualityGate: vi.fn(async () => [
        check('no_duplicate_companies'),
        check('valid_price_ranges', false),
      ]),
    });
    const err = await run(acts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('QualityGateFailed');
    expect(cause.message).toBe('data-quality gate failed: valid_price_ranges: bad things (3 failing of 100)');
    expect(acts.cleanupArtifacts).not.toHaveBeenCalled();
    expect(acts.recordRun).toHaveBeenLastCalledWith(
      expect.objectContaining({ status: 'failed', detail: expect.stringContaining('valid_price_ranges') }),
    );
    // Someone is told: what failed, where, the error, and which run (the activity adds the link).
    expect(acts.sendAlert).toHaveBeenCalledTimes(1);
    expect(acts.sendAlert).toHaveBeenCalledWith({
      title: 'daily-batch 2026-01-14 failed',
      where: expect.stringMatching(/^workflow dailyBatchWorkflow-/),
      error: 'data-quality gate failed: valid_price_ranges: bad things (3 failing of 100)',
      key: 'daily-batch:failed:QualityGateFailed',
      workflowId: expect.stringMatching(/^dailyBatchWorkflow-/),
      runId: expect.any(String),
    });
  });

  test('a failing transform test in the child run is alerted once, by the daily batch, naming the child and activity', async () => {
    const acts = activities([], {
      testTransformModel: vi.fn(async () => {
        throw ApplicationFailure.nonRetryable('warehouse unreachable', 'WarehouseDown');
      }),
    });
    await run(acts).catch(() => undefined);
    expect(acts.sendAlert).toHaveBeenCalledTimes(1);
    expect(acts.sendAlert).toHaveBeenCalledWith(
      expect.objectContaining({
        where: expect.stringMatching(
          /, child dailyBatchWorkflow-.*-transforms, activity testTransformModel$/,
        ),
        error: 'warehouse unreachable',
        key: 'daily-batch:failed:WarehouseDown',
      }),
    );
  });

  test('an unhealthy broker is reported but does not stop the batch', async () => {
    const acts = activities([], {
      checkKafka: vi.fn(async () => {
        throw ApplicationFailure.nonRetryable('kafka is down: ECONNREFUSED', 'ComponentDown');
      }),
    });
    const out = await run(acts);
    expect(out.streaming).toEqual({ ok: false, detail: 'kafka is down: ECONNREFUSED' });
    expect(out.files.loaded).toBe(0);
  });

  test('without a business date (no input, not scheduled) the run fails at once as bad input', async () => {
    const acts = activities([]);
    const err = await run(acts, {}).catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('BadInput');
    expect(acts.listNewBatchFiles).not.toHaveBeenCalled();
  });

  test('an impossible business date (2026-02-30) fails at once as BadInput, naming the date', async () => {
    const acts = activities([]);
    const err = await run(acts, { businessDate: '2026-02-30' }).catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('BadInput');
    expect(cause.message).toMatch(/2026-02-30.*no day 30 in February 2026/);
    expect(acts.recordRun).not.toHaveBeenCalled();
  });

  test('a cancelled run stops its file load and records itself as cancelled, never left running', async () => {
    let loading!: () => void;
    const started = new Promise<void>((r) => (loading = r));
    const acts = activities(['batch/prices/BIG.csv'], {
      loadBatchFile: vi.fn(async () => {
        const ctx = Context.current();
        loading();
        for (;;) {
          ctx.heartbeat();
          await ctx.sleep(100);
        }
      }),
    });
    const taskQueue = `batch-cancel-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: withRunActivities(taskQueue, acts),
      maxHeartbeatThrottleInterval: '100 milliseconds',
    });
    const err = await worker.runUntil(async () => {
      const handle = await ctx.env.client.workflow.start<typeof dailyBatchWorkflow>('dailyBatchWorkflow', {
        taskQueue,
        workflowId: `batch-cancel-${randomUUID()}`,
        args: [{ businessDate: '2026-01-14' }],
      });
      await started;
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(acts.recordRun).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'cancelled' }));
    expect(acts.runQualityGate).not.toHaveBeenCalled();
    expect(acts.sendAlert).not.toHaveBeenCalled();
  });
});
