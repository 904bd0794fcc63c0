import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BATCH_PREFIXES, readerForKey } from '../lib/ingest/kinds.js';
import { loadFile, type FileLoadResult, type LoadProgress } from '../lib/ingest/load-file.js';
import { heartbeating } from './heartbeat.js';
import { activityMetrics, recordLoads } from './metrics.js';
import type { ObjectStore } from '../lib/lake/types.js';
import { deleteFilesOlderThan } from '../lib/ops/cleanup.js';
import { findDayAnomalies, type DayAnomalies } from '../lib/quality/anomalies.js';
import { runQualityChecks, type QualityCheckResult } from '../lib/quality/gate.js';
import { QUALITY_RESULTS, RUN_LOG } from '../lib/warehouse/schema.js';
import type { Warehouse } from '../lib/warehouse/types.js';

export interface BatchDeps {
  store: ObjectStore;
  warehouse: Warehouse;
  /** Local directory of logs and artifacts that the daily run prunes. */
  artifactsDir: string;
  /** The tracked symbols, whose anomalies the daily batch reports. */
  symbols?: string[];
}

export function createBatchActivities({ store, warehouse, artifactsDir, symbols = [] }: BatchDeps) {
  return {
    /** Batch files that are new or changed since they were last loaded (reference data first). */
    async listNewBatchFiles(input: { all?: boolean } = {}): Promise<{ keys: string[]; unchanged: number }> {
      return heartbeating(async (signal) => {
        const loaded = new Map(
          (
            await warehouse.query<{ SOURCE_KEY: string; ETAG: string }>(
              'SELECT SOURCE_KEY, ETAG FROM META.LOADED_FILES',
            )
          ).map((r) => [r.SOURCE_KEY, r.ETAG]),
        );
        const keys: string[] = [];
        let unchanged = 0;
        for (const prefix of BATCH_PREFIXES) {
          for await (const o of store.list(prefix)) {
            signal.throwIfAborted();
            if (!/\.csv$/i.test(o.key)) continue;
            if (!input.all && loaded.get(o.key) === o.etag) unchanged++;
            else keys.push(o.key);
          }
        }
        return { keys, unchanged };
      });
    },

    /**
     * Loads one file, heartbeating its latest row counts every few seconds (however long a batch
     * takes); cancelled, it stops before its next batch. A rerun after a crash upserts the same rows again.
     */
    async loadBatchFile(input: { key: string; runId: string; force?: boolean }): Promise<FileLoadResult> {
      const ctx = Context.current();
      let progress: LoadProgress = { key: input.key, rowsRead: 0, rowsLoaded: 0, rowsQuarantined: 0 };
      const r = await heartbeating(
        (signal) =>
          loadFile({ store, warehouse }, readerForKey(input.key), input.key, {
            runId: input.runId,
            force: input.force,
            onProgress: (p) => (progress = p),
            signal,
          }),
        { details: () => progress },
      ).catch(async (e: unknown) => {
        // A file that is gone (deleted or renamed since it was listed) does not come back by retrying.
        if (!ctx.cancellationSignal.aborted && !(await store.head(input.key).catch(() => true)))
          throw ApplicationFailure.create({
            message: `${store.location}: no file at ${input.key} (it was listed, then deleted or renamed)`,
            type: 'FileNotFound',
            nonRetryable: true,
            cause: e instanceof Error ? e : undefined,
          });
        throw e;
      });
      recordLoads(
        activityMetrics(() => ctx),
        [r],
      );
      return r;
    },

    /** Runs the data-quality checks and records each one's counts in META.QUALITY_RESULTS. */
    async runQualityGate(input: {
      runId: string;
      businessDate: string;
      freshnessDays: number;
    }): Promise<QualityCheckResult[]> {
      const results = await heartbeating((signal) => runQualityChecks(warehouse, { ...input, signal }));
      const at = new Date();
      await warehouse.upsert(
        QUALITY_RESULTS,
        ['RUN_ID', 'CHECK_NAME', 'PASSED', 'FAILING_ROWS', 'CHECKED_ROWS', 'DETAIL', 'CHECKED_AT'],
        results.map((r) => [input.runId, r.name, r.passed, r.failingRows, r.checkedRows, r.detail, at]),
      );
      return results;
    },

    /** The tracked symbols' anomalies on the newest trading day up to the business date. */
    async findDayAnomalies(input: { businessDate: string }): Promise<DayAnomalies> {
      return heartbeating(() => findDayAnomalies(warehouse, { businessDate: input.businessDate, symbols }));
    },

    /** Deletes local logs/artifacts older than `retentionDays` before the business date. */
    async cleanupArtifacts(input: {
      businessDate: string;
      retentionDays: number;
    }): Promise<{ deleted: number; bytes: number }> {
      const cutoff = new Date(
        Date.parse(`${input.businessDate}T00:00:00Z`) - input.retentionDays * 86_400_000,
      );
      return heartbeating(() => deleteFilesOlderThan(artifactsDir, cutoff));
    },

    async recordRun(input: {
      runId: string;
      pipeline: string;
      businessDate: string;
      status: string;
      detail: string;
    }): Promise<void> {
      // Heartbeating: on DuckDB the write may wait behind a long one (a model build) for a while.
      await heartbeating(async () => {
        const now = new Date();
        const [existing] = await warehouse.query<{ STARTED_AT: Date }>(
          'SELECT STARTED_AT FROM META.RUN_LOG WHERE RUN_ID = ?',
          [input.runId],
        );
        await warehouse.upsert(
          RUN_LOG,
          ['RUN_ID', 'PIPELINE', 'BUSINESS_DATE', 'STATUS', 'DETAIL', 'STARTED_AT', 'FINISHED_AT'],
          [
            [
              input.runId,
              input.pipeline,
              input.businessDate,
              input.status,
              input.detail,
              existing?.STARTED_AT ?? now,
              input.status === 'running' ? null : now,
            ],
          ],
        );
      });
    },
  };
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
