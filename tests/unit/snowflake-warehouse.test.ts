import type { Connection, StatementOption } from 'snowflake-sdk';
import { describe, expect, test } from 'vitest';
import {
  checkKeys,
  chunk,
  createSchemaSql,
  createStageSql,
  createTableSql,
  encodeRows,
  encodeValue,
  fromDriver,
  insertFromStageSql,
  insertValuesSql,
  mergeSql,
  runStatement,
  SnowflakeInputInvalidError,
  SnowflakeSettingsInvalidError,
  SnowflakeStatementError,
  snowflakeType,
  summarizeSql,
  toBind,
  validateSettings,
  type SnowflakeSettings,
} from '../../lib/warehouse/snowflake.js';
import { StatementCancelledError, type TableDef } from '../../lib/warehouse/types.js';

const prices: TableDef = {
  schema: 'market',
  name: 'daily_prices',
  columns: [
    { name: 'SYMBOL', type: 'VARCHAR', nullable: false },
    { name: 'TRADE_DATE', type: 'DATE', nullable: false },
    { name: 'CLOSE', type: 'DOUBLE' },
    { name: 'VOLUME', type: 'BIGINT' },
    { name: 'LOADED_AT', type: 'TIMESTAMP' },
    { name: 'IS_ADJUSTED', type: 'BOOLEAN', nullable: true },
  ],
  key: ['SYMBOL', 'TRADE_DATE'],
};

describe('Snowflake SQL building', () => {
  test('column types map to Snowflake types', () => {
    expect(prices.columns.map((c) => snowflakeType(c.type))).toEqual([
      'VARCHAR',
      'DATE',
      'DOUBLE',
      'NUMBER(38,0)',
      'TIMESTAMP_NTZ',
      'BOOLEAN',
    ]);
  });

  test('bootstrap DDL is idempotent, upper-case and declares the key', () => {
    expect(createSchemaSql('market')).toBe('CREATE SCHEMA IF NOT EXISTS MARKET');
    expect(createTableSql(prices)).toBe(
      'CREATE TABLE IF NOT EXISTS MARKET.DAILY_PRICES (SYMBOL VARCHAR NOT NULL, TRADE_DATE DATE NOT NULL, ' +
        'CLOSE DOUBLE, VOLUME NUMBER(38,0), LOADED_AT TIMESTAMP_NTZ, IS_ADJUSTED BOOLEAN, ' +
        'PRIMARY KEY (SYMBOL, TRADE_DATE))',
    );
    expect(createTableSql({ ...prices, key: undefined })).not.toContain('PRIMARY KEY');
  });

  test('identifiers that would need quoting are refused, not spliced into SQL', () => {
    expect(() => createSchemaSql('market; DROP TABLE x')).toThrow(SnowflakeInputInvalidError);
    expect(() => createTableSql({ ...prices, name: 'a-b' })).toThrow(/invalid identifier "a-b"/);
    expect(() => createTableSql({ ...prices, columns: [] })).toThrow(/has no columns/);
  });

  test('one INSERT with one placeholder per column, for array binds', () => {
    expect(insertValuesSql('MARKET.DAILY_PRICES', ['symbol', 'close'])).toBe(
      'INSERT INTO MARKET.DAILY_PRICES (SYMBOL, CLOSE) VALUES (?, ?)',
    );
    expect(insertFromStageSql(prices, 'EGX_STAGE_X', ['SYMBOL', 'CLOSE'])).toBe(
      'INSERT INTO MARKET.DAILY_PRICES (SYMBOL, CLOSE) SELECT SYMBOL, CLOSE FROM EGX_STAGE_X',
    );
  });

  test('the staging table is temporary and typed like the target columns', () => {
    expect(createStageSql('EGX_STAGE_X', prices, ['SYMBOL', 'trade_date', 'VOLUME'])).toBe(
      'CREATE TEMPORARY TABLE EGX_STAGE_X (SYMBOL VARCHAR, TRADE_DATE DATE, VOLUME NUMBER(38,0))',
    );
    expect(() => createStageSql('S', prices, ['SYMBOL', 'PRICE'])).toThrow(/has no column "PRICE"/);
    expect(() => createStageSql('S', prices, ['SYMBOL', 'symbol'])).toThrow(/given twice/);
  });

  test('MERGE matches on the key, updates the other columns and inserts the rest', () => {
    expect(mergeSql(prices, 'EGX_STAGE_X', ['SYMBOL', 'TRADE_DATE', 'CLOSE', 'VOLUME'])).toBe(
      'MERGE INTO MARKET.DAILY_PRICES AS TGT USING EGX_STAGE_X AS SRC ' +
        'ON TGT.SYMBOL = SRC.SYMBOL AND TGT.TRADE_DATE = SRC.TRADE_DATE ' +
        'WHEN MATCHED THEN UPDATE SET TGT.CLOSE = SRC.CLOSE, TGT.VOLUME = SRC.VOLUME ' +
        'WHEN NOT MATCHED THEN INSERT (SYMBOL, TRADE_DATE, CLOSE, VOLUME) ' +
        'VALUES (SRC.SYMBOL, SRC.TRADE_DATE, SRC.CLOSE, SRC.VOLUME)',
    );
    // Key columns only: nothing to update, inserts only.
    expect(mergeSql(prices, 'S', ['SYMBOL', 'TRADE_DATE'])).not.toContain('WHEN MATCHED');
    expect(() => mergeSql(prices, 'S', ['SYMBOL', 'CLOSE'])).toThrow(
      /must include the key column\(s\) TRADE_DATE/,
    );
    expect(() => mergeSql({ ...prices, key: [] }, 'S', ['SYMBOL'])).toThrow(/needs table.key/);
  });

  test('error messages carry a one-line, shortened statement', () => {
    expect(summarizeSql('SELECT *\n  FROM   t\n WHERE x = 1')).toBe('SELECT * FROM t WHERE x = 1');
    const long = `SELECT ${'A, '.repeat(100)}B FROM T`;
    expect(summarizeSql(long)).toHaveLength(120);
    expect(summarizeSql(long).endsWith('…')).toBe(true);
    const driverError = Object.assign(new Error('SQL compilation error: Object does not exist'), {
      code: '002003',
      sqlState: '42S02',
    });
    const e = new SnowflakeStatementError('merge into MARKET.P', 'MERGE INTO MARKET.P ...', driverError);
    expect(e.message).toBe(
      '[warehouse:snowflake] merge into MARKET.P failed: SQL compilation error: Object does not exist ' +
        '(statement: MERGE INTO MARKET.P ...)',
    );
    expect(e.cause).toBe(driverError);
    expect([e.code, e.sqlState]).toEqual(['002003', '42S02']);
  });
});

describe('Snowflake value encoding', () => {
  test('every array-bind value goes as text Snowflake casts into the column type', () => {
    const at = new Date('2024-02-29T13:45:30.123Z');
    expect(
      encodeRows(
        prices,
        ['SYMBOL', 'TRADE_DATE', 'CLOSE', 'VOLUME', 'LOADED_AT', 'IS_ADJUSTED'],
        [
          ['COMI', '2024-02-29', 81.25, 1_500_000, at, true],
          [null, new Date('2024-03-01T23:59:59Z'), 1e21, 2n ** 63n, '2024-03-01 10:00:00', false],
          [7, null, NaN, 2 ** 60, null, null],
        ],
      ),
    ).toEqual([
      ['COMI', '2024-02-29', '81.25', '1500000', '2024-02-29 13:45:30.123', 'TRUE'],
      [null, '2024-03-01', '1e+21', '9223372036854775808', '2024-03-01 10:00:00', 'FALSE'],
      ['7', null, 'NaN', '1152921504606846976', null, null],
    ]);
    expect(encodeValue(Infinity, 'DOUBLE')).toBe('inf');
    expect(encodeValue(-Infinity, 'DOUBLE')).toBe('-inf');
  });

  test('a value that does not fit its column names the row and the column', () => {
    const bad = (value: unknown, column: string) => () =>
      encodeRows(prices, [column], [[null], [value as never]]);
    expect(bad(1.5, 'VOLUME')).toThrow(
      'MARKET.DAILY_PRICES row 1, column VOLUME: cannot write 1.5 is not a whole number',
    );
    expect(bad('29/02/2024', 'TRADE_DATE')).toThrow(/row 1, column TRADE_DATE: .*not a 'YYYY-MM-DD' date/);
    expect(bad(new Date('nope'), 'LOADED_AT')).toThrow(/an invalid Date/);
    expect(bad(true, 'CLOSE')).toThrow('cannot write a boolean true in a DOUBLE column');
    expect(bad(1, 'IS_ADJUSTED')).toThrow('cannot write a number 1 in a BOOLEAN column');
    expect(bad(new Date(0), 'SYMBOL')).toThrow('a Date in a VARCHAR column');
    expect(() => encodeRows(prices, ['SYMBOL', 'CLOSE'], [['x']])).toThrow('row 0: 1 values for 2 columns');
  });

  test('execute/query parameters: timestamps as UTC text, big integers as text', () => {
    expect(toBind(new Date('2024-01-02T03:04:05.006Z'))).toBe('2024-01-02 03:04:05.006');
    expect(toBind(42n)).toBe(42);
    expect(toBind(2n ** 64n)).toBe('18446744073709551616');
    expect(toBind(NaN)).toBe('NaN');
    expect([toBind(null), toBind('a'), toBind(1.5), toBind(false)]).toEqual([null, 'a', 1.5, false]);
  });

  test('results: DATE as YYYY-MM-DD, TIMESTAMP as a plain Date, the rest untouched', () => {
    const col = (kind: 'date' | 'ts' | 'other') => ({
      isDate: () => kind === 'date',
      isTimestamp: () => kind === 'ts',
    });
    const sfDate = Object.assign(new Date('2024-02-29T00:00:00Z'), { getEpochSeconds: () => 0 });
    expect(fromDriver(sfDate, col('date'))).toBe('2024-02-29');
    const ts = fromDriver(sfDate, col('ts'));
    expect(ts).toEqual(new Date('2024-02-29T00:00:00Z'));
    expect(Object.keys(ts as object)).toEqual([]);
    expect([fromDriver(null, col('date')), fromDriver(3, col('other'))]).toEqual([null, 3]);
  });

  test('upsert rows must have distinct, non-NULL keys', () => {
    const cols = ['SYMBOL', 'TRADE_DATE', 'CLOSE'];
    expect(() =>
      checkKeys(prices, cols, [
        ['A', '2024-01-01', '1'],
        ['A', '2024-01-02', '1'],
      ]),
    ).not.toThrow();
    expect(() =>
      checkKeys(prices, cols, [
        ['A', '2024-01-01', '1'],
        ['B', '2024-01-01', '2'],
        ['A', '2024-01-01', '3'],
      ]),
    ).toThrow('rows 0 and 2 have the same key ["A","2024-01-01"]');
    expect(() => checkKeys(prices, cols, [['A', null, '1']])).toThrow('row 0: NULL in the key');
  });

  test('chunks of at most n rows', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 10)).toEqual([]);
  });
});

describe('Snowflake settings', () => {
  const base: SnowflakeSettings = {
    account: 'org-acct',
    username: 'loader',
    password: 'pw',
    database: 'EGX',
  };

  test('valid password and key-pair settings pass', () => {
    expect(() => validateSettings(base)).not.toThrow();
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n';
    expect(() => validateSettings({ ...base, password: undefined, privateKey: key })).not.toThrow();
  });

  test('each problem names the option and never echoes a secret', () => {
    const err = (s: Partial<SnowflakeSettings>) => {
      try {
        validateSettings({ ...base, ...s });
      } catch (e) {
        expect(e).toBeInstanceOf(SnowflakeSettingsInvalidError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err({ account: '' })).toBe('[warehouse:snowflake] missing required option "account"');
    expect(err({ database: undefined })).toContain('"database"');
    expect(err({ privateKey: 'secret-key-material' })).toContain(
      'exactly one of "password" and "privateKey"',
    );
    expect(err({ password: undefined, privateKey: 'secret-key-material' })).toBe(
      '[warehouse:snowflake] "privateKey" must be a PEM string (-----BEGIN ... PRIVATE KEY-----)',
    );
    expect(err({ bulkChunkRows: 0 })).toContain('"bulkChunkRows"');
    expect(err({ port: 70000 })).toContain('"port"');
    expect(err({ schema: 'a b' })).toContain('"schema"');
  });
});

describe('cancelling a statement', () => {
  /** A driver connection whose statements run until `finish` is called; records abort requests. */
  function fakeConnection() {
    const calls = { cancels: 0, finish: (_err?: Error) => {} };
    const conn: Pick<Connection, 'execute'> = {
      execute: (opts: StatementOption) => {
        const stmt = { getColumns: () => [], cancel: () => void calls.cancels++ };
        calls.finish = (err) => opts.complete?.(err as never, stmt as never, []);
        return stmt as never;
      },
    };
    return { conn, calls };
  }

  test('an abort sends one cancel request and rejects at once; the late answer is ignored', async () => {
    const { conn, calls } = fakeConnection();
    const abort = new AbortController();
    const running = runStatement(conn, 'query', 'SELECT SLOW()', [], abort.signal);
    abort.abort(new Error('activity cancelled'));
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementCancelledError);
    expect((err as Error).message).toBe('statement cancelled: SELECT SLOW()');
    expect(((err as Error).cause as Error).message).toBe('activity cancelled');
    expect(calls.cancels).toBe(1);
    calls.finish(new Error('SQL execution canceled'));
    abort.abort();
    expect(calls.cancels).toBe(1);
  });

  test('a statement that finishes first is not cancelled by a later abort', async () => {
    const { conn, calls } = fakeConnection();
    const abort = new AbortController();
    const running = runStatement(conn, 'statement', 'SELECT 1', [], abort.signal);
    calls.finish();
    await expect(running).resolves.toEqual({ columns: [], rows: [] });
    abort.abort();
    expect(calls.cancels).toBe(0);
  });

  test('an already aborted signal sends nothing', async () => {
    const { conn, calls } = fakeConnection();
    let executed = false;
    const spy = { execute: (o: StatementOption) => ((executed = true), conn.execute(o)) };
    await expect(runStatement(spy, 'q', 'SELECT 1', [], AbortSignal.abort())).rejects.toThrow(
      StatementCancelledError,
    );
    expect(executed).toBe(false);
    expect(calls.cancels).toBe(0);
  });
});
