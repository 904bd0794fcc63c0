/**
 * The risk, vendor-comparison, anomaly and company-history marts on committed fixtures
 * (tests/fixtures/marts), against expected values computed here in plain TypeScript.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { findDayAnomalies } from '../../lib/quality/anomalies.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, planRun, type Project } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import {
  DAILY_BAR_COLUMNS,
  TBL_COMPANY,
  TBL_INDEX,
  TBL_STOCK_PRICE,
  bootstrapWarehouse,
} from '../../lib/warehouse/schema.js';

const TRANSFORMS = fileURLToPath(new URL('../../transforms', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/marts/', import.meta.url));

function readCsv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(`${FIXTURES}${file}`, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, v])));
}
interface Bar {
  symbol: string;
  date: string;
  source: string;
  close: number;
  volume: number;
}
const fixtureBars: Bar[] = readCsv('prices.csv').map((r) => ({
  symbol: r.symbol!,
  date: r.trade_date!,
  source: r.data_source!,
  close: Number(r.close_price),
  volume: Number(r.volume),
}));
const levels = readCsv('index.csv');

let wh: DuckDbWarehouse;
let project: Project;
const opts = { runId: 'marts', businessDate: '2025-02-01' };

const priceRow = (b: Bar, at: Date) => [
  b.symbol,
  b.date,
  b.source,
  b.close,
  b.close,
  b.close,
  b.close,
  b.volume,
  at,
];

async function loadPrices(bars: Bar[], at = new Date('2025-01-01T00:00:00Z')) {
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
    bars.map((b) => priceRow(b, at)),
  );
}

async function loadIndex() {
  await wh.upsert(
    TBL_INDEX,
    ['INDEX_CODE', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE', 'LOADED_AT'],
    levels.map((l) => [l.index_code!, l.trade_date!, l.data_source!, Number(l.close_price), new Date()]),
  );
}

async function buildAll(o: { fullRefresh?: boolean; businessDate?: string } = {}) {
  for (const m of planRun(project)) await buildModel(wh, project, m, { ...opts, ...o });
}

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  project = await loadProject(TRANSFORMS);
});
afterEach(async () => wh.close());

// --- plain references ---------------------------------------------------------------------------

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleSd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** Linear interpolation between order statistics (numpy's default percentile, R type 7). */
function quantile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[lo + 1] ?? s[lo]!) - s[lo]!);
}

/** The unified bars: the broker export wins where several vendors report a day. */
const unified = (symbol: string) =>
  fixtureBars.filter((b) => b.symbol === symbol && b.source === 'egx_ar_export');

/** EGX30's official close per day: EGX's own, else Investing's. */
const egx30 = new Map<string, number>();
for (const source of ['investing', 'egx'])
  for (const l of levels) if (l.data_source === source) egx30.set(l.trade_date!, Number(l.close_price));

interface RiskRow {
  date: string;
  vol20: number | null;
  vol60: number | null;
  var95: number | null;
  beta60: number | null;
  corr60: number | null;
  beta250: number | null;
  corr250: number | null;
  drawdown: number;
  maxDrawdown: number;
}

function riskReference(symbol: string): RiskRow[] {
  const bars = unified(symbol);
  const r = bars.map((b, i) => {
    const p = bars[i - 1];
    const ix = p && egx30.has(b.date) && egx30.has(p.date) ? egx30.get(b.date)! / egx30.get(p.date)! : null;
    return {
      log: p ? Math.log(b.close / p.close) : null,
      simple: p ? b.close / p.close - 1 : null,
      index: ix === null ? null : Math.log(ix),
    };
  });
  /** The last n rows' values, or null unless all n are there. */
  const last = <T>(i: number, n: number, f: (k: number) => T | null): T[] | null => {
    if (i - n + 1 < 0) return null;
    const xs = [...Array(n).keys()].map((k) => f(i - n + 1 + k));
    return xs.every((x) => x !== null) ? xs : null;
  };
  const pairStats = (i: number, n: number) => {
    const pairs = last(i, n, (k) =>
      r[k]!.log !== null && r[k]!.index !== null ? [r[k]!.index, r[k]!.log] : null,
    );
    if (!pairs) return { beta: null, corr: null };
    const mx = mean(pairs.map((p) => p[0]!));
    const my = mean(pairs.map((p) => p[1]!));
    const cov = pairs.reduce((a, [x, y]) => a + (x! - mx) * (y! - my), 0);
    const vx = pairs.reduce((a, [x]) => a + (x! - mx) ** 2, 0);
    const vy = pairs.reduce((a, [, y]) => a + (y! - my) ** 2, 0);
    return { beta: cov / vx, corr: cov / Math.sqrt(vx * vy) };
  };
  let peak = 0;
  let maxDrawdown = 0;
  return bars.map((b, i) => {
    peak = Math.max(peak, b.close);
    const drawdown = b.close / peak - 1;
    maxDrawdown = Math.min(maxDrawdown, drawdown);
    const r20 = last(i, 20, (k) => r[k]!.log);
    const r60 = last(i, 60, (k) => r[k]!.log);
    const s250 = last(i, 250, (k) => r[k]!.simple);
    const p60 = pairStats(i, 60);
    const p250 = pairStats(i, 250);
    return {
      date: b.date,
      vol20: r20 && sampleSd(r20) * Math.sqrt(252),
      vol60: r60 && sampleSd(r60) * Math.sqrt(252),
      var95: s250 && -quantile(s250, 0.05),
      beta60: p60.beta,
      corr60: p60.corr,
      beta250: p250.beta,
      corr250: p250.corr,
      drawdown,
      maxDrawdown,
    };
  });
}

interface AnomalyRow {
  date: string;
  z: number | null;
  ratio: number | null;
}

function anomalyReference(symbol: string): AnomalyRow[] {
  const bars = unified(symbol);
  const ret = bars.map((b, i) => (i === 0 ? null : b.close / bars[i - 1]!.close - 1));
  return bars.map((b, i) => {
    const prev = i >= 61 ? (ret.slice(i - 60, i) as number[]) : null;
    const sd = prev && sampleSd(prev);
    const vols = i >= 20 ? bars.slice(i - 20, i).map((x) => x.volume) : null;
    const median = vols && quantile(vols, 0.5);
    return {
      date: b.date,
      z: prev && sd ? (ret[i]! - mean(prev)) / sd : null,
      ratio: median ? b.volume / median : null,
    };
  });
}

/** Expects a number within 1e-9 of the reference, or null where the reference has none. */
function expectClose(actual: unknown, expected: number | null, what: string) {
  if (expected === null) expect(actual, what).toBeNull();
  else {
    expect(typeof actual, what).toBe('number');
    expect(Math.abs((actual as number) - expected), what).toBeLessThan(1e-9);
  }
}

// --- tests ---------------------------------------------------------------------------------------

describe('risk mart', () => {
  test('volatility, VaR, beta and correlation to EGX30 and drawdown match a plain reference on every day, null until their windows are full', async () => {
    await loadPrices(fixtureBars);
    await loadIndex();
    await buildAll();
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD']) {
      const rows = await wh.query<Record<string, unknown>>(
        `SELECT trade_date, volatility_20d, volatility_60d, var_95_1d, beta_60d, correlation_60d, beta_250d, correlation_250d, drawdown, max_drawdown FROM GOLD.gold_fct_stock_risk WHERE symbol = '${symbol}' ORDER BY trade_date`,
      );
      const ref = riskReference(symbol);
      expect(rows.map((r) => r.TRADE_DATE)).toEqual(ref.map((r) => r.date));
      rows.forEach((row, i) => {
        const e = ref[i]!;
        const at = `${symbol} ${e.date}`;
        expectClose(row.VOLATILITY_20D, e.vol20, `${at} volatility_20d`);
        expectClose(row.VOLATILITY_60D, e.vol60, `${at} volatility_60d`);
        expectClose(row.VAR_95_1D, e.var95, `${at} var_95_1d`);
        expectClose(row.BETA_60D, e.beta60, `${at} beta_60d`);
        expectClose(row.CORRELATION_60D, e.corr60, `${at} correlation_60d`);
        expectClose(row.BETA_250D, e.beta250, `${at} beta_250d`);
        expectClose(row.CORRELATION_250D, e.corr250, `${at} correlation_250d`);
        expectClose(row.DRAWDOWN, e.drawdown, `${at} drawdown`);
        expectClose(row.MAX_DRAWDOWN, e.maxDrawdown, `${at} max_drawdown`);
      });
    }
    // The fixture exercises every figure: AAA has all of them late on, with the beta it was made
    // with; the missing EGX30 close of session 30 empties the 60-day beta until session 91.
    const aaa = riskReference('AAA');
    expect(aaa[299]!.beta250).toBeGreaterThan(1);
    expect(aaa[299]!.corr60).toBeGreaterThan(0.5);
    expect(aaa[299]!.var95).toBeGreaterThan(0);
    expect(aaa.slice(30, 91).every((r) => r.beta60 === null)).toBe(true);
    expect(aaa[91]!.beta60).not.toBeNull();
    expect(aaa[280]!.beta250).toBeNull();
    expect(aaa[281]!.beta250).not.toBeNull();
    expect(riskReference('CCC').every((r) => r.var95 === null && r.vol60 === null)).toBe(true);
  });

  test('incremental runs (new days with a corrected old bar, then new days long after the peak) equal a full refresh', async () => {
    const session = (i: number) => unified('AAA')[i]!.date;
    const risk = project.models.get('gold_fct_stock_risk')!;
    const anomalies = project.models.get('gold_fct_stock_anomalies')!;
    const comparison = project.models.get('gold_fct_vendor_price_comparison')!;
    const incremental = async () => {
      await buildModel(wh, project, project.models.get('stg_stock_prices_unified')!, opts);
      const built = await buildModel(wh, project, risk, opts);
      await buildModel(wh, project, anomalies, opts);
      await buildModel(wh, project, comparison, opts);
      return built.rows;
    };
    await loadPrices(fixtureBars.filter((b) => b.date < session(260)));
    await loadIndex();
    await buildAll();
    // Sessions 260-289 arrive with a corrected bar of session 180: everything from there is rebuilt.
    const corrected = unified('AAA')[180]!;
    await loadPrices(
      [
        ...fixtureBars.filter((b) => b.date >= session(260) && b.date < session(290)),
        { ...corrected, close: corrected.close * 1.1 },
      ],
      new Date('2025-01-02T00:00:00Z'),
    );
    const [fromCorrected] = await wh.query<{ N: number }>(
      `SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE WHERE data_source = 'egx_ar_export' AND trade_date >= '${corrected.date}'`,
    );
    expect(await incremental()).toBe(fromCorrected!.N);
    // Sessions 290-299: the builds read 251 bars back (from session 39), while DDD's peak (session 5)
    // and deepest drawdown (session 21) lie before them.
    await loadPrices(
      fixtureBars.filter((b) => b.date >= session(290)),
      new Date('2025-01-03T00:00:00Z'),
    );
    expect(await incremental()).toBe(
      fixtureBars.filter((b) => b.date >= session(290) && b.source === 'egx_ar_export').length,
    );
    const read = (m: string) =>
      wh.query<Record<string, unknown>>(`SELECT * FROM GOLD.${m} ORDER BY symbol, trade_date`);
    const after = [await read(risk.name), await read(anomalies.name), await read(comparison.name)];
    const ddd = after[0]!.filter((r) => r.SYMBOL === 'DDD').at(-1)!;
    expect(ddd.MAX_DRAWDOWN).toBeCloseTo(Math.min(...riskReference('DDD').map((r) => r.drawdown)), 12);
    expect(ddd.MAX_DRAWDOWN).toBeLessThan(-0.3);
    for (const m of [risk, anomalies, comparison])
      await buildModel(wh, project, m, { ...opts, fullRefresh: true });
    const full = [await read(risk.name), await read(anomalies.name), await read(comparison.name)];
    expect(after[0]).toHaveLength(fixtureBars.filter((b) => b.source === 'egx_ar_export').length);
    after.forEach((rows, t) => {
      expect(rows).toHaveLength(full[t]!.length);
      rows.forEach((row, i) => {
        for (const [k, v] of Object.entries(row)) {
          const f = full[t]![i]![k];
          if (typeof v === 'number' && typeof f === 'number') expect(Math.abs(v - f), k).toBeLessThan(1e-12);
          else expect(v, `${String(row.SYMBOL)} ${String(row.TRADE_DATE)} ${k}`).toEqual(f);
        }
      });
    });
  });
});

describe('risk mart drawdown over several earlier years', () => {
  test('an incremental build reads the peak and deepest drawdown of years of earlier bars, across and within years, as a full refresh does', async () => {
    // Weekdays from 2019 to mid-2023; each symbol's path puts its deepest drawdown somewhere else.
    const dates: string[] = [];
    for (let t = Date.UTC(2019, 0, 1); t < Date.UTC(2023, 6, 1); t += 86_400_000) {
      const day = new Date(t).getUTCDay();
      if (day !== 0 && day !== 6) dates.push(new Date(t).toISOString().slice(0, 10));
    }
    const path = (symbol: string, d: string) => {
      const y = Number(d.slice(0, 4)) + (Number(d.slice(5, 7)) - 1) / 12;
      const wobble = 1 + 0.02 * Math.sin(y * 40);
      if (symbol === 'ACROSS') {
        // peak in mid-2019, then a fall through the new year: the low in mid-2020 is far deeper
        // against that peak (-60%) than against any peak within 2019 or 2020 (-43% at most)
        if (y < 2019.5) return (10 + 80 * (y - 2019)) * wobble;
        if (y < 2020.5) return (50 - 30 * (y - 2019.5)) * wobble;
        return Math.min(45, 20 + 10 * (y - 2020.5)) * wobble;
      }
      // WITHIN: calm until 2021, then inside 2021 a rise to a new peak (80), a fall to 16 (-80%
      // against it, but only -48% against the earlier years' peak) and a recovery to 70
      if (y < 2021) return 30 * wobble;
      if (y < 2021.25) return (30 + 200 * (y - 2021)) * wobble;
      if (y < 2021.75) return (80 - 128 * (y - 2021.25)) * wobble;
      if (y < 2022) return (16 + 216 * (y - 2021.75)) * wobble;
      return 70 * wobble;
    };
    const bars = ['ACROSS', 'WITHIN'].flatMap((symbol) =>
      dates.map((date, i) => ({
        symbol,
        date,
        source: 'egx_ar_export',
        close: Math.round(path(symbol, date) * 100) / 100,
        volume: 1000 + i,
      })),
    );
    const models = ['stg_stock_prices_unified', 'stg_index_levels', 'gold_fct_stock_risk'].map((n) =>
      project.models.get(n)!,
    );
    const build = async (o: { fullRefresh?: boolean } = {}) => {
      for (const m of models) await buildModel(wh, project, m, { ...opts, ...o });
    };
    const lastTen = dates.slice(-10);
    await loadPrices(bars.filter((b) => b.date < lastTen[0]!));
    await build();
    await loadPrices(
      bars.filter((b) => b.date >= lastTen[0]!),
      new Date('2025-01-02T00:00:00Z'),
    );
    await build();
    const read = () =>
      wh.query<{ SYMBOL: string; MAX_DRAWDOWN: number }>(
        'SELECT symbol, max_drawdown FROM GOLD.gold_fct_stock_risk ORDER BY symbol, trade_date',
      );
    const incremental = await read();
    await build({ fullRefresh: true });
    const full = await read();
    expect(incremental).toHaveLength(full.length);
    incremental.forEach((r, i) =>
      expect(Math.abs(r.MAX_DRAWDOWN - full[i]!.MAX_DRAWDOWN)).toBeLessThan(1e-12),
    );
    for (const symbol of ['ACROSS', 'WITHIN']) {
      let peak = 0;
      let deepest = 0;
      for (const b of bars.filter((x) => x.symbol === symbol)) {
        peak = Math.max(peak, b.close);
        deepest = Math.min(deepest, b.close / peak - 1);
      }
      expect(incremental.filter((r) => r.SYMBOL === symbol).at(-1)!.MAX_DRAWDOWN).toBeCloseTo(deepest, 12);
      expect(deepest).toBeLessThan(-0.5);
    }
  });
});

describe('vendor comparison', () => {
  test('days with two or more vendors: the close per vendor and the largest relative difference; a warn test and the view flag the one above 2%', async () => {
    await loadPrices(fixtureBars);
    await buildAll();
    const rows = await wh.query<Record<string, unknown>>(
      'SELECT symbol, trade_date, source_count, close_egx_ar_export, close_investing, close_yahoo, close_marketwatch, min_close_source, max_close_source, max_relative_diff FROM GOLD.gold_fct_vendor_price_comparison ORDER BY symbol, trade_date',
    );
    const days = [...new Set(fixtureBars.filter((b) => b.source === 'yahoo').map((b) => b.date))].sort();
    expect(days).toHaveLength(5);
    const close = (date: string, source: string) =>
      fixtureBars.find((b) => b.symbol === 'AAA' && b.date === date && b.source === source)!.close;
    expect(rows).toEqual(
      days.map((d) => ({
        SYMBOL: 'AAA',
        TRADE_DATE: d,
        SOURCE_COUNT: 3,
        CLOSE_EGX_AR_EXPORT: close(d, 'egx_ar_export'),
        CLOSE_INVESTING: close(d, 'investing'),
        CLOSE_YAHOO: close(d, 'yahoo'),
        CLOSE_MARKETWATCH: null,
        MIN_CLOSE_SOURCE: expect.stringMatching(/^(egx_ar_export|investing)$/),
        MAX_CLOSE_SOURCE: 'yahoo',
        MAX_RELATIVE_DIFF: expect.closeTo(
          (close(d, 'yahoo') - close(d, 'egx_ar_export')) / close(d, 'egx_ar_export'),
          12,
        ),
      })),
    );
    // Yahoo is about 0.5% off on four days and 3% off on one: the warn test counts that one.
    const results = await testModel(
      wh,
      project,
      project.models.get('gold_fct_vendor_price_comparison')!,
      opts,
    );
    expect(results.filter((r) => r.status !== 'pass').map((r) => [r.test, r.status, r.failingRows])).toEqual([
      ['vendor_closes_within_2_pct', 'warn', 1],
    ]);
    const worst = days[2]!;
    expect(await wh.query('SELECT * FROM GOLD.vw_vendor_disagreements')).toEqual([
      {
        DISAGREEMENT_RANK: 1,
        SYMBOL: 'AAA',
        TRADE_DATE: worst,
        SOURCE_COUNT: 3,
        MIN_CLOSE_SOURCE: expect.stringMatching(/^(egx_ar_export|investing)$/),
        MIN_CLOSE: close(worst, 'egx_ar_export'),
        MAX_CLOSE_SOURCE: 'yahoo',
        MAX_CLOSE: close(worst, 'yahoo'),
        MAX_RELATIVE_DIFF_PCT: expect.closeTo(
          ((close(worst, 'yahoo') - close(worst, 'egx_ar_export')) / close(worst, 'egx_ar_export')) * 100,
          10,
        ),
      },
    ]);
  });
});

describe('anomaly mart', () => {
  test('return z-scores against the previous 60 days and volume against the previous 20 days’ median match a plain reference; |z| >= 3 and 3x the median are flagged', async () => {
    await loadPrices(fixtureBars);
    await buildAll();
    const flagged: string[] = [];
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD']) {
      const rows = await wh.query<Record<string, unknown>>(
        `SELECT trade_date, return_zscore, volume_ratio, is_return_anomaly, is_volume_anomaly, is_anomaly FROM GOLD.gold_fct_stock_anomalies WHERE symbol = '${symbol}' ORDER BY trade_date`,
      );
      const ref = anomalyReference(symbol);
      expect(rows).toHaveLength(ref.length);
      rows.forEach((row, i) => {
        const e = ref[i]!;
        expectClose(row.RETURN_ZSCORE, e.z, `${symbol} ${e.date} return_zscore`);
        expectClose(row.VOLUME_RATIO, e.ratio, `${symbol} ${e.date} volume_ratio`);
        const r = e.z !== null && Math.abs(e.z) >= 3;
        const v = e.ratio !== null && e.ratio >= 3;
        expect([e.date, row.IS_RETURN_ANOMALY, row.IS_VOLUME_ANOMALY, row.IS_ANOMALY]).toEqual([
          e.date,
          r,
          v,
          r || v,
        ]);
        if (r) flagged.push(`${symbol} ${e.date} return`);
        if (v) flagged.push(`${symbol} ${e.date} volume`);
      });
    }
    // The fixture's +12% day (AAA session 280) and volume spike (session 290) are flagged.
    const aaa = unified('AAA');
    expect(flagged).toEqual(
      expect.arrayContaining([`AAA ${aaa[280]!.date} return`, `AAA ${aaa[290]!.date} volume`]),
    );
    expect(flagged.length).toBeLessThan(6);
  });
});

describe("the daily batch's anomalies", () => {
  test('names the tracked symbols’ anomalies on the newest trading day up to the business date, and says when there are none', async () => {
    const aaa = unified('AAA');
    const spike = aaa[290]!.date;
    expect((await findDayAnomalies(wh, { businessDate: spike, symbols: ['AAA'] })).summary).toBe(
      'no anomalies among tracked symbols (gold_fct_stock_anomalies is not built yet)',
    );
    await loadPrices(fixtureBars);
    await buildAll();
    const day = await findDayAnomalies(wh, { businessDate: spike, symbols: ['AAA', 'BBB'] });
    const ref = anomalyReference('AAA')[290]!;
    expect(day).toEqual({
      tradeDate: spike,
      anomalies: [
        {
          symbol: 'AAA',
          kinds: ['volume'],
          returnPct: expect.closeTo((aaa[290]!.close / aaa[289]!.close - 1) * 100, 9),
          returnZscore: expect.closeTo(ref.z!, 9),
          volumeRatio: expect.closeTo(ref.ratio!, 9),
          summary: `AAA: volume ${ref.ratio!.toFixed(1)}x its 20-day median`,
        },
      ],
      summary: `anomalies on ${spike}: AAA: volume ${ref.ratio!.toFixed(1)}x its 20-day median`,
    });
    // The business date after a weekend: the newest trading day before it; BBB alone has nothing that day.
    const later = new Date(Date.parse(`${spike}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect((await findDayAnomalies(wh, { businessDate: later, symbols: ['AAA'] })).tradeDate).toBe(
      aaa.find((b) => b.date <= later && b.date > spike)?.date ?? spike,
    );
    const jump = aaa[280]!.date;
    const bbbOnly = await findDayAnomalies(wh, { businessDate: jump, symbols: ['BBB'] });
    expect(bbbOnly.anomalies).toEqual([]);
    expect(bbbOnly.summary).toMatch(/^no anomalies among tracked symbols on \d{4}-\d{2}-\d{2}$/);
    expect((await findDayAnomalies(wh, { businessDate: jump, symbols: ['AAA'] })).summary).toMatch(
      new RegExp(`^anomalies on ${jump}: AAA: return \\+12\\.0\\d% \\(z \\d+\\.\\d against 60 days\\)$`),
    );
  });
});

describe('company history (SCD type 2)', () => {
  const history = () =>
    wh.query(
      'SELECT symbol, company_name, sector, industry, valid_from, valid_to, is_current FROM GOLD.gold_dim_company_history ORDER BY symbol, valid_from',
    );
  const companies = (rows: (string | null)[][]) =>
    wh.upsert(TBL_COMPANY, ['SYMBOL', 'COMPANY_NAME', 'SECTOR', 'INDUSTRY'], rows);

  test('changes of name, sector and industry across loads are kept with valid_from and valid_to, through a full refresh; gold_dim_company stays the current view', async () => {
    await companies([
      ['AAA', 'Alpha Bank', 'Banks', 'Commercial Banks'],
      ['BBB', 'Beta Telecom', 'Telecom', null],
    ]);
    await buildAll({ businessDate: '2025-01-05' });
    // Second load: AAA renamed, BBB moves sector and gains an industry, CCC listed.
    await companies([
      ['AAA', 'Alpha Bank Egypt', 'Banks', 'Commercial Banks'],
      ['BBB', 'Beta Telecom', 'Technology', 'IT Services'],
      ['CCC', 'Gamma', 'Real Estate', null],
    ]);
    await buildAll({ businessDate: '2025-01-06' });
    const expected = [
      {
        SYMBOL: 'AAA',
        COMPANY_NAME: 'Alpha Bank',
        SECTOR: 'Banks',
        INDUSTRY: 'Commercial Banks',
        VALID_FROM: '2025-01-05',
        VALID_TO: '2025-01-06',
        IS_CURRENT: false,
      },
      {
        SYMBOL: 'AAA',
        COMPANY_NAME: 'Alpha Bank Egypt',
        SECTOR: 'Banks',
        INDUSTRY: 'Commercial Banks',
        VALID_FROM: '2025-01-06',
        VALID_TO: null,
        IS_CURRENT: true,
      },
      {
        SYMBOL: 'BBB',
        COMPANY_NAME: 'Beta Telecom',
        SECTOR: 'Telecom',
        INDUSTRY: null,
        VALID_FROM: '2025-01-05',
        VALID_TO: '2025-01-06',
        IS_CURRENT: false,
      },
      {
        SYMBOL: 'BBB',
        COMPANY_NAME: 'Beta Telecom',
        SECTOR: 'Technology',
        INDUSTRY: 'IT Services',
        VALID_FROM: '2025-01-06',
        VALID_TO: null,
        IS_CURRENT: true,
      },
      {
        SYMBOL: 'CCC',
        COMPANY_NAME: 'Gamma',
        SECTOR: 'Real Estate',
        INDUSTRY: null,
        VALID_FROM: '2025-01-06',
        VALID_TO: null,
        IS_CURRENT: true,
      },
    ];
    expect(await history()).toEqual(expected);
    // A full refresh (weekly maintenance runs one) rebuilds every other model from its inputs; the
    // history has no input to be rebuilt from, and is kept.
    await buildAll({ businessDate: '2025-01-07', fullRefresh: true });
    expect(await history()).toEqual(expected);
    const results = (await Promise.all(planRun(project).map((m) => testModel(wh, project, m, opts)))).flat();
    expect(results.filter((r) => r.model === 'gold_dim_company_history' && r.status !== 'pass')).toEqual([]);
    expect(
      await wh.query('SELECT symbol, company_name, sector FROM GOLD.gold_dim_company ORDER BY symbol'),
    ).toEqual([
      { SYMBOL: 'AAA', COMPANY_NAME: 'Alpha Bank Egypt', SECTOR: 'Banks' },
      { SYMBOL: 'BBB', COMPANY_NAME: 'Beta Telecom', SECTOR: 'Technology' },
      { SYMBOL: 'CCC', COMPANY_NAME: 'Gamma', SECTOR: 'Real Estate' },
    ]);
  });

  test('a second change on the same business date replaces that day’s version; a rerun of an earlier date does not open a version before the current one', async () => {
    await companies([['AAA', 'Alpha', 'Banks', null]]);
    await buildAll({ businessDate: '2025-01-05' });
    await companies([['AAA', 'Alpha Typo', 'Banks', null]]);
    await buildAll({ businessDate: '2025-01-06' });
    await companies([['AAA', 'Alpha Bank', 'Banks', null]]);
    await buildAll({ businessDate: '2025-01-06' });
    const versions = () =>
      wh.query(
        'SELECT company_name, valid_from, valid_to FROM GOLD.gold_dim_company_history ORDER BY valid_from',
      );
    expect(await versions()).toEqual([
      { COMPANY_NAME: 'Alpha', VALID_FROM: '2025-01-05', VALID_TO: '2025-01-06' },
      { COMPANY_NAME: 'Alpha Bank', VALID_FROM: '2025-01-06', VALID_TO: null },
    ]);
    // A rerun for 2025-01-05 after another change: the change takes effect on the open version's day.
    await companies([['AAA', 'Alpha Bank SAE', 'Banks', null]]);
    await buildAll({ businessDate: '2025-01-05' });
    expect(await versions()).toEqual([
      { COMPANY_NAME: 'Alpha', VALID_FROM: '2025-01-05', VALID_TO: '2025-01-06' },
      { COMPANY_NAME: 'Alpha Bank SAE', VALID_FROM: '2025-01-06', VALID_TO: null },
    ]);
    // Nothing changed: the history is as it was.
    await buildAll({ businessDate: '2025-01-08' });
    expect(await versions()).toHaveLength(2);
  });
});
