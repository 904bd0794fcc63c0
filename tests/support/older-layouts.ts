import { expect } from 'vitest';
import {
  bootstrapWarehouse,
  migrateTables,
  ALL_TABLES,
  TBL_INDEX,
  TBL_MARKET_STAT,
} from '../../lib/warehouse/schema.js';
import type { TableDef, Warehouse } from '../../lib/warehouse/types.js';

/** TBL_INDEX as it was before it held levels: one row per index code. */
const OLD_TBL_INDEX: TableDef = {
  schema: 'OPERATIONAL',
  name: 'TBL_INDEX',
  columns: [
    { name: 'INDEX_CODE', type: 'VARCHAR', nullable: false },
    { name: 'INDEX_NAME', type: 'VARCHAR' },
    { name: 'SOURCE_KEY', type: 'VARCHAR' },
  ],
  key: ['INDEX_CODE'],
};

/** TBL_MARKET_STAT without its lineage columns: only non-key columns are missing. */
const OLD_MARKET_STAT: TableDef = {
  ...TBL_MARKET_STAT,
  columns: TBL_MARKET_STAT.columns.filter((c) => ['STAT_DATE', 'METRIC', 'VALUE'].includes(c.name)),
};

/**
 * A warehouse created by an older release (TBL_INDEX keyed by index code alone, TBL_MARKET_STAT
 * without lineage) is brought to today's layout by bootstrapWarehouse, keeping the old rows, and a
 * second bootstrap changes nothing. Shared by the DuckDB and Snowflake emulator tests.
 */
export async function checkOlderLayoutsMigrate(wh: Warehouse): Promise<void> {
  await wh.bootstrap([OLD_TBL_INDEX, OLD_MARKET_STAT]);
  await wh.upsert(OLD_TBL_INDEX, ['INDEX_CODE', 'INDEX_NAME'], [['EGX30', 'EGX 30 Index']]);
  await wh.upsert(
    OLD_MARKET_STAT,
    ['STAT_DATE', 'METRIC', 'VALUE'],
    [['2024-01-02', 'MARKET_CAP_EGP', 1.5e12]],
  );

  await bootstrapWarehouse(wh);

  const columns = async (t: string) =>
    (
      await wh.query<{ C: string }>(
        `SELECT UPPER(COLUMN_NAME) AS C FROM INFORMATION_SCHEMA.COLUMNS
          WHERE UPPER(TABLE_SCHEMA) = 'OPERATIONAL' AND UPPER(TABLE_NAME) = ? ORDER BY ORDINAL_POSITION`,
        [t],
      )
    ).map((r) => r.C);
  expect(await columns('TBL_INDEX')).toEqual(TBL_INDEX.columns.map((c) => c.name));
  expect(await columns('TBL_INDEX__PREVIOUS')).toEqual(['INDEX_CODE', 'INDEX_NAME', 'SOURCE_KEY']);
  expect(await wh.query('SELECT INDEX_CODE, INDEX_NAME FROM OPERATIONAL.TBL_INDEX__PREVIOUS')).toEqual([
    { INDEX_CODE: 'EGX30', INDEX_NAME: 'EGX 30 Index' },
  ]);
  expect(new Set(await columns('TBL_MARKET_STAT'))).toEqual(
    new Set(TBL_MARKET_STAT.columns.map((c) => c.name)),
  );
  expect(await wh.query('SELECT METRIC, VALUE, RUN_ID FROM OPERATIONAL.TBL_MARKET_STAT')).toEqual([
    { METRIC: 'MARKET_CAP_EGP', VALUE: 1.5e12, RUN_ID: null },
  ]);

  // Levels of one index on two days from two vendors: the new key takes them all.
  const cols = ['INDEX_CODE', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE'];
  await wh.upsert(TBL_INDEX, cols, [
    ['EGX30', '2024-01-02', 'investing', 24800.5],
    ['EGX30', '2024-01-03', 'investing', 25010.25],
    ['EGX30', '2024-01-02', 'yahoo', 24800.49],
  ]);
  await wh.upsert(TBL_INDEX, cols, [['EGX30', '2024-01-03', 'investing', 25011]]);
  expect(
    await wh.query(
      'SELECT TRADE_DATE, DATA_SOURCE, CLOSE_PRICE FROM OPERATIONAL.TBL_INDEX ORDER BY TRADE_DATE, DATA_SOURCE',
    ),
  ).toEqual([
    { TRADE_DATE: '2024-01-02', DATA_SOURCE: 'investing', CLOSE_PRICE: 24800.5 },
    { TRADE_DATE: '2024-01-02', DATA_SOURCE: 'yahoo', CLOSE_PRICE: 24800.49 },
    { TRADE_DATE: '2024-01-03', DATA_SOURCE: 'investing', CLOSE_PRICE: 25011 },
  ]);

  // Idempotent: nothing more to do, the levels and the kept copy stay.
  expect(await migrateTables(wh, ALL_TABLES)).toEqual([]);
  await bootstrapWarehouse(wh);
  const [levels] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INDEX');
  expect(levels!.N).toBe(3);
  const [kept] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INDEX__PREVIOUS');
  expect(kept!.N).toBe(1);
}
