import { TBL_STOCK_PRICE } from '../warehouse/schema.js';
import { HEAD_ROWS, notDailyReason, readDailyBars, symbolFromKey, type ParsedRow } from './daily-bars.js';
import { isIndexLevelKey, openIndexLevels } from './index-levels.js';
import { openIntraday } from './intraday.js';
import { readCsvHead } from './text-stream.js';
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

/**
 * Daily OHLCV history files (`batch/prices/<SYMBOL>.csv`, any vendor format) into TBL_STOCK_PRICE.
 * A file whose name or content shows it is not a stock's daily bars goes where it belongs instead:
 * an index's levels (named after an index, or EGX's `Date,Value,High,Low`) to TBL_INDEX, the
 * market-cap series to TBL_MARKET_STAT, intraday bars (timestamps less than a day apart) to
 * TBL_INTRADAY_PRICE. An index is never filed as a stock.
 */
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
    const head = await readCsvHead(input, HEAD_ROWS);
    if (isIndexLevelKey(key)) return openIndexLevels(head, key);
    const other = head.records.length > 0 ? notDailyReason(head.records) : undefined;
    if (other?.kind === 'index_levels') return openIndexLevels(head, key);
    if (other?.kind === 'intraday') return openIntraday(head, key);
    const reader = await readDailyBars(head, { file: key, symbol: symbolFromKey(key) });
    const source = reader.format.id;
    async function* records(): AsyncGenerator<LoadRecord[]> {
      for await (const rows of reader.batches) yield rows.map((r) => priceRecord(r, source));
    }
    return { format: source, records: records() };
  },
};
