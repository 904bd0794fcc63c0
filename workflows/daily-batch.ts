import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchActivities } from '../activities/batch.js';
import type { HealthActivities } from '../activities/health.js';
import type { FileLoadResult } from '../lib/ingest/load-file.js';
import type { DayAnomalies } from '../lib/quality/anomalies.js';
import type { QualityCheckResult } from '../lib/quality/gate.js';
import { alert, alertOnFailure } from './alerting.js';
import { businessDateOf, requireBusinessDate, scheduledStart, tagRun } from './business-date.js';
import { pooled } from './concurrency.js';
import { transformsWorkflow, type TransformsOutput } from './transforms.js';

export interface DailyBatchInput {
  /** 'YYYY-MM-DD'; defaults to the schedule's nominal date. */
  businessDate?: string;
  /** Reload every batch file, not just new or changed ones. */
  force?: boolean;
  /** Files loaded at the same time (default 4). */
  maxParallelFiles?: number;
  /** Newest price may be at most this many days older than the business date (default 5). */
  freshnessDays?: number;
  /** Local logs/artifacts older than this many days are deleted (default 30). */
  retentionDays?: number;
  /** Run the transforms after the quality gate (default true). */
  transforms?: boolean;
  /** The instant the transforms' streamed-data freshness check looks back from (default: the schedule's time). */
  asOf?: string;
}

export interface DailyBatchOutput {
  businessDate: string;
  runId: string;
  streaming: { ok: boolean; detail: string };
  files: {
    loaded: number;
    unchanged: number;
    unreadable: number;
    /** The files that could not be read, and why. */
    unreadableFiles?: { key: string; error: string }[];
    rowsLoaded: number;
    rowsQuarantined: number;
  };
  quality: QualityCheckResult[];
  transforms?: TransformsOutput;
  /** The tracked symbols' anomalies on the day loaded (after the transforms; runs before this field have none). */
  anomalies?: DayAnomalies;
  cleanup: { deleted: number; bytes: number };
}

const batch = proxyActivities<BatchActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});
const loads = proxyActivities<BatchActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
  // A cancelled run waits until its loads have stopped, so nothing is written after it says cancelled.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
const health = proxyActivities<HealthActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 2 },
});

/**
 * The daily batch (was Airflow `egx_full_pipeline`, 01:00 Cairo): check streaming health ∥ list
 * new batch files → load them (bounded parallelism) → data-quality gate → clean up old artifacts.
 */
export async function dailyBatchWorkflow(input: DailyBatchInput = {}): Promise<DailyBatchOutput> {
  return alertOnFailure('daily-batch', businessDateOf(input), () => runDailyBatch(input));
}

async function runDailyBatch(input: DailyBatchInput = {}): Promise<DailyBatchOutput> {
  tagRun('daily-batch', businessDateOf(input));
  const businessDate = requireBusinessDate(businessDateOf(input), 'business date');
  const runId = workflowInfo().workflowId;
  await batch.recordRun({ runId, pipeline: 'daily-batch', businessDate, status: 'running', detail: '' });
  try {
    const [streaming, listing] = await Promise.all([
      health.checkKafka().then(
        (r) => ({ ok: true, detail: r.detail }),
        (e: Error) => ({ ok: false, detail: (e.cause instanceof Error ? e.cause : e).message }),
      ),
      batch.listNewBatchFiles({ all: input.force }),
    ]);
    if (!streaming.ok)
      log.warn('streaming is not healthy; loading batch files anyway', { detail: streaming.detail });

    const progress = { files: 0, rows: 0, quarantined: 0 };
    const showProgress = (step: string) =>
      setCurrentDetails(
        `daily batch ${businessDate}: ${step}\n\nfiles ${progress.files}/${listing.keys.length} (${listing.unchanged} unchanged), rows ${progress.rows.toLocaleString('en-US')} loaded, ${progress.quarantined.toLocaleString('en-US')} quarantined`,
      );
    showProgress('loading files');
    const loaded: FileLoadResult[] = await pooled(listing.keys, input.maxParallelFiles ?? 4, async (key) => {
      const r = await loads.loadBatchFile.executeWithOptions({ summary: `load ${key}` }, [
        { key, runId, force: input.force },
      ]);
      progress.files++;
      progress.rows += r.rowsLoaded;
      progress.quarantined += r.rowsQuarantined;
      showProgress('loading files');
      return r;
    });
    const files = {
      loaded: loaded.filter((r) => !r.error && !r.skipped).length,
      unchanged: listing.unchanged + loaded.filter((r) => r.skipped).length,
      unreadable: loaded.filter((r) => r.error).length,
      unreadableFiles: loaded.flatMap((r) => (r.error ? [{ key: r.key, error: r.error }] : [])),
      rowsLoaded: loaded.reduce((n, r) => n + r.rowsLoaded, 0),
      rowsQuarantined: loaded.reduce((n, r) => n + r.rowsQuarantined, 0),
    };

    showProgress('quality gate');
    const quality = await batch.runQualityGate.executeWithOptions(
      { summary: `quality gate for ${businessDate}` },
      [{ runId, businessDate, freshnessDays: input.freshnessDays ?? 5 }],
    );
    const failed = quality.filter((q) => !q.passed);
    if (failed.length > 0) {
      throw ApplicationFailure.create({
        type: 'QualityGateFailed',
        nonRetryable: true,
        message: `data-quality gate failed: ${failed.map((q) => `${q.name}: ${q.detail} (${q.failingRows} failing of ${q.checkedRows})`).join('; ')}`,
        details: [{ businessDate, files, quality }],
      });
    }
    // The transforms run as a child: their own run in the UI, retried and reset on their own.
    let transforms: TransformsOutput | undefined;
    if (input.transforms !== false) {
      showProgress('transforms');
      transforms = await executeChild(transformsWorkflow, {
        workflowId: `${runId}-transforms`,
        staticSummary: `transforms for the daily batch of ${businessDate}`,
        args: [{ businessDate, asOf: input.asOf ?? scheduledStart()?.toISOString() }],
      });
    }
    // Runs started before this step existed replay without it.
    let anomalies: DayAnomalies | undefined;
    if (transforms && patched('daily-batch-anomalies')) {
      anomalies = await batch.findDayAnomalies({ businessDate });
      if (anomalies.anomalies.length > 0)
        await alert({
          title: `daily-batch ${businessDate}: ${anomalies.anomalies.length} anomalies among tracked symbols on ${anomalies.tradeDate}`,
          where: `workflow ${runId}, GOLD.gold_fct_stock_anomalies`,
          error: anomalies.anomalies.map((a) => a.summary).join('\n'),
          key: `daily-batch:anomalies:${anomalies.tradeDate}`,
        });
    }
    showProgress('clean-up');
    const cleanup = await batch.cleanupArtifacts({ businessDate, retentionDays: input.retentionDays ?? 30 });
    setCurrentDetails(
      `daily batch ${businessDate}: done\n\nfiles ${files.loaded} loaded, ${files.unchanged} unchanged, ${files.unreadable} unreadable; rows ${files.rowsLoaded.toLocaleString('en-US')} loaded, ${files.rowsQuarantined.toLocaleString('en-US')} quarantined; ${transforms ? `${transforms.built.length} models built` : 'no transforms'}${anomalies ? `; ${anomalies.summary}` : ''}`,
    );
    const output = { businessDate, runId, streaming, files, quality, transforms, anomalies, cleanup };
    await batch.recordRun({
      runId,
      pipeline: 'daily-batch',
      businessDate,
      status: 'succeeded',
      detail: JSON.stringify(files),
    });
    return output;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Also when the run is being cancelled: the run log never stays at 'running'.
    await CancellationScope.nonCancellable(() =>
      batch.recordRun({
        runId,
        pipeline: 'daily-batch',
        businessDate,
        status: isCancellation(e) ? 'cancelled' : 'failed',
        detail: message,
      }),
    );
    throw e;
  }
}
