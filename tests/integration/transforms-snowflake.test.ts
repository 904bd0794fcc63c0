import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openWarehouse } from '../../lib/adapters.js';
import { emulatorConfig } from '../support/snowflake.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, planRun, type Project } from '../../lib/transforms/project.js';
import {
  DAILY_BAR_COLUMNS,
  STREAM_BARS,
  TBL_COMPANY,
  TBL_INDEX,
  TBL_INDEX_MEMBERSHIP,
  TBL_INTRADAY_PRICE,
  TBL_STOCK_PRICE,
  INTRADAY_BAR_COLUMNS,
} from '../../lib/warehouse/schema.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

let wh: Warehouse;
let project: Project;
const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);

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
  const at = new Date('2026-01-20T00:00:00Z');
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
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
  // EGX30's official levels (two vendors) beside its members, and a day of 1-minute bars.
  await wh.upsert(
    TBL_INDEX_MEMBERSHIP,
    ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT'],
    [
      ['EGX30', 'AAA', day(0), 50],
      ['EGX30', 'BBB', day(0), 50],
    ],
  );
  await wh.upsert(
    TBL_INDEX,
    ['INDEX_CODE', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE', 'LOADED_AT'],
    [
      ['EGX30', day(0), 'investing', 1000, at],
      ['EGX30', day(0), 'yahoo', 999, at],
      ['EGX30', day(1), 'investing', 1100, at],
    ],
  );
  const minute = (m: number) => new Date(Date.UTC(2026, 0, 5, 8, m));
  await wh.upsert(
    TBL_INTRADAY_PRICE,
    [...INTRADAY_BAR_COLUMNS, 'LOADED_AT'],
    [
      [0, 10, 11, 9.5, 10.5, 100],
      [1, 10.5, 12, 10.4, 11.8, 300],
      [61, 11.8, 11.9, 9, 9.2, 600],
    ].map(([m, o, h, l, c, v]) => [
      'AAA',
      '1m',
      minute(m!),
      new Date(minute(m!).getTime() + 2 * 3_600_000), // Cairo is UTC+2 in January
      day(4),
      'tradingview',
      o!,
      h!,
      l!,
      c!,
      v!,
      at,
    ]),
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

  const index = await wh.query(
    'SELECT trade_date, official_source, official_close, index_close, tracking_difference_pct FROM GOLD.gold_fct_index_performance ORDER BY trade_date LIMIT 2',
  );
  // Closes of BBB and AAA (equal weights): 10.5 and 11.5 on day 0, 12.5 and 13.5 on day 1; officially +10%.
  expect(index).toEqual([
    {
      TRADE_DATE: day(0),
      OFFICIAL_SOURCE: 'investing',
      OFFICIAL_CLOSE: 1000,
      INDEX_CLOSE: 11,
      TRACKING_DIFFERENCE_PCT: null,
    },
    expect.objectContaining({ TRADE_DATE: day(1), OFFICIAL_CLOSE: 1100, INDEX_CLOSE: 13 }),
  ]);
  // The members' weighted return: BBB 10.5 -> 12.5, AAA 11.5 -> 13.5, equal weights; officially +10%.
  expect((index[1] as { TRACKING_DIFFERENCE_PCT: number }).TRACKING_DIFFERENCE_PCT).toBeCloseTo(
    ((12.5 / 10.5 - 1) / 2 + (13.5 / 11.5 - 1) / 2) * 100 - 10,
    9,
  );
  const intraday = await wh.query(
    'SELECT bar_count, high_at, low_at_local, volume, vwap FROM GOLD.gold_fct_intraday_daily',
  );
  expect(intraday).toEqual([
    {
      BAR_COUNT: 3,
      HIGH_AT: new Date('2026-01-05T08:01:00Z'),
      LOW_AT_LOCAL: new Date('2026-01-05T11:01:00Z'),
      VOLUME: 1000,
      VWAP: expect.closeTo(
        ((11 + 9.5 + 10.5) / 3) * 0.1 + ((12 + 10.4 + 11.8) / 3) * 0.3 + ((11.9 + 9 + 9.2) / 3) * 0.6,
        9,
      ),
    },
  ]);
  const hours = await wh.query(
    'SELECT hour_local, volume, volume_share_pct FROM GOLD.gold_fct_intraday_hourly_volume ORDER BY hour_local',
  );
  expect(hours).toEqual([
    { HOUR_LOCAL: 10, VOLUME: 400, VOLUME_SHARE_PCT: 40 },
    { HOUR_LOCAL: 11, VOLUME: 600, VOLUME_SHARE_PCT: 60 },
  ]);
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
