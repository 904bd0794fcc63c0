import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { getText } from '../../lib/lake/types.js';
import { buildModel, ModelAuditFailedError, testModel } from '../../lib/transforms/build.js';
import {
  buildDocsManifest,
  publishDocs,
  undescribedColumns,
  type DocsManifest,
} from '../../lib/transforms/docs.js';
import { loadProject, planRun, relationOf, type Project } from '../../lib/transforms/project.js';
import { bindTest, compileTests, type CompiledTest } from '../../lib/transforms/tests.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import {
  DAILY_BAR_COLUMNS,
  TBL_COMPANY,
  TBL_FINANCIAL,
  TBL_INDEX_MEMBERSHIP,
  TBL_STOCK_PRICE,
  bootstrapWarehouse,
} from '../../lib/warehouse/schema.js';

const TRANSFORMS = fileURLToPath(new URL('../../transforms', import.meta.url));
let wh: DuckDbWarehouse;
let project: Project;
const opts = { runId: 'test-run', businessDate: '2024-02-10' };

const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
// Symbol AAA: 35 days of closes going up and down, with volume 1000 except a spike on day 20.
const closes = Array.from(
  { length: 35 },
  (_, i) => Math.round((20 + 2 * Math.sin(i / 2.5) + 0.1 * i) * 100) / 100,
);
const volumes = closes.map((_, i) => (i === 20 ? 5000 : 1000));

async function seed() {
  await wh.upsert(
    TBL_COMPANY,
    ['SYMBOL', 'COMPANY_NAME', 'SECTOR'],
    [
      ['AAA', 'Alpha', 'Banks'],
      ['BBB', 'Beta', 'Banks'],
      ['CCC', 'Gamma', null],
    ],
  );
  const at = new Date('2024-02-01T00:00:00Z');
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
    closes.map((c, i) => ['AAA', day(i), 'egx_ar_export', c, c + 1, c - 1, c, volumes[i]!, at]),
  );
  // A second vendor for the first 3 days, with other closes: the broker export must win.
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
    [0, 1, 2].map((i) => ['AAA', day(i), 'yahoo', 1, 2, 0.5, 1, 1, at]),
  );
  await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [['BBB', day(0), 'yahoo', 5, 6, 4, 5, 100, at]]);
}

async function buildAll() {
  for (const m of planRun(project)) await buildModel(wh, project, m, opts);
}

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  project = await loadProject(TRANSFORMS);
  await seed();
});
afterEach(async () => wh.close());

/**
 * Plain reference implementation of the moving averages (null until their window is full), RSI
 * (Wilder's smoothing, as TA-Lib), Bollinger Bands and signals, independent of the SQL.
 */
function reference(i: number) {
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ma7 = i >= 6 ? avg(closes.slice(i - 6, i + 1)) : null;
  const ma30 = i >= 29 ? avg(closes.slice(i - 29, i + 1)) : null;
  const vol7 = i >= 6 ? avg(volumes.slice(i - 6, i + 1)) : null;
  const close = closes[i]!;
  const prev = closes[i - 1];
  return {
    ma7,
    ma30,
    change: prev === undefined ? null : close - prev,
    changePct: prev === undefined ? null : ((close - prev) / prev) * 100,
    trend:
      ma7 === null || ma30 === null
        ? 'NEUTRAL'
        : close > ma7 && ma7 > ma30
          ? 'BULLISH'
          : close < ma7 && ma7 < ma30
            ? 'BEARISH'
            : 'NEUTRAL',
    rsi: (() => {
      if (i < 14) return null;
      const up = (k: number) => Math.max(closes[k]! - closes[k - 1]!, 0);
      const down = (k: number) => Math.max(closes[k - 1]! - closes[k]!, 0);
      let gain = avg([...Array(14).keys()].map((k) => up(k + 1)));
      let loss = avg([...Array(14).keys()].map((k) => down(k + 1)));
      for (let k = 15; k <= i; k++) {
        gain = (13 * gain + up(k)) / 14;
        loss = (13 * loss + down(k)) / 14;
      }
      return (100 * gain) / (gain + loss);
    })(),
    bollinger: (() => {
      if (i < 19) return null;
      const win = closes.slice(i - 19, i + 1);
      const mid = avg(win);
      const sigma = Math.sqrt(avg(win.map((c) => (c - mid) ** 2)));
      return { mid, upper: mid + 2 * sigma, lower: mid - 2 * sigma };
    })(),
    volume:
      vol7 === null
        ? 'NORMAL'
        : volumes[i]! > 1.5 * vol7
          ? 'HIGH'
          : volumes[i]! < 0.5 * vol7
            ? 'LOW'
            : 'NORMAL',
  };
}

describe('transforms', () => {
  test('models run in dependency order, and --select x+ picks x and everything downstream', () => {
    const order = planRun(project).map((m) => m.name);
    expect(order.indexOf('stg_companies')).toBeLessThan(order.indexOf('dim_sector'));
    expect(order.indexOf('dim_sector')).toBeLessThan(order.indexOf('gold_dim_company'));
    expect(order.indexOf('stg_stock_prices_unified')).toBeLessThan(
      order.indexOf('gold_fct_stock_daily_prices'),
    );
    const downstream = planRun(project, ['stg_companies+']).map((m) => m.name);
    expect(downstream).toEqual(
      expect.arrayContaining([
        'stg_companies',
        'dim_sector',
        'dim_industry',
        'gold_dim_company',
        'vw_sector_analysis',
      ]),
    );
    expect(downstream).not.toContain('stg_stock_prices_unified');
    expect(downstream.indexOf('dim_sector')).toBeLessThan(downstream.indexOf('dim_industry'));
    expect(() => planRun(project, ['nope'])).toThrow('no model named nope');
  });

  test('the unified prices keep one bar per day from the most trusted source', async () => {
    await buildAll();
    const rows = await wh.query<{ TRADE_DATE: string; DATA_SOURCE: string; CLOSE_PRICE: number }>(
      "SELECT trade_date, data_source, close_price FROM SILVER.stg_stock_prices_unified WHERE symbol = 'AAA' ORDER BY trade_date LIMIT 3",
    );
    expect(rows).toEqual([
      { TRADE_DATE: day(0), DATA_SOURCE: 'egx_ar_export', CLOSE_PRICE: closes[0] },
      { TRADE_DATE: day(1), DATA_SOURCE: 'egx_ar_export', CLOSE_PRICE: closes[1] },
      { TRADE_DATE: day(2), DATA_SOURCE: 'egx_ar_export', CLOSE_PRICE: closes[2] },
    ]);
  });

  test('daily facts match a plain TypeScript reference for every day', async () => {
    await buildAll();
    const rows = await wh.query<Record<string, number | string | null>>(
      "SELECT price_change, price_change_pct, price_range, typical_price, ma_7, ma_30, rsi_14, bb_middle_20, bb_upper_20, bb_lower_20, trend_signal, volume_signal FROM GOLD.gold_fct_stock_daily_prices WHERE symbol = 'AAA' ORDER BY trade_date",
    );
    expect(rows).toHaveLength(35);
    rows.forEach((r, i) => {
      const ref = reference(i);
      if (ref.ma7 === null) expect(r.MA_7).toBeNull();
      else expect(r.MA_7).toBeCloseTo(ref.ma7, 9);
      if (ref.ma30 === null) expect(r.MA_30).toBeNull();
      else expect(r.MA_30).toBeCloseTo(ref.ma30, 9);
      if (ref.change === null) expect(r.PRICE_CHANGE).toBeNull();
      else expect(r.PRICE_CHANGE).toBeCloseTo(ref.change, 9);
      if (ref.changePct !== null) expect(r.PRICE_CHANGE_PCT).toBeCloseTo(ref.changePct, 9);
      expect(r.PRICE_RANGE).toBeCloseTo(2, 9);
      expect(r.TYPICAL_PRICE).toBeCloseTo(closes[i]!, 9);
      if (ref.rsi === null) expect(r.RSI_14).toBeNull();
      else expect(r.RSI_14).toBeCloseTo(ref.rsi, 9);
      if (ref.bollinger === null) expect(r.BB_MIDDLE_20).toBeNull();
      else {
        expect(r.BB_MIDDLE_20).toBeCloseTo(ref.bollinger.mid, 9);
        expect(r.BB_UPPER_20).toBeCloseTo(ref.bollinger.upper, 9);
        expect(r.BB_LOWER_20).toBeCloseTo(ref.bollinger.lower, 9);
      }
      expect([i, r.TREND_SIGNAL, r.VOLUME_SIGNAL]).toEqual([i, ref.trend, ref.volume]);
    });
    expect(rows[20]?.VOLUME_SIGNAL).toBe('HIGH');
    // The fixture really exercises the indicators: RSI away from its bounds, all three trends.
    expect(rows.some((r) => typeof r.RSI_14 === 'number' && r.RSI_14 > 5 && r.RSI_14 < 95)).toBe(true);
    expect(new Set(rows.map((r) => r.TREND_SIGNAL))).toEqual(new Set(['BULLISH', 'BEARISH', 'NEUTRAL']));
  });

  test('the mart views on the fixture: company summary, movers, volume leaders, sectors and market breadth', async () => {
    await buildAll();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const last = closes.length - 1;
    const lastPct = ((closes[last]! - closes[last - 1]!) / closes[last - 1]!) * 100;
    const close = (v: number): unknown => expect.closeTo(v, 9);

    expect(
      await wh.query(
        'SELECT symbol, company_name, first_date, last_date, trading_days, first_close, last_close, total_return_pct, avg_volume FROM GOLD.vw_company_performance_summary ORDER BY symbol',
      ),
    ).toEqual([
      {
        SYMBOL: 'AAA',
        COMPANY_NAME: 'Alpha',
        FIRST_DATE: day(0),
        LAST_DATE: day(last),
        TRADING_DAYS: 35,
        FIRST_CLOSE: closes[0],
        LAST_CLOSE: closes[last],
        TOTAL_RETURN_PCT: close(((closes[last]! - closes[0]!) / closes[0]!) * 100),
        AVG_VOLUME: close(mean(volumes)),
      },
      {
        SYMBOL: 'BBB',
        COMPANY_NAME: 'Beta',
        FIRST_DATE: day(0),
        LAST_DATE: day(0),
        TRADING_DAYS: 1,
        FIRST_CLOSE: 5,
        LAST_CLOSE: 5,
        TOTAL_RETURN_PCT: 0,
        AVG_VOLUME: 100,
      },
    ]);
    // The latest day has only AAA: one mover, one volume leader, one sector.
    expect(
      await wh.query(
        'SELECT mover_type, mover_rank, symbol, price_change_pct FROM GOLD.vw_top_gainers_losers',
      ),
    ).toEqual([
      {
        MOVER_TYPE: lastPct > 0 ? 'GAINER' : 'LOSER',
        MOVER_RANK: 1,
        SYMBOL: 'AAA',
        PRICE_CHANGE_PCT: close(lastPct),
      },
    ]);
    expect(
      await wh.query('SELECT symbol, volume, volume_signal, volume_rank FROM GOLD.vw_volume_leaders'),
    ).toEqual([{ SYMBOL: 'AAA', VOLUME: volumes[last], VOLUME_SIGNAL: 'NORMAL', VOLUME_RANK: 1 }]);
    expect(
      await wh.query(
        'SELECT sector, traded_companies, avg_change_pct, total_volume FROM GOLD.vw_sector_analysis',
      ),
    ).toEqual([
      { SECTOR: 'Banks', TRADED_COMPANIES: 1, AVG_CHANGE_PCT: close(lastPct), TOTAL_VOLUME: volumes[last] },
    ]);
    // Market breadth: day 0 has both symbols and no previous close; later days count AAA's moves.
    const breadth = await wh.query<Record<string, number | string>>(
      'SELECT trade_date, traded_symbols, advancers, decliners, unchanged, total_volume FROM GOLD.vw_market_overview ORDER BY trade_date',
    );
    expect(breadth).toHaveLength(35);
    expect(breadth[0]).toEqual({
      TRADE_DATE: day(0),
      TRADED_SYMBOLS: 2,
      ADVANCERS: 0,
      DECLINERS: 0,
      UNCHANGED: 2,
      TOTAL_VOLUME: volumes[0]! + 100,
    });
    expect(breadth.slice(1).map((r) => [r.ADVANCERS, r.DECLINERS])).toEqual(
      closes.slice(1).map((c, i) => [c > closes[i]! ? 1 : 0, c < closes[i]! ? 1 : 0]),
    );
  });

  test('the staging models clean their sources: companies, sector and industry dimensions, financials, index membership, price history', async () => {
    await wh.upsert(
      TBL_COMPANY,
      ['SYMBOL', 'COMPANY_NAME', 'SECTOR', 'INDUSTRY', 'EXCHANGE'],
      [
        [' ddd ', ' Delta Telecom ', ' ', 'Telecom Services', 'EGX'],
        ['EEE', 'Epsilon', 'Banks', 'Commercial Banks', ''],
      ],
    );
    await wh.upsert(
      TBL_FINANCIAL,
      ['SYMBOL', 'PERIOD_END', 'STATEMENT', 'ITEM', 'VALUE', 'CURRENCY'],
      [['aaa', '2023-12-31', 'Income', 'Net_Income', 1.5e9, 'EGP']],
    );
    await wh.upsert(
      TBL_INDEX_MEMBERSHIP,
      ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT', 'COMPANY_NAME'],
      [['egx30', 'aaa', '2024-01-01', 12.5, 'Alpha']],
    );
    await buildAll();
    expect(
      await wh.query(
        "SELECT symbol, company_name, sector, industry, exchange FROM SILVER.stg_companies WHERE symbol IN ('DDD', 'EEE', 'CCC') ORDER BY symbol",
      ),
    ).toEqual([
      { SYMBOL: 'CCC', COMPANY_NAME: 'Gamma', SECTOR: 'Unknown', INDUSTRY: null, EXCHANGE: null },
      {
        SYMBOL: 'DDD',
        COMPANY_NAME: 'Delta Telecom',
        SECTOR: 'Unknown',
        INDUSTRY: 'Telecom Services',
        EXCHANGE: 'EGX',
      },
      {
        SYMBOL: 'EEE',
        COMPANY_NAME: 'Epsilon',
        SECTOR: 'Banks',
        INDUSTRY: 'Commercial Banks',
        EXCHANGE: null,
      },
    ]);
    // Sectors numbered alphabetically with their company counts; industries only where one is known.
    expect(
      await wh.query('SELECT sector_id, sector, company_count FROM SILVER.dim_sector ORDER BY sector_id'),
    ).toEqual([
      { SECTOR_ID: 1, SECTOR: 'Banks', COMPANY_COUNT: 3 },
      { SECTOR_ID: 2, SECTOR: 'Unknown', COMPANY_COUNT: 2 },
    ]);
    expect(
      await wh.query(
        'SELECT industry_id, industry, sector, company_count FROM SILVER.dim_industry ORDER BY industry_id',
      ),
    ).toEqual([
      { INDUSTRY_ID: 1, INDUSTRY: 'Commercial Banks', SECTOR: 'Banks', COMPANY_COUNT: 1 },
      { INDUSTRY_ID: 2, INDUSTRY: 'Telecom Services', SECTOR: 'Unknown', COMPANY_COUNT: 1 },
    ]);
    expect(
      await wh.query(
        'SELECT symbol, period_end, statement, item, item_value, currency FROM SILVER.stg_financials',
      ),
    ).toEqual([
      {
        SYMBOL: 'AAA',
        PERIOD_END: '2023-12-31',
        STATEMENT: 'income',
        ITEM: 'net_income',
        ITEM_VALUE: 1.5e9,
        CURRENCY: 'EGP',
      },
    ]);
    expect(
      await wh.query(
        'SELECT index_code, symbol, as_of_date, weight_pct, company_name FROM SILVER.stg_index_membership',
      ),
    ).toEqual([
      {
        INDEX_CODE: 'EGX30',
        SYMBOL: 'AAA',
        AS_OF_DATE: '2024-01-01',
        WEIGHT_PCT: 12.5,
        COMPANY_NAME: 'Alpha',
      },
    ]);
    // Price history: the daily facts with the company's name and sector, for charts.
    const history = await wh.query<Record<string, unknown>>(
      'SELECT symbol, company_name, sector, trade_date, close_price, ma_7 FROM GOLD.vw_price_history ORDER BY symbol, trade_date',
    );
    expect(history).toHaveLength(closes.length + 1);
    expect(history[6]).toEqual({
      SYMBOL: 'AAA',
      COMPANY_NAME: 'Alpha',
      SECTOR: 'Banks',
      TRADE_DATE: day(6),
      CLOSE_PRICE: closes[6],
      MA_7: expect.closeTo(closes.slice(0, 7).reduce((a, b) => a + b, 0) / 7, 9),
    });
    expect(history.at(-1)).toMatchObject({ SYMBOL: 'BBB', COMPANY_NAME: 'Beta', CLOSE_PRICE: 5 });
  });

  test('companies get their sector id and trading span; every declared test passes and is recorded', async () => {
    await buildAll();
    const companies = await wh.query(
      'SELECT symbol, sector, trading_days FROM GOLD.gold_dim_company ORDER BY symbol',
    );
    expect(companies).toEqual([
      { SYMBOL: 'AAA', SECTOR: 'Banks', TRADING_DAYS: 35 },
      { SYMBOL: 'BBB', SECTOR: 'Banks', TRADING_DAYS: 1 },
      { SYMBOL: 'CCC', SECTOR: 'Unknown', TRADING_DAYS: 0 },
    ]);
    // Business date 16 days after the newest bar: the warn-level freshness test flags it; and
    // Yahoo's closes of AAA's first 3 days are far from the broker export's: the vendor test warns.
    const later = { ...opts, businessDate: '2024-02-20' };
    const results = (await Promise.all(planRun(project).map((m) => testModel(wh, project, m, later)))).flat();
    expect(results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(results.filter((r) => r.status === 'warn').map((r) => [r.test, r.failingRows])).toEqual([
      ['freshness(trade_date,7d)', 1],
      ['vendor_closes_within_2_pct', 3],
    ]);
    const [stored] = await wh.query<{ N: number }>(
      "SELECT COUNT(*) AS N FROM META.TEST_RESULTS WHERE RUN_ID = 'test-run'",
    );
    expect(stored?.N).toBe(results.length);
  });

  test('write-audit-publish: a version that fails an error test is not published, and the old one stays', async () => {
    await buildAll();
    const [before] = await wh.query<{ N: number }>(
      'SELECT COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices',
    );
    // Break the input: a bar with high below low.
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
      ['AAA', day(40), 'egx_ar_export', 10, 5, 9, 7, 100, new Date()],
    ]);
    const staging = project.models.get('stg_stock_prices_unified')!;
    const err = await buildModel(wh, project, staging, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelAuditFailedError);
    expect((err as Error).message).toMatch(
      /model stg_stock_prices_unified not published: audit failed: high_not_below_low \(1 failing rows/,
    );
    const [after] = await wh.query<{ N: number }>(
      'SELECT COUNT(*) AS N FROM SILVER.stg_stock_prices_unified',
    );
    expect(after?.N).toBe(36); // 35 AAA + 1 BBB, without the broken day
    const [gold] = await wh.query<{ N: number }>(
      'SELECT COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices',
    );
    expect(gold?.N).toBe(before?.N);
    const [run] = await wh.query<{ STATUS: string }>(
      "SELECT STATUS FROM META.MODEL_RUNS WHERE MODEL_NAME = 'stg_stock_prices_unified'",
    );
    expect(run?.STATUS).toBe('audit_failed');
  });

  test('docs list every model with lineage and the latest build and test results, in the store and a folder', async () => {
    await buildAll();
    for (const m of planRun(project)) await testModel(wh, project, m, opts);
    const dir = mkdtempSync(join(tmpdir(), 'egx-docs-'));
    const store = new LocalObjectStore(join(dir, 'lake'));
    const out = await publishDocs(project, wh, { store, localDir: join(dir, 'docs') });
    expect(out.keys).toEqual(['docs/index.html', 'docs/manifest.json']);
    const manifest = JSON.parse(await getText(store, 'docs/manifest.json')) as DocsManifest;
    // The live models (refreshed by the market session) are documented too.
    expect(manifest.models.map((m) => m.name)).toEqual(
      planRun(project, [], { live: true }).map((m) => m.name),
    );
    expect(manifest.models.map((m) => m.name)).toContain('gold_fct_live_quotes');
    const facts = manifest.models.find((m) => m.name === 'gold_fct_stock_daily_prices')!;
    expect(facts.reads).toEqual(['stg_stock_prices_unified']);
    expect(facts.readBy).toContain('vw_price_history');
    expect(facts.lastBuild).toMatchObject({ status: 'published', rows: 36 });
    expect(facts.lastTests?.every((t) => t.status !== 'fail')).toBe(true);
    const html = readFileSync(join(dir, 'docs', 'index.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('id="gold_fct_stock_daily_prices"');
    expect(html).not.toMatch(/<script/);
  });

  test('the docs describe every column of every model, as the warehouse publishes them', async () => {
    await buildAll();
    // Every column each published relation has, not only those its YAML names.
    expect(await undescribedColumns(project, wh)).toEqual([]);
    const manifest = await buildDocsManifest(project, wh);
    const columns = (m: string) => manifest.models.find((x) => x.name === m)!.columns.map((c) => c.name);
    const [published] = await wh.query<{ N: number }>(
      "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'GOLD' AND TABLE_NAME = 'vw_top_gainers_losers'",
    );
    expect(columns('vw_top_gainers_losers')).toHaveLength(published!.N);
    expect(manifest.models.every((m) => m.columns.every((c) => c.description))).toBe(true);
    // A column added to a model without a description is named.
    await wh.execute(
      'CREATE OR REPLACE VIEW GOLD.vw_market_overview AS SELECT 1 AS trade_date, 2 AS new_column',
    );
    expect(await undescribedColumns(project, wh)).toEqual(['vw_market_overview.new_column']);
  });

  test('an incremental run appends new days and equals a full refresh of the same data', async () => {
    await buildAll();
    const facts = project.models.get('gold_fct_stock_daily_prices')!;
    // Three new days for AAA and one for BBB arrive.
    await wh.upsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      [35, 36, 37]
        .map((i) => ['AAA', day(i), 'egx_ar_export', 25, 26, 24, 25 + i / 10, 1000, new Date()])
        .concat([['BBB', day(36), 'yahoo', 5, 6, 4, 5.5, 100, new Date()]]),
    );
    await buildModel(wh, project, project.models.get('stg_stock_prices_unified')!, opts);
    const inc = await buildModel(wh, project, facts, opts);
    expect(inc.rows).toBe(4);
    const all = 'SELECT * FROM GOLD.gold_fct_stock_daily_prices ORDER BY symbol, trade_date';
    const incremental = await wh.query(all);
    await buildModel(wh, project, facts, { ...opts, fullRefresh: true });
    const full = await wh.query(all);
    expect(incremental).toHaveLength(40);
    expect(incremental).toEqual(full);
  });

  test('an incremental run picks up a corrected old bar, rebuilds the days after it, and equals a full refresh; with nothing new it does nothing', async () => {
    await buildAll();
    const stg = project.models.get('stg_stock_prices_unified')!;
    const facts = project.models.get('gold_fct_stock_daily_prices')!;
    const stats = project.models.get('stg_market_stats')!;
    const runs = async () => [
      await buildModel(wh, project, stg, opts),
      await buildModel(wh, project, facts, opts),
      await buildModel(wh, project, stats, opts),
    ];

    // Nothing loaded since the last build: both models are left as they are.
    expect((await runs()).map((r) => r.rows)).toEqual([0, 0, 0]);
    const [unchanged] = await wh.query<{ STATUS: string; DETAIL: string }>(
      "SELECT STATUS, DETAIL FROM META.MODEL_RUNS WHERE MODEL_NAME = 'gold_fct_stock_daily_prices' AND RUN_ID = 'test-run'",
    );
    expect(unchanged).toEqual({ STATUS: 'unchanged', DETAIL: 'no input loaded since the last build' });

    // A vendor re-issues AAA's bar of day 10 with another close: the old days are merged again.
    await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, [
      ['AAA', day(10), 'egx_ar_export', 25, 40, 20, 39, 1000, new Date()],
    ]);
    const [s, g] = await runs();
    // Both rebuild day 10 and every later day of every symbol, and no earlier day.
    const [later] = await wh.query<{ N: number }>(
      `SELECT COUNT(*) AS N FROM SILVER.stg_stock_prices_unified WHERE trade_date >= '${day(10)}'`,
    );
    expect(later!.N).toBeLessThan(40);
    expect(s!.rows).toBe(later!.N);
    expect(g!.rows).toBe(later!.N);
    const all = 'SELECT * FROM GOLD.gold_fct_stock_daily_prices ORDER BY symbol, trade_date';
    const incremental = await wh.query<{ SYMBOL: string; TRADE_DATE: string; CLOSE_PRICE: number }>(all);
    expect(incremental.find((r) => r.SYMBOL === 'AAA' && r.TRADE_DATE === day(10))?.CLOSE_PRICE).toBe(39);
    await buildModel(wh, project, stg, { ...opts, fullRefresh: true });
    const statsSql = 'SELECT * FROM SILVER.stg_market_stats ORDER BY trade_date';
    const statsIncremental = await wh.query(statsSql);
    await buildModel(wh, project, facts, { ...opts, fullRefresh: true });
    await buildModel(wh, project, stats, { ...opts, fullRefresh: true });
    expect(incremental).toEqual(await wh.query(all));
    expect(statsIncremental).toEqual(await wh.query(statsSql));
  });

  test('the error tests a build already ran on the version it published are not run again by the test step', async () => {
    await buildAll();
    const queries: string[] = [];
    const counting = new Proxy(wh, {
      get(target, key) {
        if (key === 'query')
          return (sql: string, params?: never) => (queries.push(sql), target.query(sql, params));
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const view = project.models.get('vw_price_history')!;
    const built = await buildModel(wh, project, view, opts);
    expect(built.audited?.length).toBeGreaterThan(0);
    const reused = await testModel(counting, project, view, { ...opts, audited: built.audited });
    const afterBuild = queries.splice(0);
    const all = await testModel(counting, project, view, opts);
    // The same results, in the same order, without evaluating again the tests the audit ran.
    expect(reused).toEqual(all);
    const evaluated = (qs: string[], t: CompiledTest) =>
      qs.some((q) =>
        q.includes(
          t.failingWhere ? `WHEN ${t.failingWhere} THEN` : bindTest(t, relationOf(view), opts.businessDate),
        ),
      );
    const compiled = compileTests(project, view);
    const audited = new Set(built.audited!.map((r) => r.test));
    for (const t of compiled) {
      expect(evaluated(queries, t), t.name).toBe(true);
      expect(evaluated(afterBuild, t), t.name).toBe(!audited.has(t.name));
    }
    // An incremental build audited only its new rows: its tests all run on the published table.
    const facts = await buildModel(wh, project, project.models.get('gold_fct_stock_daily_prices')!, opts);
    expect(facts.audited).toBeUndefined();
  });

  test('index performance: weight-averaged bars of the members in effect, with change and member count', async () => {
    await wh.upsert(
      TBL_INDEX_MEMBERSHIP,
      ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT'],
      [
        ['EGX2', 'AAA', day(0), 75],
        ['EGX2', 'BBB', day(0), 25],
      ],
    );
    await buildAll();
    const rows = await wh.query<{
      TRADE_DATE: string;
      CONSTITUENT_COUNT: number;
      INDEX_CLOSE: number;
      INDEX_CHANGE: number | null;
    }>(
      "SELECT trade_date, constituent_count, index_close, index_change FROM GOLD.gold_fct_index_performance WHERE index_code = 'EGX2' ORDER BY trade_date LIMIT 2",
    );
    // Day 0: both traded (AAA weight 75, BBB 25); day 1: only AAA.
    expect(rows[0]).toMatchObject({ TRADE_DATE: day(0), CONSTITUENT_COUNT: 2 });
    expect(rows[0]?.INDEX_CLOSE).toBeCloseTo(0.75 * closes[0]! + 0.25 * 5, 9);
    expect(rows[0]?.INDEX_CHANGE).toBeNull();
    expect(rows[1]).toMatchObject({ TRADE_DATE: day(1), CONSTITUENT_COUNT: 1 });
    expect(rows[1]?.INDEX_CHANGE).toBeCloseTo(closes[1]! - (0.75 * closes[0]! + 0.25 * 5), 9);
  });
});
