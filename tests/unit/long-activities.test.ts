import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createBatchActivities } from '../../activities/batch.js';
import { createTransformActivities } from '../../activities/transforms.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

let dir: string;
let store: LocalObjectStore;
let wh: DuckDbWarehouse;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'egx-long-'));
  store = new LocalObjectStore(join(dir, 'lake'));
  wh = await openDuckDbWarehouse(':memory:', { threads: 2 });
  await bootstrapWarehouse(wh);
});
afterEach(async () => wh.close());

/** An activity environment whose heartbeats are recorded with their time and details. */
function environment(heartbeatTimeoutMs: number) {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs }, { logger: new DefaultLogger('ERROR') });
  const beats: { at: number; details: unknown }[] = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: performance.now(), details }));
  /** The longest time without a beat from the first one until `end`. */
  const maxGap = (end: number) => {
    const times = [...beats.map((b) => b.at), end];
    return Math.max(...times.slice(1).map((t, i) => t - times[i]!));
  };
  return { env, beats, maxGap };
}

/** Runs `fn` as an activity in `env` (MockActivityEnvironment.run cannot infer the result type). */
const inActivity = <R>(env: MockActivityEnvironment, fn: () => Promise<R>) =>
  env.run<[], R, () => Promise<R>>(fn);

/** A transforms project with a model that takes DuckDB minutes (twenty billion rows) and a quick one. */
function project(): string {
  const root = join(dir, 'transforms');
  mkdirSync(join(root, 'staging'), { recursive: true });
  const model = (name: string, sql: string) => {
    writeFileSync(join(root, 'staging', `${name}.sql`), sql);
    writeFileSync(
      join(root, 'staging', `${name}.yml`),
      `description: ${name}\nmaterialized: table\ncolumns:\n  - name: s\n    tests: [not_null]\n`,
    );
  };
  model('slow_model', 'SELECT SUM(a.range * b.range) AS s FROM range(200000) a, range(100000) b');
  model('quick_model', 'SELECT 42 AS s');
  return root;
}

test('a model build heartbeats while its statement runs; cancelled, it interrupts the statement and stops at once', async () => {
  const transforms = createTransformActivities({
    warehouse: wh,
    store,
    projectDir: project(),
    docsDir: join(dir, 'docs'),
  });
  const input = { runId: 'run-1', businessDate: '2024-06-23' };
  const { env, beats } = environment(400);
  const build = inActivity(env, () => transforms.buildTransformModel({ ...input, model: 'slow_model' }));
  await sleep(1000);
  const cancelledAt = performance.now();
  env.cancel();
  const err = await build.catch((e: unknown) => e);
  const stoppedAfter = performance.now() - cancelledAt;

  expect(err).toBeInstanceOf(CancelledFailure);
  expect(stoppedAfter).toBeLessThan(2000);
  // A beat at once and one every 100 ms while the statement ran, naming the model.
  expect(beats.length).toBeGreaterThanOrEqual(6);
  expect(beats.every((b) => (b.details as { model: string }).model === 'slow_model')).toBe(true);
  // Nothing published or left half-built.
  const left = await wh.query(
    "SELECT table_name FROM information_schema.tables WHERE UPPER(table_name) LIKE 'SLOW_MODEL%'",
  );
  expect(left).toEqual([]);

  // The warehouse goes on: the next build runs and publishes.
  const next = await inActivity(environment(60_000).env, () =>
    transforms.buildTransformModel({ ...input, model: 'quick_model' }),
  );
  expect(next.rows).toBe(1);
  expect(await wh.query('SELECT S FROM SILVER.QUICK_MODEL')).toEqual([{ S: 42 }]);
});

/** The warehouse, with every price upsert taking `ms` longer (a slow disk, a busy warehouse); `onSlowWrite` is told when one starts. */
function slowPriceWrites(ms: number, onSlowWrite: () => void = () => undefined): Warehouse {
  return {
    dialect: 'duckdb',
    execute: (sql, params, opts) => wh.execute(sql, params, opts),
    query: (sql, params, opts) => wh.query(sql, params, opts),
    bulkInsert: (table, columns, rows) => wh.bulkInsert(table, columns, rows),
    upsert: async (table, columns, rows) => {
      if (table === TBL_STOCK_PRICE) {
        onSlowWrite();
        await sleep(ms);
      }
      return wh.upsert(table, columns, rows);
    },
    bootstrap: (tables) => wh.bootstrap(tables),
    close: () => wh.close(),
  };
}

/** A daily price file of `rows` days (one row per date, every row valid). */
async function priceFile(key: string, rows: number): Promise<void> {
  const lines = ['date,open,high,low,close,volume'];
  const start = Date.UTC(1900, 0, 1);
  for (let i = 0; i < rows; i++) {
    const d = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${d},10,11,9,10.5,${1000 + (i % 7)}`);
  }
  await store.put(key, lines.join('\n') + '\n');
}

test('a file load heartbeats on time while a slow batch is written, with its latest row counts', async () => {
  const key = 'batch/prices/SLOW.csv';
  await priceFile(key, 60_001); // two batches: 50,000 rows, then 10,001
  const batch = createBatchActivities({ store, warehouse: slowPriceWrites(1000), artifactsDir: dir });
  const { env, beats, maxGap } = environment(1000);
  const r = await inActivity(env, () => batch.loadBatchFile({ key, runId: 'run-1' }));
  const end = performance.now();

  expect(r.rowsLoaded).toBe(60_001);
  // A beat every 250 ms, even while each batch took over a second to write.
  expect(maxGap(end)).toBeLessThan(700);
  const loaded = beats.map((b) => (b.details as { rowsLoaded: number }).rowsLoaded);
  expect(loaded[0]).toBe(0);
  expect(loaded).toContain(50_000);
  expect(beats[0]!.details).toMatchObject({ key, rowsRead: 0, rowsQuarantined: 0 });
}, 30_000);

test('a cancelled file load stops before its next batch and writes no manifest; the rerun loads every row once', async () => {
  const key = 'batch/prices/SLOW.csv';
  await priceFile(key, 60_001);
  const { env } = environment(1000);
  // Cancelled while its first batch is being written.
  const batch = createBatchActivities({
    store,
    warehouse: slowPriceWrites(1000, () => env.cancel()),
    artifactsDir: dir,
  });
  const load = inActivity(env, () => batch.loadBatchFile({ key, runId: 'run-1' }));
  await expect(load).rejects.toBeInstanceOf(CancelledFailure);
  expect(await wh.query('SELECT SOURCE_KEY FROM META.LOADED_FILES')).toEqual([]);
  // The batch being written when the cancel came finished; the next one never started.
  const [partial] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE');
  expect(partial!.N).toBe(50_000);

  const again = await inActivity(environment(60_000).env, () =>
    createBatchActivities({ store, warehouse: wh, artifactsDir: dir }).loadBatchFile({ key, runId: 'run-2' }),
  );
  expect(again.rowsLoaded).toBe(60_001);
  const [rows] = await wh.query<{ N: number; D: number }>(
    'SELECT COUNT(*) AS N, COUNT(DISTINCT TRADE_DATE) AS D FROM OPERATIONAL.TBL_STOCK_PRICE',
  );
  expect(rows).toEqual({ N: 60_001, D: 60_001 });
  expect(await wh.query('SELECT SOURCE_KEY FROM META.LOADED_FILES')).toEqual([{ SOURCE_KEY: key }]);
}, 30_000);
