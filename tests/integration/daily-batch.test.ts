import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { runDailyBatch } from '../../cli/run.js';
import { openObjectStore } from '../../lib/adapters.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { getText, type ObjectStore } from '../../lib/lake/types.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { connectWorker, createPipelineWorker } from '../../workers/pipeline-worker.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/prices/${name}`, import.meta.url)));
const taskQueue = `daily-batch-it-${randomUUID()}`;
let config: AppConfig;
let store: ObjectStore;
let nativeConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-batch-it-'));
  config = loadConfig({
    ...inject('stackEnv'),
    OBJECT_STORE: 's3',
    S3_BUCKET: `egx-batch-${randomUUID().slice(0, 8)}`,
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    ARTIFACTS_DIR: join(dir, 'artifacts'),
    // Run IDs of this run's own: the server keeps the days earlier test runs completed.
    TEMPORAL_ID_PREFIX: `batch-it-${randomUUID().slice(0, 8)}-`,
  });
  store = await openObjectStore(config);
  await store.put('batch/prices/COMI.csv', fixture('ar_export.csv'));
  await store.put('batch/prices/XYZ.csv', fixture('yahoo_download.csv'));
  await store.put(
    'batch/companies/companies.csv',
    'Ticker,Company Name,Sector\nCOMI,CIB,Banks\nETEL,Telecom Egypt,Telecom\n',
  );
  await store.put(
    'batch/indices/EGX30_constituents_2026-01-01.csv',
    'ticker,weight_percent\nCOMI,60\nETEL,40\n',
  );
  nativeConnection = await connectWorker(config);
  worker = await createPipelineWorker(config, nativeConnection, { taskQueue });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await nativeConnection?.close();
});

async function count(sql: string): Promise<number> {
  // The worker runs in this process and shares the DuckDB database.
  const wh = await openDuckDbWarehouse(config.warehouse.duckdbPath);
  try {
    const [row] = await wh.query<{ N: number }>(sql);
    return row?.N ?? 0;
  } finally {
    await wh.close();
  }
}

describe('daily batch on the dev server, the S3 server and DuckDB', () => {
  test('loads new files, quarantines bad rows, passes the gate; a rerun changes nothing; a changed file is reloaded', async () => {
    const first = await runDailyBatch(config, { date: '2026-01-14', taskQueue });
    expect(first.files).toEqual({
      loaded: 4,
      unchanged: 0,
      unreadable: 0,
      rowsLoaded: 9,
      rowsQuarantined: 3,
    });
    expect(first.quality.every((q) => q.passed)).toBe(true);
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toBe(5);
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_COMPANY')).toBe(2);
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INDEX_MEMBERSHIP')).toBe(2);
    expect(await count('SELECT COUNT(*) AS N FROM META.QUARANTINE')).toBe(3);
    const quarantined = await getText(store, `quarantine/${first.runId}/batch__prices__COMI.csv.ndjson`);
    expect(
      quarantined
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reason: string }).reason),
    ).toEqual([
      'close: must be > 0, got 0',
      'high 3.353 < low 32.25',
      'duplicate date 2026-01-12 (also on line 3)',
    ]);

    // The same day again (a completed day runs again only when asked).
    const again = await runDailyBatch(config, { date: '2026-01-14', taskQueue, rerun: true });
    expect(again.files).toMatchObject({ loaded: 0, unchanged: 4, rowsLoaded: 0 });
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toBe(5);

    await store.put(
      'batch/prices/XYZ.csv',
      fixture('yahoo_download.csv').toString().replace('82.1,81.0', '83.5,81.0') +
        '2024-06-24,83.5,84,83,83.9,83.9,500\n',
    );
    const changed = await runDailyBatch(config, { date: '2026-01-14', taskQueue, rerun: true });
    expect(changed.files).toMatchObject({ loaded: 1, unchanged: 3, rowsLoaded: 3 });
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toBe(6);
    expect(
      await count(
        "SELECT CAST(CLOSE_PRICE * 10 AS INTEGER) AS N FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'XYZ' AND TRADE_DATE = '2024-06-23'",
      ),
    ).toBe(835);
    expect(await count("SELECT COUNT(*) AS N FROM META.RUN_LOG WHERE STATUS = 'succeeded'")).toBe(1);
  });

  test('a stale warehouse fails the run with the gate check named', async () => {
    await expect(runDailyBatch(config, { date: '2026-11-22', taskQueue })).rejects.toThrow(
      /daily-batch 2026-11-22 failed:\n {2}workflow failed\n {4}└ QualityGateFailed: data-quality gate failed: recent_data_present: newest price on or before 2026-11-22 is 2026-01-13, more than 5 trading days old/,
    );
  });
});
