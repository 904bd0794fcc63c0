import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadPriceFilesInBulk } from '../../lib/ingest/bulk-prices.js';
import { loadFile } from '../../lib/ingest/load-file.js';
import { loadFiles } from '../../lib/ingest/load-many.js';
import { priceFiles } from '../../lib/ingest/prices.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/prices/', import.meta.url));
const now = () => new Date('2026-01-15T01:00:00Z');
let store: LocalObjectStore;
let bulkWh: DuckDbWarehouse;
let rowWh: DuckDbWarehouse;

function clean(seed: number, days: number): string {
  let close = 10 + seed;
  const lines = ['Date,Open,High,Low,Close,Volume'];
  for (let d = 0; d < days; d++) {
    const open = close;
    close = Math.round(open * (1 + (((d * 7 + seed) % 11) - 5) / 200) * 100) / 100;
    const date = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
    lines.push(
      `${date},${open},${Math.max(open, close) + 0.1},${Math.min(open, close) - 0.1},${close},${1000 * (d + 1)}`,
    );
  }
  return lines.join('\n') + '\n';
}

beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-bulk-')));
  [bulkWh, rowWh] = await Promise.all([openDuckDbWarehouse(':memory:'), openDuckDbWarehouse(':memory:')]);
  await Promise.all([bootstrapWarehouse(bulkWh), bootstrapWarehouse(rowWh)]);
  for (const f of readdirSync(FIXTURES))
    await store.put(
      // Named as tickers (the loader takes the symbol from the file name): yahoo_download.csv → YAHOODOWNLOA.
      `batch/prices/${f.replace('.csv', '').replace(/_/g, '').toUpperCase().slice(0, 12)}.csv`,
      readFileSync(join(FIXTURES, f)),
    );
  await store.put('batch/prices/AAA.csv', clean(1, 300));
  await store.put('batch/prices/BBB.csv', clean(2, 250).replace(/\n$/, '')); // no final newline
  await store.put('batch/prices/CCC.csv', clean(3, 40).replace('2024-01-05,', '2024-01-05 ,')); // spaces are trimmed either way
  await store.put(
    'batch/prices/BAD.csv',
    clean(4, 30).replace(/\n2024-01-10,([\d.]+),([\d.]+),([\d.]+)/, '\n2024-01-10,$1,0.01,$3'),
  ); // high < low
  await store.put('batch/prices/DUP.csv', clean(5, 20) + '2024-01-03,1,2,0.5,1.5,100\n');
  await store.put('batch/prices/GAP.csv', clean(6, 20).replace('\n2024-01-08', '\n\n2024-01-08')); // a blank line
  await store.put('batch/prices/KQ.csv', clean(7, 20).replace(/,(\d+)000\n/, ',$1K\n')); // a vendor quirk
  await store.put(
    'batch/prices/YAH.csv',
    'Date,Open,High,Low,Close,Adj Close,Volume\n2024-06-20,80.5,81.2,80.1,81.0,79.9,1200300\n2024-06-23,81.0,82.4,80.9,82.1,81.0,\n',
  );
});
afterEach(async () => {
  await Promise.all([bulkWh.close(), rowWh.close()]);
});

const keysOf = async () => {
  const keys: string[] = [];
  for await (const o of store.list('batch/prices/')) keys.push(o.key);
  return keys;
};

const dump = (wh: DuckDbWarehouse) =>
  Promise.all([
    wh.query(
      'SELECT * EXCLUDE (LOADED_AT) FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY SYMBOL, TRADE_DATE, DATA_SOURCE',
    ),
    wh.query('SELECT * EXCLUDE (QUARANTINED_AT) FROM META.QUARANTINE ORDER BY SOURCE_KEY, LINE'),
    wh.query('SELECT * EXCLUDE (LOADED_AT) FROM META.LOADED_FILES ORDER BY SOURCE_KEY'),
  ]);

test('the bulk path takes every readable price file and loads exactly what the row-by-row loader loads', async () => {
  const keys = await keysOf();
  const split = await loadPriceFilesInBulk({ store, warehouse: bulkWh }, keys, { runId: 'r1', now });
  // Only the file of an unknown layout is left to the row loader, which reports it.
  expect(split.rest).toEqual(['batch/prices/UNKNOWNLAYOU.csv']);
  expect(split.results.map((r) => r.key).sort()).toEqual(keys.filter((k) => !split.rest.includes(k)).sort());
  for (const key of split.rest)
    await loadFile({ store, warehouse: bulkWh }, priceFiles, key, { runId: 'r1', now });
  for (const key of keys) await loadFile({ store, warehouse: rowWh }, priceFiles, key, { runId: 'r1', now });

  const [bulk, rows] = await Promise.all([dump(bulkWh), dump(rowWh)]);
  expect(bulk[0].length).toBeGreaterThan(600);
  expect(bulk).toEqual(rows);
  const aaa = split.results.find((r) => r.key === 'batch/prices/AAA.csv')!;
  expect(aaa).toMatchObject({
    rowsLoaded: 300,
    rowsInserted: 300,
    rowsUpdated: 0,
    rowsQuarantined: 0,
    format: 'ohlcv',
  });
});

test('through loadFiles: an unchanged file is skipped, a changed one is reloaded by upsert, nothing doubles', async () => {
  const keys = await keysOf();
  const first = await loadFiles({ store, warehouse: bulkWh }, keys, { runId: 'r1' });
  expect(first.map((r) => r.key)).toEqual(keys);
  const again = await loadFiles({ store, warehouse: bulkWh }, keys, { runId: 'r2' });
  expect(again.every((r) => r.skipped)).toBe(true);
  await store.put('batch/prices/AAA.csv', clean(1, 301));
  const third = await loadFiles({ store, warehouse: bulkWh }, ['batch/prices/AAA.csv'], { runId: 'r3' });
  expect(third[0]).toMatchObject({ skipped: false, rowsLoaded: 301, rowsInserted: 1, rowsUpdated: 300 });
  const [n] = await bulkWh.query<{ N: number }>(
    "SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'AAA'",
  );
  expect(n!.N).toBe(301);
});

test('two files of one symbol in one load (a history and a backfill chunk) are merged on the key, never doubled', async () => {
  await store.put('batch/prices/backfill/2024-01-01/AAA.csv', clean(9, 100)); // overlaps AAA.csv's first 100 days
  const keys = ['batch/prices/AAA.csv', 'batch/prices/backfill/2024-01-01/AAA.csv'];
  const results = await loadFiles({ store, warehouse: bulkWh }, keys, { runId: 'r1' });
  expect(results.map((r) => [r.error, r.rowsLoaded])).toEqual([
    [undefined, 300],
    [undefined, 100],
  ]);
  expect(results[1]).toMatchObject({ rowsInserted: 0, rowsUpdated: 100 });
  const [n] = await bulkWh.query<{ N: number; KEYS: number }>(
    "SELECT COUNT(*) AS N, COUNT(DISTINCT TRADE_DATE) AS KEYS FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'AAA'",
  );
  expect(n).toEqual({ N: 300, KEYS: 300 });
  // The later file wins where they overlap.
  const [first] = await bulkWh.query<{ C: number; K: string }>(
    "SELECT CLOSE_PRICE AS C, SOURCE_KEY AS K FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'AAA' AND TRADE_DATE = '2024-01-01'",
  );
  expect(first!.K).toBe('batch/prices/backfill/2024-01-01/AAA.csv');
  expect(first!.C).toBe(Number(clean(9, 1).split('\n')[1]!.split(',')[4]));
});
