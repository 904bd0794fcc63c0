/**
 * The daily facts' indicators against TA-Lib on committed fixtures (tests/fixtures/indicators),
 * in full and incremental builds.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { buildModel } from '../../lib/transforms/build.js';
import { loadProject, type Project } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { DAILY_BAR_COLUMNS, TBL_STOCK_PRICE, bootstrapWarehouse } from '../../lib/warehouse/schema.js';
import {
  compareWithTaLib,
  FACT_COLUMNS,
  fixtureBars as bars,
  INDICATORS,
  priceRow,
  type Fact,
  type FixtureBar,
} from '../fixtures/indicators/fixture.js';

const TRANSFORMS = fileURLToPath(new URL('../../transforms', import.meta.url));
/** What the issue asks: agreement within 1e-6 (here on every bar, not only after 250). */
const TOLERANCE = 1e-6;

let wh: DuckDbWarehouse;
let project: Project;
const opts = { runId: 'indicators', businessDate: '2025-08-01' };
beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  project = await loadProject(TRANSFORMS);
});
afterEach(async () => wh.close());

/** Builds the unified prices, then the daily facts (incrementally when they exist, unless full). */
async function build(fullRefresh = false) {
  await buildModel(wh, project, project.models.get('stg_stock_prices_unified')!, { ...opts, fullRefresh });
  return buildModel(wh, project, project.models.get('gold_fct_stock_daily_prices')!, {
    ...opts,
    fullRefresh,
  });
}

const facts = () =>
  wh.query<Fact>(`SELECT ${FACT_COLUMNS} FROM GOLD.gold_fct_stock_daily_prices ORDER BY symbol, trade_date`);

function expectTaLib(rows: Fact[]) {
  expect(rows).toHaveLength(bars.length);
  const { maxDiff, mismatches } = compareWithTaLib(rows);
  expect(mismatches).toEqual([]);
  for (const c of INDICATORS) expect(maxDiff[c], c).toBeLessThan(TOLERANCE);
}

describe('indicators', () => {
  test('RSI, MACD, moving averages, Bollinger Bands and crosses agree with TA-Lib within 1e-6 on every bar, and are null where TA-Lib has none', async () => {
    await wh.upsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      bars.map((b) => priceRow(b, new Date('2025-08-01T00:00:00Z'))),
    );
    await build();
    const rows = await facts();
    expectTaLib(rows);

    // The fixture exercises what tells definitions apart: values past the model's 1000-day blocks,
    // a flat close (RSI 0 on a listing that has not traded yet, as TA-Lib), crosses both ways.
    const bank = rows.filter((r) => r.SYMBOL === 'BANK');
    expect(bank.length).toBeGreaterThan(1050);
    for (const c of INDICATORS) expect(bank[1050]![c.toUpperCase()], c).not.toBeNull();
    expect(rows.find((r) => r.SYMBOL === 'NEWL' && r.RSI_14 !== null)?.RSI_14).toBe(0);
    const crosses = rows.map((r) => r.MA_CROSS_SIGNAL);
    expect(crosses).toContain('GOLDEN_CROSS');
    expect(crosses).toContain('DEATH_CROSS');
  });

  test('an incremental run agrees with TA-Lib and with a full refresh: a new day, then a corrected bar two years back', async () => {
    // Everything but each symbol's last session, then those sessions the next day.
    const last = new Map(bars.map((b) => [b.symbol, b.trade_date]));
    const isLast = (b: FixtureBar) => last.get(b.symbol) === b.trade_date;
    await wh.upsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      bars.filter((b) => !isLast(b)).map((b) => priceRow(b, new Date('2025-07-31T00:00:00Z'))),
    );
    await build();
    await wh.upsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      bars.filter(isLast).map((b) => priceRow(b, new Date())),
    );
    const day = await build();
    // Only the days from the earliest new session on were rebuilt.
    const first = [...last.values()].sort()[0]!;
    expect(day.rows).toBe(bars.filter((b) => b.trade_date >= first).length);
    expect(day.rows).toBeLessThan(bars.length / 5);
    const incremental = await facts();
    expectTaLib(incremental);

    // A vendor corrects BANK's close of its 801st session: that day and every later one are rebuilt,
    // and the averages restart 500 sessions before it, far enough to give what a full refresh gives.
    const bank = bars.filter((b) => b.symbol === 'BANK');
    const corrected = bank[800]!;
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
      priceRow(corrected, new Date(), Number(corrected.close_price) * 1.1),
    ]);
    const fix = await build();
    expect(fix.rows).toBe(bars.filter((b) => b.trade_date >= corrected.trade_date).length);
    const afterFix = await facts();
    await build(true);
    const full = await facts();
    expect(afterFix).toHaveLength(full.length);
    let worst = 0;
    afterFix.forEach((r, i) => {
      const f = full[i]!;
      expect([r.SYMBOL, r.TRADE_DATE, r.MA_CROSS_SIGNAL]).toEqual([
        f.SYMBOL,
        f.TRADE_DATE,
        f.MA_CROSS_SIGNAL,
      ]);
      for (const c of INDICATORS) {
        const [a, b] = [r[c.toUpperCase()] as number | null, f[c.toUpperCase()] as number | null];
        expect(a === null, `${r.SYMBOL} ${r.TRADE_DATE} ${c}`).toBe(b === null);
        if (a !== null && b !== null) worst = Math.max(worst, Math.abs(a - b));
      }
    });
    expect(worst).toBeLessThan(1e-9);
    // The correction reached the days after it.
    const at = (rows: Fact[]) =>
      rows.find((r) => r.SYMBOL === 'BANK' && r.TRADE_DATE === bank[801]!.trade_date)!;
    expect(at(afterFix).MA_7 as number).toBeCloseTo(
      (at(incremental).MA_7 as number) + (Number(corrected.close_price) * 0.1) / 7,
      9,
    );
    expect(
      Math.abs((at(afterFix).MACD_12_26 as number) - (at(incremental).MACD_12_26 as number)),
    ).toBeGreaterThan(0.1);
  });

  test('a symbol suspended for long keeps its RSI, also when an incremental run rebuilds days of the suspension', async () => {
    // 300 sessions of moves, 380 at one close (suspended), then a session with a move.
    let x = 7;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    const closes: number[] = [];
    for (let i = 0; i < 681; i++) {
      const prev = closes[i - 1] ?? 20;
      closes.push(i < 300 || i === 680 ? Math.round(prev * (1 + (rnd() - 0.5) * 0.06) * 100) / 100 : prev);
    }
    const day = (i: number) => new Date(Date.UTC(2022, 0, 2 + i)).toISOString().slice(0, 10);
    const row = (i: number, at: Date) => [
      'SUSP',
      day(i),
      'ohlcv',
      closes[i]!,
      closes[i]!,
      closes[i]!,
      closes[i]!,
      1000,
      at,
    ];
    await wh.upsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      closes.map((_, i) => row(i, new Date('2025-07-31T00:00:00Z'))),
    );
    await build();
    // The vendor re-issues the bar of session 650: sessions 650 to 680 are rebuilt. Its last 500
    // bars hold only 150 moves, too few to restart RSI from: it reads all of them.
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [row(650, new Date())]);
    expect((await build()).rows).toBe(31);
    const rsi = async () =>
      (
        await wh.query<{ RSI_14: number }>(
          'SELECT rsi_14 FROM GOLD.gold_fct_stock_daily_prices ORDER BY trade_date',
        )
      ).map((r) => r.RSI_14);
    const incremental = await rsi();
    await build(true);
    const full = await rsi();
    // Through the suspension RSI stays where the last move left it (gains and losses decay alike).
    for (let i = 300; i < 680; i++) expect(full[i]).toBeCloseTo(full[299]!, 9);
    for (let i = 650; i <= 680; i++) expect(Math.abs(incremental[i]! - full[i]!)).toBeLessThan(1e-9);
  });
});
