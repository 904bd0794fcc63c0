import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createBatchActivities } from '../../activities/batch.js';
import { readerForKey } from '../../lib/ingest/kinds.js';
import {
  cairoDate,
  cairoLocal,
  intervalFromName,
  intradaySpacing,
  parseTimestamp,
} from '../../lib/ingest/intraday.js';
import { loadFile, type FileLoadResult } from '../../lib/ingest/load-file.js';
import { loadFiles } from '../../lib/ingest/load-many.js';
import { formatSummary, summarize } from '../../lib/ingest/load-summary.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

/**
 * Index level exports (Investing, Yahoo, EGX's site, the Arabic broker export), the market-cap
 * series and intraday bar files, through both load paths: `egx load` (loadFiles, with its bulk
 * path for price files) and the daily batch (its activities: list the batch prefixes, then
 * loadFile each with readerForKey). Fixtures are small hand-made files in each vendor's layout.
 */

const fixtures = (folder: string) => fileURLToPath(new URL(`../fixtures/${folder}/`, import.meta.url));
const files = (folder: string) =>
  readdirSync(fixtures(folder)).map((name) => ({ name, body: readFileSync(join(fixtures(folder), name)) }));

let dir: string;
let store: LocalObjectStore;
let lake: LocalObjectStore;
let bulkWh: DuckDbWarehouse;
let rowWh: DuckDbWarehouse;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'egx-index-files-'));
  store = new LocalObjectStore(join(dir, 'in'));
  lake = new LocalObjectStore(join(dir, 'lake'));
  [bulkWh, rowWh] = await Promise.all([openDuckDbWarehouse(':memory:'), openDuckDbWarehouse(':memory:')]);
  await Promise.all([bootstrapWarehouse(bulkWh), bootstrapWarehouse(rowWh)]);
});
afterEach(async () => {
  await Promise.all([bulkWh.close(), rowWh.close()]);
});

async function put(prefix: string, folder: string, only?: (name: string) => boolean): Promise<string[]> {
  const keys: string[] = [];
  for (const f of files(folder).filter((f) => only?.(f.name) ?? true)) {
    await store.put(`${prefix}${f.name}`, f.body);
    keys.push(`${prefix}${f.name}`);
  }
  return keys.sort();
}

/** The daily batch's way: its activities list the new batch files and load each one. */
async function dailyBatch(wh: DuckDbWarehouse): Promise<FileLoadResult[]> {
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const acts = createBatchActivities({ store, warehouse: wh, artifactsDir: join(dir, 'artifacts') });
  const listing: { keys: string[] } = await env.run(acts.listNewBatchFiles, {});
  const { keys } = listing;
  const out: FileLoadResult[] = [];
  for (const key of keys) {
    const r: FileLoadResult = await env.run(acts.loadBatchFile, { key, runId: 'r1' });
    out.push(r);
  }
  return out;
}

/** Every table a load writes, without load times. */
const dump = (wh: DuckDbWarehouse) =>
  Promise.all(
    [
      'SELECT * EXCLUDE (LOADED_AT, RUN_ID) FROM OPERATIONAL.TBL_INDEX ORDER BY ALL',
      'SELECT * EXCLUDE (LOADED_AT, RUN_ID) FROM OPERATIONAL.TBL_MARKET_STAT ORDER BY ALL',
      'SELECT * EXCLUDE (LOADED_AT, RUN_ID) FROM OPERATIONAL.TBL_INTRADAY_PRICE ORDER BY ALL',
      'SELECT * EXCLUDE (LOADED_AT, RUN_ID) FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY ALL',
      'SELECT SOURCE_KEY, LINE, REASON, RAW FROM META.QUARANTINE ORDER BY ALL',
      'SELECT SOURCE_KEY, KIND, FORMAT, ROWS_LOADED, ROWS_QUARANTINED, ERROR FROM META.LOADED_FILES ORDER BY ALL',
    ].map((sql) => wh.query(sql)),
  );

const brief = (rs: FileLoadResult[]): Record<string, object> =>
  Object.fromEntries<object>(
    rs.map((r) => [
      r.key.split('/').pop() ?? r.key,
      {
        kind: r.kind,
        format: r.format,
        loaded: r.rowsLoaded,
        quarantined: r.quarantineReasons,
        notes: r.notes,
      },
    ]),
  );

describe('index level and market statistics files', () => {
  test('a folder of index level exports fills TBL_INDEX and TBL_MARKET_STAT by either load path; no index is filed as a stock', async () => {
    // `egx load` of a folder of exports: they sit among daily price files, named as the vendors name them.
    const keys = await put('batch/prices/', 'index');
    const bulk = await loadFiles({ store, lake, warehouse: bulkWh }, keys, { runId: 'r1' });
    // The daily batch finds the same files under batch/index_levels/, where `egx upload` puts them.
    const indexKeys = await put('batch/index_levels/', 'index');
    expect(indexKeys.map((k) => readerForKey(k).kind)).toEqual(indexKeys.map(() => 'index_levels'));
    for (const k of keys) await store.delete(k);
    const batch = await dailyBatch(rowWh);
    expect(batch.map((r) => r.key)).toEqual(indexKeys);

    expect(brief(bulk)).toEqual(brief(batch));
    const [bulkTables, batchTables] = await Promise.all([dump(bulkWh), dump(rowWh)]);
    const unprefixed = (t: unknown) =>
      JSON.parse(JSON.stringify(t).replace(/batch\/(prices|index_levels)\//g, '')) as unknown;
    expect(unprefixed(bulkTables)).toEqual(unprefixed(batchTables));

    expect(brief(bulk)).toEqual({
      'EGX 30 Historical Data.csv': {
        kind: 'index_levels',
        format: 'investing',
        loaded: 4,
        quarantined: {},
        notes: ['index EGX30 from investing'],
      },
      'EGX30.csv': {
        kind: 'index_levels',
        format: 'egx',
        loaded: 6,
        quarantined: { 'close: not a number': 1 },
        notes: ['index EGX30 from egx', 'high and low of 0 read as missing on 2 rows'],
      },
      'EGX70_ohlcv.csv': {
        kind: 'index_levels',
        format: 'ohlcv',
        loaded: 2,
        quarantined: { 'duplicate date': 1 },
        notes: ['index EGX70 from ohlcv'],
      },
      'EGX_market_cap.csv': {
        kind: 'index_levels',
        format: 'market_cap',
        loaded: 3,
        quarantined: { 'market_cap: missing': 1 },
        notes: ['market statistics: TOTAL_MARKET_CAP_EGP, dates read day-first'],
      },
      'SHARIAH.csv': {
        kind: 'index_levels',
        format: 'egx_ar_export',
        loaded: 2,
        quarantined: {},
        notes: ['index EGX33 from egx_ar_export'],
      },
      '^CASE30.csv': {
        kind: 'index_levels',
        format: 'yahoo',
        loaded: 4,
        quarantined: {},
        notes: ['index EGX30 from yahoo'],
      },
    });
    const [index, stats, intraday, stocks] = bulkTables;
    expect(stocks).toEqual([]);
    expect(intraday).toEqual([]);
    const levels = index as Record<string, unknown>[];
    const on = (source: string, date: string) =>
      levels.find((r) => r.DATA_SOURCE === source && r.TRADE_DATE === date);
    // Investing: Price is the close, thousands separators, K/M volumes, an empty Vol. is no volume.
    expect(on('investing', '2024-05-21')).toMatchObject({
      INDEX_CODE: 'EGX30',
      INDEX_NAME: 'EGX 30',
      OPEN_PRICE: 27293.03,
      HIGH_PRICE: 27602.32,
      LOW_PRICE: 27224.8,
      CLOSE_PRICE: 27224.8,
      VOLUME: 268040000,
      SOURCE_LINE: 2,
    });
    expect(on('investing', '2024-05-19')).toMatchObject({ VOLUME: null, CLOSE_PRICE: 27315.83 });
    expect(on('investing', '2024-05-16')).toMatchObject({ VOLUME: 958120 });
    // Yahoo: Close (not Adj Close) with its float noise, a day of volume 0 kept as 0.
    expect(on('yahoo', '2024-05-21')).toMatchObject({ CLOSE_PRICE: 27224.80078125, VOLUME: 268040000 });
    expect(on('yahoo', '2024-05-19')).toMatchObject({ VOLUME: 0 });
    // EGX's page: DD/MM/YYYY, Value is the close, no open or volume, High/Low of 0 are missing.
    expect(on('egx', '2024-05-20')).toMatchObject({
      OPEN_PRICE: null,
      HIGH_PRICE: 27636.51,
      LOW_PRICE: 27176.29,
      CLOSE_PRICE: 27228.85,
      VOLUME: null,
    });
    expect(on('egx', '1998-01-05')).toMatchObject({ CLOSE_PRICE: 998.39, HIGH_PRICE: null, LOW_PRICE: null });
    expect(on('egx', '1998-01-01')).toMatchObject({ CLOSE_PRICE: 1000 });
    // The Arabic broker export: its "open" is the previous close, so no open is taken.
    expect(on('egx_ar_export', '2026-01-13')).toMatchObject({
      INDEX_CODE: 'EGX33',
      INDEX_NAME: 'EGX 33 Shariah',
      OPEN_PRICE: null,
      CLOSE_PRICE: 3980.25,
      VOLUME: 98765432,
    });
    expect(on('ohlcv', '2024-05-21')).toMatchObject({ INDEX_CODE: 'EGX70', CLOSE_PRICE: 6590.7 });
    // The market cap: day-first dates, thousands separators.
    expect((stats as Record<string, unknown>[]).map((r) => [r.STAT_DATE, r.METRIC, r.VALUE])).toEqual([
      ['2008-01-02', 'TOTAL_MARKET_CAP_EGP', 779806102106],
      ['2008-01-03', 'TOTAL_MARKET_CAP_EGP', 782505035171],
      ['2008-01-13', 'TOTAL_MARKET_CAP_EGP', 796358617948],
    ]);
    // Three vendors agree on EGX30's close within 0.01%.
    const [agree] = await bulkWh.query<{ N: number; WORST: number }>(
      `SELECT COUNT(*) AS N, MAX(ABS(a.CLOSE_PRICE / b.CLOSE_PRICE - 1)) AS WORST
         FROM OPERATIONAL.TBL_INDEX a JOIN OPERATIONAL.TBL_INDEX b USING (INDEX_CODE, TRADE_DATE)
        WHERE a.INDEX_CODE = 'EGX30' AND a.DATA_SOURCE < b.DATA_SOURCE`,
    );
    expect(agree!.N).toBe(12);
    expect(agree!.WORST).toBeLessThan(1e-4);

    const summary = formatSummary(summarize(bulk));
    expect(summary).toContain(
      'note: batch/prices/EGX30.csv: index EGX30 from egx; high and low of 0 read as missing on 2 rows',
    );
  });

  test('an index export loaded as prices, or named only by its header, is still no stock', async () => {
    const [yahoo] = await put('batch/prices/', 'index', (n) => n === '^CASE30.csv');
    // EGX's Date,Value,High,Low layout is an index whatever the file is called; its code is the name.
    await store.put('batch/prices/NILEX.csv', 'Date,Value,High,Low\n21/05/2024,1450.5,1460,1440.25\n');
    await store.put('batch/prices/Nile Index.csv', 'Date,Value,High,Low\n21/05/2024,1450.5,1460,1440.25\n');
    const rs = await loadFiles(
      { store, lake, warehouse: bulkWh },
      [yahoo!, 'batch/prices/NILEX.csv', 'batch/prices/Nile Index.csv'],
      { runId: 'r1', kind: 'prices' },
    );
    expect(rs.map((r) => [r.kind, r.rowsLoaded])).toEqual([
      ['index_levels', 4],
      ['index_levels', 1],
      ['prices', 0],
    ]);
    expect(rs[2]!.error).toMatch(
      /an index level file must be named after its index .*"NILE INDEX" is not an EGX ticker/,
    );
    expect(await bulkWh.query('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toEqual([{ N: 0 }]);
    expect(
      await bulkWh.query(
        'SELECT INDEX_CODE, COUNT(*) AS N FROM OPERATIONAL.TBL_INDEX GROUP BY ALL ORDER BY ALL',
      ),
    ).toEqual([
      { INDEX_CODE: 'EGX30', N: 4 },
      { INDEX_CODE: 'NILEX', N: 1 },
    ]);
  });
});

describe('intraday bar files', () => {
  const COMI_LINES = 14; // data lines of tests/fixtures/intraday/COMI.csv

  test('1-minute bars: every line is loaded or quarantined with its reason, the same by both load paths', async () => {
    // In the prices folder they are told by their timestamps; under batch/intraday/ by the folder.
    const keys = [
      ...(await put('batch/prices/', 'intraday', (n) => n === 'COMI.csv')),
      ...(await put('batch/intraday/', 'intraday', (n) => n !== 'COMI.csv')),
    ];
    const bulk = await loadFiles({ store, lake, warehouse: bulkWh }, keys, { runId: 'r1' });
    const batch = await dailyBatch(rowWh);
    expect(brief(batch)).toEqual(brief(bulk));
    expect(await dump(bulkWh)).toEqual(await dump(rowWh));

    expect(brief(bulk)).toEqual({
      'COMI.csv': {
        kind: 'intraday',
        format: 'ohlcv',
        loaded: 10,
        quarantined: {
          'duplicate bar': 1,
          'high < low': 1,
          'datetime: bar start off the 1m grid': 1,
          'datetime: unreadable timestamp': 1,
        },
        notes: [
          'intraday bars, interval 1m (from the timestamps)',
          'ignored 6 extra columns: RSI, SMA_20, Momentum, Future_Close, Target_Change, Target_Class',
          'timestamps without a zone read as UTC',
        ],
      },
      'EGX_ETEL, 5.csv': {
        kind: 'intraday',
        format: 'tradingview',
        loaded: 3,
        quarantined: {},
        notes: ['intraday bars, interval 5m (from the file name)', 'ignored 1 extra columns: Volume MA'],
      },
    });
    const comi = bulk[0]!;
    expect(comi.rowsLoaded + comi.rowsQuarantined).toBe(COMI_LINES);
    const [counted] = await bulkWh.query<{ N: number }>(
      "SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INTRADAY_PRICE WHERE SYMBOL = 'COMI'",
    );
    const [quarantined] = await bulkWh.query<{ N: number }>(
      "SELECT COUNT(*) AS N FROM META.QUARANTINE WHERE SOURCE_KEY = 'batch/prices/COMI.csv'",
    );
    expect(counted!.N + quarantined!.N).toBe(COMI_LINES);

    const reasons = await bulkWh.query<{ LINE: number; REASON: string }>(
      'SELECT LINE, REASON FROM META.QUARANTINE ORDER BY LINE',
    );
    expect(reasons).toEqual([
      { LINE: 8, REASON: 'duplicate bar 2025-07-20T07:23:00.000Z (also on line 3)' },
      { LINE: 9, REASON: 'high 89.5 < low 89.6' },
      { LINE: 10, REASON: 'datetime: bar start 2025-07-20T07:26:30.000Z is off the 1m grid' },
      { LINE: 11, REASON: 'datetime: unreadable timestamp "20/07/2025 7:27"' },
    ]);
    const bars = await bulkWh.query(
      `SELECT SYMBOL, BAR_INTERVAL, BAR_START, BAR_START_LOCAL, TRADE_DATE, DATA_SOURCE, CLOSE_PRICE, VOLUME, SOURCE_LINE
         FROM OPERATIONAL.TBL_INTRADAY_PRICE WHERE SOURCE_LINE IN (2, 12) OR SYMBOL = 'ETEL' ORDER BY SYMBOL, BAR_START`,
    );
    expect(bars).toEqual([
      {
        SYMBOL: 'COMI',
        BAR_INTERVAL: '1m',
        BAR_START: new Date('2025-07-20T07:22:00Z'),
        BAR_START_LOCAL: new Date('2025-07-20T10:22:00Z'), // Cairo's clock: UTC+3 in summer
        TRADE_DATE: '2025-07-20',
        DATA_SOURCE: 'ohlcv',
        CLOSE_PRICE: 89.55,
        VOLUME: 409,
        SOURCE_LINE: 2,
      },
      {
        SYMBOL: 'COMI',
        BAR_INTERVAL: '1m',
        BAR_START: new Date('2025-07-21T07:20:00Z'),
        BAR_START_LOCAL: new Date('2025-07-21T10:20:00Z'),
        TRADE_DATE: '2025-07-21',
        DATA_SOURCE: 'ohlcv',
        CLOSE_PRICE: 89.8,
        VOLUME: 700,
        SOURCE_LINE: 12,
      },
      ...[
        ['07:00', '10:00', 35.6, 1000],
        ['07:05', '10:05', 35.8, 2000],
        ['07:10', '10:10', 35.2, 500],
      ].map(([t, local, close, volume], i) => ({
        SYMBOL: 'ETEL',
        BAR_INTERVAL: '5m',
        BAR_START: new Date(`2024-07-17T${t as string}:00Z`),
        BAR_START_LOCAL: new Date(`2024-07-17T${local as string}:00Z`),
        TRADE_DATE: '2024-07-17',
        DATA_SOURCE: 'tradingview',
        CLOSE_PRICE: close,
        VOLUME: volume,
        SOURCE_LINE: i + 2,
      })),
    ]);
    // Nothing of it became daily bars.
    expect(await bulkWh.query('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toEqual([{ N: 0 }]);

    // Loading again changes no row count: bars are keyed by (symbol, bar start, interval).
    const again = await loadFiles({ store, lake, warehouse: bulkWh }, keys, { runId: 'r2', force: true });
    expect(again.map((r) => [r.rowsInserted, r.rowsUpdated])).toEqual([
      [0, 10],
      [0, 3],
    ]);
  });

  test('timestamps: zones, unix seconds, Cairo dates, and daily files with midnight timestamps stay daily', async () => {
    expect(parseTimestamp('2025-07-20T10:22:00+03:00')).toEqual({
      ms: Date.parse('2025-07-20T07:22:00Z'),
      zoned: true,
    });
    expect(parseTimestamp('2025-07-20 07:22')).toEqual({
      ms: Date.parse('2025-07-20T07:22:00Z'),
      zoned: false,
    });
    expect(parseTimestamp('1721199600')).toEqual({ ms: Date.parse('2024-07-17T07:00:00Z'), zoned: true });
    expect(parseTimestamp('2025-02-30 10:00:00')).toBeUndefined();
    expect(parseTimestamp('2026/01/13 08:05:30.5')).toEqual({
      ms: Date.parse('2026-01-13T08:05:30.500Z'),
      zoned: false,
    });
    expect(parseTimestamp('2026/01-13 08:05')).toBeUndefined();
    // Cairo is UTC+3 in summer 2025, UTC+2 in winter: 21:30 UTC is the next Cairo day in summer only.
    expect(cairoDate(Date.parse('2025-07-20T21:30:00Z'))).toBe('2025-07-21');
    expect(cairoDate(Date.parse('2025-12-20T21:30:00Z'))).toBe('2025-12-20');
    expect(new Date(cairoLocal(Date.parse('2025-12-08T08:00:00Z')))).toEqual(
      new Date('2025-12-08T10:00:00Z'),
    );
    expect(intervalFromName('batch/intraday/EGX_COMI, 15.csv')).toBe(900_000);
    expect(intervalFromName('COMI_1h.csv')).toBe(3_600_000);
    expect(intervalFromName('COMI.csv')).toBeUndefined();
    const rec = (...cells: string[]) => cells.map((c, i) => ({ line: i + 2, cells: [c] }));
    // Sparse minutes still give 1m (the greatest common divisor of the gaps).
    expect(
      intradaySpacing(['datetime'], rec('2025-07-20 07:22:00', '2025-07-20 07:25:00', '2025-07-20 07:29:00')),
    ).toBe('1m');
    expect(intradaySpacing(['Date'], rec('2024-01-02', '2024-01-03'))).toBeUndefined();
    expect(intradaySpacing(['Datetime'], rec('2024-01-02 00:00:00', '2024-01-03 00:00:00'))).toBeUndefined();

    await store.put(
      'batch/prices/COMI.csv',
      'Datetime,Open,High,Low,Close,Volume\n2024-01-02 00:00:00,10,11,9,10.5,100\n2024-01-03 00:00:00,10.5,11,10,10.8,200\n',
    );
    const [r] = await loadFiles({ store, lake, warehouse: bulkWh }, ['batch/prices/COMI.csv'], {
      runId: 'r1',
    });
    expect(r).toMatchObject({ kind: 'prices', rowsLoaded: 2 });
    expect(await bulkWh.query('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INTRADAY_PRICE')).toEqual([
      { N: 0 },
    ]);
  });

  test('a stray first bar off the minute grid is the one quarantined, not the bars after it', async () => {
    const bar = (t: string) => `2025-07-20 ${t},10,10.5,9.5,10,100`;
    const minutes = Array.from({ length: 9 }, (_, k) => bar(`07:${22 + k}:00`));
    await store.put(
      'batch/intraday/HRHO.csv',
      ['datetime,open,high,low,close,volume', bar('07:21:30'), ...minutes].join('\n'),
    );
    const [r] = await loadFiles({ store, lake, warehouse: bulkWh }, ['batch/intraday/HRHO.csv'], {
      runId: 'r1',
    });
    expect(r).toMatchObject({
      kind: 'intraday',
      rowsLoaded: 9,
      quarantineReasons: { 'datetime: bar start off the 1m grid': 1 },
      notes: ['intraday bars, interval 1m (from the timestamps)', 'timestamps without a zone read as UTC'],
    });
  });

  test('a single bar without an interval in its name is refused whole, saying how to name it', async () => {
    await store.put(
      'batch/intraday/COMI.csv',
      'datetime,open,high,low,close,volume\n2025-07-20 07:22:00,1,1,1,1,1\n',
    );
    const r = await loadFile(
      { store, lake, warehouse: bulkWh },
      readerForKey('batch/intraday/COMI.csv'),
      'batch/intraday/COMI.csv',
      {
        runId: 'r1',
      },
    );
    expect(r.error).toMatch(
      /cannot tell the bar interval from a single bar: name the file with it \(COMI_1m\.csv\)/,
    );
    await store.put(
      'batch/intraday/COMI_1m.csv',
      'datetime,open,high,low,close,volume\n2025-07-20 07:22:00,1,1,1,1,1\n',
    );
    const named = await loadFiles({ store, lake, warehouse: bulkWh }, ['batch/intraday/COMI_1m.csv'], {
      runId: 'r1',
    });
    expect(named[0]).toMatchObject({ kind: 'intraday', rowsLoaded: 1 });
  });
});
