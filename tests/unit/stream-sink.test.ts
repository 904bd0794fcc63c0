import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { BarMessage } from '../../lib/bus/message.js';
import { getText } from '../../lib/lake/types.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { createBarSink, streamObjectKey, type SinkEntry } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

let store: LocalObjectStore;
let wh: DuckDbWarehouse;

beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-sink-')));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterEach(() => wh.close());

// Sunday 2025-11-30 10:00–11:00 Cairo (08:00–09:00 UTC): 12 five-minute bars per symbol.
const sim = new SimulatorSource(7);
const bars = (symbols: string[], from = '2025-11-30T08:00:00Z', to = '2025-11-30T09:00:00Z') =>
  sim.fetchBars({ symbols, interval: '5m', from: new Date(from), to: new Date(to) });
const entries = (list: BarMessage[], firstOffset = 0): SinkEntry[] =>
  list.map((bar, i) => ({ offset: String(firstOffset + i), bar }));

async function archived(): Promise<{ key: string; lines: (BarMessage & { offset: string })[] }[]> {
  const out = [];
  for await (const o of store.list('streaming/')) {
    const text = await getText(store, o.key);
    out.push({
      key: o.key,
      lines: text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as BarMessage & { offset: string }),
    });
  }
  return out;
}

const count = async (sql: string) => Number((await wh.query<{ N: number }>(sql))[0]!.N);

describe('bar sink', () => {
  test('writes one NDJSON file per trading date and symbol, named after the first offset, and one row per bar', async () => {
    const list = await bars(['COMI', 'ETEL']);
    const sink = createBarSink({ store, warehouse: wh });
    const r = await sink.write({ origin: 'egx_market_data-2', entries: entries(list, 100) });
    expect(r).toEqual({ bars: 24, files: 2, dailyRows: 2 });

    const files = await archived();
    const comiFirst = list.findIndex((b) => b.symbol === 'COMI');
    const etelFirst = list.findIndex((b) => b.symbol === 'ETEL');
    expect(files.map((f) => f.key).sort()).toEqual(
      [
        streamObjectKey('2025-11-30', 'COMI', 'egx_market_data-2', String(100 + comiFirst)),
        streamObjectKey('2025-11-30', 'ETEL', 'egx_market_data-2', String(100 + etelFirst)),
      ].sort(),
    );
    expect(files[0]!.key).toMatch(
      /^streaming\/date=2025-11-30\/symbol=(COMI|ETEL)\/egx_market_data-2-\d+\.ndjson$/,
    );
    expect(files.flatMap((f) => f.lines)).toHaveLength(24);
    expect(await count('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS')).toBe(24);
  });

  test('a trading date is the Cairo date: a bar at 23:30 UTC belongs to the next day', async () => {
    const [bar] = await sim.fetchBars({
      symbols: ['COMI'],
      interval: '1d',
      from: new Date('2025-11-29T12:00:00Z'),
      to: new Date('2025-12-01T00:00:00Z'),
    });
    // The daily bar opens at Cairo midnight, 22:00 UTC the evening before.
    expect(bar!.ts).toBe('2025-11-29T22:00:00.000Z');
    await createBarSink({ store, warehouse: wh }).write({ origin: 't-0', entries: entries([bar!]) });
    expect((await archived())[0]!.key).toBe(streamObjectKey('2025-11-30', 'COMI', 't-0', '0'));
    const [row] = await wh.query(
      "SELECT CAST(TRADE_DATE AS VARCHAR) AS D, CLOSE_PRICE FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API'",
    );
    expect(row).toEqual({ D: '2025-11-30', CLOSE_PRICE: bar!.close });
  });

  test('re-delivery in other batch boundaries after a crash leaves every bar exactly once in both sinks', async () => {
    const list = await bars(['COMI', 'ETEL', 'SWDY']);
    const all = entries(list, 500);
    const sink = createBarSink({ store, warehouse: wh });
    // First attempt: one big batch, then "crash" before the offset commit.
    await sink.write({ origin: 'egx_market_data-0', entries: all });
    // Restart from the same committed offset, in smaller batches.
    for (let i = 0; i < all.length; i += 7) {
      await sink.write({ origin: 'egx_market_data-0', entries: all.slice(i, i + 7) });
    }
    const lines = (await archived()).flatMap((f) => f.lines);
    expect(lines).toHaveLength(list.length);
    expect(new Set(lines.map((l) => l.offset)).size).toBe(list.length);
    expect(await count('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS')).toBe(list.length);
    expect(
      await count(
        "SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API'",
      ),
    ).toBe(3);
  });

  test('a poll retried after a crash publishes its window again at new offsets: the archive still holds every bar once, also when that batch is consumed again', async () => {
    const list = await bars(['COMI', 'ETEL']);
    const first = list.filter((b) => b.ts < '2025-11-30T08:30:00.000Z');
    const rest = list.filter((b) => b.ts >= '2025-11-30T08:30:00.000Z');
    const sink = createBarSink({ store, warehouse: wh });
    // The first poll's window, consumed and committed.
    await sink.write({ origin: 'o-0', entries: entries(first, 0) });
    // Its retry publishes the window again (a fresh ingested_at), then the next poll's window.
    const again = first.map((b) => ({
      ...b,
      ingested_at: new Date(Date.parse(b.ingested_at) + 60_000).toISOString(),
    }));
    const next = entries([...again, ...rest], first.length);
    await sink.write({ origin: 'o-0', entries: next });
    // The worker dies before committing that batch: it is consumed again.
    await sink.write({ origin: 'o-0', entries: next });

    const lines = (await archived()).flatMap((f) => f.lines);
    const keys = lines.map((l) => `${l.symbol}|${l.interval}|${l.ts}`);
    expect(keys).toHaveLength(list.length);
    expect(new Set(keys).size).toBe(list.length);
    // The window's bars stay where they were first archived.
    expect(lines.filter((l) => Number(l.offset) < first.length)).toHaveLength(first.length);
    expect(await count('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS')).toBe(list.length);
    expect(
      await count(`SELECT MAX(SOURCE_OFFSET) AS N FROM RAW.STREAM_BARS WHERE TS < '2025-11-30 08:30:00'`),
    ).toBe(first.length - 1);
  });

  test('a bar sent twice within one batch is archived once, as its latest version', async () => {
    const [bar] = await bars(['COMI']);
    const corrected = { ...bar!, close: bar!.close + 1 };
    await createBarSink({ store, warehouse: wh }).write({
      origin: 'o-0',
      entries: [
        { offset: '1', bar: bar! },
        { offset: '2', bar: corrected },
      ],
    });
    const lines = (await archived()).flatMap((f) => f.lines);
    expect(lines.map((l) => [l.close, l.offset])).toEqual([[corrected.close, '2']]);
  });

  test('a corrected bar in a later batch is archived too (the archive keeps what the stream said)', async () => {
    const [bar] = await bars(['COMI']);
    const sink = createBarSink({ store, warehouse: wh });
    await sink.write({ origin: 'o-0', entries: [{ offset: '1', bar: bar! }] });
    await sink.write({ origin: 'o-0', entries: [{ offset: '2', bar: { ...bar!, close: bar!.close + 1 } }] });
    const lines = (await archived()).flatMap((f) => f.lines);
    expect(lines.map((l) => l.offset).sort()).toEqual(['1', '2']);
  });

  test('intraday bars roll up into the day row across batches: first open, max high, min low, last close, summed volume', async () => {
    const list = await bars(['COMI']);
    const sink = createBarSink({ store, warehouse: wh });
    await sink.write({ origin: 'o-0', entries: entries(list.slice(0, 5), 0) });
    await sink.write({ origin: 'o-0', entries: entries(list.slice(5), 5) });
    const [row] = await wh.query(
      "SELECT OPEN_PRICE, HIGH_PRICE, LOW_PRICE, CLOSE_PRICE, VOLUME, SOURCE_KEY FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API'",
    );
    expect(row).toEqual({
      OPEN_PRICE: list[0]!.open,
      HIGH_PRICE: Math.max(...list.map((b) => b.high)),
      LOW_PRICE: Math.min(...list.map((b) => b.low)),
      CLOSE_PRICE: list.at(-1)!.close,
      VOLUME: list.reduce((s, b) => s + b.volume, 0),
      SOURCE_KEY: 'stream:5m',
    });
  });

  test('a streamed daily bar wins over the intraday roll-up of the same day', async () => {
    const intraday = await bars(['COMI']);
    const [daily] = await sim.fetchBars({
      symbols: ['COMI'],
      interval: '1d',
      from: new Date('2025-11-29T22:00:00Z'),
      to: new Date('2025-11-30T22:00:00Z'),
    });
    const sink = createBarSink({ store, warehouse: wh });
    await sink.write({ origin: 'o-0', entries: entries([...intraday, daily!]) });
    const [row] = await wh.query(
      "SELECT CLOSE_PRICE, VOLUME, SOURCE_KEY FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API'",
    );
    expect(row).toEqual({ CLOSE_PRICE: daily!.close, VOLUME: daily!.volume, SOURCE_KEY: 'stream:1d' });
  });

  test('a corrected bar (same symbol, interval and ts, later offset) replaces the earlier one', async () => {
    const [bar] = await bars(['COMI']);
    const sink = createBarSink({ store, warehouse: wh });
    await sink.write({ origin: 'o-0', entries: [{ offset: '1', bar: bar! }] });
    await sink.write({ origin: 'o-0', entries: [{ offset: '2', bar: { ...bar!, close: bar!.close + 1 } }] });
    const rows = await wh.query('SELECT CLOSE_PRICE, SOURCE_OFFSET FROM RAW.STREAM_BARS');
    expect(rows).toEqual([{ CLOSE_PRICE: bar!.close + 1, SOURCE_OFFSET: 2 }]);
  });
});

test('a live view that fails at once fails the batch only after the warehouse write has finished', async () => {
  let upsertDone = false;
  const slowWarehouse = Object.assign(Object.create(wh) as DuckDbWarehouse, {
    upsert: async (...args: Parameters<DuckDbWarehouse['upsert']>) => {
      await new Promise((r) => setTimeout(r, 200));
      const result = await wh.upsert(...args);
      upsertDone = true;
      return result;
    },
  });
  const sink = createBarSink({
    store,
    warehouse: slowWarehouse,
    live: { write: () => Promise.reject(new Error('InfluxDB refused')) },
  });
  await expect(sink.write({ origin: 't-0', entries: entries(await bars(['COMI'])) })).rejects.toThrow(
    'InfluxDB refused',
  );
  expect(upsertDone).toBe(true);
});
