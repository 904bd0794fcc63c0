import { TBL_STOCK_PRICE } from '../warehouse/schema.js';
import { readDailyBars, symbolFromKey, type ParsedRow } from './daily-bars.js';
import type { FileKindReader, LoadRecord } from './records.js';

/** A parsed daily row as a load record: values in priceFiles.columns order. */
export function priceRecord(r: ParsedRow, source: string): LoadRecord {
  if (!r.ok) return r;
  const b = r.bar;
  return {
    ok: true,
    line: r.line,
    values: [
      b.symbol,
      b.tradeDate,
      source,
      b.open,
      b.high,
      b.low,
      b.close,
      b.prevClose,
      b.volume,
      b.turnover,
    ],
  };
}

/** Daily OHLCV history files (`batch/prices/<SYMBOL>.csv`, any vendor format) into TBL_STOCK_PRICE. */
export const priceFiles: FileKindReader = {
  kind: 'prices',
  table: TBL_STOCK_PRICE,
  columns: [
    'SYMBOL',
    'TRADE_DATE',
    'DATA_SOURCE',
    'OPEN_PRICE',
    'HIGH_PRICE',
    'LOW_PRICE',
    'CLOSE_PRICE',
    'PREV_CLOSE',
    'VOLUME',
    'TURNOVER',
  ],
  async open(input, key) {
    const reader = await readDailyBars(input, { file: key, symbol: symbolFromKey(key) });
    const source = reader.format.id;
    async function* records(): AsyncGenerator<LoadRecord[]> {
      for await (const rows of reader.batches) yield rows.map((r) => priceRecord(r, source));
    }
    return { format: source, records: records() };
  },
};
