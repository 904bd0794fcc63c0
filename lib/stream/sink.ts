import type { BarMessage, Interval } from '../bus/message.js';
import { cairoClock } from '../market/calendar.js';
import type { ObjectStore } from '../lake/types.js';
import { STREAM_BARS, TBL_STOCK_PRICE } from '../warehouse/schema.js';
import type { SqlValue, Warehouse } from '../warehouse/types.js';
import { pooled } from '../util/pool.js';
import type { LiveView } from './influx.js';

/** The data source streamed daily bars carry in OPERATIONAL.TBL_STOCK_PRICE. */
export const STREAMING_SOURCE = 'STREAMING_API';

/** A bar with its position in the stream it came from. */
export interface SinkEntry {
  /** Message offset (Kafka) or another increasing position; names the archive file. */
  offset: string;
  bar: BarMessage;
}

/** Bars from one ordered stream: `origin` is `<topic>-<partition>` for Kafka, `direct-<interval>` in direct mode. */
export interface SinkBatch {
  origin: string;
  entries: SinkEntry[];
}

export interface SinkResult {
  bars: number;
  files: number;
  /** Rows written to OPERATIONAL.TBL_STOCK_PRICE (one per symbol and trading date touched). */
  dailyRows: number;
}

/** Writes bars to the object store and the warehouse; resolves only when both writes are durable. */
export interface BarSink {
  write(batch: SinkBatch): Promise<SinkResult>;
}

/** Finest first: a trading day is rolled up from its finest intraday bars when no daily bar was streamed. */
const ROLLUP_ORDER: Interval[] = ['1d', '1m', '5m', '1h'];

/** Cairo trading date of an instant, memoised per UTC hour (Cairo's offset is whole hours). */
function tradingDateOf(cache: Map<number, string>, ts: string): string {
  const hour = Math.floor(Date.parse(ts) / 3_600_000);
  let d = cache.get(hour);
  if (d === undefined) {
    d = cairoClock(new Date(hour * 3_600_000)).date;
    cache.set(hour, d);
  }
  return d;
}

/** `streaming/date=YYYY-MM-DD/symbol=SYM/<origin>-<firstOffset>.ndjson`, as in the key layout. */
export function streamObjectKey(date: string, symbol: string, origin: string, firstOffset: string): string {
  return `streaming/date=${date}/symbol=${symbol}/${origin}-${firstOffset}.ndjson`;
}

/**
 * The streaming sinks. Writing the same batch again — or the same messages in different batch
 * boundaries after a restart — leaves the same result, so delivery at least once gives every bar
 * exactly once in both places:
 * - object store: one NDJSON file per (trading date, symbol) per batch, named after the first
 *   offset of that group; a re-consumed batch starts at the same committed offset, so it rewrites
 *   the same key, and whatever a longer earlier attempt held beyond its end is rewritten too;
 * - warehouse: RAW.STREAM_BARS upserted on (symbol, interval, ts); then each touched (symbol,
 *   trading date) goes into OPERATIONAL.TBL_STOCK_PRICE as STREAMING_API, from its streamed daily bar or,
 *   when none was streamed, rolled up from its finest intraday bars so far;
 * - live view (optional, InfluxDB): one point per (symbol, interval, ts), overwritten when sent again.
 */
export function createBarSink(deps: {
  store: ObjectStore;
  warehouse: Warehouse;
  runId?: string;
  fileConcurrency?: number;
  /** The optional live view (InfluxDB); when given, a batch counts as written once it holds it too. */
  live?: LiveView;
}): BarSink {
  const dates = new Map<number, string>();
  return {
    async write({ origin, entries }: SinkBatch): Promise<SinkResult> {
      if (entries.length === 0) return { bars: 0, files: 0, dailyRows: 0 };
      const loadedAt = new Date();

      const groups = new Map<string, { date: string; symbol: string; lines: string[]; first: string }>();
      // A bar re-sent within the batch keeps its latest version (last offset wins).
      const latest = new Map<string, { entry: SinkEntry; date: string }>();
      for (const entry of entries) {
        const { bar } = entry;
        const date = tradingDateOf(dates, bar.ts);
        const g = `${date}|${bar.symbol}`;
        let group = groups.get(g);
        if (!group) groups.set(g, (group = { date, symbol: bar.symbol, lines: [], first: entry.offset }));
        group.lines.push(JSON.stringify({ ...bar, offset: entry.offset }));
        latest.set(`${bar.symbol}|${bar.interval}|${bar.ts}`, { entry, date });
      }

      const archived = pooled([...groups.values()], deps.fileConcurrency ?? 16, (g) =>
        deps.store.put(streamObjectKey(g.date, g.symbol, origin, g.first), g.lines.join('\n') + '\n', {
          contentType: 'application/x-ndjson',
        }),
      );

      const rows: SqlValue[][] = [];
      for (const { entry, date } of latest.values()) {
        const b = entry.bar;
        rows.push([
          b.symbol,
          b.interval,
          new Date(b.ts),
          date,
          b.open,
          b.high,
          b.low,
          b.close,
          Math.round(b.volume),
          b.source,
          new Date(b.ingested_at),
          origin,
          Number(entry.offset),
          loadedAt,
        ]);
      }
      // The sinks at once; the batch counts as written when all are.
      await Promise.all([
        archived,
        deps.live?.write([...latest.values()].map(({ entry }) => entry.bar)),
        deps.warehouse.upsert(
          STREAM_BARS,
          STREAM_BARS.columns.map((c) => c.name),
          rows,
        ),
      ]);

      const daily = await dailyRows(deps.warehouse, groups.values(), loadedAt, deps.runId ?? origin);
      if (daily.length > 0) {
        await deps.warehouse.upsert(TBL_STOCK_PRICE, DAILY_COLUMNS, daily);
      }
      return { bars: entries.length, files: groups.size, dailyRows: daily.length };
    },
  };
}

const DAILY_COLUMNS = [
  'SYMBOL',
  'TRADE_DATE',
  'DATA_SOURCE',
  'OPEN_PRICE',
  'HIGH_PRICE',
  'LOW_PRICE',
  'CLOSE_PRICE',
  'VOLUME',
  'SOURCE_KEY',
  'RUN_ID',
  'LOADED_AT',
];

type DayAggregate = {
  SYMBOL: string;
  TRADE_DATE: string;
  BAR_INTERVAL: Interval;
  OPEN_PRICE: number;
  HIGH_PRICE: number;
  LOW_PRICE: number;
  CLOSE_PRICE: number;
  VOLUME: number;
};

/**
 * The day rows for the (date, symbol) pairs a batch touched, aggregated in the warehouse from
 * RAW.STREAM_BARS (so earlier batches count): per interval, the first open, highest high, lowest
 * low, last close and summed volume; then the daily bar or else the finest intraday interval wins.
 */
async function dailyRows(
  wh: Warehouse,
  touched: Iterable<{ date: string; symbol: string }>,
  loadedAt: Date,
  runId: string,
): Promise<SqlValue[][]> {
  const pairs = new Set<string>();
  const dates = new Set<string>();
  const symbols = new Set<string>();
  for (const t of touched) {
    pairs.add(`${t.symbol}|${t.date}`);
    dates.add(t.date);
    symbols.add(t.symbol);
  }
  const marks = (n: number, cast = '') =>
    Array.from({ length: n }, () => (cast ? `CAST(? AS ${cast})` : '?')).join(', ');
  const aggregates = await wh.query<DayAggregate>(
    `SELECT SYMBOL, CAST(TRADE_DATE AS VARCHAR) AS TRADE_DATE, BAR_INTERVAL,
            MIN_BY(OPEN_PRICE, TS) AS OPEN_PRICE, MAX(HIGH_PRICE) AS HIGH_PRICE, MIN(LOW_PRICE) AS LOW_PRICE,
            MAX_BY(CLOSE_PRICE, TS) AS CLOSE_PRICE, SUM(VOLUME) AS VOLUME
       FROM RAW.STREAM_BARS
      WHERE TRADE_DATE IN (${marks(dates.size, 'DATE')}) AND SYMBOL IN (${marks(symbols.size)})
      GROUP BY SYMBOL, TRADE_DATE, BAR_INTERVAL`,
    [...dates, ...symbols],
  );
  const best = new Map<string, DayAggregate>();
  for (const a of aggregates) {
    const k = `${a.SYMBOL}|${a.TRADE_DATE}`;
    if (!pairs.has(k)) continue;
    const cur = best.get(k);
    if (!cur || ROLLUP_ORDER.indexOf(a.BAR_INTERVAL) < ROLLUP_ORDER.indexOf(cur.BAR_INTERVAL)) best.set(k, a);
  }
  return [...best.values()].map((a) => [
    a.SYMBOL,
    a.TRADE_DATE,
    STREAMING_SOURCE,
    a.OPEN_PRICE,
    a.HIGH_PRICE,
    a.LOW_PRICE,
    a.CLOSE_PRICE,
    Number(a.VOLUME),
    `stream:${a.BAR_INTERVAL}`,
    runId,
    loadedAt,
  ]);
}
