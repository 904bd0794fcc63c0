import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { egxCalendar } from '../../lib/market/calendar.js';
import { describeFailures, runQualityChecks, tradingDaysBefore } from '../../lib/quality/gate.js';
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
    'recent_data_present: newest price on or before 2026-02-01 is 2026-01-13, more than 5 trading days old (expected one on or after 2026-01-22)',
  );
});

test('an empty price table fails the freshness check', async () => {
  await wh.execute('DELETE FROM OPERATIONAL.TBL_STOCK_PRICE');
  const fresh = (await run()).find((r) => r.name === 'recent_data_present');
  expect(fresh).toMatchObject({
    passed: false,
    detail:
      'newest price on or before 2026-01-14 is missing (no prices), more than 5 trading days old (expected one on or after 2026-01-06)',
  });
});

describe('freshness of a business date', () => {
  const fresh = async (businessDate: string, freshnessDays: number) =>
    (await runQualityChecks(wh, { businessDate, freshnessDays })).find(
      (r) => r.name === 'recent_data_present',
    )!;

  test('a past date looks at the newest price on or before it: later prices do not make an old day fresh', async () => {
    await wh.execute('DELETE FROM OPERATIONAL.TBL_STOCK_PRICE');
    await wh.bulkInsert(prices, priceCols, [
      ['COMI', '2025-12-18', 'x', 10, 9, 9.5, 100],
      ['COMI', '2026-12-01', 'x', 11, 10, 10.5, 100],
    ]);
    const r = await fresh('2026-01-14', 5);
    expect(r).toMatchObject({ passed: false, checkedRows: 1 });
    expect(r.detail).toBe(
      'newest price on or before 2026-01-14 is 2025-12-18, more than 5 trading days old (expected one on or after 2026-01-06)',
    );
    // The day the later price belongs to is fresh.
    expect(await fresh('2026-12-01', 5)).toMatchObject({
      passed: true,
      detail:
        'newest price on or before 2026-12-01 is 2026-12-01, within 5 trading days (on or after 2026-11-24)',
    });
  });

  test("today with yesterday's prices passes; a gap of more trading days than allowed fails", async () => {
    expect((await fresh('2026-01-14', 1)).passed).toBe(true); // newest 2026-01-13, the day before
    expect((await fresh('2026-01-15', 1)).passed).toBe(false); // 2026-01-14 is missing
    expect((await fresh('2026-01-15', 2)).passed).toBe(true);
  });

  test('weekends and holidays are not counted', async () => {
    // Sunday 2026-01-18 after the Tuesday 2026-01-13: Wednesday and Thursday are the 2 trading days between.
    expect((await fresh('2026-01-18', 2)).passed).toBe(false);
    expect((await fresh('2026-01-18', 3)).passed).toBe(true);
    await wh.execute('DELETE FROM OPERATIONAL.TBL_STOCK_PRICE');
    await wh.bulkInsert(prices, priceCols, [['COMI', '2026-01-06', 'x', 10, 9, 9.5, 100]]);
    // Wednesday 2026-01-07 is Coptic Christmas: for Thursday the 8th, Tuesday the 6th is the trading day before.
    expect(await fresh('2026-01-08', 1)).toMatchObject({
      passed: true,
      detail:
        'newest price on or before 2026-01-08 is 2026-01-06, within 1 trading days (on or after 2026-01-06)',
    });
  });

  test('tradingDaysBefore counts EGX trading days back from a date', () => {
    const cal = egxCalendar();
    expect(tradingDaysBefore('2026-01-14', 0, cal)).toBe('2026-01-14');
    expect(tradingDaysBefore('2026-01-14', 5, cal)).toBe('2026-01-06'); // the 7th is a holiday
    expect(tradingDaysBefore('2026-01-17', 1, cal)).toBe('2026-01-15'); // Saturday → Thursday
    expect(tradingDaysBefore('2026-01-18', 1, cal)).toBe('2026-01-15'); // Sunday → Thursday
    expect(tradingDaysBefore('2026-01-26', 1, egxCalendar([{ date: '2026-01-22', name: 'test' }]))).toBe(
      '2026-01-21', // Monday 26th: Sunday 25th is Revolution Day, Thursday 22nd a test holiday
    );
  });
});
