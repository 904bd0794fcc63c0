import { expect, test } from 'vitest';
import { compareSnapshots, describeDiff, type Snapshot } from '../../scripts/chaos/compare.js';
import { isRunSpecificKey, keyedRows } from '../../scripts/chaos/snapshot.js';

const same = (s: string) => s;
const bar = (symbol: string, ts: string, close: number, extra: Record<string, unknown> = {}) => ({
  symbol,
  interval: '5m',
  ts,
  close,
  ...extra,
});
const snap = (prices: Record<string, unknown>[], bars: Record<string, unknown>[] = []): Snapshot => ({
  tables: { 'OPERATIONAL.TBL_STOCK_PRICE': keyedRows(prices, ['SYMBOL', 'TRADE_DATE'], same) },
  objects: { 'batch/prices/COMI.csv': 'h1' },
  bars: keyedRows(bars, ['symbol', 'interval', 'ts'], same),
});
const price = (d: string, close: number, more: Record<string, unknown> = {}) => ({
  SYMBOL: 'COMI',
  TRADE_DATE: d,
  CLOSE_PRICE: close,
  ...more,
});

test('a run with the same data, loaded at other times by other runs, equals its reference', () => {
  const ref = snap(
    [price('2026-01-12', 80.1, { RUN_ID: 'a', LOADED_AT: new Date(1) })],
    [bar('COMI', 't1', 80, { offset: 1 })],
  );
  const run = snap(
    [price('2026-01-12', 80.1, { RUN_ID: 'b', LOADED_AT: new Date(2) })],
    [bar('COMI', 't1', 80, { offset: 1 })],
  );
  const d = compareSnapshots(ref, run);
  expect([d.lost, d.duplicates, describeDiff(d)]).toEqual([0, 0, []]);
});

test('sums that differ only in the last bits are the same value', () => {
  const ref = snap([price('2026-01-12', 0.05000000000001137), price('2026-01-13', 66)]);
  const run = snap([price('2026-01-12', 0.04999999999999716), price('2026-01-13', 66.00000000000001)]);
  expect(compareSnapshots(ref, run).lost).toBe(0);
});

test('missing, changed, extra and repeated rows, objects and bars are counted', () => {
  const ref = snap(
    [price('2026-01-11', 79), price('2026-01-12', 80), price('2026-01-13', 81)],
    [bar('COMI', 't1', 80), bar('COMI', 't2', 81)],
  );
  const run: Snapshot = {
    ...snap(
      [price('2026-01-12', 80), price('2026-01-12', 80), price('2026-01-13', 85), price('2026-01-14', 82)],
      [bar('COMI', 't1', 80), bar('COMI', 't1', 80)],
    ),
    objects: { 'batch/prices/COMI.csv': 'h1', 'batch/prices/ETEL.csv': 'h2' },
  };
  const d = compareSnapshots(ref, run);
  // Lost: the 01-11 row, the changed 01-13 row and bar t2. Duplicates: the repeated 01-12 row, the
  // extra 01-14 row, the extra object and the bar t1 archived twice.
  expect([d.lost, d.duplicates]).toEqual([3, 4]);
  expect(d.parts['table:OPERATIONAL.TBL_STOCK_PRICE']).toMatchObject({
    lost: 1,
    changed: 1,
    extra: 1,
    repeated: 1,
  });
  expect(describeDiff(d)).toContain('bars: lost 1, repeated 1 (repeated COMI|5m|t1; lost COMI|5m|t2)');
});

test('quarantine files and docs belong to a run, not to the data', () => {
  expect(
    ['quarantine/daily-batch-2026-01-14/x.ndjson', 'docs/index.html', 'batch/prices/A.csv'].map(
      isRunSpecificKey,
    ),
  ).toEqual([true, true, false]);
});
