import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import {
  createSnowflakeWarehouse,
  SnowflakeInputInvalidError,
  SnowflakeStatementError,
  type SnowflakeSettings,
} from '../../lib/warehouse/snowflake.js';
import type { SqlValue, TableDef, Warehouse } from '../../lib/warehouse/types.js';
import { checkOlderLayoutsMigrate } from '../support/older-layouts.js';

// fakesnow runs each array-bound row as its own DuckDB statement (~5 ms a row), so the big loads take seconds.
const SLOW = 120_000;

// One in-memory fakesnow serves every run while the test stack is up: each run uses its own database.
const settings = (): SnowflakeSettings => ({
  ...inject('snowflakeEmulator'),
  database: `EGX_IT_${randomBytes(4).toString('hex').toUpperCase()}`,
  schema: 'PUBLIC',
  bulkChunkRows: 1000, // small chunks, so a few thousand rows take several statements
});

const prices: TableDef = {
  schema: 'MARKET',
  name: 'DAILY_PRICES',
  columns: [
    { name: 'SYMBOL', type: 'VARCHAR', nullable: false },
    { name: 'TRADE_DATE', type: 'DATE', nullable: false },
    { name: 'CLOSE', type: 'DOUBLE' },
    { name: 'VOLUME', type: 'BIGINT' },
    { name: 'LOADED_AT', type: 'TIMESTAMP' },
    { name: 'IS_ADJUSTED', type: 'BOOLEAN' },
  ],
  key: ['SYMBOL', 'TRADE_DATE'],
};
const cols = prices.columns.map((c) => c.name);
const symbols: TableDef = {
  schema: 'REF',
  name: 'SYMBOLS',
  columns: [
    { name: 'SYMBOL', type: 'VARCHAR', nullable: false },
    { name: 'NAME', type: 'VARCHAR' },
  ],
  key: ['SYMBOL'],
};

/** n rows for symbol `sym`, one per day from 2024-01-01. */
function priceRows(sym: string, n: number, close = (i: number) => 10 + i / 4): SqlValue[][] {
  return Array.from({ length: n }, (_, i) => [
    sym,
    new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10),
    close(i),
    1000 * i,
    new Date(Date.UTC(2024, 0, 1 + i, 14, 30, 0, 250)),
    i % 2 === 0,
  ]);
}

let wh: Warehouse;

beforeAll(async () => {
  wh = await createSnowflakeWarehouse(settings());
});

afterAll(async () => {
  await wh?.close();
});

const count = async (where = '1 = 1', params: SqlValue[] = []) =>
  (await wh.query<{ N: number }>(`SELECT COUNT(*) AS N FROM MARKET.DAILY_PRICES WHERE ${where}`, params))[0]!
    .N;

describe('Snowflake warehouse on fakesnow', () => {
  test('bootstrap creates schemas and typed tables, and a second run changes nothing', async () => {
    await wh.bootstrap([prices, symbols]);
    await wh.bulkInsert(symbols, ['SYMBOL', 'NAME'], [['COMI', 'Commercial International Bank']]);
    await wh.bootstrap([prices, symbols]);

    const columns = await wh.query(
      `SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, NUMERIC_SCALE FROM INFORMATION_SCHEMA.COLUMNS
       WHERE TABLE_SCHEMA = 'MARKET' AND TABLE_NAME = 'DAILY_PRICES' ORDER BY ORDINAL_POSITION`,
    );
    expect(columns).toEqual([
      { COLUMN_NAME: 'SYMBOL', DATA_TYPE: 'TEXT', IS_NULLABLE: 'NO', NUMERIC_SCALE: null },
      { COLUMN_NAME: 'TRADE_DATE', DATA_TYPE: 'DATE', IS_NULLABLE: 'NO', NUMERIC_SCALE: null },
      { COLUMN_NAME: 'CLOSE', DATA_TYPE: 'FLOAT', IS_NULLABLE: 'YES', NUMERIC_SCALE: null },
      { COLUMN_NAME: 'VOLUME', DATA_TYPE: 'NUMBER', IS_NULLABLE: 'YES', NUMERIC_SCALE: 0 },
      { COLUMN_NAME: 'LOADED_AT', DATA_TYPE: 'TIMESTAMP_NTZ', IS_NULLABLE: 'YES', NUMERIC_SCALE: null },
      { COLUMN_NAME: 'IS_ADJUSTED', DATA_TYPE: 'BOOLEAN', IS_NULLABLE: 'YES', NUMERIC_SCALE: null },
    ]);
    // The second bootstrap kept the data.
    expect(await wh.query('SELECT SYMBOL, NAME FROM REF.SYMBOLS')).toEqual([
      { SYMBOL: 'COMI', NAME: 'Commercial International Bank' },
    ]);
  });

  test('execute runs DDL and DML with positional parameters', async () => {
    await wh.execute(
      'CREATE OR REPLACE TABLE PUBLIC.SCRATCH (ID NUMBER(38,0), NOTE VARCHAR, LOGGED_AT TIMESTAMP_NTZ)',
    );
    await wh.execute('INSERT INTO PUBLIC.SCRATCH (ID, NOTE, LOGGED_AT) VALUES (?, ?, ?)', [
      1,
      'one',
      new Date('2024-03-01T09:00:00.000Z'),
    ]);
    await wh.execute('INSERT INTO PUBLIC.SCRATCH (ID, NOTE, LOGGED_AT) VALUES (?, ?, ?)', [2n, null, null]);
    await wh.execute('UPDATE PUBLIC.SCRATCH SET NOTE = ? WHERE ID = ?', ['two', 2]);
    await wh.execute('DELETE FROM PUBLIC.SCRATCH WHERE ID = ?', [1]);
    expect(await wh.query('SELECT ID, NOTE, LOGGED_AT FROM PUBLIC.SCRATCH')).toEqual([
      { ID: 2, NOTE: 'two', LOGGED_AT: null },
    ]);
    await wh.execute('DROP TABLE PUBLIC.SCRATCH');
  });

  test(
    'bulkInsert writes a few thousand rows in chunked array binds, all or nothing',
    async () => {
      await wh.bootstrap([prices]);
      expect(await wh.bulkInsert(prices, cols, priceRows('COMI', 2500))).toBe(2500);
      expect(await wh.bulkInsert(prices, cols, priceRows('HRHO', 40))).toBe(40); // one statement, no staging
      expect(await wh.bulkInsert(prices, cols, [])).toBe(0);
      expect(await count()).toBe(2540);
      const [agg] = await wh.query(
        `SELECT COUNT(DISTINCT TRADE_DATE) AS DAYS, SUM(VOLUME) AS VOL, MIN(TRADE_DATE) AS FIRST_DAY,
                MAX(TRADE_DATE) AS LAST_DAY, SUM(CASE WHEN IS_ADJUSTED THEN 1 ELSE 0 END) AS ADJUSTED
         FROM MARKET.DAILY_PRICES WHERE SYMBOL = ?`,
        ['COMI'],
      );
      expect(agg).toEqual({
        DAYS: 2500,
        VOL: (1000 * 2499 * 2500) / 2,
        FIRST_DAY: '2024-01-01',
        LAST_DAY: new Date(Date.UTC(2024, 0, 2500)).toISOString().slice(0, 10),
        ADJUSTED: 1250,
      });

      // A row the table refuses (NULL in a NOT NULL column) in the second chunk: nothing is written.
      const bad = priceRows('ETEL', 1100);
      bad[1050]![0] = null;
      const err = await wh.bulkInsert(prices, cols, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SnowflakeStatementError);
      expect((err as Error).message).toContain('bulk insert into MARKET.DAILY_PRICES failed');
      expect((err as Error).cause).toBeDefined();
      expect(await count('SYMBOL = ?', ['ETEL'])).toBe(0);
    },
    SLOW,
  );

  test('upsert inserts, then updates on the key without duplicates', async () => {
    await wh.bootstrap([prices]);
    const first = priceRows('SWDY', 3);
    expect(await wh.upsert(prices, cols, first)).toEqual({ inserted: 3, updated: 0 });

    // Two existing days with new prices, one new day, and only some columns.
    const next: SqlValue[][] = [
      ['SWDY', '2024-01-02', 99.5, 7],
      ['SWDY', '2024-01-03', 101.25, 8],
      ['SWDY', '2024-01-04', 102, 9],
    ];
    const partCols = ['SYMBOL', 'TRADE_DATE', 'CLOSE', 'VOLUME'];
    expect(await wh.upsert(prices, partCols, next)).toEqual({ inserted: 1, updated: 2 });
    expect(await wh.upsert(prices, partCols, next)).toEqual({ inserted: 0, updated: 3 });

    expect(
      await wh.query(
        `SELECT TRADE_DATE, CLOSE, VOLUME, IS_ADJUSTED FROM MARKET.DAILY_PRICES
         WHERE SYMBOL = 'SWDY' ORDER BY TRADE_DATE`,
      ),
    ).toEqual([
      { TRADE_DATE: '2024-01-01', CLOSE: 10, VOLUME: 0, IS_ADJUSTED: true },
      { TRADE_DATE: '2024-01-02', CLOSE: 99.5, VOLUME: 7, IS_ADJUSTED: false }, // untouched column kept
      { TRADE_DATE: '2024-01-03', CLOSE: 101.25, VOLUME: 8, IS_ADJUSTED: true },
      { TRADE_DATE: '2024-01-04', CLOSE: 102, VOLUME: 9, IS_ADJUSTED: null },
    ]);
    expect(
      await wh.query(
        `SELECT SYMBOL, TRADE_DATE, COUNT(*) AS N FROM MARKET.DAILY_PRICES
         GROUP BY SYMBOL, TRADE_DATE HAVING COUNT(*) > 1`,
      ),
    ).toEqual([]);
    // No staging table is left behind.
    expect(
      await wh.query(`SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME LIKE 'EGX_STAGE_%'`),
    ).toEqual([]);
  });

  test(
    'upsert of more rows than one chunk',
    async () => {
      await wh.bootstrap([prices]);
      expect(await wh.upsert(prices, cols, priceRows('ABUK', 1200))).toEqual({ inserted: 1200, updated: 0 });
      expect(
        await wh.upsert(
          prices,
          cols,
          priceRows('ABUK', 1300, () => 1),
        ),
      ).toEqual({
        inserted: 100,
        updated: 1200,
      });
      expect(await count('SYMBOL = ?', ['ABUK'])).toBe(1300);
      expect(await count('SYMBOL = ? AND CLOSE = 1', ['ABUK'])).toBe(1300);
    },
    SLOW,
  );

  test('typed round trip: VARCHAR, DOUBLE, BIGINT, DATE, TIMESTAMP, BOOLEAN and NULLs', async () => {
    const types: TableDef = {
      schema: 'PUBLIC',
      name: 'TYPES_ROUND_TRIP',
      columns: [
        { name: 'ID', type: 'BIGINT', nullable: false },
        { name: 'TEXT_VALUE', type: 'VARCHAR' },
        { name: 'DOUBLE_VALUE', type: 'DOUBLE' },
        { name: 'BIGINT_VALUE', type: 'BIGINT' },
        { name: 'DATE_VALUE', type: 'DATE' },
        { name: 'TS_VALUE', type: 'TIMESTAMP' },
        { name: 'BOOL_VALUE', type: 'BOOLEAN' },
      ],
      key: ['ID'],
    };
    await wh.bootstrap([types]);
    const at = new Date('2024-02-29T13:45:30.123Z');
    const names = types.columns.map((c) => c.name);
    // NULLs first: every bind column is sent as text, so a leading NULL types nothing wrongly.
    await wh.bulkInsert(types, names, [
      [1, null, null, null, null, null, null],
      [2, 'Ḥelwān — "quoted", \'single\'', -1234.5678, 9_007_199_254_740_991n, '2024-02-29', at, true],
      [3, '', 0.1, -42, new Date('1999-12-31T23:00:00Z'), '2024-01-01 00:00:00', false],
    ]);
    const rows = await wh.query('SELECT * FROM PUBLIC.TYPES_ROUND_TRIP ORDER BY ID');
    expect(rows).toEqual([
      {
        ID: 1,
        TEXT_VALUE: null,
        DOUBLE_VALUE: null,
        BIGINT_VALUE: null,
        DATE_VALUE: null,
        TS_VALUE: null,
        BOOL_VALUE: null,
      },
      {
        ID: 2,
        TEXT_VALUE: 'Ḥelwān — "quoted", \'single\'',
        DOUBLE_VALUE: -1234.5678,
        BIGINT_VALUE: 9_007_199_254_740_991,
        DATE_VALUE: '2024-02-29',
        TS_VALUE: at,
        BOOL_VALUE: true,
      },
      {
        ID: 3,
        TEXT_VALUE: '',
        DOUBLE_VALUE: 0.1,
        BIGINT_VALUE: -42,
        DATE_VALUE: '1999-12-31',
        TS_VALUE: new Date('2024-01-01T00:00:00Z'),
        BOOL_VALUE: false,
      },
    ]);
    expect(typeof rows[1]!.BIGINT_VALUE).toBe('number');
    // Parameters of each type in a WHERE clause.
    expect(
      await wh.query(
        `SELECT ID FROM PUBLIC.TYPES_ROUND_TRIP
         WHERE TEXT_VALUE <> ? AND DOUBLE_VALUE < ? AND BIGINT_VALUE > ? AND DATE_VALUE = ? AND BOOL_VALUE = ?`,
        ['x', 0, 1, '2024-02-29', true],
      ),
    ).toEqual([{ ID: 2 }]);
  });

  test('failures name the statement or the value, with the driver error as cause', async () => {
    const err = await wh.query('SELECT * FROM MARKET.NO_SUCH_TABLE').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnowflakeStatementError);
    expect((err as Error).message).toMatch(/query failed: .*NO_SUCH_TABLE.*\(statement: SELECT \* FROM/);
    expect((err as SnowflakeStatementError).cause).toBeInstanceOf(Error);

    await expect(wh.bulkInsert(prices, cols, [['COMI', '2024-13-45x', 1, 1, null, true]])).rejects.toThrow(
      SnowflakeInputInvalidError,
    );
    await expect(wh.bulkInsert(prices, ['SYMBOL', 'NOPE'], [['A', 1]])).rejects.toThrow(
      /has no column "NOPE"/,
    );
    await expect(wh.upsert(prices, cols, [...priceRows('DUPE', 2), ...priceRows('DUPE', 1)])).rejects.toThrow(
      /rows 0 and 2 have the same key/,
    );
  });

  test('logs in with a key pair (authenticator SNOWFLAKE_JWT)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyPair: SnowflakeSettings = { ...settings(), privateKey };
    delete keyPair.password;
    const keyed = await createSnowflakeWarehouse(keyPair);
    try {
      expect(await keyed.query('SELECT 6 * 7 AS ANSWER')).toEqual([{ ANSWER: 42 }]);
    } finally {
      await keyed.close();
    }
  });

  test('bootstrap brings an older TBL_INDEX and TBL_MARKET_STAT to the current layout, idempotently', async () => {
    const own = await createSnowflakeWarehouse(settings());
    try {
      await checkOlderLayoutsMigrate(own);
    } finally {
      await own.close();
    }
  });
});
