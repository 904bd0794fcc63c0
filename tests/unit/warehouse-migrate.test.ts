import { test } from 'vitest';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { checkOlderLayoutsMigrate } from '../support/older-layouts.js';

test('DuckDB: bootstrap moves an older TBL_INDEX aside, adds missing columns, and is idempotent', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  try {
    await checkOlderLayoutsMigrate(wh);
  } finally {
    await wh.close();
  }
});
