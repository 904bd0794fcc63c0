import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadFiles } from '../../lib/ingest/load-many.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, planRun, type Project } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import {
  DAILY_BAR_COLUMNS,
  TBL_INDEX,
  TBL_INDEX_MEMBERSHIP,
  TBL_INTRADAY_PRICE,
  TBL_STOCK_PRICE,
  bootstrapWarehouse,
  INTRADAY_BAR_COLUMNS,
} from '../../lib/warehouse/schema.js';

/**
 * The index and intraday models on fixtures, against rows worked out by hand: the official index
 * level beside the constituent-weighted one (gold_fct_index_performance, over stg_index_levels),
 * and the intraday marts (gold_fct_intraday_daily, gold_fct_intraday_hourly_volume, over
 * stg_intraday_bars) on the intraday fixture files as the loader loads them.
 */

const TRANSFORMS = fileURLToPath(new URL('../../transforms', import.meta.url));
const INTRADAY = fileURLToPath(new URL('../fixtures/intraday/', import.meta.url));
const MODELS = [
  'stg_index_levels',
  'gold_fct_index_performance',
  'stg_intraday_bars',
  'gold_fct_intraday_daily',
  'gold_fct_intraday_hourly_volume',
];

let wh: DuckDbWarehouse;
let project: Project;
let store: LocalObjectStore;
const opts = { runId: 'test-run', businessDate: '2025-07-22' };

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  project = await loadProject(TRANSFORMS);
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-intraday-models-')));
});
afterEach(async () => wh.close());

/** Builds the models (and what they read) in order; every error-severity test must pass. */
async function build(names = MODELS, fullRefresh = false): Promise<void> {
  const wanted = new Set(names);
  for (const m of planRun(project)) {
    const needed =
      wanted.has(m.name) || ['stg_index_membership', 'stg_stock_prices_unified'].includes(m.name);
    if (!needed) continue;
    const r = await buildModel(wh, project, m, { ...opts, fullRefresh });
    const failed = (await testModel(wh, project, m, { ...opts, audited: r.audited })).filter(
      (t) => t.status !== 'pass',
    );
    expect(failed, `${m.name}: ${JSON.stringify(failed)}`).toEqual([]);
  }
}

/** Rows with lower-case column names, as the models spell them. */
const q = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> =>
  (await wh.query(sql)).map(
    (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v])) as T,
  );

describe('index performance: official level beside the constituent-weighted one', () => {
  const at = new Date('2024-02-01T00:00:00Z');
  async function seed() {
    await wh.upsert(
      TBL_INDEX_MEMBERSHIP,
      ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT'],
      [
        ['EGX30', 'AAA', '2024-01-02', 60],
        ['EGX30', 'BBB', '2024-01-02', 40],
      ],
    );
    const bar = (s: string, d: string, c: number) => [s, d, 'yahoo', c, c, c, c, 100, at];
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
      bar('AAA', '2024-01-02', 10),
      bar('BBB', '2024-01-02', 20),
      bar('AAA', '2024-01-03', 11),
      bar('BBB', '2024-01-03', 20),
      bar('AAA', '2024-01-04', 11),
      bar('BBB', '2024-01-04', 22),
    ]);
    const level = (d: string, source: string, close: number) => [
      'EGX30',
      d,
      source,
      null,
      null,
      null,
      close,
      null,
      'EGX 30',
      at,
    ];
    await wh.upsert(
      TBL_INDEX,
      [
        'INDEX_CODE',
        'TRADE_DATE',
        'DATA_SOURCE',
        'OPEN_PRICE',
        'HIGH_PRICE',
        'LOW_PRICE',
        'CLOSE_PRICE',
        'VOLUME',
        'INDEX_NAME',
        'LOADED_AT',
      ],
      [
        // A day before any member bar: official level only.
        level('2024-01-01', 'investing', 1000),
        level('2024-01-02', 'investing', 1400),
        level('2024-01-02', 'yahoo', 1399.5), // Investing is trusted before Yahoo
        level('2024-01-03', 'yahoo', 1442),
        level('2024-01-04', 'yahoo', 1500),
        level('2024-01-04', 'egx', 1501), // the exchange's own page first
      ],
    );
  }

  test('expected rows: levels, changes, the daily and cumulative tracking difference', async () => {
    await seed();
    await build(['stg_index_levels', 'gold_fct_index_performance']);
    expect(
      await q(
        'SELECT index_code, trade_date, data_source, close_level, source_count FROM SILVER.stg_index_levels ORDER BY trade_date',
      ),
    ).toEqual([
      {
        index_code: 'EGX30',
        trade_date: '2024-01-01',
        data_source: 'investing',
        close_level: 1000,
        source_count: 1,
      },
      {
        index_code: 'EGX30',
        trade_date: '2024-01-02',
        data_source: 'investing',
        close_level: 1400,
        source_count: 2,
      },
      {
        index_code: 'EGX30',
        trade_date: '2024-01-03',
        data_source: 'yahoo',
        close_level: 1442,
        source_count: 1,
      },
      {
        index_code: 'EGX30',
        trade_date: '2024-01-04',
        data_source: 'egx',
        close_level: 1501,
        source_count: 2,
      },
    ]);

    const rows = await q<Record<string, number | string | null>>(
      `SELECT * FROM GOLD.gold_fct_index_performance ORDER BY trade_date`,
    );
    // Weighted closes: 0.6 * AAA + 0.4 * BBB = 14, 14.6, 15.4. The members' weighted returns:
    // AAA +10%, BBB flat on the 3rd (6%); AAA flat, BBB +10% on the 4th (4%).
    const weighted = [null, 14, 14.6, 15.4];
    const returns = [null, null, 6, 4];
    const official = [1000, 1400, 1442, 1501];
    const pct = (a: number, b: number) => ((a - b) / b) * 100;
    const rebased = [null, 1400, 1400 * 1.06, 1400 * 1.06 * 1.04];
    const expected = official.map((close, i) => {
      const w = weighted[i]!;
      const prevW = weighted[i - 1];
      const officialChangePct = i > 0 ? pct(close, official[i - 1]!) : null;
      const r = returns[i]!;
      return {
        trade_date: `2024-01-0${i + 1}`,
        constituent_count: w === null ? null : 2,
        index_close: w,
        index_change_pct: w !== null && prevW != null ? pct(w, prevW) : null,
        constituent_return_pct: r,
        official_source: ['investing', 'investing', 'yahoo', 'egx'][i],
        official_close: close,
        official_change_pct: officialChangePct,
        tracking_difference_pct: r === null || officialChangePct === null ? null : r - officialChangePct,
        rebase_date: w === null ? null : '2024-01-02',
        index_close_rebased: rebased[i],
        cumulative_tracking_difference_pct: rebased[i] == null ? null : (rebased[i] / close - 1) * 100,
      };
    });
    expect(rows).toHaveLength(4);
    rows.forEach((row, i) => {
      for (const [k, v] of Object.entries(expected[i]!)) {
        if (typeof v === 'number') expect(row[k], `${k} on ${row.trade_date}`).toBeCloseTo(v, 9);
        else expect(row[k], `${k} on ${row.trade_date}`).toEqual(v);
      }
    });
    // The 3rd: the members gained 6%, the index 3%: 3 points of tracking difference.
    expect(rows[2]!.tracking_difference_pct).toBeCloseTo(3, 9);
  });

  test("a member's bars from two vendors (adjusted and not) give no return across the switch", async () => {
    await seed();
    // BBB's 4th from the broker export (trusted first), at an unadjusted price twice Yahoo's.
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
      ['BBB', '2024-01-04', 'egx_ar_export', 44, 44, 44, 44, 100, at],
    ]);
    await build(['stg_index_levels', 'gold_fct_index_performance']);
    const [day] = await q<{ index_change_pct: number; constituent_return_pct: number }>(
      "SELECT index_change_pct, constituent_return_pct FROM GOLD.gold_fct_index_performance WHERE trade_date = '2024-01-04'",
    );
    // The average price jumps (14.6 -> 24.2); the members' return is AAA's alone: flat.
    expect(day!.index_change_pct).toBeCloseTo(((24.2 - 14.6) / 14.6) * 100, 9);
    expect(day!.constituent_return_pct).toBeCloseTo(0, 9);
  });
});

describe('intraday marts', () => {
  async function loadFixtures() {
    const keys: string[] = [];
    for (const name of readdirSync(INTRADAY)) {
      await store.put(`batch/intraday/${name}`, readFileSync(join(INTRADAY, name)));
      keys.push(`batch/intraday/${name}`);
    }
    const rs = await loadFiles({ store, warehouse: wh }, keys, { runId: 'r1' });
    expect(rs.map((r) => r.rowsLoaded)).toEqual([10, 3]);
  }

  // The fixture's bars that load (COMI.csv: 10 of its 14 lines; EGX_ETEL, 5.csv: 3), as [UTC start, open, high, low, close, volume].
  const COMI: Record<string, [string, number, number, number, number, number][]> = {
    '2025-07-20': [
      ['07:22', 89.55, 89.55, 89.55, 89.55, 409],
      ['07:23', 89.62, 89.97, 89.62, 89.97, 1803],
      ['07:25', 89.97, 90.1, 89.9, 90.05, 250],
      ['08:01', 90.05, 90.4, 90.0, 90.3, 3000],
      ['09:15', 90.3, 90.35, 89.4, 89.5, 1200],
      ['11:29', 89.5, 89.8, 89.45, 89.7, 5000],
    ],
    '2025-07-21': [
      ['07:20', 89.7, 89.9, 89.6, 89.8, 700],
      ['07:21', 89.8, 91.0, 89.8, 90.9, 2100],
      ['10:02', 90.9, 90.95, 88.1, 88.2, 900],
      ['11:28', 88.2, 88.6, 88.2, 88.5, 4000],
    ],
  };
  const vwap = (bars: [string, number, number, number, number, number][]) =>
    bars.reduce((s, [, , h, l, c, v]) => s + ((h + l + c) / 3) * v, 0) / bars.reduce((s, b) => s + b[5], 0);

  test('expected rows of the day: OHLC, volume, VWAP, and when the high and low came', async () => {
    await loadFixtures();
    await build(['stg_intraday_bars', 'gold_fct_intraday_daily', 'gold_fct_intraday_hourly_volume']);
    const days = await q<Record<string, unknown>>(
      'SELECT * EXCLUDE (loaded_at, vwap) FROM GOLD.gold_fct_intraday_daily ORDER BY symbol, trade_date',
    );
    const t = (s: string) => new Date(`${s}Z`);
    expect(days).toEqual([
      {
        symbol: 'COMI',
        trade_date: '2025-07-20',
        bar_interval: '1m',
        bar_count: 6,
        first_bar_at: t('2025-07-20T07:22:00'),
        last_bar_at: t('2025-07-20T11:29:00'),
        open_price: 89.55,
        high_price: 90.4,
        low_price: 89.4,
        close_price: 89.7,
        volume: 11662,
        high_at: t('2025-07-20T08:01:00'),
        high_at_local: t('2025-07-20T11:01:00'),
        low_at: t('2025-07-20T09:15:00'),
        low_at_local: t('2025-07-20T12:15:00'),
      },
      {
        symbol: 'COMI',
        trade_date: '2025-07-21',
        bar_interval: '1m',
        bar_count: 4,
        first_bar_at: t('2025-07-21T07:20:00'),
        last_bar_at: t('2025-07-21T11:28:00'),
        open_price: 89.7,
        high_price: 91,
        low_price: 88.1,
        close_price: 88.5,
        volume: 7700,
        high_at: t('2025-07-21T07:21:00'),
        high_at_local: t('2025-07-21T10:21:00'),
        low_at: t('2025-07-21T10:02:00'),
        low_at_local: t('2025-07-21T13:02:00'),
      },
      {
        symbol: 'ETEL',
        trade_date: '2024-07-17',
        bar_interval: '5m',
        bar_count: 3,
        first_bar_at: t('2024-07-17T07:00:00'),
        last_bar_at: t('2024-07-17T07:10:00'),
        open_price: 35.5,
        high_price: 35.9,
        low_price: 35.1,
        close_price: 35.2,
        volume: 3500,
        high_at: t('2024-07-17T07:05:00'),
        high_at_local: t('2024-07-17T10:05:00'),
        low_at: t('2024-07-17T07:10:00'),
        low_at_local: t('2024-07-17T10:10:00'),
      },
    ]);
    const vwaps = await q<{ symbol: string; trade_date: string; vwap: number }>(
      'SELECT symbol, trade_date, vwap FROM GOLD.gold_fct_intraday_daily ORDER BY symbol, trade_date',
    );
    expect(vwaps[0]!.vwap).toBeCloseTo(vwap(COMI['2025-07-20']!), 9);
    expect(vwaps[1]!.vwap).toBeCloseTo(vwap(COMI['2025-07-21']!), 9);
    expect(vwaps[2]!.vwap).toBeCloseTo((35.5667 * 1000 + 35.7667 * 2000 + 35.3667 * 500) / 3500, 3);

    // Volume by hour of Cairo's clock (UTC+3 in July).
    const hours = await q<{
      trade_date: string;
      hour_local: number;
      bar_count: number;
      volume: number;
      share: number;
      cum: number;
    }>(
      `SELECT trade_date, hour_local, bar_count, volume, round(volume_share_pct, 4) AS share, round(cumulative_volume_share_pct, 4) AS cum
         FROM GOLD.gold_fct_intraday_hourly_volume WHERE symbol = 'COMI' ORDER BY trade_date, hour_local`,
    );
    const share = (v: number, total: number) => Math.round((v / total) * 100 * 1e4) / 1e4;
    expect(hours).toEqual([
      {
        trade_date: '2025-07-20',
        hour_local: 10,
        bar_count: 3,
        volume: 2462,
        share: share(2462, 11662),
        cum: share(2462, 11662),
      },
      {
        trade_date: '2025-07-20',
        hour_local: 11,
        bar_count: 1,
        volume: 3000,
        share: share(3000, 11662),
        cum: share(5462, 11662),
      },
      {
        trade_date: '2025-07-20',
        hour_local: 12,
        bar_count: 1,
        volume: 1200,
        share: share(1200, 11662),
        cum: share(6662, 11662),
      },
      {
        trade_date: '2025-07-20',
        hour_local: 14,
        bar_count: 1,
        volume: 5000,
        share: share(5000, 11662),
        cum: 100,
      },
      {
        trade_date: '2025-07-21',
        hour_local: 10,
        bar_count: 2,
        volume: 2800,
        share: share(2800, 7700),
        cum: share(2800, 7700),
      },
      {
        trade_date: '2025-07-21',
        hour_local: 13,
        bar_count: 1,
        volume: 900,
        share: share(900, 7700),
        cum: share(3700, 7700),
      },
      {
        trade_date: '2025-07-21',
        hour_local: 14,
        bar_count: 1,
        volume: 4000,
        share: share(4000, 7700),
        cum: 100,
      },
    ]);
    const [etel] = await q(
      "SELECT hour_local, hour_start, volume_share_pct FROM GOLD.gold_fct_intraday_hourly_volume WHERE symbol = 'ETEL'",
    );
    expect(etel).toEqual({
      hour_local: 10,
      hour_start: new Date('2024-07-17T07:00:00Z'),
      volume_share_pct: 100,
    });
  });

  test('a day loaded as 1-minute and 5-minute bars counts its trading once, from the 1-minute bars', async () => {
    await loadFixtures();
    // The first COMI day again as two 5-minute bars (a coarser export of the same trading).
    await wh.upsert(
      TBL_INTRADAY_PRICE,
      [...INTRADAY_BAR_COLUMNS, 'LOADED_AT'],
      [
        [
          'COMI',
          '5m',
          new Date('2025-07-20T07:20:00Z'),
          new Date('2025-07-20T10:20:00Z'),
          '2025-07-20',
          'tradingview',
          89.55,
          90.1,
          89.55,
          90.05,
          2462,
          new Date(),
        ],
        [
          'COMI',
          '5m',
          new Date('2025-07-20T08:00:00Z'),
          new Date('2025-07-20T11:00:00Z'),
          '2025-07-20',
          'tradingview',
          90.05,
          90.4,
          90.0,
          90.3,
          3000,
          new Date(),
        ],
      ],
    );
    await build(['stg_intraday_bars', 'gold_fct_intraday_daily']);
    expect(
      await q(
        "SELECT bar_interval, bar_count, volume FROM GOLD.gold_fct_intraday_daily WHERE symbol = 'COMI' AND trade_date = '2025-07-20'",
      ),
    ).toEqual([{ bar_interval: '1m', bar_count: 6, volume: 11662 }]);
  });

  test('an incremental run after a new day equals a full refresh', async () => {
    // Day one first, built; then day two arrives and the marts build incrementally.
    const lines = readFileSync(join(INTRADAY, 'COMI.csv'), 'utf8').trimEnd().split('\n');
    const header = lines[0]!;
    const dayOne = lines.filter((l) => l.startsWith('2025-07-20'));
    await store.put('batch/intraday/COMI.csv', [header, ...dayOne].join('\n') + '\n');
    await loadFiles({ store, warehouse: wh }, ['batch/intraday/COMI.csv'], { runId: 'r1' });
    await build(['stg_intraday_bars', 'gold_fct_intraday_daily', 'gold_fct_intraday_hourly_volume']);
    await store.put('batch/intraday/COMI.csv', lines.join('\n') + '\n');
    await loadFiles({ store, warehouse: wh }, ['batch/intraday/COMI.csv'], { runId: 'r2' });
    await build(['stg_intraday_bars', 'gold_fct_intraday_daily', 'gold_fct_intraday_hourly_volume']);
    const snapshot = () =>
      Promise.all([
        q('SELECT * EXCLUDE (loaded_at) FROM GOLD.gold_fct_intraday_daily ORDER BY ALL'),
        q('SELECT * EXCLUDE (loaded_at) FROM GOLD.gold_fct_intraday_hourly_volume ORDER BY ALL'),
      ]);
    const incremental = await snapshot();
    expect(incremental[0]).toHaveLength(2);
    await build(['stg_intraday_bars', 'gold_fct_intraday_daily', 'gold_fct_intraday_hourly_volume'], true);
    expect(await snapshot()).toEqual(incremental);
  });

  test('every column the index and intraday models publish is described in their YAML', async () => {
    await loadFixtures();
    await build();
    for (const name of MODELS) {
      const model = project.models.get(name)!;
      const published = await q<{ c: string }>(
        `SELECT lower(column_name) AS c FROM information_schema.columns
          WHERE upper(table_schema) = '${model.schema}' AND lower(table_name) = '${name}' ORDER BY ordinal_position`,
      );
      const described = model.columns.filter((c) => c.description).map((c) => c.name);
      expect(described.sort(), name).toEqual(published.map((p) => p.c).sort());
    }
  });
});
