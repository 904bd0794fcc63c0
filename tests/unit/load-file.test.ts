import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { readerForKey } from '../../lib/ingest/kinds.js';
import { loadFile, quarantineKey, reasonClass } from '../../lib/ingest/load-file.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { getText } from '../../lib/lake/types.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/prices/${name}`, import.meta.url)));

let store: LocalObjectStore;
let wh: DuckDbWarehouse;

beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-load-')));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterEach(async () => wh.close());

const load = (key: string, runId = 'run-1', force = false) =>
  loadFile({ store, warehouse: wh }, readerForKey(key), key, { runId, force });
const prices = () =>
  wh.query<{ TRADE_DATE: string; CLOSE_PRICE: number; SOURCE_LINE: number }>(
    'SELECT TRADE_DATE, CLOSE_PRICE, SOURCE_LINE FROM OPERATIONAL.TBL_STOCK_PRICE ORDER BY TRADE_DATE',
  );

describe('loading a batch file', () => {
  test('good rows land with lineage, bad rows go to quarantine with line and reason, the run reports counts', async () => {
    await store.put('batch/prices/COMI.csv', fixture('ar_export.csv'));
    const r = await load('batch/prices/COMI.csv');
    expect(r).toMatchObject({
      format: 'egx_ar_export',
      skipped: false,
      rowsLoaded: 3,
      rowsInserted: 3,
      rowsQuarantined: 3,
    });
    expect(r.quarantineReasons).toEqual({ 'close: must be > 0': 1, 'high < low': 1, 'duplicate date': 1 });
    expect((await prices()).map((p) => [p.TRADE_DATE, p.CLOSE_PRICE, p.SOURCE_LINE])).toEqual([
      ['2023-11-15', 26.879999, 7],
      ['2026-01-12', 115.1, 3],
      ['2026-01-13', 120.33, 2],
    ]);
    const q = await wh.query<{ LINE: number; REASON: string; RAW: string }>(
      'SELECT LINE, REASON, RAW FROM META.QUARANTINE ORDER BY LINE',
    );
    expect(q.map((x) => [x.LINE, x.REASON])).toEqual([
      [4, 'close: must be > 0, got 0'],
      [5, 'high 3.353 < low 32.25'],
      [6, 'duplicate date 2026-01-12 (also on line 3)'],
    ]);
    expect(q[0]?.RAW).toBe('2025/02/24,46.11,46.68,46.0,0.0,46.11,0.8,0.37,2.1805992E7,473000');
    const ndjson = (await getText(store, quarantineKey('run-1', 'batch/prices/COMI.csv')))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number });
    expect(ndjson.map((x) => x.line)).toEqual([4, 5, 6]);
  });

  test('an unchanged file is skipped; a changed one is reloaded by upsert, without duplicates', async () => {
    await store.put('batch/prices/XYZ.csv', fixture('yahoo_download.csv'));
    expect((await load('batch/prices/XYZ.csv')).rowsInserted).toBe(2);
    expect((await load('batch/prices/XYZ.csv', 'run-2')).skipped).toBe(true);
    const changed =
      fixture('yahoo_download.csv').toString().replace('82.1,81.0', '83.5,81.0') +
      '2024-06-24,83.5,84,83,83.9,83.9,500\n';
    await store.put('batch/prices/XYZ.csv', changed);
    const r = await load('batch/prices/XYZ.csv', 'run-3');
    expect(r).toMatchObject({ skipped: false, rowsInserted: 1, rowsUpdated: 2 });
    expect((await prices()).map((p) => [p.TRADE_DATE, p.CLOSE_PRICE])).toEqual([
      ['2024-06-20', 81],
      ['2024-06-23', 83.5],
      ['2024-06-24', 83.9],
    ]);
    expect((await load('batch/prices/XYZ.csv', 'run-4', true)).rowsUpdated).toBe(3);
  });

  test('an unreadable file is quarantined whole (line 0) and recorded, so it is not retried until it changes', async () => {
    await store.put('batch/prices/BAD.csv', fixture('unknown_layout.csv'));
    const r = await load('batch/prices/BAD.csv');
    expect(r.error).toMatch(/unrecognised daily price header/);
    expect(r.rowsLoaded).toBe(0);
    const [q] = await wh.query<{ LINE: number; REASON: string }>('SELECT LINE, REASON FROM META.QUARANTINE');
    expect(q).toMatchObject({ LINE: 0 });
    expect(q?.REASON).toMatch(/^file not loaded: batch\/prices\/BAD.csv: unrecognised/);
    expect((await load('batch/prices/BAD.csv', 'run-2')).skipped).toBe(true);
  });

  test('company lists in three layouts land in TBL_COMPANY; bad tickers and duplicates are quarantined', async () => {
    await store.put(
      'batch/companies/a.csv',
      '\ufeffTicker,Company Name,Sector,exchange\r\nCOMI,Commercial International Bank,Banks,EGX\r\nCOMI,Again,Banks,EGX\r\n??,Nope,X,EGX\r\n',
    );
    await store.put(
      'batch/companies/b.csv',
      'Name,Sector,URL,URL2\nCommercial International Bank (Egypt) S.A.E. (COMI),Banking,u,u\nA Capital Holding (ACAP),Finance,u,u\n',
    );
    await store.put(
      'batch/companies/c.csv',
      'symbol,yahoo_ticker,company_name_en,sector,is_major_exporter\nETEL,ETEL.CA,Telecom Egypt,اتصالات,no\n',
    );
    const a = await load('batch/companies/a.csv');
    expect(a).toMatchObject({ rowsLoaded: 1, rowsQuarantined: 2 });
    expect(a.quarantineReasons).toEqual({ 'duplicate symbol': 1, 'symbol: not an EGX ticker': 1 });
    await load('batch/companies/b.csv');
    await load('batch/companies/c.csv');
    const rows = await wh.query<{ SYMBOL: string; COMPANY_NAME: string; SECTOR: string }>(
      'SELECT SYMBOL, COMPANY_NAME, SECTOR FROM OPERATIONAL.TBL_COMPANY ORDER BY SYMBOL',
    );
    expect(rows).toEqual([
      { SYMBOL: 'ACAP', COMPANY_NAME: 'A Capital Holding', SECTOR: 'Finance' },
      { SYMBOL: 'COMI', COMPANY_NAME: 'Commercial International Bank (Egypt) S.A.E.', SECTOR: 'Banking' },
      { SYMBOL: 'ETEL', COMPANY_NAME: 'Telecom Egypt', SECTOR: 'اتصالات' },
    ]);
  });

  test('index constituents take the index from the file name and the as-of date from the row or the name', async () => {
    await store.put(
      'batch/indices/EGX30_constituents_2026-07-26.csv',
      'ticker,company_name,as_of_date,isin,reuters_code,weight_percent,source_url\nCOMI,CIB,2026-07-26,EG1,COMI.CA,13.5,u\nVLMRA,V,,EG2,V.CA,,u\nX1,bad weight,2026-07-26,,,150,u\n',
    );
    const r = await load('batch/indices/EGX30_constituents_2026-07-26.csv');
    expect(r).toMatchObject({ rowsLoaded: 2, rowsQuarantined: 1 });
    const rows = await wh.query(
      'SELECT INDEX_CODE, SYMBOL, AS_OF, WEIGHT FROM OPERATIONAL.TBL_INDEX_MEMBERSHIP ORDER BY SYMBOL',
    );
    expect(rows).toEqual([
      { INDEX_CODE: 'EGX30', SYMBOL: 'COMI', AS_OF: '2026-07-26', WEIGHT: 13.5 },
      { INDEX_CODE: 'EGX30', SYMBOL: 'VLMRA', AS_OF: '2026-07-26', WEIGHT: null },
    ]);
  });

  test('financial statements load from the long and the wide shape; accounting negatives and bad cells handled', async () => {
    await store.put(
      'batch/finances/COMI_finance.csv',
      'period_end,statement,item,value,currency\n2024-12-31,income,revenue,"1,250.5",EGP\n2024-12-31,income,net_income,(300),EGP\n2024-12-31,income,revenue,1,EGP\nsoon,income,x,1,EGP\n',
    );
    await store.put(
      'batch/finances/ETEL_finance.csv',
      'date,statement,total_assets,total_liabilities\n12/31/2024,balance,5000,\n',
    );
    const long = await load('batch/finances/COMI_finance.csv');
    expect(long).toMatchObject({ format: 'finance:long', rowsLoaded: 2, rowsQuarantined: 2 });
    expect(long.quarantineReasons).toEqual({
      'duplicate item revenue for income 2024-12-31': 1,
      'period_end: unreadable date': 1,
    });
    expect(await load('batch/finances/ETEL_finance.csv')).toMatchObject({
      format: 'finance:wide',
      rowsLoaded: 1,
      rowsQuarantined: 0,
    });
    const rows = await wh.query(
      'SELECT SYMBOL, PERIOD_END, STATEMENT, ITEM, VALUE FROM OPERATIONAL.TBL_FINANCIAL ORDER BY SYMBOL, ITEM',
    );
    expect(rows).toEqual([
      { SYMBOL: 'COMI', PERIOD_END: '2024-12-31', STATEMENT: 'income', ITEM: 'net_income', VALUE: -300 },
      { SYMBOL: 'COMI', PERIOD_END: '2024-12-31', STATEMENT: 'income', ITEM: 'revenue', VALUE: 1250.5 },
      { SYMBOL: 'ETEL', PERIOD_END: '2024-12-31', STATEMENT: 'balance', ITEM: 'total_assets', VALUE: 5000 },
    ]);
  });

  test('reasons are grouped without their values', () => {
    expect(reasonClass('close: must be > 0, got 0')).toBe('close: must be > 0');
    expect(reasonClass('high 3.353 < low 32.25')).toBe('high < low');
    expect(reasonClass('date: unreadable date "x"')).toBe('date: unreadable date');
    expect(reasonClass('duplicate date 2026-01-12 (also on line 3)')).toBe('duplicate date');
  });
});
