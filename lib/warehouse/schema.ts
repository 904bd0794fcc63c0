import type { ColumnDef, TableDef, Warehouse } from './types.js';

/** The warehouse layout (docs/ARCHITECTURE.md): schemas RAW, OPERATIONAL, SILVER, GOLD, META and the tables the loaders own. */

const c = (name: string, type: ColumnDef['type'], nullable = true): ColumnDef => ({ name, type, nullable });
const lineage = [
  c('SOURCE_KEY', 'VARCHAR'),
  c('SOURCE_LINE', 'BIGINT'),
  c('RUN_ID', 'VARCHAR'),
  c('LOADED_AT', 'TIMESTAMP'),
];

export const SCHEMAS = ['RAW', 'OPERATIONAL', 'SILVER', 'GOLD', 'META'] as const;

/** One row per (symbol, trade date, vendor): the same day from two vendors is two rows. */
export const TBL_STOCK_PRICE: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_STOCK_PRICE',
  columns: [
    c('SYMBOL', 'VARCHAR', false),
    c('TRADE_DATE', 'DATE', false),
    c('DATA_SOURCE', 'VARCHAR', false),
    c('OPEN_PRICE', 'DOUBLE'),
    c('HIGH_PRICE', 'DOUBLE'),
    c('LOW_PRICE', 'DOUBLE'),
    c('CLOSE_PRICE', 'DOUBLE'),
    c('PREV_CLOSE', 'DOUBLE'),
    c('VOLUME', 'BIGINT'),
    c('TURNOVER', 'DOUBLE'),
    ...lineage,
  ],
  key: ['SYMBOL', 'TRADE_DATE', 'DATA_SOURCE'],
  indexKey: false,
};

/** The columns of a daily bar in TBL_STOCK_PRICE, for writers whose only lineage is the load time. */
export const DAILY_BAR_COLUMNS = [
  'SYMBOL',
  'TRADE_DATE',
  'DATA_SOURCE',
  'OPEN_PRICE',
  'HIGH_PRICE',
  'LOW_PRICE',
  'CLOSE_PRICE',
  'VOLUME',
  'LOADED_AT',
];

/** The columns of an intraday bar in TBL_INTRADAY_PRICE, before its lineage. */
export const INTRADAY_BAR_COLUMNS = [
  'SYMBOL',
  'BAR_INTERVAL',
  'BAR_START',
  'BAR_START_LOCAL',
  'TRADE_DATE',
  'DATA_SOURCE',
  'OPEN_PRICE',
  'HIGH_PRICE',
  'LOW_PRICE',
  'CLOSE_PRICE',
  'VOLUME',
];

/**
 * Streamed bars as consumed from the bus, one row per (symbol, interval, bar open); re-consuming
 * a message upserts the same row. SOURCE_KEY is `<topic>-<partition>` (or `direct-<interval>`), SOURCE_OFFSET the message offset.
 */
export const STREAM_BARS: TableDef = {
  schema: 'RAW',
  name: 'STREAM_BARS',
  columns: [
    c('SYMBOL', 'VARCHAR', false),
    c('BAR_INTERVAL', 'VARCHAR', false),
    c('TS', 'TIMESTAMP', false),
    c('TRADE_DATE', 'DATE', false),
    c('OPEN_PRICE', 'DOUBLE'),
    c('HIGH_PRICE', 'DOUBLE'),
    c('LOW_PRICE', 'DOUBLE'),
    c('CLOSE_PRICE', 'DOUBLE'),
    c('VOLUME', 'BIGINT'),
    c('MARKET_SOURCE', 'VARCHAR'),
    c('INGESTED_AT', 'TIMESTAMP'),
    c('SOURCE_KEY', 'VARCHAR'),
    c('SOURCE_OFFSET', 'BIGINT'),
    c('LOADED_AT', 'TIMESTAMP'),
  ],
  key: ['SYMBOL', 'BAR_INTERVAL', 'TS'],
};

/**
 * Intraday bars from files (1-minute, 5-minute, ... exports such as TradingView's), one row per
 * (symbol, bar start, interval): a later file's bar replaces an earlier one's (DATA_SOURCE says
 * whose). BAR_START is the bar's opening instant in UTC, BAR_START_LOCAL the same instant on
 * Cairo's clock (so models need no time-zone functions, which DuckDB and Snowflake spell
 * differently), TRADE_DATE its Cairo date, BAR_INTERVAL its length as `<n>m`, `<n>h` or `<n>s`
 * (from the file name or the timestamps).
 */
export const TBL_INTRADAY_PRICE: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_INTRADAY_PRICE',
  columns: [
    c('SYMBOL', 'VARCHAR', false),
    c('BAR_INTERVAL', 'VARCHAR', false),
    c('BAR_START', 'TIMESTAMP', false),
    c('BAR_START_LOCAL', 'TIMESTAMP'),
    c('TRADE_DATE', 'DATE', false),
    c('DATA_SOURCE', 'VARCHAR', false),
    c('OPEN_PRICE', 'DOUBLE'),
    c('HIGH_PRICE', 'DOUBLE'),
    c('LOW_PRICE', 'DOUBLE'),
    c('CLOSE_PRICE', 'DOUBLE'),
    c('VOLUME', 'BIGINT'),
    ...lineage,
  ],
  key: ['SYMBOL', 'BAR_START', 'BAR_INTERVAL'],
};

export const TBL_COMPANY: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_COMPANY',
  columns: [
    c('SYMBOL', 'VARCHAR', false),
    c('COMPANY_NAME', 'VARCHAR'),
    c('SECTOR', 'VARCHAR'),
    c('INDUSTRY', 'VARCHAR'),
    c('EXCHANGE', 'VARCHAR'),
    c('ISIN', 'VARCHAR'),
    ...lineage,
  ],
  key: ['SYMBOL'],
};

/**
 * Official index levels, one row per (index code, trade date, vendor), from index level files
 * (Investing, Yahoo, EGX exports of EGX30, EGX70, ...). Until 2026-12 this table held only
 * (INDEX_CODE, INDEX_NAME) and was never filled; bootstrapWarehouse moves such a table aside.
 */
export const TBL_INDEX: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_INDEX',
  columns: [
    c('INDEX_CODE', 'VARCHAR', false),
    c('TRADE_DATE', 'DATE', false),
    c('DATA_SOURCE', 'VARCHAR', false),
    c('OPEN_PRICE', 'DOUBLE'),
    c('HIGH_PRICE', 'DOUBLE'),
    c('LOW_PRICE', 'DOUBLE'),
    c('CLOSE_PRICE', 'DOUBLE'),
    c('VOLUME', 'BIGINT'),
    c('INDEX_NAME', 'VARCHAR'),
    ...lineage,
  ],
  key: ['INDEX_CODE', 'TRADE_DATE', 'DATA_SOURCE'],
};

export const TBL_INDEX_MEMBERSHIP: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_INDEX_MEMBERSHIP',
  columns: [
    c('INDEX_CODE', 'VARCHAR', false),
    c('SYMBOL', 'VARCHAR', false),
    c('AS_OF', 'DATE', false),
    c('WEIGHT', 'DOUBLE'),
    c('COMPANY_NAME', 'VARCHAR'),
    ...lineage,
  ],
  key: ['INDEX_CODE', 'SYMBOL', 'AS_OF'],
};

/** Financial statement items in long form: one row per (symbol, period end, statement, item). */
export const TBL_FINANCIAL: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_FINANCIAL',
  columns: [
    c('SYMBOL', 'VARCHAR', false),
    c('PERIOD_END', 'DATE', false),
    c('STATEMENT', 'VARCHAR', false),
    c('ITEM', 'VARCHAR', false),
    c('VALUE', 'DOUBLE'),
    c('CURRENCY', 'VARCHAR'),
    ...lineage,
  ],
  key: ['SYMBOL', 'PERIOD_END', 'STATEMENT', 'ITEM'],
};

/** Market-wide daily figures (the total market capitalisation, ...), one row per (date, metric). */
export const TBL_MARKET_STAT: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_MARKET_STAT',
  columns: [c('STAT_DATE', 'DATE', false), c('METRIC', 'VARCHAR', false), c('VALUE', 'DOUBLE'), ...lineage],
  key: ['STAT_DATE', 'METRIC'],
};

/** The loaded-file manifest: a file whose etag is unchanged is not loaded again. */
export const LOADED_FILES: TableDef = {
  schema: 'META',
  name: 'LOADED_FILES',
  columns: [
    c('SOURCE_KEY', 'VARCHAR', false),
    c('ETAG', 'VARCHAR', false),
    c('KIND', 'VARCHAR'),
    c('FORMAT', 'VARCHAR'),
    c('ROWS_LOADED', 'BIGINT'),
    c('ROWS_QUARANTINED', 'BIGINT'),
    c('ERROR', 'VARCHAR'),
    c('RUN_ID', 'VARCHAR'),
    c('LOADED_AT', 'TIMESTAMP'),
  ],
  key: ['SOURCE_KEY'],
};

/** Rows (or whole files, LINE 0) that did not load, with the reason. */
export const QUARANTINE: TableDef = {
  schema: 'META',
  name: 'QUARANTINE',
  columns: [
    c('SOURCE_KEY', 'VARCHAR', false),
    c('ETAG', 'VARCHAR', false),
    c('LINE', 'BIGINT', false),
    c('REASON', 'VARCHAR'),
    c('RAW', 'VARCHAR'),
    c('RUN_ID', 'VARCHAR'),
    c('QUARANTINED_AT', 'TIMESTAMP'),
  ],
  key: ['SOURCE_KEY', 'ETAG', 'LINE'],
};

export const QUALITY_RESULTS: TableDef = {
  schema: 'META',
  name: 'QUALITY_RESULTS',
  columns: [
    c('RUN_ID', 'VARCHAR', false),
    c('CHECK_NAME', 'VARCHAR', false),
    c('PASSED', 'BOOLEAN'),
    c('FAILING_ROWS', 'BIGINT'),
    c('CHECKED_ROWS', 'BIGINT'),
    c('DETAIL', 'VARCHAR'),
    c('CHECKED_AT', 'TIMESTAMP'),
  ],
  key: ['RUN_ID', 'CHECK_NAME'],
};

export const RUN_LOG: TableDef = {
  schema: 'META',
  name: 'RUN_LOG',
  columns: [
    c('RUN_ID', 'VARCHAR', false),
    c('PIPELINE', 'VARCHAR'),
    c('BUSINESS_DATE', 'DATE'),
    c('STATUS', 'VARCHAR'),
    c('DETAIL', 'VARCHAR'),
    c('STARTED_AT', 'TIMESTAMP'),
    c('FINISHED_AT', 'TIMESTAMP'),
  ],
  key: ['RUN_ID'],
};

/** One row per data test per run: status and failing rows (with a few samples) of each model's tests. */
export const TEST_RESULTS: TableDef = {
  schema: 'META',
  name: 'TEST_RESULTS',
  columns: [
    c('RUN_ID', 'VARCHAR', false),
    c('MODEL_NAME', 'VARCHAR', false),
    c('TEST_NAME', 'VARCHAR', false),
    c('SEVERITY', 'VARCHAR'),
    c('STATUS', 'VARCHAR'),
    c('FAILING_ROWS', 'BIGINT'),
    c('SAMPLE_ROWS', 'VARCHAR'),
    c('TESTED_AT', 'TIMESTAMP'),
  ],
  key: ['RUN_ID', 'MODEL_NAME', 'TEST_NAME'],
};

/** Alerts by problem: when it was first and last seen, last sent, and how often it recurred unsent. */
export const ALERTS: TableDef = {
  schema: 'META',
  name: 'ALERTS',
  columns: [
    c('ALERT_KEY', 'VARCHAR', false),
    c('TITLE', 'VARCHAR'),
    c('FIRST_AT', 'TIMESTAMP'),
    c('LAST_AT', 'TIMESTAMP'),
    c('LAST_SENT_AT', 'TIMESTAMP'),
    c('SUPPRESSED', 'BIGINT'),
  ],
  key: ['ALERT_KEY'],
};

/** One row per model build per run. */
export const MODEL_RUNS: TableDef = {
  schema: 'META',
  name: 'MODEL_RUNS',
  columns: [
    c('RUN_ID', 'VARCHAR', false),
    c('MODEL_NAME', 'VARCHAR', false),
    c('MATERIALIZED', 'VARCHAR'),
    c('STATUS', 'VARCHAR'),
    c('ROWS', 'BIGINT'),
    c('SECONDS', 'DOUBLE'),
    c('DETAIL', 'VARCHAR'),
    c('BUILT_AT', 'TIMESTAMP'),
  ],
  key: ['RUN_ID', 'MODEL_NAME'],
};

/** What the loaders and the stream sinks write: the data, the file manifest and the quarantine. */
export const DATA_TABLES: TableDef[] = [
  TBL_STOCK_PRICE,
  TBL_INTRADAY_PRICE,
  STREAM_BARS,
  TBL_COMPANY,
  TBL_INDEX,
  TBL_INDEX_MEMBERSHIP,
  TBL_FINANCIAL,
  TBL_MARKET_STAT,
  LOADED_FILES,
  QUARANTINE,
];

export const ALL_TABLES: TableDef[] = [
  ...DATA_TABLES,
  QUALITY_RESULTS,
  RUN_LOG,
  TEST_RESULTS,
  MODEL_RUNS,
  ALERTS,
];

/** The suffix of the copy an existing table of an older layout is kept under (`TBL_INDEX__PREVIOUS`). */
export const PREVIOUS_LAYOUT_SUFFIX = '__PREVIOUS';

/**
 * Brings existing tables to the layout of `tables`, before they are created (IF NOT EXISTS) by
 * bootstrap. A table lacking a column of its key (its natural key changed: DuckDB's primary key
 * cannot be altered, and the old rows may not fit it) is moved aside whole: its rows are copied to
 * `<name>__PREVIOUS` (replacing an earlier copy) and the table is dropped, so bootstrap creates it
 * anew. A table lacking only other columns gets them added (null in the old rows). Returns what it
 * did, one line per table changed; a second run finds nothing to do.
 */
export async function migrateTables(wh: Warehouse, tables: TableDef[]): Promise<string[]> {
  const done: string[] = [];
  const schemas = [...new Set(tables.map((t) => t.schema))];
  // One query for every table: bootstrap runs on each start, and each statement costs a round trip on Snowflake.
  const rows = await wh.query<{ T: string; C: string }>(
    `SELECT UPPER(TABLE_SCHEMA) || '.' || UPPER(TABLE_NAME) AS T, UPPER(COLUMN_NAME) AS C
       FROM INFORMATION_SCHEMA.COLUMNS WHERE UPPER(TABLE_SCHEMA) IN (${schemas.map(() => '?').join(', ')})`,
    schemas,
  );
  const existing = new Map<string, Set<string>>();
  for (const r of rows) {
    const cols = existing.get(r.T) ?? new Set<string>();
    cols.add(r.C);
    existing.set(r.T, cols);
  }
  for (const t of tables) {
    const have = existing.get(`${t.schema}.${t.name}`);
    if (!have) continue;
    const missing = t.columns.filter((col) => !have.has(col.name));
    if (missing.length === 0) continue;
    const table = `${t.schema}.${t.name}`;
    if ((t.key ?? []).some((k) => !have.has(k))) {
      const previous = `${table}${PREVIOUS_LAYOUT_SUFFIX}`;
      await wh.execute(`CREATE OR REPLACE TABLE ${previous} AS SELECT * FROM ${table}`);
      await wh.execute(`DROP TABLE ${table}`);
      done.push(`${table}: older layout (no ${missing.map((m) => m.name).join(', ')}) moved to ${previous}`);
    } else {
      for (const col of missing) await wh.execute(`ALTER TABLE ${table} ADD COLUMN ${col.name} ${col.type}`);
      done.push(`${table}: added ${missing.map((m) => m.name).join(', ')}`);
    }
  }
  return done;
}

/** Creates every schema and table the pipeline owns, bringing older layouts up to date (migrateTables); safe to run on every start. */
export async function bootstrapWarehouse(wh: Warehouse): Promise<void> {
  for (const s of SCHEMAS) await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await migrateTables(wh, ALL_TABLES);
  await wh.bootstrap(ALL_TABLES);
}
