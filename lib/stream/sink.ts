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
 *   the same key, and whatever a longer earlier attempt held beyond its end is rewritten too. One
 *   line per bar: a bar sent twice within the batch is archived once (its latest version), and a
 *   bar the warehouse already holds unchanged from an earlier batch of the same stream (a poll
 *   retried after a crash publishes its window again, at new offsets) is left out of the archive
 *   and the upsert, so it stays in the file that first archived it;
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

      // A bar re-sent within the batch keeps its latest version (last offset wins).
      const latest = new Map<string, SinkEntry>();
      for (const entry of entries) latest.set(barKey(entry.bar), entry);
      const repeats = await alreadyStored(deps.warehouse, origin, entries);

      const groups = new Map<string, { date: string; symbol: string; lines: string[]; first: string }>();
      const fresh: { entry: SinkEntry; date: string }[] = [];
      for (const entry of entries) {
        const { bar } = entry;
        const date = tradingDateOf(dates, bar.ts);
        const g = `${date}|${bar.symbol}`;
        // Files are named after the group's first offset in the batch, left-out bars included, so a
        // re-consumed batch names them as the first attempt did.
        let group = groups.get(g);
        if (!group) groups.set(g, (group = { date, symbol: bar.symbol, lines: [], first: entry.offset }));
        const key = barKey(bar);
        if (latest.get(key) !== entry || repeats.has(key)) continue;
        group.lines.push(JSON.stringify({ ...bar, offset: entry.offset }));
        fresh.push({ entry, date });
      }
      const files = [...groups.values()].filter((g) => g.lines.length > 0);
      if (files.length === 0) return { bars: entries.length, files: 0, dailyRows: 0 };

      const archived = pooled(files, deps.fileConcurrency ?? 16, (g) =>
        deps.store.put(streamObjectKey(g.date, g.symbol, origin, g.first), g.lines.join('\n') + '\n', {
          contentType: 'application/x-ndjson',
        }),
      );

      const rows: SqlValue[][] = [];
      for (const { entry, date } of fresh) {
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
      // The sinks at once; the batch counts as written when all are. A sink that fails fails the
      // batch only once the others have finished, so no write is left running behind it.
      const sinks = await Promise.allSettled([
        archived,
        deps.live?.write(fresh.map(({ entry }) => entry.bar)),
        deps.warehouse.upsert(
          STREAM_BARS,
          STREAM_BARS.columns.map((c) => c.name),
          rows,
        ),
      ]);
      for (const sink of sinks) if (sink.status === 'rejected') throw sink.reason;

      const daily = await dailyRows(deps.warehouse, files, loadedAt, deps.runId ?? origin);
      if (daily.length > 0) {
        await deps.warehouse.upsert(TBL_STOCK_PRICE, DAILY_COLUMNS, daily);
      }
      return { bars: entries.length, files: files.length, dailyRows: daily.length };
    },
  };
}

const barKey = (b: Pick<BarMessage, 'symbol' | 'interval' | 'ts'>) =>
  `${b.symbol}|${b.interval}|${Date.parse(b.ts)}`;

/** UTC text both warehouses cast to TIMESTAMP. */
const timestampText = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** A timestamp from the warehouse (a Date by the Warehouse contract; zone-less text is UTC) in ms. */
function epochMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const s = String(v);
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

/**
 * Keys of the batch's bars that RAW.STREAM_BARS already holds, with the same prices, volume and
 * source, from an earlier offset of the same stream than this batch's first: an earlier batch,
 * already committed, archived them. (A re-consumed batch starts at the same offset, and the bars it
 * wrote the first time carry offsets from there on, so it finds the same repeats and writes the
 * same files again.)
 */
async function alreadyStored(wh: Warehouse, origin: string, entries: SinkEntry[]): Promise<Set<string>> {
  let first = BigInt(entries[0]!.offset);
  let from = Infinity;
  let to = -Infinity;
  const symbols = new Set<string>();
  for (const { offset, bar } of entries) {
    if (BigInt(offset) < first) first = BigInt(offset);
    const ms = Date.parse(bar.ts);
    from = Math.min(from, ms);
    to = Math.max(to, ms);
    symbols.add(bar.symbol);
  }
  const stored = await wh.query<Record<string, unknown>>(
    `SELECT SYMBOL, BAR_INTERVAL, TS, OPEN_PRICE, HIGH_PRICE, LOW_PRICE, CLOSE_PRICE, VOLUME, MARKET_SOURCE
       FROM RAW.STREAM_BARS
      WHERE SOURCE_KEY = ? AND SOURCE_OFFSET < ? AND TS BETWEEN CAST(? AS TIMESTAMP) AND CAST(? AS TIMESTAMP)
        AND SYMBOL IN (${[...symbols].map(() => '?').join(', ')})`,
    [origin, Number(first), timestampText(from), timestampText(to), ...symbols],
  );
  const content = (prices: unknown[], source: unknown) => `${prices.map(Number).join('|')}|${String(source)}`;
  const held = new Map<string, string>();
  for (const r of stored) {
    held.set(
      `${String(r.SYMBOL)}|${String(r.BAR_INTERVAL)}|${epochMs(r.TS)}`,
      content([r.OPEN_PRICE, r.HIGH_PRICE, r.LOW_PRICE, r.CLOSE_PRICE, r.VOLUME], r.MARKET_SOURCE),
    );
  }
  const repeats = new Set<string>();
  for (const { bar: b } of entries) {
    const key = barKey(b);
    if (held.get(key) === content([b.open, b.high, b.low, b.close, Math.round(b.volume)], b.source))
      repeats.add(key);
  }
  return repeats;
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
