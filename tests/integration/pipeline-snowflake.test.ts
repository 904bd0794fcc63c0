import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openWarehouse } from '../../lib/adapters.js';
import { emulatorConfig } from '../support/snowflake.js';
import { readerForKey } from '../../lib/ingest/kinds.js';
import { loadFile } from '../../lib/ingest/load-file.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { runQualityChecks } from '../../lib/quality/gate.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

let wh: Warehouse;
const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-sf-')));

beforeAll(async () => {
  wh = await openWarehouse(emulatorConfig());
});
afterAll(async () => wh?.close());

test('the same loader and quality SQL run on Snowflake: rows land, bad rows are quarantined, reruns skip', async () => {
  await store.put(
    'batch/prices/COMI.csv',
    readFileSync(fileURLToPath(new URL('../fixtures/prices/ar_export.csv', import.meta.url))),
  );
  const load = (runId: string) =>
    loadFile({ store, warehouse: wh }, readerForKey('batch/prices/COMI.csv'), 'batch/prices/COMI.csv', {
      runId,
    });
  expect(await load('sf-1')).toMatchObject({ rowsLoaded: 3, rowsInserted: 3, rowsQuarantined: 3 });
  expect((await load('sf-2')).skipped).toBe(true);
  const rows = await wh.query<{ TRADE_DATE: string; CLOSE_PRICE: number }>(
    'SELECT TRADE_DATE, CLOSE_PRICE FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY TRADE_DATE',
  );
  expect(rows.map((r) => [r.TRADE_DATE, r.CLOSE_PRICE])).toEqual([
    ['2023-11-15', 26.879999],
    ['2026-01-12', 115.1],
    ['2026-01-13', 120.33],
  ]);
  const quality = await runQualityChecks(wh, { businessDate: '2026-01-14', freshnessDays: 5 });
  expect(quality.map((q) => [q.name, q.passed])).toEqual([
    ['no_duplicate_companies', true],
    ['no_duplicate_prices', true],
    ['valid_price_ranges', true],
    ['recent_data_present', true],
  ]);
});
