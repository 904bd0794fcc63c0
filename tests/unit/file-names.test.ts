import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadPriceFilesInBulk } from '../../lib/ingest/bulk-prices.js';
import { symbolFromFinanceKey } from '../../lib/ingest/financials.js';
import { readerForKey } from '../../lib/ingest/kinds.js';
import { loadFile } from '../../lib/ingest/load-file.js';
import { loadFiles } from '../../lib/ingest/load-many.js';
import { parseConstituentsKey } from '../../lib/ingest/reference-files.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { ReplaySource } from '../../lib/sources/replay.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

const yahoo = readFileSync(fileURLToPath(new URL('../fixtures/prices/yahoo_download.csv', import.meta.url)));

let store: LocalObjectStore;
let wh: DuckDbWarehouse;
beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-names-')));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterEach(() => wh.close());

const count = async (sql: string) => (await wh.query<{ N: number }>(sql))[0]!.N;

// The values that can be file names in a store (object-keys.test.ts has the rest as keys).
const HOSTILE_NAMES = HOSTILE_SYMBOLS.filter(([v]) => v !== '' && !/[/%]/.test(v) && v.length < 200);

describe('symbols taken from file names', () => {
  test.each(HOSTILE_NAMES)(
    'a price file named %j is quarantined whole, naming the file and the rule; nothing loads under that name',
    async (name, why) => {
      const key = `batch/prices/${name}.csv`;
      await store.put(key, yahoo);
      // Both load paths: the bulk path leaves it to the row loader, which reports it.
      const [r] = await loadFiles({ store, warehouse: wh }, [key], { runId: 'names-1' });
      expect(r!.rowsLoaded).toBe(0);
      expect(r!.error).toContain(`${key}: the file name must be a ticker: `);
      expect(r!.error).toMatch(why);
      expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE')).toBe(0);
      const [q] = await wh.query<{ SOURCE_KEY: string; REASON: string }>(
        'SELECT SOURCE_KEY, REASON FROM META.QUARANTINE',
      );
      expect(q).toMatchObject({ SOURCE_KEY: key, REASON: expect.stringContaining('is not an EGX ticker') });
    },
  );

  test('vendor names that are not tickers are refused; rights series and lower case are read; bond indices are indices', async () => {
    await store.put('batch/prices/Misr Fund 2.csv', yahoo);
    await store.put('batch/prices/adib_r3.csv', yahoo);
    await store.put('batch/prices/T.Bond 7+yr.csv', yahoo);
    const keys = ['batch/prices/Misr Fund 2.csv', 'batch/prices/adib_r3.csv', 'batch/prices/T.Bond 7+yr.csv'];
    const bulk = await loadPriceFilesInBulk({ store, warehouse: wh }, keys, { runId: 'names-2' });
    expect(bulk.rest).toEqual(['batch/prices/Misr Fund 2.csv', 'batch/prices/T.Bond 7+yr.csv']);
    const [fund, bond] = await Promise.all(
      bulk.rest.map((k) => loadFile({ store, warehouse: wh }, readerForKey(k), k, { runId: 'names-2' })),
    );
    expect(fund!.error).toMatch(/"MISR FUND 2" is not an EGX ticker: it has a space at position 5/);
    // EGX's export names its bond indices `T.Bond <n>-<m>yr`: they are index levels, never a stock.
    expect(bond).toMatchObject({ kind: 'index_levels', rowsLoaded: 2 });
    expect(bond!.error).toBeUndefined();
    const symbols = await wh.query<{ SYMBOL: string }>(
      'SELECT DISTINCT SYMBOL FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY SYMBOL',
    );
    expect(symbols).toEqual([{ SYMBOL: 'ADIB_R3' }]);
    expect(await wh.query('SELECT DISTINCT INDEX_CODE FROM OPERATIONAL.TBL_INDEX')).toEqual([
      { INDEX_CODE: 'TBOND7PLUSY' },
    ]);
  });

  test('finance and constituents file names go through the same schema', async () => {
    expect(symbolFromFinanceKey('batch/finances/comi_finance.csv')).toBe('COMI');
    expect(() => symbolFromFinanceKey("batch/finances/CO'MI_finance.csv")).toThrow(
      /the file name must be a ticker: "CO'MI" is not an EGX ticker/,
    );
    expect(parseConstituentsKey('batch/indices/egx30_constituents_2026-07-26.csv')).toEqual({
      index: 'EGX30',
      asOf: '2026-07-26',
    });
    expect(() => parseConstituentsKey('batch/indices/EGX;30_constituents.csv')).toThrow(
      /index code in the file name must be a ticker: "EGX;30" is not an EGX ticker/,
    );
    expect(() => parseConstituentsKey('batch/indices/EGX30_constituents_2026-02-30.csv')).toThrow(
      'the as-of date 2026-02-30 in the file name is invalid. There is no day 30 in February 2026',
    );

    await store.put(
      'batch/finances/C\u041eMI_finance.csv',
      'period_end,statement,item,value\n2024-12-31,income,revenue,1\n',
    );
    const r = await loadFile(
      { store, warehouse: wh },
      readerForKey('batch/finances/C\u041eMI_finance.csv'),
      'batch/finances/C\u041eMI_finance.csv',
      { runId: 'names-3' },
    );
    expect(r.error).toMatch(/"C\\u\{041E\}MI" is not an EGX ticker: it has "\\u\{041E\}" at position 2/);
    expect(await count('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_FINANCIAL')).toBe(0);
  });

  test('tickers inside company and constituents files: a hostile cell quarantines its row with the rule', async () => {
    await store.put(
      'batch/companies/hostile.csv',
      'Ticker,Company Name\nCOMI,CIB\n"CO;MI",Semicolon\n\u0421OMI,Cyrillic\n../ETEL,Path\nEGX:ETEL,Telecom Egypt\n',
    );
    const r = await loadFile(
      { store, warehouse: wh },
      readerForKey('batch/companies/hostile.csv'),
      'batch/companies/hostile.csv',
      {
        runId: 'names-4',
      },
    );
    expect(r).toMatchObject({ rowsLoaded: 2, rowsQuarantined: 3 });
    expect(r.quarantineReasons).toEqual({ 'symbol: not an EGX ticker': 3 });
    const reasons = await wh.query<{ LINE: number; REASON: string }>(
      'SELECT LINE, REASON FROM META.QUARANTINE ORDER BY LINE',
    );
    expect(reasons.map((q) => [q.LINE, q.REASON.split('; an EGX ticker is')[0]])).toEqual([
      [3, 'symbol: "CO;MI" is not an EGX ticker: it has ";" at position 3'],
      [
        4,
        'symbol: "\\u{0421}OMI" is not an EGX ticker: it has "\\u{0421}" at position 1, which is not a printable ASCII character (a look-alike, an invisible or a control character?)',
      ],
      [5, 'symbol: "../ETEL" is not an EGX ticker: it has "." at position 1'],
    ]);
    expect(await wh.query('SELECT SYMBOL FROM OPERATIONAL.TBL_COMPANY ORDER BY SYMBOL')).toEqual([
      { SYMBOL: 'COMI' },
      { SYMBOL: 'ETEL' },
    ]);
  });

  test('a replayed price file whose name is not a ticker is listed as rejected; the others replay', async () => {
    await store.put('batch/prices/COMI.csv', yahoo);
    await store.put('batch/prices/CO MI.csv', yahoo);
    const replay = new ReplaySource({ store, prefix: 'batch/prices/' });
    const bars = await replay.fetchBars({
      symbols: ['COMI'],
      interval: '1d',
      from: new Date('2000-01-01T00:00:00Z'),
      to: new Date('2000-01-01T00:00:01Z'),
    });
    expect(bars).toEqual([]);
    expect(replay.rejected).toEqual([
      {
        key: 'batch/prices/CO MI.csv',
        line: 0,
        reason: expect.stringContaining('"CO MI" is not an EGX ticker: it has a space at position 3'),
      },
    ]);
  });

  test('a listed key no store accepts (written by another tool) is reported by name, not loaded or retried', async () => {
    const r = await loadFiles({ store, warehouse: wh }, ['batch/prices/../COMI.csv'], { runId: 'names-5' });
    expect(r).toEqual([
      expect.objectContaining({
        key: 'batch/prices/../COMI.csv',
        rowsLoaded: 0,
        error: expect.stringContaining('the part ".." points outside the store or its prefix'),
      }),
    ]);
    expect(await count('SELECT COUNT(*) AS N FROM META.LOADED_FILES')).toBe(0);
  });
});
