/**
 * Checks the daily facts' indicators against TA-Lib on real EGX bars. Loads every daily price file
 * under `<data>/daily` with the pipeline's loader into a fresh DuckDB file, holding back the last
 * sessions; builds the unified prices and the daily facts; adds the held-back sessions and builds
 * incrementally; re-issues one symbol's bar from three years back (a vendor correction) and builds
 * incrementally again; then builds a full refresh. TA-Lib's values for the same closes come from
 * its Python wrapper (bench/talib.ts). Prints, per indicator, the largest difference from TA-Lib
 * after each symbol's first 250 bars (and over all bars) for the full and both incremental builds,
 * and the largest difference between the incremental builds and the full refresh. Last line: one
 * JSON object. Needs Python 3 (TA-Lib is installed into the devstack folder once).
 *   npm run check:indicators [-- --data ../shared/data/egx --held-back 5 --keep]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listCsvKeys, loadFiles } from '../lib/ingest/load-many.js';
import { summarize } from '../lib/ingest/load-summary.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { buildModel } from '../lib/transforms/build.js';
import { loadProject } from '../lib/transforms/project.js';
import { openDuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';
import { PROJECT_ROOT } from '../scripts/devstack/profile.js';
import { REFERENCE_COLUMNS, talibReference } from './talib.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(PROJECT_ROOT, '..', 'shared', 'data', 'egx') },
    'held-back': { type: 'string', default: '5' },
    /** Bars of each symbol left out of the "after" figures: the issue's agreement is after 250. */
    after: { type: 'string', default: '250' },
    keep: { type: 'boolean' },
  },
});
const dataDir = resolve(values.data);
const heldBack = Number(values['held-back']);
const after = Number(values.after);
const dir = mkdtempSync(join(tmpdir(), 'egx-check-indicators-'));
const FACTS = 'GOLD.gold_fct_stock_daily_prices';
const cols = [...REFERENCE_COLUMNS];

const wh = await openDuckDbWarehouse(join(dir, 'check.duckdb'));
await bootstrapWarehouse(wh);
const store = new LocalObjectStore(join(dataDir, 'daily'));
const keys = await listCsvKeys(store, '');
if (keys.length === 0) throw new Error(`no daily price files under ${join(dataDir, 'daily')}`);
const t0 = performance.now();
const loaded = summarize(
  await loadFiles({ store, lake: new LocalObjectStore(join(dir, 'lake')), warehouse: wh }, keys, {
    runId: 'check-indicators',
  }),
);
console.log(
  `loaded ${loaded.rowsLoaded} bars from ${keys.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s (${loaded.rowsQuarantined} rows quarantined)`,
);

// Hold back the last sessions: they arrive "the next day", for the incremental build.
const [cut] = await wh.query<{ D: string }>(
  `SELECT CAST(MIN(TRADE_DATE) AS VARCHAR) AS D FROM (SELECT DISTINCT TRADE_DATE FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY TRADE_DATE DESC LIMIT ${heldBack})`,
);
await wh.execute(
  `CREATE TABLE main.held_back AS SELECT * FROM OPERATIONAL.TBL_STOCK_PRICE WHERE TRADE_DATE >= '${cut!.D}'`,
);
await wh.execute(`DELETE FROM OPERATIONAL.TBL_STOCK_PRICE WHERE TRADE_DATE >= '${cut!.D}'`);

const project = await loadProject(join(PROJECT_ROOT, 'transforms'));
const businessDate = new Date().toISOString().slice(0, 10);
const build = async (runId: string, fullRefresh = false) => {
  const started = performance.now();
  let rows = 0;
  for (const name of ['stg_stock_prices_unified', 'gold_fct_stock_daily_prices']) {
    const r = await buildModel(wh, project, project.models.get(name)!, { runId, businessDate, fullRefresh });
    rows = r.rows;
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
};
const snapshot = (name: string) => wh.execute(`CREATE TABLE main.${name} AS SELECT * FROM ${FACTS}`);

await build('check-full-before');
await wh.execute(
  'INSERT INTO OPERATIONAL.TBL_STOCK_PRICE SELECT * REPLACE (current_timestamp AS LOADED_AT) FROM main.held_back',
);
const day = await build('check-incremental-day');
await snapshot('incremental_day');
console.log(
  `incremental run with the last ${heldBack} sessions (from ${cut!.D}): ${day.rows} rows rebuilt in ${day.seconds.toFixed(2)} s`,
);

// A vendor re-issues the bar of the most traded symbol from three years before the last session.
const [fix] = await wh.query<{ SYMBOL: string; D: string }>(
  `SELECT SYMBOL, CAST(MIN(TRADE_DATE) AS VARCHAR) AS D FROM OPERATIONAL.TBL_STOCK_PRICE
   WHERE TRADE_DATE >= (SELECT MAX(TRADE_DATE) FROM OPERATIONAL.TBL_STOCK_PRICE) - INTERVAL 3 YEAR
     AND SYMBOL = (SELECT SYMBOL FROM OPERATIONAL.TBL_STOCK_PRICE GROUP BY SYMBOL ORDER BY COUNT(*) DESC, SYMBOL LIMIT 1)
   GROUP BY SYMBOL`,
);
await wh.execute(
  `UPDATE OPERATIONAL.TBL_STOCK_PRICE SET LOADED_AT = current_timestamp WHERE SYMBOL = '${fix!.SYMBOL}' AND TRADE_DATE = '${fix!.D}'`,
);
const correction = await build('check-incremental-correction');
await snapshot('incremental_correction');
console.log(
  `incremental run after ${fix!.SYMBOL}'s bar of ${fix!.D} is re-issued: ${correction.rows} rows rebuilt in ${correction.seconds.toFixed(2)} s`,
);
const full = await build('check-full', true);
console.log(`full refresh: ${full.rows} rows in ${full.seconds.toFixed(2)} s`);

// TA-Lib on the same closes.
const closesCsv = join(dir, 'closes.csv');
const talibCsv = join(dir, 'talib.csv');
await wh.execute(
  `COPY (SELECT symbol, trade_date, close_price FROM ${FACTS} ORDER BY symbol, trade_date) TO '${closesCsv}' (HEADER)`,
);
await talibReference(closesCsv, talibCsv, { exactBands: true });
const exact = ['bb_upper_20_exact', 'bb_lower_20_exact'];
await wh.execute(
  `CREATE TABLE main.talib AS SELECT * FROM read_csv('${talibCsv}', header = true, columns = {
     'symbol': 'VARCHAR', 'trade_date': 'DATE', ${[...cols, ...exact].map((c) => `'${c}': 'DOUBLE'`).join(', ')}, 'ma_cross_signal': 'VARCHAR' })`,
);
// The bands from a two-pass standard deviation, under the model's names.
await wh.execute(
  'CREATE VIEW main.exact_bands AS SELECT symbol, trade_date, bb_upper_20_exact AS bb_upper_20, bb_lower_20_exact AS bb_lower_20, ma_cross_signal FROM main.talib',
);

interface Comparison {
  bars: number;
  /** Per indicator: the largest difference over bars `after` and later of each symbol, and over all. */
  maxAfter: Record<string, number | null>;
  maxAll: Record<string, number | null>;
  /** Bars where one side has a value and the other none, per indicator (and the cross signal). */
  nullMismatches: Record<string, number>;
  crossMismatches: number;
}

/** Compares a relation of daily facts with another of the same shape (TA-Lib's or the full refresh). */
async function compare(relation: string, reference: string, columns: string[] = cols): Promise<Comparison> {
  const [r] = await wh.query<Record<string, number | null>>(
    `WITH f AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date) - 1 AS n FROM ${relation})
     SELECT COUNT(*) AS bars,
       ${columns.map((c) => `MAX(CASE WHEN f.n >= ${after} THEN ABS(f.${c} - t.${c}) END) AS after_${c}, MAX(ABS(f.${c} - t.${c})) AS all_${c}, SUM(CASE WHEN (f.${c} IS NULL) <> (t.${c} IS NULL) THEN 1 ELSE 0 END) AS nulls_${c}`).join(',\n       ')},
       SUM(CASE WHEN COALESCE(f.ma_cross_signal, '') <> COALESCE(t.ma_cross_signal, '') THEN 1 ELSE 0 END) AS cross_mismatches
     FROM f JOIN ${reference} t ON t.symbol = f.symbol AND t.trade_date = f.trade_date`,
  );
  const pick = (prefix: string) =>
    Object.fromEntries(columns.map((c) => [c, r![`${prefix}_${c}`.toUpperCase()] ?? null]));
  return {
    bars: Number(r!.BARS),
    maxAfter: pick('after'),
    maxAll: pick('all'),
    nullMismatches: Object.fromEntries(columns.map((c) => [c, Number(r![`NULLS_${c}`.toUpperCase()])])),
    crossMismatches: Number(r!.CROSS_MISMATCHES),
  };
}

const vsTalib = {
  full: await compare(FACTS, 'main.talib'),
  incremental_day: await compare('main.incremental_day', 'main.talib'),
  incremental_correction: await compare('main.incremental_correction', 'main.talib'),
};
const vsFull = {
  incremental_day: await compare('main.incremental_day', FACTS),
  incremental_correction: await compare('main.incremental_correction', FACTS),
};
const bands = ['bb_upper_20', 'bb_lower_20'];
const vsExactBands = await compare(FACTS, 'main.exact_bands', bands);
// Where the bands differ from TA-Lib's by more than 1e-6: how far apart the 20 closes are there.
const [noisy] = await wh.query<{ N: number; SIGMA: number | null }>(
  `SELECT COUNT(*) AS N, MAX((t.bb_upper_20_exact - t.bb_lower_20_exact) / 4) AS SIGMA
   FROM ${FACTS} f JOIN main.talib t ON t.symbol = f.symbol AND t.trade_date = f.trade_date
   WHERE ABS(f.bb_upper_20 - t.bb_upper_20) > 1e-6 OR ABS(f.bb_lower_20 - t.bb_lower_20) > 1e-6`,
);
const [{ SYMBOLS: symbols } = { SYMBOLS: 0 }] = await wh.query<{ SYMBOLS: number }>(
  `SELECT COUNT(DISTINCT symbol) AS SYMBOLS FROM ${FACTS}`,
);
await wh.close();
if (!values.keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);

const fmt = (v: number | null) => (v === null ? '-' : v.toExponential(1));
console.log(
  `\n${vsTalib.full.bars} bars of ${symbols} symbols; largest |model - TA-Lib| after each symbol's first ${after} bars (all bars in brackets), and |incremental - full refresh|:`,
);
console.log(
  [
    'indicator'.padEnd(16),
    'full'.padEnd(20),
    'incremental day'.padEnd(20),
    'after correction'.padEnd(20),
    'incr. vs full',
  ].join(' '),
);
for (const c of cols) {
  const cell = (x: Comparison) => `${fmt(x.maxAfter[c]!)} (${fmt(x.maxAll[c]!)})`.padEnd(20);
  const inc = Math.max(vsFull.incremental_day.maxAll[c] ?? 0, vsFull.incremental_correction.maxAll[c] ?? 0);
  console.log(
    [
      c.padEnd(16),
      cell(vsTalib.full),
      cell(vsTalib.incremental_day),
      cell(vsTalib.incremental_correction),
      fmt(inc),
    ].join(' '),
  );
}
console.log(
  `Bollinger Bands against a two-pass population sigma (numpy): upper ${fmt(vsExactBands.maxAll.bb_upper_20!)}, lower ${fmt(vsExactBands.maxAll.bb_lower_20!)}; the ${noisy!.N} bars whose bands differ from TA-Lib's by more than 1e-6 all have a sigma below ${fmt(noisy!.SIGMA)} (TA-Lib takes the variance as mean(x^2) - mean^2, which loses those)`,
);
const nulls = (x: Comparison) => Object.values(x.nullMismatches).reduce((a, b) => a + b, 0);
console.log(
  `null where the other has a value: ${nulls(vsTalib.full)} vs TA-Lib, ${nulls(vsFull.incremental_day) + nulls(vsFull.incremental_correction)} incremental vs full; cross signals that differ: ${vsTalib.full.crossMismatches} vs TA-Lib, ${vsFull.incremental_day.crossMismatches + vsFull.incremental_correction.crossMismatches} incremental vs full`,
);
const worst = (pick: (x: Comparison) => Record<string, number | null>, xs: Comparison[]) =>
  Object.fromEntries(cols.map((c) => [c, Math.max(...xs.map((x) => pick(x)[c] ?? 0))]));
console.log(
  JSON.stringify({
    bars: vsTalib.full.bars,
    symbols,
    after_bars: after,
    max_abs_diff_vs_talib: worst((x) => x.maxAfter, Object.values(vsTalib)),
    max_abs_diff_vs_talib_all_bars: worst((x) => x.maxAll, Object.values(vsTalib)),
    max_abs_diff_incremental_vs_full: worst((x) => x.maxAll, Object.values(vsFull)),
    max_abs_diff_bands_vs_two_pass_sigma: vsExactBands.maxAll,
    bars_bands_off_talib_over_1e6: Number(noisy!.N),
    max_sigma_where_bands_off_talib: noisy!.SIGMA,
    null_mismatches_vs_talib: Object.values(vsTalib).reduce((a, x) => a + nulls(x), 0),
    cross_mismatches_vs_talib: Object.values(vsTalib).reduce((a, x) => a + x.crossMismatches, 0),
    null_mismatches_incremental_vs_full: Object.values(vsFull).reduce((a, x) => a + nulls(x), 0),
    cross_mismatches_incremental_vs_full: Object.values(vsFull).reduce((a, x) => a + x.crossMismatches, 0),
  }),
);
