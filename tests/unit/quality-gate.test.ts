import { afterEach, beforeEach, expect, test } from 'vitest';
import { describeFailures, runQualityChecks } from '../../lib/quality/gate.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { TBL_COMPANY, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';

let wh: DuckDbWarehouse;
// Without enforced keys, as on Snowflake, so duplicates can exist and must be caught.
const companies = { ...TBL_COMPANY, key: undefined };
const prices = { ...TBL_STOCK_PRICE, key: undefined };
const priceCols = ['SYMBOL', 'TRADE_DATE', 'DATA_SOURCE', 'HIGH_PRICE', 'LOW_PRICE', 'CLOSE_PRICE', 'VOLUME'];

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await wh.execute('CREATE SCHEMA OPERATIONAL');
  await wh.bootstrap([companies, prices]);
  await wh.bulkInsert(companies, ['SYMBOL'], [['COMI'], ['ETEL']]);
  await wh.bulkInsert(prices, priceCols, [
    ['COMI', '2026-01-12', 'x', 10, 9, 9.5, 100],
    ['COMI', '2026-01-13', 'x', 11, 10, 10.5, 100],
  ]);
});
afterEach(async () => wh.close());

const run = (businessDate = '2026-01-14') => runQualityChecks(wh, { businessDate, freshnessDays: 5 });

test('clean data passes every check, with counts', async () => {
  const results = await run();
  expect(results.map((r) => [r.name, r.passed, r.failingRows, r.checkedRows])).toEqual([
    ['no_duplicate_companies', true, 0, 2],
    ['no_duplicate_prices', true, 0, 2],
    ['valid_price_ranges', true, 0, 2],
    ['recent_data_present', true, 0, 2],
  ]);
});

test('duplicates, bad ranges and stale data each fail their own check with counts in the message', async () => {
  await wh.bulkInsert(companies, ['SYMBOL'], [['COMI']]);
  await wh.bulkInsert(prices, priceCols, [
    ['COMI', '2026-01-13', 'x', 11, 10, 10.5, 100],
    ['ETEL', '2026-01-13', 'x', 3.353, 32.25, 33, 100],
  ]);
  const results = await run('2026-02-01');
  expect(results.filter((r) => !r.passed).map((r) => [r.name, r.failingRows])).toEqual([
    ['no_duplicate_companies', 1],
    ['no_duplicate_prices', 1],
    ['valid_price_ranges', 1],
    ['recent_data_present', 1],
  ]);
  expect(describeFailures(results)).toContain('valid_price_ranges: 1 of 4 prices have high < low');
  expect(describeFailures(results)).toContain(
    'recent_data_present: newest price is 2026-01-13, older than 5 days before 2026-02-01',
  );
});

test('an empty price table fails the freshness check', async () => {
  await wh.execute('DELETE FROM OPERATIONAL.TBL_STOCK_PRICE');
  const fresh = (await run()).find((r) => r.name === 'recent_data_present');
  expect(fresh).toMatchObject({
    passed: false,
    detail: 'newest price is missing (no prices), older than 5 days before 2026-01-14',
  });
});
