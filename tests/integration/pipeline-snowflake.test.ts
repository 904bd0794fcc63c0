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
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { createBarSink } from '../../lib/stream/sink.js';
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

test('the streaming sink runs on Snowflake too: bars upserted, the day rolled up, a re-delivery changes nothing', async () => {
  const bars = await new SimulatorSource(3).fetchBars({
    symbols: ['COMI'],
    interval: '5m',
    from: new Date('2025-11-30T08:00:00Z'),
    to: new Date('2025-11-30T09:00:00Z'),
  });
  const sink = createBarSink({ store, warehouse: wh });
  const batch = { origin: 'egx_market_data-0', entries: bars.map((bar, i) => ({ offset: String(i), bar })) };
  expect(await sink.write(batch)).toEqual({ bars: 12, files: 1, dailyRows: 1 });
  await sink.write(batch);
  const [n] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS');
  expect(n!.N).toBe(12);
  const [day] = await wh.query(
    "SELECT OPEN_PRICE, HIGH_PRICE, LOW_PRICE, CLOSE_PRICE, VOLUME FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API'",
  );
  expect(day).toEqual({
    OPEN_PRICE: bars[0]!.open,
    HIGH_PRICE: Math.max(...bars.map((b) => b.high)),
    LOW_PRICE: Math.min(...bars.map((b) => b.low)),
    CLOSE_PRICE: bars.at(-1)!.close,
    VOLUME: bars.reduce((s, b) => s + b.volume, 0),
  });
});
