import { describe, expect, test } from 'vitest';
import { heldBy } from '../../cli/load.js';
import { batchKeyFor } from '../../cli/upload.js';

describe('where egx upload puts a file', () => {
  test.each([
    ['COMI.csv', 'batch/prices/COMI.csv'],
    ['investing_1996_2024/SWDY.csv', 'batch/prices/investing_1996_2024/SWDY.csv'],
    ['companies/list.csv', 'batch/companies/list.csv'],
    ['history/companies/list.csv', 'batch/companies/list.csv'],
    ['batch/prices/COMI.csv', 'batch/prices/COMI.csv'],
    ['lake/batch/indices/EGX30_constituents.csv', 'batch/indices/EGX30_constituents.csv'],
    ['EGX30_constituents_2026-01-01.csv', 'batch/indices/EGX30_constituents_2026-01-01.csv'],
    ['SWDY_finance.csv', 'batch/finances/SWDY_finance.csv'],
    ['index_levels/EGX30.csv', 'batch/index_levels/EGX30.csv'],
    // Index exports by their vendors' names, wherever they sit: never under batch/prices/.
    ['downloads/EGX 30 Historical Data.csv', 'batch/index_levels/downloads/EGX 30 Historical Data.csv'],
    ['^CASE30.csv', 'batch/index_levels/^CASE30.csv'],
    ['EGX_market_cap_2008_2024.csv', 'batch/index_levels/EGX_market_cap_2008_2024.csv'],
    ['intraday/tradingview/COMI.csv', 'batch/intraday/tradingview/COMI.csv'],
  ])('%s → %s', (from, key) => expect(batchKeyFor(from)).toBe(key));

  test('--kind decides over folder and file name; an unknown kind is refused naming the kinds', () => {
    expect(batchKeyFor('vendor/COMI.csv', 'companies')).toBe('batch/companies/vendor/COMI.csv');
    expect(() => batchKeyFor('COMI.csv', 'price')).toThrow(
      'unknown file kind "price" (expected one of: prices, companies, indices, finances, index_levels, intraday)',
    );
  });
});

test("DuckDB's lock error is recognised with its holder, however deep in the causes", () => {
  const duck = new Error(
    'IO Error: Could not set lock on file "/data/egx.duckdb": Conflicting lock is held in /usr/bin/node (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency',
  );
  expect(heldBy(new Error('cannot open DuckDB warehouse /data/egx.duckdb', { cause: duck }))).toEqual({
    program: 'node',
    pid: 4242,
  });
  expect(heldBy(new Error('IO Error: Could not set lock on file "/x"'))).toEqual({});
  expect(heldBy(new Error('IO Error: No such file or directory'))).toBeUndefined();
});
