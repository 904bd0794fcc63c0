import type { ColumnDef, TableDef } from './types.js';

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

/** Market-wide daily figures (index levels, market cap), one row per (date, metric). */
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

/** Creates every schema and table the pipeline owns; safe to run on every start. */
export async function bootstrapWarehouse(wh: import('./types.js').Warehouse): Promise<void> {
  for (const s of SCHEMAS) await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await wh.bootstrap(ALL_TABLES);
}
