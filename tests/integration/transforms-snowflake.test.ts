import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openWarehouse } from '../../lib/adapters.js';
import { emulatorConfig } from '../support/snowflake.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, planRun, type Project } from '../../lib/transforms/project.js';
import { STREAM_BARS, TBL_COMPANY, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

let wh: Warehouse;
let project: Project;

beforeAll(async () => {
  wh = await openWarehouse(emulatorConfig());
  project = await loadProject(fileURLToPath(new URL('../../transforms', import.meta.url)));
  await wh.upsert(
    TBL_COMPANY,
    ['SYMBOL', 'COMPANY_NAME', 'SECTOR', 'INDUSTRY'],
    [
      ['AAA', 'Alpha', 'Banks', 'Retail banking'],
      ['BBB', 'Beta', 'Telecom', null],
    ],
  );
  const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
  const at = new Date('2026-01-20T00:00:00Z');
  await wh.upsert(
    TBL_STOCK_PRICE,
    [
      'SYMBOL',
      'TRADE_DATE',
      'DATA_SOURCE',
      'OPEN_PRICE',
      'HIGH_PRICE',
      'LOW_PRICE',
      'CLOSE_PRICE',
      'VOLUME',
      'LOADED_AT',
    ],
    Array.from({ length: 20 }, (_, i) => [
      [
        i % 2 ? 'AAA' : 'BBB',
        day(Math.floor(i / 2)),
        'egx_ar_export',
        10 + i,
        11 + i,
        9 + i,
        10.5 + i,
        1000 * (i + 1),
        at,
      ],
    ]).flat(),
  );
});
afterAll(async () => wh?.close());

test('every model builds (write-audit-publish) and every test runs on Snowflake from the same SQL', async () => {
  const opts = { runId: 'sf-transforms', businessDate: '2026-01-06' };
  for (const m of planRun(project)) await buildModel(wh, project, m, opts);
  // One at a time: the emulator shares one cursor between requests (real Snowflake does not).
  const results = [];
  for (const m of planRun(project)) results.push(...(await testModel(wh, project, m, opts)));
  expect(results.filter((r) => r.status === 'fail')).toEqual([]);
  const facts = await wh.query<{ SYMBOL: string; MA_7: number }>(
    "SELECT symbol, ma_7 FROM GOLD.gold_fct_stock_daily_prices WHERE symbol = 'AAA' ORDER BY trade_date",
  );
  // Null until seven days are in the window.
  expect(facts.map((f) => f.MA_7)).toEqual([null, null, null, null, null, null, 17.5, 19.5, 21.5, 23.5]);
  const movers = await wh.query(
    'SELECT mover_type, symbol FROM GOLD.vw_top_gainers_losers ORDER BY mover_type, mover_rank',
  );
  expect(movers.length).toBeGreaterThan(0);
});

test('the live models (intraday gold) build and pass their tests on Snowflake from the same SQL', async () => {
  const opts = { runId: 'sf-live', businessDate: '2026-01-12' };
  // Two sessions of AAA's 5-minute bars after its daily bars (2026-01-01 … 01-10).
  const rows = ['2026-01-11', '2026-01-12'].flatMap((date, d) =>
    Array.from({ length: 16 }, (_, i) => {
      const ts = new Date(Date.parse(`${date}T08:00:00Z`) + i * 300_000);
      const close = 30 + d + Math.sin(i) / 2;
      return [
        'AAA',
        '5m',
        ts,
        date,
        close,
        close + 0.2,
        close - 0.2,
        close,
        100 * (i + 1),
        'simulator',
        ts,
        'direct-5m',
        ts.getTime(),
        new Date('2026-01-12T10:00:00Z'),
      ];
    }),
  );
  await wh.upsert(
    STREAM_BARS,
    STREAM_BARS.columns.map((c) => c.name),
    rows,
  );
  // What they read, should this test run alone.
  for (const m of planRun(project, ['stg_stock_prices_unified', 'gold_fct_stock_daily_prices']))
    await buildModel(wh, project, m, opts);
  const live = planRun(project, [], { live: true }).filter((m) => m.live);
  for (const m of live) await buildModel(wh, project, m, opts);
  const results = [];
  for (const m of live) results.push(...(await testModel(wh, project, m, opts)));
  expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
  const [q] = await wh.query<Record<string, number | string>>(
    "SELECT * FROM GOLD.gold_fct_live_quotes WHERE symbol = 'AAA' AND trade_date = '2026-01-12'",
  );
  expect(q).toMatchObject({ BARS: 16, PREV_CLOSE: 29.5, SESSIONS_AVERAGED: 1, MINUTES_INTO_SESSION: 80 });
  // The same volume by the same time on both days.
  expect(q!.VOLUME_VS_AVG_SAME_TIME).toBeCloseTo(1, 9);
  expect(q!.RSI_14).toBeGreaterThan(0);
});
