import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { loadFile, quarantineKey, type FileLoadResult } from '../../lib/ingest/load-file.js';
import { loadFiles } from '../../lib/ingest/load-many.js';
import { priceFiles } from '../../lib/ingest/prices.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { getText } from '../../lib/lake/types.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

/**
 * `egx load` (loadFiles: DuckDB's CSV reader for clean plain files, the parser for the rest, many
 * files per statement) and the daily batch (loadFile, one file at a time) must load the same rows
 * and quarantine the same lines with the same reasons, whatever is wrong with a file.
 */

const HEADER = 'Date,Open,High,Low,Close,Volume';
const row = (day: number, close = 10 + day / 10) =>
  `2024-01-${String(day).padStart(2, '0')},10,${Math.max(11, close)},9,${close},${1000 * day}`;
const lines = (...body: string[]) => [HEADER, ...body].join('\n') + '\n';

const FILES: Record<string, string | Buffer> = {
  CLEAN: lines(row(1), row(2), row(3)),
  GARBAGE: lines(row(1), 'garbage here', row(2)),
  FEWCOLS: lines(row(1), '2024-01-02,10,11', row(3)),
  MANYCOLS: lines(row(1), '2024-01-02,10,11,9,10.5,100,extra', row(3)),
  NONNUM: lines(row(1), '2024-01-02,10,eleven,9,10.5,100', row(3)),
  NEGCLOSE: lines(row(1), '2024-01-02,10,11,9,-10.5,100', row(3)),
  HIGHLOW: lines(row(1), '2024-01-02,10,9,11,10.5,100', row(3)),
  DUPDATE: lines(row(1), row(2), row(1, 12.5)),
  BADDATE: lines(row(1), '2024-02-30,10,11,9,10.5,100', '01/03/2024,10,11,9,10.5,100'),
  BLANKS: [HEADER, row(1), '', row(2), '   ', ',,,,,', row(3), '', ''].join('\n'),
  BOM: '\uFEFF' + lines(row(1), row(2)),
  CRLF: lines(row(1), row(2), 'junk', row(3)).replace(/\n/g, '\r\n'),
  QUOTED: lines(row(1), '"2024-01-02","10","11","9","10.5","2,000"', '"2024-01-03",10,11,9,"x",1'),
  NOEOL: lines(row(1), 'garbage').replace(/\n$/, ''),
  MIXED: lines(
    row(1),
    'garbage',
    '',
    '2024-01-03,10,11',
    '2024-01-04,10,11,9,0,100',
    row(5),
    row(5),
    '2024-01-06,-1,11,9,10,100',
  ),
  // Not UTF-8 after the first 64 KB: DuckDB reads the byte, the row loader a replacement character.
  LATEBYTE: Buffer.concat([
    Buffer.from(
      lines(
        ...Array.from({ length: 2500 }, (_, i) => row(1 + (i % 28)).replace('2024-01', `${1000 + i}-01`)),
      ),
    ),
    Buffer.from('2024-06-01,10,11,9,1\xff,100\n', 'latin1'),
  ]),
};

let store: LocalObjectStore;
let lake: LocalObjectStore;
let bulkWh: DuckDbWarehouse;
let rowWh: DuckDbWarehouse;
const keys = Object.keys(FILES).map((name) => `batch/prices/${name}.csv`);

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-paths-'));
  store = new LocalObjectStore(join(dir, 'in'));
  lake = new LocalObjectStore(join(dir, 'lake'));
  [bulkWh, rowWh] = await Promise.all([openDuckDbWarehouse(':memory:'), openDuckDbWarehouse(':memory:')]);
  await Promise.all([bootstrapWarehouse(bulkWh), bootstrapWarehouse(rowWh)]);
  for (const [name, body] of Object.entries(FILES)) await store.put(`batch/prices/${name}.csv`, body);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all([bulkWh.close(), rowWh.close()]);
});

/** Every table a load writes, without load times. */
const dump = (wh: DuckDbWarehouse) =>
  Promise.all([
    wh.query(
      'SELECT * EXCLUDE (LOADED_AT) FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY SYMBOL, TRADE_DATE, DATA_SOURCE',
    ),
    wh.query(
      'SELECT SOURCE_KEY, ETAG, LINE, REASON, RAW, RUN_ID FROM META.QUARANTINE ORDER BY SOURCE_KEY, LINE',
    ),
    wh.query('SELECT * EXCLUDE (LOADED_AT) FROM META.LOADED_FILES ORDER BY SOURCE_KEY'),
  ]);

/** The daily batch's way: one loadFile per file (as its loadBatchFile activity runs). */
async function loadOneByOne(wh: DuckDbWarehouse, lakeDir: LocalObjectStore): Promise<FileLoadResult[]> {
  const results: FileLoadResult[] = [];
  for (const key of keys)
    results.push(await loadFile({ store, lake: lakeDir, warehouse: wh }, priceFiles, key, { runId: 'r1' }));
  return results;
}

/** The SQL statements `wh` runs in its serialised sections, for `fail` to refuse some. */
function watchStatements(wh: DuckDbWarehouse, fail: (sql: string) => boolean = () => false): string[] {
  const seen: string[] = [];
  const serialized = wh.serialized.bind(wh);
  vi.spyOn(wh, 'serialized').mockImplementation((work, o) =>
    serialized(
      (db) =>
        work({
          query: (sql, p) => db.query(sql, p),
          execute: (sql, p) => {
            seen.push(sql);
            return fail(sql)
              ? Promise.reject(new Error('Invalid Input Error: CSV Error on Line: 3 (injected)'))
              : db.execute(sql, p);
          },
        }),
      o,
    ),
  );
  return seen;
}

const summary = (rs: FileLoadResult[]) =>
  rs.map((r) => ({
    key: r.key,
    format: r.format,
    error: r.error,
    rowsLoaded: r.rowsLoaded,
    rowsInserted: r.rowsInserted,
    rowsQuarantined: r.rowsQuarantined,
    quarantineReasons: r.quarantineReasons,
  }));

describe('one quarantine behaviour for both load paths', () => {
  test('ragged and bad plain files: egx load and the daily batch load the same rows and quarantine the same lines for the same reasons', async () => {
    const statements = watchStatements(bulkWh);
    const rowLake = new LocalObjectStore(join(lake.root, '..', 'row-lake'));
    const bulk = await loadFiles({ store, lake, warehouse: bulkWh }, keys, { runId: 'r1' });
    const rows = await loadOneByOne(rowWh, rowLake);

    // The fast path really ran both ways: DuckDB's CSV reader (for CLEAN) and the parser.
    expect(statements.some((s) => s.includes('read_csv('))).toBe(true);
    expect(statements.some((s) => s.includes('PARSED_PRICE_STAGE'))).toBe(true);

    expect(summary(bulk)).toEqual(summary(rows));
    const [bulkTables, rowTables] = await Promise.all([dump(bulkWh), dump(rowWh)]);
    expect(bulkTables).toEqual(rowTables);
    for (const key of keys.filter((k) => bulk.find((r) => r.key === k)!.rowsQuarantined > 0))
      expect(await getText(lake, quarantineKey('r1', key))).toBe(
        await getText(rowLake, quarantineKey('r1', key)),
      );

    // What that is, file by file: nothing aborts the load, every other row loads.
    const quarantined = (bulkTables[1] as { SOURCE_KEY: string; LINE: number; REASON: string }[]).map((q) => [
      q.SOURCE_KEY.replace(/^batch\/prices\/|\.csv$/g, ''),
      q.LINE,
      q.REASON,
    ]);
    expect(quarantined).toEqual([
      ['BADDATE', 3, 'date: no such calendar date "2024-02-30"'],
      ['CRLF', 4, 'expected at least 6 columns, got 1'],
      ['DUPDATE', 4, 'duplicate date 2024-01-01 (also on line 2)'],
      ['FEWCOLS', 3, 'expected at least 6 columns, got 3'],
      ['GARBAGE', 3, 'expected at least 6 columns, got 1'],
      ['HIGHLOW', 3, 'high 9 < low 11'],
      ['LATEBYTE', 2502, 'close: not a number "1\uFFFD"'],
      ['MIXED', 3, 'expected at least 6 columns, got 1'],
      ['MIXED', 5, 'expected at least 6 columns, got 3'],
      ['MIXED', 6, 'close: must be > 0, got 0'],
      ['MIXED', 8, 'duplicate date 2024-01-05 (also on line 7)'],
      ['MIXED', 9, 'open: must not be negative, got -1'],
      ['NEGCLOSE', 3, 'close: must be > 0, got -10.5'],
      ['NOEOL', 3, 'expected at least 6 columns, got 1'],
      ['NONNUM', 3, 'high: not a number "eleven"'],
      ['QUOTED', 4, 'close: not a number "x"'],
    ]);
    const loaded = Object.fromEntries(
      bulk.map((r) => [r.key.replace(/^batch\/prices\/|\.csv$/g, ''), r.rowsLoaded]),
    );
    expect(loaded).toEqual({
      CLEAN: 3,
      GARBAGE: 2,
      FEWCOLS: 2,
      MANYCOLS: 3, // extra cells after the known columns are ignored, by both
      NONNUM: 2,
      NEGCLOSE: 2,
      HIGHLOW: 2,
      DUPDATE: 2,
      BADDATE: 2,
      BLANKS: 3,
      BOM: 2,
      CRLF: 3,
      QUOTED: 2,
      NOEOL: 1,
      MIXED: 2,
      LATEBYTE: 2500,
    });
    // Lines are the file's own: after blank lines too.
    const blanks = await bulkWh.query<{ SOURCE_LINE: number }>(
      "SELECT SOURCE_LINE FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'BLANKS' ORDER BY SOURCE_LINE",
    );
    expect(blanks.map((b) => b.SOURCE_LINE)).toEqual([2, 4, 7]);
  });

  test('a batch DuckDB’s CSV reader refuses is parsed instead, with the same rows and quarantine, not a failed load', async () => {
    const statements = watchStatements(bulkWh, (sql) => sql.includes('read_csv('));
    const bulk = await loadFiles({ store, lake, warehouse: bulkWh }, keys, { runId: 'r1' });
    expect(statements.some((s) => s.includes('read_csv('))).toBe(true);
    const rows = await loadOneByOne(rowWh, new LocalObjectStore(join(lake.root, '..', 'row-lake')));
    expect(summary(bulk)).toEqual(summary(rows));
    expect(await dump(bulkWh)).toEqual(await dump(rowWh));
  });
});
