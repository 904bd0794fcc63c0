import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  liveModels,
  oneAtATime,
  refreshLiveGold,
  waitForCommittedBars,
  type LiveRefreshInput,
} from '../../lib/stream/live-gold.js';
import { percentile, VisibilityTracker } from '../../lib/stream/live-latency.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, planRun, type Project } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import {
  DAILY_BAR_COLUMNS,
  STREAM_BARS,
  TBL_STOCK_PRICE,
  bootstrapWarehouse,
} from '../../lib/warehouse/schema.js';
import type { SqlValue } from '../../lib/warehouse/types.js';

const TRANSFORMS = fileURLToPath(new URL('../../transforms', import.meta.url));
const SESSION = '2026-11-19'; // a Thursday in winter: the session opens 10:00 Cairo = 08:00 UTC
let wh: DuckDbWarehouse;
let project: Project;

const at = (date: string, hhmm: string) => new Date(`${date}T${hhmm}:00Z`);
const plus = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);
const loadedAt = new Date('2026-11-19T09:30:00Z');

/** 5-minute bars of one symbol and day: opens from `first`, each bar's close given, volume `volume`. */
function bars(
  symbol: string,
  date: string,
  first: string,
  closes: number[],
  volume: number,
  loaded = loadedAt,
) {
  return closes.map((close, i): SqlValue[] => {
    const open = i === 0 ? close : closes[i - 1]!;
    const ts = plus(at(date, first), 5 * i);
    return [
      symbol,
      '5m',
      ts,
      date,
      open,
      Math.max(open, close) + 0.1,
      Math.min(open, close) - 0.1,
      close,
      volume,
      'simulator',
      ts,
      'direct-5m',
      ts.getTime(),
      loaded,
    ];
  });
}
const insertBars = (rows: SqlValue[][]) =>
  wh.upsert(
    STREAM_BARS,
    STREAM_BARS.columns.map((c) => c.name),
    rows,
  );

// Today's session of AAA: 16 bars from 10:00 Cairo, so RSI(14) has its first value on the last one.
const today = [
  20.1, 20.3, 20.2, 20.6, 20.5, 20.9, 21.2, 21.0, 20.8, 21.1, 21.4, 21.3, 21.6, 21.5, 21.9, 22.0,
];
const TODAY_VOLUME = 300;

async function seed() {
  const daily = (symbol: string, date: string, close: number, high: number, low: number, volume: number) => [
    symbol,
    date,
    'yahoo',
    close,
    high,
    low,
    close,
    volume,
    new Date('2026-11-18T20:00:00Z'),
  ];
  await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
    daily('AAA', '2025-10-01', 50, 100, 1, 9000), // more than 52 weeks back: left out
    daily('AAA', '2026-01-15', 25, 30, 10, 2000),
    daily('AAA', '2026-11-17', 19, 19.5, 18.5, 1000),
    daily('AAA', '2026-11-18', 20, 21, 19, 3000),
  ]);
  for (const m of planRun(project, ['stg_stock_prices_unified', 'gold_fct_stock_daily_prices']))
    await buildModel(wh, project, m, { runId: 'daily', businessDate: '2026-11-18' });
  await insertBars([
    // Earlier sessions of AAA: 12 bars of 100 from the open on the 17th, 16 of 200 from 10:10 on the
    // 18th (BBB opened that day at 10:00), and one 45 days back, too old to count.
    ...bars('AAA', '2026-10-05', '08:00', [20, 20, 20], 99_999),
    ...bars('AAA', '2026-11-17', '08:00', Array<number>(12).fill(19), 100),
    ...bars('AAA', '2026-11-18', '08:10', Array<number>(16).fill(20), 200),
    ...bars('BBB', '2026-11-18', '08:00', [5], 10),
    ...bars('AAA', SESSION, '08:00', today, TODAY_VOLUME),
    // BBB has no daily history: no previous close or 52-week range from gold.
    ...bars('BBB', SESSION, '08:00', [5, 5.2, 5.1], 50),
  ]);
}

const poll = (to: string, expectedBars: number): LiveRefreshInput => ({
  tradingDate: SESSION,
  runId: 'market-session-2026-11-19-live',
  symbols: ['AAA', 'BBB'],
  interval: '5m',
  from: at(SESSION, '08:00').toISOString(),
  to,
  expectedBars,
  waitMs: 2_000,
});

/** Wilder's RSI(14) of a list of closes, as TA-Lib computes it, at the last one. */
function wilderRsi(closes: number[]): number {
  const up = (k: number) => Math.max(closes[k]! - closes[k - 1]!, 0);
  const down = (k: number) => Math.max(closes[k - 1]! - closes[k]!, 0);
  let gain = 0;
  let loss = 0;
  for (let k = 1; k <= 14; k++) {
    gain += up(k) / 14;
    loss += down(k) / 14;
  }
  for (let k = 15; k < closes.length; k++) {
    gain = (13 * gain + up(k)) / 14;
    loss = (13 * loss + down(k)) / 14;
  }
  return (100 * gain) / (gain + loss);
}

const quotes = () =>
  wh.query(`SELECT * FROM GOLD.gold_fct_live_quotes WHERE trade_date = ? ORDER BY symbol`, [SESSION]);

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  project = await loadProject(TRANSFORMS);
});
afterEach(async () => wh.close());

describe('live models', () => {
  test('are refreshed by the session, not by transforms runs unless named', () => {
    expect(liveModels(project).map((m) => m.name)).toEqual(['gold_fct_live_bars', 'gold_fct_live_quotes']);
    const all = planRun(project).map((m) => m.name);
    expect(all).toContain('gold_fct_stock_daily_prices');
    expect(all.filter((m) => m.includes('live'))).toEqual([]);
    expect(planRun(project, ['stg_stock_prices_unified+']).map((m) => m.name)).not.toContain(
      'gold_fct_live_quotes',
    );
    expect(planRun(project, ['gold_fct_live_quotes']).map((m) => m.name)).toEqual(['gold_fct_live_quotes']);
  });

  test("a poll's refresh gives each symbol's last price, change, VWAP, RSI, volume against the same time of day and 52-week distance", async () => {
    await seed();
    const r = await refreshLiveGold(wh, project, poll(at(SESSION, '09:20').toISOString(), 19));
    expect(r).toMatchObject({ committedBars: 19, expectedBars: 19, quotes: 2 });
    expect(r.models.map((m) => [m.model, m.status])).toEqual([
      ['gold_fct_live_bars', 'built'],
      ['gold_fct_live_quotes', 'built'],
    ]);

    const [aaa, bbb] = await quotes();
    const typical = today.map((c, i) => {
      const o = i === 0 ? c : today[i - 1]!;
      return (Math.max(o, c) + 0.1 + Math.min(o, c) - 0.1 + c) / 3;
    });
    expect(aaa).toMatchObject({
      SYMBOL: 'AAA',
      BAR_INTERVAL: '5m',
      BARS: 16,
      MINUTES_INTO_SESSION: 80, // the 11:15 Cairo bar closes 80 minutes after the open
      LAST_PRICE: 22,
      PREV_CLOSE: 20,
      PREV_CLOSE_DATE: '2026-11-18',
      DAY_OPEN: 20.1,
      DAY_HIGH: 22.1,
      DAY_LOW: 20,
      VOLUME: 16 * TODAY_VOLUME,
      // By 80 minutes in: all 12 bars (1200) on the 17th, the 14 bars from 10:10 to 11:15 (2800)
      // on the 18th; the session 45 days back is too old.
      AVG_VOLUME_SAME_TIME_20D: 2000,
      SESSIONS_AVERAGED: 2,
      AVG_DAILY_VOLUME_20D: 2000,
      // The year before: high 30 and low 10 (the 100 and 1 of 2025-10-01 are older than 52 weeks).
      HIGH_52W: 30,
      LOW_52W: 10,
      MARKET_SOURCE: 'simulator',
    });
    expect(aaa!.PRICE_CHANGE).toBeCloseTo(2, 9);
    expect(aaa!.PRICE_CHANGE_PCT).toBeCloseTo(10, 9);
    expect(aaa!.VOLUME_VS_AVG_SAME_TIME).toBeCloseTo(2.4, 9);
    expect(aaa!.VWAP).toBeCloseTo(typical.reduce((a, b) => a + b, 0) / typical.length, 9);
    expect(aaa!.RSI_14).toBeCloseTo(wilderRsi(today), 9);
    expect(aaa!.PCT_FROM_HIGH_52W).toBeCloseTo(((22 - 30) / 30) * 100, 9);
    expect(aaa!.PCT_FROM_LOW_52W).toBeCloseTo(((22 - 10) / 10) * 100, 9);
    // BBB: three bars, one earlier session at 10:00 only (10 shares by 15 minutes in), no daily history.
    expect(bbb).toMatchObject({
      SYMBOL: 'BBB',
      BARS: 3,
      LAST_PRICE: 5.1,
      PREV_CLOSE: null,
      PRICE_CHANGE_PCT: null,
      RSI_14: null,
      AVG_VOLUME_SAME_TIME_20D: 10,
      VOLUME_VS_AVG_SAME_TIME: 15,
      HIGH_52W: 5.3,
      LOW_52W: 4.9,
    });

    // Every data test of both models passes on the fixture.
    for (const m of liveModels(project)) {
      const results = await testModel(wh, project, m, { runId: 'test', businessDate: SESSION });
      expect(results.filter((t) => t.status !== 'pass')).toEqual([]);
    }
  });

  test('RSI is null until the 15th bar of the session, then Wilder on the bars so far', async () => {
    await seed();
    await refreshLiveGold(wh, project, poll(at(SESSION, '09:20').toISOString(), 19));
    const rows = await wh.query<{ BAR_NUMBER: number; RSI_14: number | null; SESSION_VOLUME: number }>(
      `SELECT bar_number, rsi_14, session_volume FROM GOLD.gold_fct_live_bars
        WHERE symbol = 'AAA' AND trade_date = ? ORDER BY bar_ts`,
      [SESSION],
    );
    expect(rows.map((r) => r.RSI_14 === null)).toEqual(today.map((_, i) => i < 14));
    expect(rows[14]!.RSI_14).toBeCloseTo(wilderRsi(today.slice(0, 15)), 9);
    expect(rows.map((r) => r.SESSION_VOLUME)).toEqual(today.map((_, i) => (i + 1) * TODAY_VOLUME));
  });

  test('the next poll rebuilds only the session it touched; nothing new leaves the marts as they are', async () => {
    await seed();
    await refreshLiveGold(wh, project, poll(at(SESSION, '09:20').toISOString(), 19));
    const before = await wh.query(
      `SELECT * FROM GOLD.gold_fct_live_quotes WHERE trade_date < ? ORDER BY symbol, trade_date`,
      [SESSION],
    );

    await insertBars(bars('AAA', SESSION, '09:20', [22.4], 600, new Date('2026-11-19T09:45:00Z')));
    const next = await refreshLiveGold(wh, project, {
      ...poll(at(SESSION, '09:25').toISOString(), 1),
      from: at(SESSION, '09:20').toISOString(),
    });
    // Only the session's rows were rebuilt (AAA's 17 bars and BBB's 3; two quotes).
    expect(next.models.map((m) => m.rows)).toEqual([20, 2]);
    const [aaa] = await quotes();
    expect(aaa).toMatchObject({ BARS: 17, LAST_PRICE: 22.4, VOLUME: 16 * TODAY_VOLUME + 600 });
    expect(aaa!.RSI_14).toBeCloseTo(wilderRsi([...today, 22.4]), 9);
    expect(
      await wh.query(
        `SELECT * FROM GOLD.gold_fct_live_quotes WHERE trade_date < ? ORDER BY symbol, trade_date`,
        [SESSION],
      ),
    ).toEqual(before);

    const idle = await refreshLiveGold(wh, project, {
      ...poll(at(SESSION, '09:25').toISOString(), 1),
      from: at(SESSION, '09:20').toISOString(),
    });
    expect(idle.models.map((m) => m.rows)).toEqual([0, 0]);
    expect(idle.quotes).toBe(2);
  });

  test('before the first transforms run the quotes wait for the daily gold, saying so', async () => {
    await insertBars(bars('AAA', SESSION, '08:00', today.slice(0, 3), TODAY_VOLUME));
    const r = await refreshLiveGold(wh, project, poll(at(SESSION, '08:15').toISOString(), 3));
    expect(r.models).toMatchObject([
      { model: 'gold_fct_live_bars', status: 'built', rows: 3 },
      {
        model: 'gold_fct_live_quotes',
        status: 'skipped',
        detail: 'GOLD.gold_fct_stock_daily_prices not built yet',
      },
    ]);
    expect(r.quotes).toBe(0);
  });
});

describe('waiting for the poll to be committed', () => {
  test('returns as soon as the poll bars are in RAW.STREAM_BARS', async () => {
    const input = poll(at(SESSION, '08:15').toISOString(), 3);
    const waiting = waitForCommittedBars(wh, { ...input, waitMs: 10_000 }, { everyMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    await insertBars(bars('AAA', SESSION, '08:00', today.slice(0, 3), TODAY_VOLUME));
    const r = await waiting;
    expect(r.committed).toBe(3);
    expect(r.waitedMs).toBeGreaterThanOrEqual(100);
    expect(r.waitedMs).toBeLessThan(5_000);
  });

  test('gives up after the wait with what is there (a consumer behind or down)', async () => {
    await insertBars(bars('AAA', SESSION, '08:00', today.slice(0, 2), TODAY_VOLUME));
    const r = await waitForCommittedBars(
      wh,
      { ...poll(at(SESSION, '08:15').toISOString(), 3), waitMs: 150 },
      {
        everyMs: 20,
      },
    );
    expect(r.committed).toBe(2);
    expect(r.waitedMs).toBeGreaterThanOrEqual(150);
  });
});

test('oneAtATime runs work in order, one at a time, and a failure does not block the next', async () => {
  const serial = oneAtATime();
  const log: string[] = [];
  const job = (name: string, ms: number, fail = false) =>
    serial(async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([job('a', 30, true), job('b', 5), job('c', 1)]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

describe('bench:live bookkeeping', () => {
  const open = Date.parse('2026-11-30T08:00:00Z');
  const bar = 5 * 60_000;
  // A replay at 30× started at real time 1,000,000: a bar closing 5 market minutes in is available 10 s later.
  const tracker = () =>
    new VisibilityTracker({
      sessionOpen: open,
      barMs: bar,
      availableAt: (close) => 1_000_000 + (close - open) / 30,
    });

  test('a bar counts once, from when its close was available to the first read that shows it', () => {
    const t = tracker();
    expect(t.observe([['COMI', open]], 1_012_500)).toEqual([
      { symbol: 'COMI', barOpen: open, latencySeconds: 2.5 },
    ]);
    // Read again: nothing new.
    expect(t.observe([['COMI', open]], 1_013_000)).toEqual([]);
  });

  test('a refresh that covered two polls shows both bars at once; the older one waited a poll longer', () => {
    const t = tracker();
    t.observe([['COMI', open]], 1_011_000);
    expect(
      t.observe([['COMI', open + 2 * bar]], 1_031_500).map((s) => [s.barOpen, s.latencySeconds]),
    ).toEqual([
      [open + bar, 11.5],
      [open + 2 * bar, 1.5],
    ]);
    expect(t.seen('COMI')).toBe(open + 2 * bar);
  });

  test('percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});
