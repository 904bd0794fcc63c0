import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, test } from 'vitest';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { createInfluxLiveView } from '../../lib/stream/influx.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

const url = inject('influxUrl');

/** InfluxQL over the HTTP API: the first series' rows as objects. */
async function influxQuery(database: string, q: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?db=${database}&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[];
  };
  const [r] = body.results;
  if (r?.error) throw new Error(r.error);
  const s = r?.series?.[0];
  return (s?.values ?? []).map((v) => Object.fromEntries(s!.columns.map((c, i) => [c, v[i]])));
}

test('streamed bars land in InfluxDB once each, with their values, however often a batch is re-delivered', async () => {
  const database = `egx_it_${randomUUID().slice(0, 8)}`;
  const wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-influx-it-')));
  const live = createInfluxLiveView({ url, database, batchLines: 50 });
  const sink = createBarSink({ store, warehouse: wh, live });
  // A Cairo morning, 5-minute bars for three symbols: 3 × 12 bars, written in chunks of 50 lines.
  const bars = await new SimulatorSource(3).fetchBars({
    symbols: ['COMI', 'ETEL', 'SWDY'],
    interval: '5m',
    from: new Date('2025-11-30T08:00:00Z'),
    to: new Date('2025-11-30T09:00:00Z'),
  });
  const entries = bars.map((bar, i) => ({ offset: String(i), bar }));
  await sink.write({ origin: 'egx_market_data-0', entries });
  // Re-delivery after a crash: the same messages again, in other batch boundaries.
  await sink.write({ origin: 'egx_market_data-0', entries: entries.slice(10) });
  await sink.write({ origin: 'egx_market_data-0', entries: entries.slice(0, 10) });

  const counts = await influxQuery(database, 'SELECT COUNT(close) FROM market_bars GROUP BY symbol');
  expect(counts[0]).toMatchObject({ count: bars.length / 3 });
  const [total] = await influxQuery(database, 'SELECT COUNT(close) FROM market_bars');
  expect(total).toMatchObject({ count: bars.length });
  const comi = bars.filter((b) => b.symbol === 'COMI').at(-1)!;
  const [point] = await influxQuery(
    database,
    `SELECT open, high, low, close, volume, source FROM market_bars WHERE symbol = 'COMI' AND interval = '5m' ORDER BY time DESC LIMIT 1`,
  );
  expect(point).toEqual({
    time: Date.parse(comi.ts),
    open: comi.open,
    high: comi.high,
    low: comi.low,
    close: comi.close,
    volume: Math.round(comi.volume),
    source: comi.source,
  });
  await wh.close();
});

test('an unreachable or refusing InfluxDB fails the write naming the server and the reason', async () => {
  const bar = {
    schema: 1 as const,
    symbol: 'COMI',
    exchange: 'EGX' as const,
    interval: '1m' as const,
    ts: '2025-11-30T08:00:00.000Z',
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    source: 'x',
    ingested_at: '2025-11-30T08:00:00.000Z',
  };
  await expect(
    createInfluxLiveView({ url: 'http://127.0.0.1:9', database: 'egx', timeoutMs: 2000 }).write([bar]),
  ).rejects.toThrow(/^InfluxDB at http:\/\/127\.0\.0\.1:9: creating database egx failed: /);
  // A field of another type than the measurement already holds is refused by the server (HTTP 400).
  const database = `egx_it_${randomUUID().slice(0, 8)}`;
  await fetch(`${url}/query?q=${encodeURIComponent(`CREATE DATABASE ${database}`)}`, { method: 'POST' });
  await fetch(`${url}/write?db=${database}&precision=ms`, {
    method: 'POST',
    body: 'market_bars,symbol=COMI,interval=1m close="text" 1764489600000',
  });
  await expect(createInfluxLiveView({ url, database }).write([bar])).rejects.toThrow(
    /^InfluxDB at http:\/\/127\.0\.0\.1:\d+: writing 1 bars to egx_it_\w+ answered 400: .*field type conflict/,
  );
});
