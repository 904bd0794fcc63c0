/**
 * The transforms benchmarks' data: seeded random-walk daily bars for S0000, S0001, … over trading
 * days counted from 2010-01-01, the company list, EGX30's members and its official levels (a walk
 * of its own), written to a bootstrapped warehouse.
 */
import type { Warehouse } from '../lib/warehouse/types.js';
import {
  DAILY_BAR_COLUMNS,
  TBL_COMPANY,
  TBL_INDEX,
  TBL_INDEX_MEMBERSHIP,
  TBL_STOCK_PRICE,
} from '../lib/warehouse/schema.js';

export const benchDay = (d: number) => new Date(Date.UTC(2010, 0, 1 + d)).toISOString().slice(0, 10);
export const benchSymbol = (s: number) => `S${String(s).padStart(4, '0')}`;

/** Symbol `s`'s bars of days [fromDay, toDay), as DAILY_BAR_COLUMNS rows loaded at `at`. */
export function benchBars(s: number, fromDay: number, toDay: number, at: Date) {
  let x = s + 1;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  let close = 10 + (s % 90);
  const rows = [];
  for (let d = 0; d < toDay; d++) {
    const open = close;
    close = Math.max(0.5, open * (1 + (rnd() - 0.5) * 0.06));
    const high = Math.max(open, close) * (1 + rnd() * 0.01);
    const low = Math.min(open, close) * (1 - rnd() * 0.01);
    if (d >= fromDay)
      rows.push([benchSymbol(s), benchDay(d), 'ohlcv', open, high, low, close, Math.floor(rnd() * 5e6), at]);
  }
  return rows;
}

/** Writes `symbols` companies with `days` bars each (and EGX30's levels over those days), loaded at `at`. */
export async function seedBenchData(wh: Warehouse, symbols: number, days: number, at: Date): Promise<void> {
  await wh.upsert(
    TBL_COMPANY,
    ['SYMBOL', 'COMPANY_NAME', 'SECTOR'],
    Array.from({ length: symbols }, (_, s) => [benchSymbol(s), `Company ${s}`, `Sector ${s % 12}`]),
  );
  await wh.upsert(
    TBL_INDEX_MEMBERSHIP,
    ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT'],
    Array.from({ length: Math.min(30, symbols) }, (_, s) => ['EGX30', benchSymbol(s), benchDay(0), 100 / 30]),
  );
  for (let s = 0; s < symbols; s++)
    await wh.bulkInsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, benchBars(s, 0, days, at));
  // EGX30's official levels, which the risk mart's betas and correlations pair the stocks with.
  await seedBenchIndex(wh, symbols, 0, days, at);
}

/** EGX30's levels of days [fromDay, toDay). */
export async function seedBenchIndex(
  wh: Warehouse,
  symbols: number,
  fromDay: number,
  toDay: number,
  at: Date,
) {
  await wh.bulkInsert(
    TBL_INDEX,
    ['INDEX_CODE', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE', 'LOADED_AT'],
    benchBars(symbols, fromDay, toDay, at).map((b) => ['EGX30', b[1]!, 'investing', b[6]!, b[8]!]),
  );
}

/** Day `day` of every symbol, loaded (again, if it was) at `at`. */
export async function seedBenchDay(wh: Warehouse, symbols: number, day: number, at: Date): Promise<void> {
  const rows = Array.from({ length: symbols }, (_, s) => benchBars(s, day, day + 1, at)).flat();
  await wh.upsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, rows);
}
